// Original file: proto/onesam/v1/segmentation.proto

import type { Network as _onesam_v1_Network, Network__Output as _onesam_v1_Network__Output } from '../../onesam/v1/Network.ts';

export interface Route {
  'modality'?: (string);
  'network'?: (_onesam_v1_Network);
}

export interface Route__Output {
  'modality': (string);
  'network': (_onesam_v1_Network__Output);
}
