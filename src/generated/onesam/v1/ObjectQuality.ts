// Original file: proto/onesam/v1/segmentation.proto

export const ObjectQuality = {
  OBJECT_QUALITY_UNSPECIFIED: 'OBJECT_QUALITY_UNSPECIFIED',
  /**
   * Nothing to flag.
   */
  OBJECT_QUALITY_OK: 'OBJECT_QUALITY_OK',
  /**
   * predicted_iou_mean is below 0.5: the model expects this mask to be more wrong than right; have it reviewed or
   * prompt again (a tighter box, a scribble).
   */
  OBJECT_QUALITY_LOW_PREDICTED_IOU: 'OBJECT_QUALITY_LOW_PREDICTED_IOU',
  /**
   * The object has no voxels in the output (its mask was empty, or later objects overwrote all of it).
   */
  OBJECT_QUALITY_EMPTY: 'OBJECT_QUALITY_EMPTY',
} as const;

export type ObjectQuality =
  | 'OBJECT_QUALITY_UNSPECIFIED'
  | 0
  /**
   * Nothing to flag.
   */
  | 'OBJECT_QUALITY_OK'
  | 1
  /**
   * predicted_iou_mean is below 0.5: the model expects this mask to be more wrong than right; have it reviewed or
   * prompt again (a tighter box, a scribble).
   */
  | 'OBJECT_QUALITY_LOW_PREDICTED_IOU'
  | 2
  /**
   * The object has no voxels in the output (its mask was empty, or later objects overwrote all of it).
   */
  | 'OBJECT_QUALITY_EMPTY'
  | 3

export type ObjectQuality__Output = typeof ObjectQuality[keyof typeof ObjectQuality]
