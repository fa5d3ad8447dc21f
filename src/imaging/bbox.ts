// The 3D propagation's box from the previous slice's mask (the reference's get_bbox256).
import { MODEL_SIDE } from './longest-side.ts';

/**
 * Min/max x and y of the nonzero pixels of a 256 x 256 mask, widened by `shift` and clamped to [0, 256]
 * (256, the padded map's size, not 255, as the reference clamps). Returns [x0, y0, x1, y1] or null when the mask
 * is empty (the caller then falls back to the original box).
 */
export function bboxFromMask256(mask256: Uint8Array, shift = 3): [number, number, number, number] | null {
  const side = MODEL_SIDE;
  if (mask256.length !== side * side) throw new RangeError(`bboxFromMask256: expected ${side * side} values, got ${mask256.length}`);
  let x0 = side;
  let y0 = side;
  let x1 = -1;
  let y1 = -1;
  for (let y = 0; y < side; y++) {
    const row = y * side;
    let first = -1;
    let last = -1;
    for (let x = 0; x < side; x++) {
      if (mask256[row + x] !== 0) {
        if (first < 0) first = x;
        last = x;
      }
    }
    if (first < 0) continue;
    if (y0 === side) y0 = y;
    y1 = y;
    if (first < x0) x0 = first;
    if (last > x1) x1 = last;
  }
  if (x1 < 0) return null;
  return [Math.max(0, x0 - shift), Math.max(0, y0 - shift), Math.min(side, x1 + shift), Math.min(side, y1 + shift)];
}
