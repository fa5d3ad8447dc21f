// Original file: proto/onesam/v1/segmentation.proto


export interface Percentile {
  /**
   * Default 0.5.
   */
  'low'?: (number | string);
  /**
   * Default 99.5.
   */
  'high'?: (number | string);
  '_low'?: "low";
  '_high'?: "high";
}

export interface Percentile__Output {
  /**
   * Default 0.5.
   */
  'low'?: (number);
  /**
   * Default 99.5.
   */
  'high'?: (number);
  '_low'?: "low";
  '_high'?: "high";
}
