// Original file: proto/onesam/v1/segmentation.proto

import type { Network as _onesam_v1_Network, Network__Output as _onesam_v1_Network__Output } from '../../onesam/v1/Network.ts';
import type { ModelDetails as _onesam_v1_ModelDetails, ModelDetails__Output as _onesam_v1_ModelDetails__Output } from '../../onesam/v1/ModelDetails.ts';

export interface ModelStatus {
  'network'?: (_onesam_v1_Network);
  /**
   * Repository model name serving this network.
   */
  'model'?: (string);
  'ready'?: (boolean);
  /**
   * Why it is not ready, when it is not.
   */
  'message'?: (string);
  /**
   * What the model is and where it came from (its manifest.json); set once the model is loaded.
   */
  'details'?: (_onesam_v1_ModelDetails | null);
}

export interface ModelStatus__Output {
  'network': (_onesam_v1_Network__Output);
  /**
   * Repository model name serving this network.
   */
  'model': (string);
  'ready': (boolean);
  /**
   * Why it is not ready, when it is not.
   */
  'message': (string);
  /**
   * What the model is and where it came from (its manifest.json); set once the model is loaded.
   */
  'details': (_onesam_v1_ModelDetails__Output | null);
}
