// Original file: proto/onesam/v1/segmentation.proto

import type { Stroke as _onesam_v1_Stroke, Stroke__Output as _onesam_v1_Stroke__Output } from '../../onesam/v1/Stroke.ts';

/**
 * Freehand strokes marking one object. Each stroke lies on one slice; consecutive points are joined by
 * 1-pixel lines, so a single-point stroke marks one voxel.
 */
export interface Scribble {
  'strokes'?: (_onesam_v1_Stroke)[];
}

/**
 * Freehand strokes marking one object. Each stroke lies on one slice; consecutive points are joined by
 * 1-pixel lines, so a single-point stroke marks one voxel.
 */
export interface Scribble__Output {
  'strokes': (_onesam_v1_Stroke__Output)[];
}
