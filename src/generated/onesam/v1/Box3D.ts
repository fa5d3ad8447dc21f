// Original file: proto/onesam/v1/segmentation.proto

import type { SliceRef as _onesam_v1_SliceRef, SliceRef__Output as _onesam_v1_SliceRef__Output } from '../../onesam/v1/SliceRef.ts';

/**
 * A box in a volume: an xy box plus the slice range [z_min, z_max], both slices included.
 */
export interface Box3D {
  'xMin'?: (number | string);
  'yMin'?: (number | string);
  'zMin'?: (number);
  'xMax'?: (number | string);
  'yMax'?: (number | string);
  'zMax'?: (number);
  /**
   * DICOM inputs: the first and last slices named by the images they came from, instead of z_min and z_max
   * (both or neither).
   */
  'sliceFirst'?: (_onesam_v1_SliceRef | null);
  'sliceLast'?: (_onesam_v1_SliceRef | null);
}

/**
 * A box in a volume: an xy box plus the slice range [z_min, z_max], both slices included.
 */
export interface Box3D__Output {
  'xMin': (number);
  'yMin': (number);
  'zMin': (number);
  'xMax': (number);
  'yMax': (number);
  'zMax': (number);
  /**
   * DICOM inputs: the first and last slices named by the images they came from, instead of z_min and z_max
   * (both or neither).
   */
  'sliceFirst': (_onesam_v1_SliceRef__Output | null);
  'sliceLast': (_onesam_v1_SliceRef__Output | null);
}
