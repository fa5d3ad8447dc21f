// Original file: proto/onesam/v1/segmentation.proto

import type { ModelStatus as _onesam_v1_ModelStatus, ModelStatus__Output as _onesam_v1_ModelStatus__Output } from '../../onesam/v1/ModelStatus.ts';
import type { Route as _onesam_v1_Route, Route__Output as _onesam_v1_Route__Output } from '../../onesam/v1/Route.ts';
import type { Network as _onesam_v1_Network, Network__Output as _onesam_v1_Network__Output } from '../../onesam/v1/Network.ts';

export interface ListModelsResponse {
  'models'?: (_onesam_v1_ModelStatus)[];
  'routing'?: (_onesam_v1_Route)[];
  /**
   * Network used by ROUTE when the modality is empty or unknown.
   */
  'fallback'?: (_onesam_v1_Network);
}

export interface ListModelsResponse__Output {
  'models': (_onesam_v1_ModelStatus__Output)[];
  'routing': (_onesam_v1_Route__Output)[];
  /**
   * Network used by ROUTE when the modality is empty or unknown.
   */
  'fallback': (_onesam_v1_Network__Output);
}
