// Original file: proto/onesam/v1/segmentation.proto

import type { NetworkSlices as _onesam_v1_NetworkSlices, NetworkSlices__Output as _onesam_v1_NetworkSlices__Output } from '../../onesam/v1/NetworkSlices.ts';

export interface CloseSessionResponse {
  /**
   * Slice embeddings the session held when it was closed.
   */
  'slicesCached'?: (_onesam_v1_NetworkSlices)[];
}

export interface CloseSessionResponse__Output {
  /**
   * Slice embeddings the session held when it was closed.
   */
  'slicesCached': (_onesam_v1_NetworkSlices__Output)[];
}
