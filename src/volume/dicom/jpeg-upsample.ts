// Chroma upsampling of a decoded JPEG component to the image's sampling grid, as IJG libjpeg does it by default
// (jdsample.c, "fancy" upsampling), so that subsampled 12-bit colour gives dcmtk's dcmdjpeg samples exactly:
// - half the horizontal rate (4:2:2): each output sample is 3/4 of the nearer input sample plus 1/4 of the further,
//   rounded alternately down and up (+1, +2 before the shift by 2); the first and last columns repeat their input;
// - half the rate both ways (4:2:0): the same triangle filter across rows too (9/16, 3/16, 3/16, 1/16), with +8 and
//   +7 before the shift by 4; the rows above the first and below the last repeat them;
// - any other whole ratio, and rows of at most 2 input samples: each sample repeated (libjpeg's plain upsamplers).
// Fractional ratios (libjpeg refuses them too) are refused by the caller.

export interface UpsampleSource {
  /** Input samples, rows `stride` apart. */
  readonly plane: Uint16Array;
  readonly stride: number;
  /** Input samples that are image data (T.81 A.1.1): the rest of the block grid is not read. */
  readonly width: number;
  readonly height: number;
  /** Output samples per input sample, across and down. */
  readonly hRatio: number;
  readonly vRatio: number;
}

/** The component at full size: `width * hRatio` by `height * vRatio` samples, rows that many apart. */
export function upsample(source: UpsampleSource): Uint16Array {
  const { width, height, hRatio, vRatio } = source;
  if (hRatio === 2 && vRatio === 1 && width > 2) return triangleAcross(source);
  if (hRatio === 2 && vRatio === 2 && width > 2) return triangleBothWays(source);
  const outWidth = width * hRatio;
  const out = new Uint16Array(outWidth * height * vRatio);
  for (let y = 0; y < height * vRatio; y++) {
    const row = Math.floor(y / vRatio) * source.stride;
    for (let x = 0; x < outWidth; x++) out[y * outWidth + x] = source.plane[row + Math.floor(x / hRatio)]!;
  }
  return out;
}

function triangleAcross({ plane, stride, width, height }: UpsampleSource): Uint16Array {
  const outWidth = 2 * width;
  const out = new Uint16Array(outWidth * height);
  for (let y = 0; y < height; y++) {
    const i = y * stride;
    const o = y * outWidth;
    out[o] = plane[i]!;
    out[o + 1] = (plane[i]! * 3 + plane[i + 1]! + 2) >> 2;
    for (let x = 1; x < width - 1; x++) {
      const near = plane[i + x]! * 3;
      out[o + 2 * x] = (near + plane[i + x - 1]! + 1) >> 2;
      out[o + 2 * x + 1] = (near + plane[i + x + 1]! + 2) >> 2;
    }
    const last = plane[i + width - 1]!;
    out[o + outWidth - 2] = (last * 3 + plane[i + width - 2]! + 1) >> 2;
    out[o + outWidth - 1] = last;
  }
  return out;
}

function triangleBothWays({ plane, stride, width, height }: UpsampleSource): Uint16Array {
  const outWidth = 2 * width;
  const out = new Uint16Array(outWidth * height * 2);
  const sums = new Int32Array(width);
  for (let y = 0; y < height; y++) {
    for (let half = 0; half < 2; half++) {
      // The output row above the input row's centre leans on the input row above, the one below on the row below.
      const neighbour = Math.min(height - 1, Math.max(0, half === 0 ? y - 1 : y + 1));
      const near = y * stride;
      const far = neighbour * stride;
      for (let x = 0; x < width; x++) sums[x] = plane[near + x]! * 3 + plane[far + x]!;
      const o = (2 * y + half) * outWidth;
      out[o] = (sums[0]! * 4 + 8) >> 4;
      out[o + 1] = (sums[0]! * 3 + sums[1]! + 7) >> 4;
      for (let x = 1; x < width - 1; x++) {
        out[o + 2 * x] = (sums[x]! * 3 + sums[x - 1]! + 8) >> 4;
        out[o + 2 * x + 1] = (sums[x]! * 3 + sums[x + 1]! + 7) >> 4;
      }
      out[o + outWidth - 2] = (sums[width - 1]! * 3 + sums[width - 2]! + 8) >> 4;
      out[o + outWidth - 1] = (sums[width - 1]! * 4 + 7) >> 4;
    }
  }
  return out;
}
