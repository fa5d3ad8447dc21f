// The reference's geometry of "resize the longest side to 256, then pad": sizes and box scaling.

/** The side length the networks see. */
export const MODEL_SIDE = 256;

export interface ResizedSize {
  readonly newh: number;
  readonly neww: number;
}

/**
 * Size after resizing the longest side to `target`: `int(h * scale + 0.5)` with `scale = target / max(h, w)` in
 * float64, exactly as the reference computes it (Python int() of a positive float is floor).
 */
export function longestSideSize(h: number, w: number, target: number = MODEL_SIDE): ResizedSize {
  const scale = target / Math.max(h, w);
  return { newh: Math.floor(h * scale + 0.5), neww: Math.floor(w * scale + 0.5) };
}

export type Box = readonly [number, number, number, number];

/**
 * A box `[x0, y0, x1, y1]` in original pixels to 256-space: each coordinate times `256 / max(h, w)`, truncated
 * toward zero like Python's int(). The nominal ratio is used, not newh/h, as in the reference.
 */
export function scaleBox(box: Box, h: number, w: number): [number, number, number, number] {
  const ratio = MODEL_SIDE / Math.max(h, w);
  return [Math.trunc(box[0] * ratio), Math.trunc(box[1] * ratio), Math.trunc(box[2] * ratio), Math.trunc(box[3] * ratio)];
}
