// Original file: proto/onesam/v1/segmentation.proto

import type { AsIs as _onesam_v1_AsIs, AsIs__Output as _onesam_v1_AsIs__Output } from '../../onesam/v1/AsIs.ts';
import type { CtWindow as _onesam_v1_CtWindow, CtWindow__Output as _onesam_v1_CtWindow__Output } from '../../onesam/v1/CtWindow.ts';
import type { Percentile as _onesam_v1_Percentile, Percentile__Output as _onesam_v1_Percentile__Output } from '../../onesam/v1/Percentile.ts';

export interface IntensityPreparation {
  /**
   * Voxels already hold 0..255 (every value must be an integer in that range).
   */
  'asis'?: (_onesam_v1_AsIs | null);
  /**
   * Clip to [level - width/2, level + width/2], then min-max to 0..255 (LiteMedSAM's CT preparation).
   */
  'ctWindow'?: (_onesam_v1_CtWindow | null);
  /**
   * Clip the non-zero voxels to their [low, high] percentiles, min-max to 0..255, zeros stay 0 (MR, PET).
   */
  'percentile'?: (_onesam_v1_Percentile | null);
  'preparation'?: "asis"|"ctWindow"|"percentile";
}

export interface IntensityPreparation__Output {
  /**
   * Voxels already hold 0..255 (every value must be an integer in that range).
   */
  'asis'?: (_onesam_v1_AsIs__Output | null);
  /**
   * Clip to [level - width/2, level + width/2], then min-max to 0..255 (LiteMedSAM's CT preparation).
   */
  'ctWindow'?: (_onesam_v1_CtWindow__Output | null);
  /**
   * Clip the non-zero voxels to their [low, high] percentiles, min-max to 0..255, zeros stay 0 (MR, PET).
   */
  'percentile'?: (_onesam_v1_Percentile__Output | null);
  'preparation'?: "asis"|"ctWindow"|"percentile";
}
