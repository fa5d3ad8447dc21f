// Original file: proto/onesam/v1/segmentation.proto


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
}
