// Original file: proto/onesam/v1/segmentation.proto

import type { Point as _onesam_v1_Point, Point__Output as _onesam_v1_Point__Output } from '../../onesam/v1/Point.ts';

export interface Stroke {
  'points'?: (_onesam_v1_Point)[];
}

export interface Stroke__Output {
  'points': (_onesam_v1_Point__Output)[];
}
