// Original file: proto/onesam/v1/segmentation.proto


export interface CloseSessionRequest {
  'sessionId'?: (string);
}

export interface CloseSessionRequest__Output {
  'sessionId': (string);
}
