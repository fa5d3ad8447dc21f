// Decoder logits (256 x 256) to a full-resolution mask, as the reference does with torch on CPU:
// crop [:newh, :neww], F.interpolate(size=(h, w), mode="bilinear", align_corners=False), sigmoid, > 0.5.
// Everything is float32 like PyTorch 2.x's CPU kernel for float input (opmath_t is float: scale, source index,
// lambdas and the two-tap sums t0 * w0 + t1 * w1, height outer, width inner), as read in UpSampleKernel.cpp.
// Older PyTorch (1.13) computes the source index and the sums in float64 instead; against it the values differ
// in the last bits and a mask pixel flips only where the logit is within ~1e-5 of zero (0 to 25 pixels of up to
// 12 million in our scratch comparison).
import { MODEL_SIDE } from './longest-side.ts';

const fr = Math.fround;

/** Source taps and weights of one axis of PyTorch's bilinear upsampling (align_corners=False, no antialias). */
export interface LinearAxis {
  readonly i0: Int32Array;
  readonly i1: Int32Array;
  readonly l0: Float32Array;
  readonly l1: Float32Array;
}

/**
 * PyTorch's compute_source_index_and_lambda: scale = float(in) / out in float32 (the size-based scale, since
 * F.interpolate was given a size); src = scale * (d + 0.5) - 0.5 in float32, clamped at 0;
 * i0 = min(floor(src), in - 1), lambda1 = clamp(src - i0, 0, 1), i1 = i0 + (i0 < in - 1), lambda0 = 1 - lambda1.
 * Equal sizes copy (index d, weights 1 and 0). Each float32 operation is rounded with Math.fround; the inputs are
 * float32 and each exact float64 result rounds once, so this is the float arithmetic of the C++ code (assuming
 * the compiler did not fuse the multiply-add, which PyTorch's default build flags do not request).
 */
export function linearAxis(inSize: number, outSize: number): LinearAxis {
  const i0 = new Int32Array(outSize);
  const i1 = new Int32Array(outSize);
  const l0 = new Float32Array(outSize);
  const l1 = new Float32Array(outSize);
  const scale = fr(inSize / outSize);
  for (let d = 0; d < outSize; d++) {
    if (inSize === outSize) {
      i0[d] = d; i1[d] = d; l0[d] = 1; l1[d] = 0;
      continue;
    }
    let src = fr(fr(scale * fr(d + 0.5)) - 0.5);
    if (src < 0) src = 0;
    const a = Math.min(Math.floor(src), inSize - 1);
    const lambda1 = Math.min(Math.max(fr(src - a), 0), 1);
    i0[d] = a;
    i1[d] = a + (a < inSize - 1 ? 1 : 0);
    l1[d] = lambda1;
    l0[d] = fr(1 - lambda1);
  }
  return { i0, i1, l0, l1 };
}

// Slices of one volume share sizes, so the tables are computed once per (in, out) pair.
const axisCache = new Map<string, LinearAxis>();
function cachedAxis(inSize: number, outSize: number): LinearAxis {
  const key = `${inSize}:${outSize}`;
  let axis = axisCache.get(key);
  if (!axis) {
    if (axisCache.size > 64) axisCache.clear();
    axis = linearAxis(inSize, outSize);
    axisCache.set(key, axis);
  }
  return axis;
}

/**
 * sigmoid(v) > 0.5 in float32: 1 / (1 + exp(-v)) rounds to exactly 0.5 for 0 < v below about 9e-8, so this is
 * `v > 0` except in that sliver, where the float32 steps decide.
 */
export function sigmoidAboveHalf(v: number): boolean {
  if (v > 1e-6) return true;
  if (!(v > 0)) return false;
  return fr(1 / fr(1 + fr(Math.exp(-v)))) > 0.5;
}

/**
 * The full-resolution uint8 mask (0/1, h * w) of one object from its 256 x 256 low-resolution logits.
 * `out` (length h * w) is filled and returned when given.
 */
export function postprocessLogits(lowRes: Float32Array, newh: number, neww: number, h: number, w: number, out?: Uint8Array): Uint8Array {
  const side = MODEL_SIDE;
  if (lowRes.length !== side * side) throw new RangeError(`postprocessLogits: expected ${side * side} logits, got ${lowRes.length}`);
  if (newh < 1 || neww < 1 || newh > side || neww > side) throw new RangeError(`postprocessLogits: crop ${newh}x${neww} outside 256x256`);
  const mask = out ?? new Uint8Array(h * w);
  if (mask.length !== h * w) throw new RangeError(`postprocessLogits: output must hold ${h * w} values`);
  const ax = cachedAxis(neww, w);
  const ay = cachedAxis(newh, h);
  // Horizontal interpolation of every cropped logit row once: t = x0 * l0 + x1 * l1 (float32).
  const rows = new Float32Array(newh * w);
  for (let r = 0; r < newh; r++) {
    const src = r * side;
    const dst = r * w;
    for (let x = 0; x < w; x++) {
      rows[dst + x] = fr(lowRes[src + ax.i0[x]!]! * ax.l0[x]!) + fr(lowRes[src + ax.i1[x]!]! * ax.l1[x]!);
    }
  }
  // Vertical: top * l0 + bottom * l1, then the sigmoid threshold.
  for (let y = 0; y < h; y++) {
    const top = ay.i0[y]! * w;
    const bottom = ay.i1[y]! * w;
    const w0 = ay.l0[y]!;
    const w1 = ay.l1[y]!;
    const o = y * w;
    for (let x = 0; x < w; x++) {
      const v = fr(fr(rows[top + x]! * w0) + fr(rows[bottom + x]! * w1));
      mask[o + x] = v > 1e-6 ? 1 : v > 0 && sigmoidAboveHalf(v) ? 1 : 0;
    }
  }
  return mask;
}
