// Intensity preparation: map stored voxel values (CT Hounsfield units, MR signal, already-8-bit images) to the
// 0..255 uint8 range the networks were trained on. The reference (LiteMedSAM's data preparation, pre_CT_MR.py,
// spec section 2.6) does this with numpy; we reproduce its arithmetic so a volume prepared here matches one prepared
// by the challenge organisers' script voxel for voxel:
//   - numpy computes in the input's float type: float32 voxels stay float32 through clip, min-max and rescale
//     (NEP 50: Python float bounds are "weak"), every other dtype is promoted to float64. We round each float32 step
//     with Math.fround; for +, -, *, / on float32 operands, rounding the exact double result once more to float32
//     gives the correctly rounded float32 result, so this is bit-identical.
//   - the rescale is evaluated as ((v - min) / (max - min)) * 255, in that order;
//   - `np.uint8(x)` truncates toward zero (x is already in [0, 255]), it does not round.
// Where the reference would divide 0 by 0 (every voxel equal after clipping) it produces NaN; we define the result as
// all zeros.
import { CodedError } from '../errors/coded-error.ts';

/** The voxel arrays formats decode to, in the input's own dtype (before any preparation). */
export type VoxelArray =
  | Uint8Array | Int8Array | Int16Array | Uint16Array | Int32Array | Uint32Array | Float32Array | Float64Array;

export type IntensityPreparation =
  /** Voxels are already 0..255. Any dtype is accepted when every voxel is an integer in 0..255 (lossless). */
  | { readonly kind: 'asis' }
  /** CT window: clip to [level - width/2, level + width/2], then min-max over the volume to 0..255. */
  | { readonly kind: 'ct-window'; readonly level?: number; readonly width?: number }
  /** MR style: clip to the low/high percentiles of the voxels > 0, min-max to 0..255, zeros stay zero. */
  | { readonly kind: 'percentile'; readonly low?: number; readonly high?: number };

/** The element types of VoxelArray, by name (as npy, NIfTI and raw headers declare them). */
export type VoxelType = 'uint8' | 'int8' | 'int16' | 'uint16' | 'int32' | 'uint32' | 'float32' | 'float64';

export const VOXEL_BYTES: Readonly<Record<VoxelType, number>> = Object.freeze({
  uint8: 1, int8: 1, int16: 2, uint16: 2, int32: 4, uint32: 4, float32: 4, float64: 8,
});

/** Types whose percentiles come from a 65536-bin histogram rather than a copy of the positive voxels. */
const HISTOGRAM_TYPES: ReadonlySet<VoxelType> = new Set(['uint8', 'int8', 'int16', 'uint16']);
const HISTOGRAM_BYTES = 65536 * Float64Array.BYTES_PER_ELEMENT;

/**
 * Bytes prepareIntensity allocates for `count` voxels of `type`, at most: its uint8 output (none for uint8 as-is,
 * which passes through) and, for percentiles, the histogram or the copy of the voxels > 0 that it selects from.
 * Decoders check it against the working-memory limit before preparing (limits.ts).
 */
export function preparationBytes(type: VoxelType, count: number, prep: IntensityPreparation): number {
  const output = type === 'uint8' && prep.kind === 'asis' ? 0 : count;
  if (prep.kind !== 'percentile') return output;
  return output + (HISTOGRAM_TYPES.has(type) ? HISTOGRAM_BYTES : count * VOXEL_BYTES[type]);
}

/** pre_CT_MR.py: WINDOW_LEVEL = 40, WINDOW_WIDTH = 400 (soft tissue). */
export const CT_WINDOW_DEFAULT = Object.freeze({ level: 40, width: 400 });
/** pre_CT_MR.py: np.percentile(image_data[image_data > 0], 0.5) and (..., 99.5). */
export const PERCENTILE_DEFAULT = Object.freeze({ low: 0.5, high: 99.5 });

type Round = (x: number) => number;
const exact: Round = (x) => x;

/** numpy's arithmetic precision for this array: float32 stays float32, everything else becomes float64. */
function arithmeticFor(voxels: VoxelArray): Round {
  return voxels instanceof Float32Array ? Math.fround : exact;
}

/**
 * Apply a preparation to a volume's voxels. `field` names the request field holding the preparation, for errors
 * (e.g. `header.intensity`).
 */
export function prepareIntensity(voxels: VoxelArray, prep: IntensityPreparation, field = 'header.intensity'): Uint8Array {
  switch (prep.kind) {
    case 'asis':
      return asIsUint8(voxels);
    case 'ct-window': {
      const level = prep.level ?? CT_WINDOW_DEFAULT.level;
      const width = prep.width ?? CT_WINDOW_DEFAULT.width;
      if (!Number.isFinite(level)) throw new CodedError('INTENSITY_INVALID', `must be a finite number, got ${level}`, `${field}.level`);
      if (!(Number.isFinite(width) && width > 0)) throw new CodedError('INTENSITY_INVALID', `must be a finite number > 0, got ${width}`, `${field}.width`);
      return ctWindow(voxels, level, width);
    }
    case 'percentile': {
      const low = prep.low ?? PERCENTILE_DEFAULT.low;
      const high = prep.high ?? PERCENTILE_DEFAULT.high;
      if (!(low >= 0 && low <= 100)) throw new CodedError('INTENSITY_INVALID', `must be a percentile in [0, 100], got ${low}`, `${field}.low`);
      if (!(high >= 0 && high <= 100)) throw new CodedError('INTENSITY_INVALID', `must be a percentile in [0, 100], got ${high}`, `${field}.high`);
      if (!(low < high)) throw new CodedError('INTENSITY_INVALID', `must be below high (${high}), got ${low}`, `${field}.low`);
      return percentileWindow(voxels, low, high);
    }
    default: {
      const kind: unknown = (prep as { kind?: unknown }).kind;
      throw new CodedError('INTENSITY_INVALID', `must be one of asis, ct-window, percentile; got ${String(kind)}`, `${field}.kind`);
    }
  }
}

/**
 * As-is: uint8 passes through untouched (the same buffer). Other dtypes are accepted only when every voxel is
 * already an integer in 0..255, so nothing is silently clipped or rounded; a clear error otherwise, pointing the
 * client at ct-window or percentile.
 */
export function asIsUint8(voxels: VoxelArray): Uint8Array {
  if (voxels instanceof Uint8Array) return voxels;
  const out = new Uint8Array(voxels.length);
  for (let i = 0; i < voxels.length; i++) {
    const v = voxels[i]!;
    if (!(v >= 0 && v <= 255 && Number.isInteger(v))) {
      throw new CodedError(
        'INTENSITY_INVALID',
        `asis needs voxels that are integers in 0..255, but voxel ${i} is ${v}; use ct-window or percentile for this data`,
        'header.intensity.kind',
      );
    }
    out[i] = v;
  }
  return out;
}

/** CT window (pre_CT_MR.py, modality CT): clip to [level - width/2, level + width/2], min-max to 0..255. */
export function ctWindow(voxels: VoxelArray, level: number, width: number): Uint8Array {
  requireFinite(voxels);
  const round = arithmeticFor(voxels);
  return clipAndRescale(voxels, round(level - width / 2), round(level + width / 2), round, false);
}

/**
 * MR style (pre_CT_MR.py, other modalities): clip to the `low` and `high` percentiles (numpy's default 'linear'
 * method) of the voxels > 0, min-max to 0..255, then voxels that were exactly 0 are set back to 0.
 */
export function percentileWindow(voxels: VoxelArray, low: number, high: number): Uint8Array {
  requireFinite(voxels);
  const positive = PositiveVoxels.of(voxels);
  if (positive.count === 0) {
    // The reference fails here too (np.percentile of an empty array raises): nothing defines the window.
    throw new CodedError('INTENSITY_INVALID', 'percentile needs at least one voxel > 0, and this volume has none', 'header.intensity.kind');
  }
  const round = arithmeticFor(voxels);
  return clipAndRescale(voxels, positive.percentile(low, round), positive.percentile(high, round), round, true);
}

function requireFinite(voxels: VoxelArray): void {
  if (!(voxels instanceof Float32Array || voxels instanceof Float64Array)) return;
  for (let i = 0; i < voxels.length; i++) {
    if (!Number.isFinite(voxels[i]!)) {
      throw new CodedError('INTENSITY_INVALID', `voxel ${i} is ${voxels[i]}; only finite values can be windowed`, 'payload');
    }
  }
}

/** np.uint8(((clip(x) - min) / (max - min)) * 255.0), with `round` giving numpy's precision for the dtype. */
function clipAndRescale(voxels: VoxelArray, lo: number, hi: number, round: Round, zerosStayZero: boolean): Uint8Array {
  const out = new Uint8Array(voxels.length);
  if (voxels.length === 0) return out;
  let rawMin = Infinity;
  let rawMax = -Infinity;
  for (let i = 0; i < voxels.length; i++) {
    const v = voxels[i]!;
    if (v < rawMin) rawMin = v;
    if (v > rawMax) rawMax = v;
  }
  // clip is monotone, so the clipped volume's extremes are the clipped raw extremes.
  const min = Math.min(Math.max(rawMin, lo), hi);
  const max = Math.min(Math.max(rawMax, lo), hi);
  const range = round(max - min);
  if (range === 0) return out;
  if (round === exact) {
    for (let i = 0; i < voxels.length; i++) {
      const x = voxels[i]!;
      if (zerosStayZero && x === 0) continue;
      const v = x < lo ? lo : x > hi ? hi : x;
      out[i] = Math.trunc(((v - min) / range) * 255);
    }
  } else {
    for (let i = 0; i < voxels.length; i++) {
      const x = voxels[i]!;
      if (zerosStayZero && x === 0) continue;
      const v = x < lo ? lo : x > hi ? hi : x;
      out[i] = Math.trunc(round(round(round(v - min) / range) * 255));
    }
  }
  return out;
}

/** The voxels > 0 of a volume, with numpy's 'linear' percentile over them. */
class PositiveVoxels {
  private constructor(
    readonly count: number,
    /** k-th smallest positive value (0-based). */
    private readonly orderStatistic: (k: number) => number,
  ) {}

  static of(voxels: VoxelArray): PositiveVoxels {
    // Up to 16-bit integers: a histogram gives every order statistic in O(n) without copying the volume.
    if (voxels instanceof Uint8Array || voxels instanceof Int8Array || voxels instanceof Int16Array || voxels instanceof Uint16Array) {
      const counts = new Float64Array(65536);
      let count = 0;
      for (let i = 0; i < voxels.length; i++) {
        const v = voxels[i]!;
        if (v > 0) {
          counts[v]++;
          count++;
        }
      }
      return new PositiveVoxels(count, (k) => {
        let seen = 0;
        for (let v = 1; v < counts.length; v++) {
          seen += counts[v]!;
          if (seen > k) return v;
        }
        throw new Error(`order statistic ${k} out of range ${count}`);
      });
    }
    const Ctor = voxels.constructor as new (n: number) => Int32Array | Uint32Array | Float32Array | Float64Array;
    let count = 0;
    for (let i = 0; i < voxels.length; i++) if (voxels[i]! > 0) count++;
    const values = new Ctor(count);
    for (let i = 0, j = 0; i < voxels.length; i++) if (voxels[i]! > 0) values[j++] = voxels[i]!;
    return new PositiveVoxels(count, (k) => selectKth(values, k));
  }

  /**
   * numpy.percentile(values, p), method 'linear': virtual index (n - 1) * p / 100, then numpy's _lerp, which
   * interpolates from the upper neighbour when the weight is >= 0.5 (numerically better; we match it exactly).
   */
  percentile(p: number, round: Round): number {
    const n = this.count;
    const virtualIndex = (n - 1) * (p / 100);
    if (virtualIndex >= n - 1) return this.orderStatistic(n - 1);
    const below = Math.floor(virtualIndex);
    const t = virtualIndex - below;
    const a = this.orderStatistic(below);
    const b = this.orderStatistic(below + 1);
    const diff = round(b - a);
    if (t >= 0.5) return round(b - round(diff * round(1 - t)));
    return round(a + round(diff * round(t)));
  }
}

/** k-th smallest element (0-based) by quickselect; reorders `values` in place. */
function selectKth(values: Int32Array | Uint32Array | Float32Array | Float64Array, k: number): number {
  let lo = 0;
  let hi = values.length - 1;
  while (hi > lo) {
    // Median of three as pivot: sorted or constant runs (common in images) stay linear.
    const mid = lo + ((hi - lo) >> 1);
    const pivot = median3(values[lo]!, values[mid]!, values[hi]!);
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (values[i]! < pivot) i++;
      while (values[j]! > pivot) j--;
      if (i <= j) {
        const tmp = values[i]!;
        values[i] = values[j]!;
        values[j] = tmp;
        i++;
        j--;
      }
    }
    // Now [lo, j] <= pivot <= [i, hi], and anything strictly between j and i equals the pivot.
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else return values[k]!;
  }
  return values[k]!;
}

function median3(a: number, b: number, c: number): number {
  return a < b ? (b < c ? b : a < c ? c : a) : a < c ? a : b < c ? c : b;
}
