// Original file: proto/onesam/v1/segmentation.proto

import type { SliceRef as _onesam_v1_SliceRef, SliceRef__Output as _onesam_v1_SliceRef__Output } from '../../onesam/v1/SliceRef.ts';

/**
 * A box on one slice in pixel coordinates (x to the right, y down), min inclusive, max exclusive.
 */
export interface Box2D {
  'xMin'?: (number | string);
  'yMin'?: (number | string);
  'xMax'?: (number | string);
  'yMax'?: (number | string);
  /**
   * Slice index; required on volumes with more than one slice (or `slice` on DICOM inputs).
   */
  'z'?: (number);
  /**
   * DICOM inputs: the slice named by the image it came from, instead of z.
   */
  'slice'?: (_onesam_v1_SliceRef | null);
  '_z'?: "z";
}

/**
 * A box on one slice in pixel coordinates (x to the right, y down), min inclusive, max exclusive.
 */
export interface Box2D__Output {
  'xMin': (number);
  'yMin': (number);
  'xMax': (number);
  'yMax': (number);
  /**
   * Slice index; required on volumes with more than one slice (or `slice` on DICOM inputs).
   */
  'z'?: (number);
  /**
   * DICOM inputs: the slice named by the image it came from, instead of z.
   */
  'slice': (_onesam_v1_SliceRef__Output | null);
  '_z'?: "z";
}
