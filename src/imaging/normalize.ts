// The encoder input: INTER_AREA resize of the longest side to 256, min-max to [0, 1], zero pad, CHW float32.
import { longestSideSize, MODEL_SIDE } from './longest-side.ts';
import { resizeArea } from './resize-area.ts';

/**
 * (x - min) / max(max - min, 1e-8) over all values and channels of the resized uint8 image, in float64, then
 * rounded to float32: the reference computes in NumPy float64 and converts with torch's .float(). The uint8
 * subtraction cannot underflow because min is the minimum; a constant image becomes all zeros.
 */
export function normalizeMinMax(img: Uint8Array): Float32Array {
  let mn = 255;
  let mx = 0;
  for (let i = 0; i < img.length; i++) {
    const v = img[i]!;
    if (v < mn) mn = v;
    if (v > mx) mx = v;
  }
  const range = Math.max(mx - mn, 1e-8);
  // 256 possible inputs: one float64 division each, as NumPy does per element.
  const lut = new Float32Array(256);
  for (let v = mn; v <= mx; v++) lut[v] = (v - mn) / range;
  const out = new Float32Array(img.length);
  for (let i = 0; i < img.length; i++) out[i] = lut[img[i]!]!;
  return out;
}

/**
 * Zero-pad an HWC image (1 or 3 channels) of size h x w at the bottom and right to 256 x 256 and lay it out as
 * CHW float32 (3, 256, 256). A one-channel image is replicated to three channels, as the reference repeats a
 * grey slice before resizing (resizing and normalising act on each channel identically, so replicating after is
 * the same). Padding happens after normalisation, so the pad value 0 equals the image minimum.
 */
export function padAndLayoutCHW(norm: Float32Array, h: number, w: number, channels: 1 | 3, out?: Float32Array): Float32Array {
  const side = MODEL_SIDE;
  if (h > side || w > side) throw new RangeError(`padAndLayoutCHW: ${h}x${w} does not fit in ${side}x${side}`);
  if (norm.length !== h * w * channels) throw new RangeError(`padAndLayoutCHW: expected ${h * w * channels} values, got ${norm.length}`);
  const plane = side * side;
  const chw = out ?? new Float32Array(3 * plane);
  if (chw.length !== 3 * plane) throw new RangeError(`padAndLayoutCHW: output must hold ${3 * plane} values`);
  chw.fill(0);
  for (let c = 0; c < 3; c++) {
    const sc = channels === 1 ? 0 : c;
    const base = c * plane;
    for (let y = 0; y < h; y++) {
      const rowIn = y * w * channels;
      const rowOut = base + y * side;
      for (let x = 0; x < w; x++) chw[rowOut + x] = norm[rowIn + x * channels + sc]!;
    }
  }
  return chw;
}

export interface PreprocessedSlice {
  /** (1, 3, 256, 256) float32, batch dimension implied */
  readonly tensor: Float32Array;
  readonly newh: number;
  readonly neww: number;
}

/**
 * The encoder input for one 2D image (HWC, 3 channels, as stored in challenge files) or one grey slice
 * (channels = 1, replicated to three). Writes into `out` when given (length 3*256*256).
 */
export function preprocessSlice(src: Uint8Array, h: number, w: number, channels: 1 | 3, out?: Float32Array): PreprocessedSlice {
  const { newh, neww } = longestSideSize(h, w);
  const resized = resizeArea(src, h, w, channels, newh, neww);
  const tensor = padAndLayoutCHW(normalizeMinMax(resized), newh, neww, channels, out);
  return { tensor, newh, neww };
}
