// Original file: proto/onesam/v1/segmentation.proto


export interface CtWindow {
  /**
   * Default 40 (soft tissue).
   */
  'level'?: (number | string);
  /**
   * Default 400.
   */
  'width'?: (number | string);
  '_level'?: "level";
  '_width'?: "width";
}

export interface CtWindow__Output {
  /**
   * Default 40 (soft tissue).
   */
  'level'?: (number);
  /**
   * Default 400.
   */
  'width'?: (number);
  '_level'?: "level";
  '_width'?: "width";
}
