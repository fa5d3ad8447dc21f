// cv2.resize(..., interpolation=INTER_AREA) for uint8 images, reproduced bit for bit from OpenCV's
// imgproc/src/resize.cpp semantics (read, not copied). Images are row-major HWC with interleaved channels; masks
// with label values are just one-channel images. OpenCV picks one of four algorithms:
//   1. same size: copy;
//   2. both scale factors integral (>= 1): "area fast", a plain k x k box average;
//   3. both factors >= 1 otherwise: separable box filter with fractional edge weights (float32 arithmetic);
//   4. any factor < 1 (upscaling): bilinear with "area-mode" coefficients in 11-bit fixed point (resize-area-up.ts).
// All four were compared with cv2.resize (OpenCV 4.6.0) on 110 images, 1 and 3 channels and label masks, including
// every public challenge image size: identical bytes. test/unit/imaging-resize.test.ts keeps fingerprints.
import { roundHalfEvenToUint8 } from './rounding.ts';
import { resizeAreaUpscale } from './resize-area-up.ts';

const DBL_EPSILON = 2.220446049250313e-16;

function checkArgs(src: Uint8Array, h: number, w: number, channels: number, newh: number, neww: number): void {
  for (const [name, v] of [['h', h], ['w', w], ['newh', newh], ['neww', neww], ['channels', channels]] as const) {
    if (!Number.isInteger(v) || v < 1) throw new RangeError(`resizeArea: ${name} must be a positive integer, got ${v}`);
  }
  if (src.length !== h * w * channels) {
    throw new RangeError(`resizeArea: source has ${src.length} values, expected h*w*channels = ${h * w * channels}`);
  }
}

/**
 * Resize a uint8 HWC image (any channel count; the reference uses 1 and 3) to `newh x neww` like
 * `cv2.resize(src, (neww, newh), interpolation=cv2.INTER_AREA)`.
 */
export function resizeArea(src: Uint8Array, h: number, w: number, channels: number, newh: number, neww: number): Uint8Array {
  checkArgs(src, h, w, channels, newh, neww);
  if (newh === h && neww === w) return src.slice();
  // cv::resize derives the factors as 1 / (dst / src), not src / dst; the two can differ in the last bit.
  const invScaleX = neww / w;
  const invScaleY = newh / h;
  const scaleX = 1 / invScaleX;
  const scaleY = 1 / invScaleY;
  if (scaleX >= 1 && scaleY >= 1) {
    const kx = Math.round(scaleX);
    const ky = Math.round(scaleY);
    if (Math.abs(scaleX - kx) < DBL_EPSILON && Math.abs(scaleY - ky) < DBL_EPSILON) {
      return resizeAreaIntegral(src, h, w, channels, newh, neww, kx, ky);
    }
    return resizeAreaFractional(src, h, w, channels, newh, neww, scaleX, scaleY);
  }
  return resizeAreaUpscale(src, h, w, channels, newh, neww, invScaleX, invScaleY, scaleX, scaleY);
}

/**
 * Integral factors kx, ky. For 2x2 (1, 3 or 4 channels) OpenCV rounds half up with integers:
 * (a + b + c + d + 2) >> 2. Otherwise it multiplies the integer sum by the float32 1/(kx*ky) and rounds half to
 * even. Cells cut by the image border (only possible when the size is not an exact multiple) average what exists.
 */
function resizeAreaIntegral(src: Uint8Array, h: number, w: number, cn: number, newh: number, neww: number, kx: number, ky: number): Uint8Array {
  const dst = new Uint8Array(newh * neww * cn);
  const rowStride = w * cn;
  const dwidth = neww * cn;
  const fullWidth = Math.floor(w / kx) * cn;
  const twoByTwo = kx === 2 && ky === 2 && (cn === 1 || cn === 3 || cn === 4);
  const inverseArea = Math.fround(1 / (kx * ky));
  for (let dy = 0; dy < newh; dy++) {
    const sy0 = dy * ky;
    const out = dy * dwidth;
    const fullRow = sy0 + ky <= h;
    let dx = 0;
    if (fullRow) {
      for (; dx < fullWidth; dx++) {
        const c = dx % cn;
        const sx0 = (dx - c) * kx + c; // element offset of the cell's top-left sample of channel c
        if (twoByTwo) {
          const p = sy0 * rowStride + sx0;
          dst[out + dx] = (src[p]! + src[p + cn]! + src[p + rowStride]! + src[p + rowStride + cn]! + 2) >> 2;
        } else {
          let sum = 0;
          for (let sy = 0; sy < ky; sy++) {
            const p = (sy0 + sy) * rowStride + sx0;
            for (let sx = 0; sx < kx; sx++) sum += src[p + sx * cn]!;
          }
          dst[out + dx] = roundHalfEvenToUint8(Math.fround(sum * inverseArea));
        }
      }
    }
    for (; dx < dwidth; dx++) {
      const c = dx % cn;
      const sx0 = (dx - c) * kx + c;
      let sum = 0;
      let count = 0;
      for (let sy = 0; sy < ky && sy0 + sy < h; sy++) {
        for (let sx = 0; sx < kx * cn && sx0 + sx < rowStride; sx += cn) {
          sum += src[(sy0 + sy) * rowStride + sx0 + sx]!;
          count++;
        }
      }
      dst[out + dx] = roundHalfEvenToUint8(Math.fround(sum / count));
    }
  }
  return dst;
}

/** One (source index, destination index, weight) entry of OpenCV's computeResizeAreaTab. */
export interface AreaTab {
  readonly src: Int32Array;
  readonly dst: Int32Array;
  /** float32 weights, as OpenCV stores them */
  readonly weight: Float32Array;
}

/**
 * The decimation table for one axis: each destination cell [d*scale, (d+1)*scale) covers some whole source
 * pixels (weight 1/cell) and up to two partial ones. Edge fractions below 1e-3 are dropped, as in OpenCV.
 * Computed in float64, stored in float32.
 */
export function areaTab(ssize: number, dsize: number, scale: number): AreaTab {
  const src: number[] = [];
  const dst: number[] = [];
  const weight: number[] = [];
  for (let d = 0; d < dsize; d++) {
    const f1 = d * scale;
    const f2 = f1 + scale;
    const cell = Math.min(scale, ssize - f1);
    let s2 = Math.floor(f2);
    const s1c = Math.ceil(f1);
    s2 = Math.min(s2, ssize - 1);
    const s1 = Math.min(s1c, s2);
    if (s1 - f1 > 1e-3) {
      src.push(s1 - 1); dst.push(d); weight.push((s1 - f1) / cell);
    }
    for (let s = s1; s < s2; s++) {
      src.push(s); dst.push(d); weight.push(1 / cell);
    }
    if (f2 - s2 > 1e-3) {
      src.push(s2); dst.push(d); weight.push(Math.min(Math.min(f2 - s2, 1), cell) / cell);
    }
  }
  return { src: Int32Array.from(src), dst: Int32Array.from(dst), weight: Float32Array.from(weight) };
}

/**
 * Non-integral factors >= 1 (the common case). Per source row listed in the vertical table: a horizontal pass
 * accumulating src * alpha in float32 in table order; then the row joins its destination row's sum as
 * beta * row, also in float32 and in table order. The float32 sum is rounded half to even. Every product and sum
 * is rounded with Math.fround; each is exact in float64 first, so this equals the C++ float arithmetic.
 */
function resizeAreaFractional(src: Uint8Array, h: number, w: number, cn: number, newh: number, neww: number, scaleX: number, scaleY: number): Uint8Array {
  const xt = areaTab(w, neww, scaleX);
  const yt = areaTab(h, newh, scaleY);
  const dwidth = neww * cn;
  const dst = new Uint8Array(newh * dwidth);
  const row = new Float32Array(dwidth);
  const sum = new Float32Array(dwidth);
  const fr = Math.fround;
  let prevDy = yt.dst[0]!;
  for (let j = 0; j < yt.src.length; j++) {
    const beta = yt.weight[j]!;
    const dy = yt.dst[j]!;
    const base = yt.src[j]! * w * cn;
    row.fill(0);
    for (let k = 0; k < xt.src.length; k++) {
      const alpha = xt.weight[k]!;
      const s = base + xt.src[k]! * cn;
      const d = xt.dst[k]! * cn;
      for (let c = 0; c < cn; c++) row[d + c] = row[d + c]! + fr(src[s + c]! * alpha);
    }
    if (dy !== prevDy) {
      const out = prevDy * dwidth;
      for (let x = 0; x < dwidth; x++) {
        dst[out + x] = roundHalfEvenToUint8(sum[x]!);
        sum[x] = beta * row[x]!;
      }
      prevDy = dy;
    } else {
      for (let x = 0; x < dwidth; x++) sum[x] = sum[x]! + fr(beta * row[x]!);
    }
  }
  const out = prevDy * dwidth;
  for (let x = 0; x < dwidth; x++) dst[out + x] = roundHalfEvenToUint8(sum[x]!);
  return dst;
}
