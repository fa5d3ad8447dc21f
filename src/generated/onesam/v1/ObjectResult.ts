// Original file: proto/onesam/v1/segmentation.proto

import type { Network as _onesam_v1_Network, Network__Output as _onesam_v1_Network__Output } from '../../onesam/v1/Network.ts';
import type { Long } from '@grpc/proto-loader';

export interface ObjectResult {
  'label'?: (number);
  'networks'?: (_onesam_v1_Network)[];
  /**
   * Voxels carrying this label in the output.
   */
  'voxels'?: (number | string | Long);
  'sliceFirst'?: (number);
  'sliceLast'?: (number);
}

export interface ObjectResult__Output {
  'label': (number);
  'networks': (_onesam_v1_Network__Output)[];
  /**
   * Voxels carrying this label in the output.
   */
  'voxels': (number);
  'sliceFirst': (number);
  'sliceLast': (number);
}
