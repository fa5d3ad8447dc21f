// Original file: proto/onesam/v1/segmentation.proto

import type { NetworkSlices as _onesam_v1_NetworkSlices, NetworkSlices__Output as _onesam_v1_NetworkSlices__Output } from '../../onesam/v1/NetworkSlices.ts';

export interface SessionInfo {
  'sessionId'?: (string);
  /**
   * Seconds without a request after which the server drops the session.
   */
  'idleSeconds'?: (number);
  /**
   * Slice embeddings the session holds (they may be evicted when other requests need the memory).
   */
  'slicesCached'?: (_onesam_v1_NetworkSlices)[];
}

export interface SessionInfo__Output {
  'sessionId': (string);
  /**
   * Seconds without a request after which the server drops the session.
   */
  'idleSeconds': (number);
  /**
   * Slice embeddings the session holds (they may be evicted when other requests need the memory).
   */
  'slicesCached': (_onesam_v1_NetworkSlices__Output)[];
}
