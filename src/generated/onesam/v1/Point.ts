// Original file: proto/onesam/v1/segmentation.proto


export interface Point {
  'x'?: (number);
  'y'?: (number);
  /**
   * Slice index; 0 for a 2D image. All points of a stroke share it.
   */
  'z'?: (number);
}

export interface Point__Output {
  'x': (number);
  'y': (number);
  /**
   * Slice index; 0 for a 2D image. All points of a stroke share it.
   */
  'z': (number);
}
