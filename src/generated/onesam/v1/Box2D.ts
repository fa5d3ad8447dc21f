// Original file: proto/onesam/v1/segmentation.proto


/**
 * A box on one slice in pixel coordinates (x to the right, y down), min inclusive, max exclusive.
 */
export interface Box2D {
  'xMin'?: (number | string);
  'yMin'?: (number | string);
  'xMax'?: (number | string);
  'yMax'?: (number | string);
  /**
   * Slice index; required on volumes with more than one slice.
   */
  'z'?: (number);
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
   * Slice index; required on volumes with more than one slice.
   */
  'z'?: (number);
  '_z'?: "z";
}
