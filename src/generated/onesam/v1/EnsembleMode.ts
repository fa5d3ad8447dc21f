// Original file: proto/onesam/v1/segmentation.proto

export const EnsembleMode = {
  /**
   * Same as ENSEMBLE_MODE_ROUTE.
   */
  ENSEMBLE_MODE_UNSPECIFIED: 'ENSEMBLE_MODE_UNSPECIFIED',
  /**
   * The routing table picks the network from the modality (see ListModels); LiteMedSAM when unknown.
   */
  ENSEMBLE_MODE_ROUTE: 'ENSEMBLE_MODE_ROUTE',
  ENSEMBLE_MODE_LITEMEDSAM: 'ENSEMBLE_MODE_LITEMEDSAM',
  ENSEMBLE_MODE_ONESAM: 'ENSEMBLE_MODE_ONESAM',
  /**
   * Both networks, their mask probabilities averaged.
   */
  ENSEMBLE_MODE_FUSE: 'ENSEMBLE_MODE_FUSE',
} as const;

export type EnsembleMode =
  /**
   * Same as ENSEMBLE_MODE_ROUTE.
   */
  | 'ENSEMBLE_MODE_UNSPECIFIED'
  | 0
  /**
   * The routing table picks the network from the modality (see ListModels); LiteMedSAM when unknown.
   */
  | 'ENSEMBLE_MODE_ROUTE'
  | 1
  | 'ENSEMBLE_MODE_LITEMEDSAM'
  | 2
  | 'ENSEMBLE_MODE_ONESAM'
  | 3
  /**
   * Both networks, their mask probabilities averaged.
   */
  | 'ENSEMBLE_MODE_FUSE'
  | 4

export type EnsembleMode__Output = typeof EnsembleMode[keyof typeof EnsembleMode]
