// Original file: proto/onesam/v1/segmentation.proto

import type { VoxelType as _onesam_v1_VoxelType, VoxelType__Output as _onesam_v1_VoxelType__Output } from '../../onesam/v1/VoxelType.ts';

export interface RawVolume {
  /**
   * (D,H,W) volume, (H,W) grey image or (H,W,3) RGB image; the last axis varies fastest.
   */
  'shape'?: (number)[];
  'dtype'?: (_onesam_v1_VoxelType);
  /**
   * (z,y,x) spacing in mm, carried to NIfTI/npz outputs; empty when unknown.
   */
  'spacing'?: (number | string)[];
}

export interface RawVolume__Output {
  /**
   * (D,H,W) volume, (H,W) grey image or (H,W,3) RGB image; the last axis varies fastest.
   */
  'shape': (number)[];
  'dtype': (_onesam_v1_VoxelType__Output);
  /**
   * (z,y,x) spacing in mm, carried to NIfTI/npz outputs; empty when unknown.
   */
  'spacing': (number)[];
}
