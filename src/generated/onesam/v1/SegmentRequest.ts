// Original file: proto/onesam/v1/segmentation.proto

import type { RequestHeader as _onesam_v1_RequestHeader, RequestHeader__Output as _onesam_v1_RequestHeader__Output } from '../../onesam/v1/RequestHeader.ts';
import type { PayloadChunk as _onesam_v1_PayloadChunk, PayloadChunk__Output as _onesam_v1_PayloadChunk__Output } from '../../onesam/v1/PayloadChunk.ts';

export interface SegmentRequest {
  /**
   * First message of the stream, exactly once.
   */
  'header'?: (_onesam_v1_RequestHeader | null);
  /**
   * Every later message: the next bytes of the payload, in order.
   */
  'chunk'?: (_onesam_v1_PayloadChunk | null);
  'message'?: "header"|"chunk";
}

export interface SegmentRequest__Output {
  /**
   * First message of the stream, exactly once.
   */
  'header'?: (_onesam_v1_RequestHeader__Output | null);
  /**
   * Every later message: the next bytes of the payload, in order.
   */
  'chunk'?: (_onesam_v1_PayloadChunk__Output | null);
  'message'?: "header"|"chunk";
}
