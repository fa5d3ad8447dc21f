// INTER_AREA when a factor is below 1 (the image grows): OpenCV does not box-filter but runs its generic bilinear
// resize with "area-mode" coefficients, in fixed point for uint8 (INTER_RESIZE_COEF_BITS = 11). Reproduced from
// the semantics of OpenCV's resize.cpp:
//   horizontal: 32-bit integer row = S[x0] * a0 + S[x0 + cn] * a1 (or S[x0] * 2048 past the right border);
//   vertical:   ((b0 * (R0 >> 4)) >> 16) + ((b1 * (R1 >> 4)) >> 16) + 2) >> 2, which is the formula of the SIMD
//               path and of the uint8 scalar tail alike (the uint8 specialisation of VResizeLinear), so the
//               result does not depend on vector width.

const COEF_SCALE = 2048;

interface AxisCoefficients {
  /** first source index per destination index (before channel scaling) */
  readonly index: Int32Array;
  /** fixed-point weights, two per destination index */
  readonly weight: Int32Array;
  /** first destination index whose second tap would fall off the source (the "xmax" of OpenCV) */
  readonly limit: number;
}

/**
 * Area-mode coefficients for one axis: s = floor(d * scale), f = (d + 1) - (s + 1) / scale computed in float64 and
 * stored as float32, then f = 0 if f <= 0 else its fractional part; taps (1 - f, f) rounded to 11-bit fixed point
 * half to even. `clampRight` applies OpenCV's horizontal border rule (the vertical axis has none: rows are
 * clamped when read instead).
 */
function axisCoefficients(ssize: number, dsize: number, scale: number, invScale: number, clampRight: boolean): AxisCoefficients {
  const index = new Int32Array(dsize);
  const weight = new Int32Array(dsize * 2);
  let limit = dsize;
  const fr = Math.fround;
  for (let d = 0; d < dsize; d++) {
    let s = Math.floor(d * scale);
    let f = fr((d + 1) - (s + 1) * invScale);
    f = f <= 0 ? 0 : fr(f - Math.floor(f));
    if (clampRight && s + 1 >= ssize) {
      limit = Math.min(limit, d);
      if (s >= ssize - 1) {
        f = 0;
        s = ssize - 1;
      }
    }
    index[d] = s;
    weight[2 * d] = roundHalfEven(fr(1 - f) * COEF_SCALE);
    weight[2 * d + 1] = roundHalfEven(f * COEF_SCALE);
  }
  return { index, weight, limit };
}

function roundHalfEven(v: number): number {
  let r = Math.round(v);
  if (r - v === 0.5 && (r & 1) === 1) r -= 1;
  return r;
}

/** Fixed-point horizontal pass of one source row into `out` (dsize.width * cn 32-bit values). */
function horizontalPass(src: Uint8Array, rowStart: number, cn: number, neww: number, xc: AxisCoefficients, out: Int32Array): void {
  for (let dx = 0; dx < neww; dx++) {
    const s = rowStart + xc.index[dx]! * cn;
    const o = dx * cn;
    if (dx < xc.limit) {
      const a0 = xc.weight[2 * dx]!;
      const a1 = xc.weight[2 * dx + 1]!;
      for (let c = 0; c < cn; c++) out[o + c] = src[s + c]! * a0 + src[s + c + cn]! * a1;
    } else {
      for (let c = 0; c < cn; c++) out[o + c] = src[s + c]! * COEF_SCALE;
    }
  }
}

/** The upscaling branch of INTER_AREA (see the file comment). Factors are OpenCV's: scale = 1 / invScale. */
export function resizeAreaUpscale(
  src: Uint8Array, h: number, w: number, cn: number, newh: number, neww: number,
  invScaleX: number, invScaleY: number, scaleX: number, scaleY: number,
): Uint8Array {
  const xc = axisCoefficients(w, neww, scaleX, invScaleX, true);
  const yc = axisCoefficients(h, newh, scaleY, invScaleY, false);
  const width = neww * cn;
  const dst = new Uint8Array(newh * width);
  const r0 = new Int32Array(width);
  const r1 = new Int32Array(width);
  for (let dy = 0; dy < newh; dy++) {
    // Source rows sy and sy + 1, clamped into the image (OpenCV's clip() when it fetches rows).
    const sy = yc.index[dy]!;
    const y0 = Math.min(Math.max(sy, 0), h - 1);
    const y1 = Math.min(Math.max(sy + 1, 0), h - 1);
    horizontalPass(src, y0 * w * cn, cn, neww, xc, r0);
    if (y1 === y0) r1.set(r0);
    else horizontalPass(src, y1 * w * cn, cn, neww, xc, r1);
    const b0 = yc.weight[2 * dy]!;
    const b1 = yc.weight[2 * dy + 1]!;
    const out = dy * width;
    for (let x = 0; x < width; x++) {
      // Math.imul keeps C's 32-bit int multiply; >> is C's arithmetic shift for these non-negative values.
      dst[out + x] = ((Math.imul(b0, r0[x]! >> 4) >> 16) + (Math.imul(b1, r1[x]! >> 4) >> 16) + 2) >> 2;
    }
  }
  return dst;
}
