// Original file: proto/onesam/v1/segmentation.proto

import type { Long } from '@grpc/proto-loader';

export interface LabelsChunk {
  'data'?: (Buffer | Uint8Array | string);
  /**
   * Byte offset of `data` in the encoded label output.
   */
  'offset'?: (number | string | Long);
}

export interface LabelsChunk__Output {
  'data': (Buffer);
  /**
   * Byte offset of `data` in the encoded label output.
   */
  'offset': (number);
}
