// Request geometry in the reference's 256-space: resized sizes, scaled boxes, scribble mask prompts.
import { longestSideSize, resizeArea, scaleBox, MODEL_SIDE } from '../imaging/index.ts';

export function resizedSize(height: number, width: number): { newh: number; neww: number } {
  return longestSideSize(height, width);
}

export function scaleBoxTo256(box: { x0: number; y0: number; x1: number; y1: number }, height: number, width: number): readonly [number, number, number, number] {
  return scaleBox([box.x0, box.y0, box.x1, box.y1], height, width);
}

/**
 * A scribble as the reference's dense mask prompt ([LMS]): the 0/1 mask at full resolution, INTER_AREA-resized
 * to (newh, neww), zero-padded to 256x256, then `> 0`. Thin strokes may vanish in the resize, as upstream.
 */
export function scribbleMask256(pixels: Uint32Array, size: { height: number; width: number; newh: number; neww: number }): Float32Array {
  const full = new Uint8Array(size.height * size.width);
  for (const p of pixels) full[p] = 1;
  const resized = resizeArea(full, size.height, size.width, 1, size.newh, size.neww);
  const out = new Float32Array(MODEL_SIDE * MODEL_SIDE);
  for (let y = 0; y < size.newh; y++) {
    for (let x = 0; x < size.neww; x++) if (resized[y * size.neww + x]! > 0) out[y * MODEL_SIDE + x] = 1;
  }
  return out;
}
