// Original file: proto/onesam/v1/segmentation.proto


export interface Progress {
  'slicesEncoded'?: (number);
  'slicesTotal'?: (number);
  'objectsDone'?: (number);
  'objectsTotal'?: (number);
}

export interface Progress__Output {
  'slicesEncoded': (number);
  'slicesTotal': (number);
  'objectsDone': (number);
  'objectsTotal': (number);
}
