// Original file: proto/onesam/v1/segmentation.proto

import type { LabelFormat as _onesam_v1_LabelFormat, LabelFormat__Output as _onesam_v1_LabelFormat__Output } from '../../onesam/v1/LabelFormat.ts';

export interface OutputOptions {
  /**
   * UNSPECIFIED means RAW.
   */
  'format'?: (_onesam_v1_LabelFormat);
  /**
   * RAW: the bytes gzip-wrapped; NPZ: deflated entries; NIFTI: .nii.gz.
   */
  'gzip'?: (boolean);
  /**
   * Always send uint16 labels, even when every label fits in uint8.
   */
  'forceUint16'?: (boolean);
}

export interface OutputOptions__Output {
  /**
   * UNSPECIFIED means RAW.
   */
  'format': (_onesam_v1_LabelFormat__Output);
  /**
   * RAW: the bytes gzip-wrapped; NPZ: deflated entries; NIFTI: .nii.gz.
   */
  'gzip': (boolean);
  /**
   * Always send uint16 labels, even when every label fits in uint8.
   */
  'forceUint16': (boolean);
}
