// Original file: proto/onesam/v1/segmentation.proto

import type { Network as _onesam_v1_Network, Network__Output as _onesam_v1_Network__Output } from '../../onesam/v1/Network.ts';

export interface PlannedObject {
  'label'?: (number);
  'networks'?: (_onesam_v1_Network)[];
  /**
   * Slice range the object's walks may visit, both ends included.
   */
  'sliceFirst'?: (number);
  'sliceLast'?: (number);
}

export interface PlannedObject__Output {
  'label': (number);
  'networks': (_onesam_v1_Network__Output)[];
  /**
   * Slice range the object's walks may visit, both ends included.
   */
  'sliceFirst': (number);
  'sliceLast': (number);
}
