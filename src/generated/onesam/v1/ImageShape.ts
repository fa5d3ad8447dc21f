// Original file: proto/onesam/v1/segmentation.proto


export interface ImageShape {
  'depth'?: (number);
  'height'?: (number);
  'width'?: (number);
  'channels'?: (number);
}

export interface ImageShape__Output {
  'depth': (number);
  'height': (number);
  'width': (number);
  'channels': (number);
}
