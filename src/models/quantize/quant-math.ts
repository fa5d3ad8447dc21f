// The arithmetic of 8-bit quantisation as onnxruntime's QuantizeLinear / DequantizeLinear define it:
// q = saturate(roundHalfEven(x / scale) + zeroPoint), x' = (q - zeroPoint) * scale.
// Activations are uint8 with a zero point (asymmetric, per tensor); weights are int8, symmetric (zero point 0),
// one scale per output channel; a bias is int32 with scale = activation scale x that channel's weight scale, the
// form onnxruntime's QDQ fusions expect for QLinearConv.

export const UINT8_RANGE = { min: 0, max: 255 } as const;
export const INT8_RANGE = { min: -128, max: 127 } as const;
/** Symmetric weights use -127..127 so that negating a weight never overflows (onnxruntime's quantize_static does the same). */
export const INT8_SYMMETRIC_MAX = 127;

/** Round half to even, as QuantizeLinear (and numpy) round; Math.round rounds half up. */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

export function saturate(x: number, range: { readonly min: number; readonly max: number }): number {
  return x < range.min ? range.min : x > range.max ? range.max : x;
}

export interface ActivationParams {
  readonly scale: number;
  /** uint8 zero point: the code that represents exactly 0.0 (padding and ReLU zeros stay exact). */
  readonly zeroPoint: number;
}

/**
 * uint8 parameters for values observed in [min, max]. The range is widened to include 0 so that zero is exactly
 * representable (QuantizeLinear's zero padding, and a Conv's implicit zero padding, must quantise to the zero
 * point). A degenerate range (constant tensor) gets scale 1 so that dequantising never divides by zero.
 */
export function activationParams(min: number, max: number): ActivationParams {
  if (!Number.isFinite(min) || !Number.isFinite(max) || min > max) throw new Error(`activation range [${min}, ${max}] is not a finite interval`);
  const lo = Math.min(min, 0);
  const hi = Math.max(max, 0);
  if (hi - lo === 0) return { scale: 1, zeroPoint: 0 };
  // Math.fround: the scale is stored as float32, and the zero point must be computed from the stored value.
  const scale = Math.fround((hi - lo) / (UINT8_RANGE.max - UINT8_RANGE.min));
  const zeroPoint = saturate(roundHalfEven(UINT8_RANGE.min - lo / scale), UINT8_RANGE);
  return { scale, zeroPoint };
}

/** QuantizeLinear of one value to uint8. */
export function quantizeActivation(x: number, p: ActivationParams): number {
  return saturate(roundHalfEven(x / p.scale) + p.zeroPoint, UINT8_RANGE);
}

export interface ChannelWeights {
  /** int8 codes, same layout as the float weights. */
  readonly data: Int8Array;
  /** One float32 scale per channel. */
  readonly scales: Float32Array;
}

/**
 * Symmetric per-channel int8 weights. `channels` is the size of the quantisation axis; element i belongs to
 * channel floor(i / inner) % channels, where `inner` is the product of the dimensions after that axis:
 * for a Conv weight (O, I, kH, kW) the axis is 0 (inner = I*kH*kW); for a MatMul weight (K, N) it is 1 (inner = 1).
 * An all-zero channel gets scale 1 (its codes are 0 either way).
 */
export function quantizeWeightsPerChannel(w: Float32Array, channels: number, inner: number): ChannelWeights {
  if (w.length % (channels * inner) !== 0) throw new Error(`${w.length} weights do not split into ${channels} channels of ${inner}`);
  const maxAbs = new Float64Array(channels);
  const channelOf = (i: number): number => Math.floor(i / inner) % channels;
  for (let i = 0; i < w.length; i++) {
    const c = channelOf(i);
    const a = Math.abs(w[i]!);
    if (a > maxAbs[c]!) maxAbs[c] = a;
  }
  const scales = new Float32Array(channels);
  for (let c = 0; c < channels; c++) scales[c] = maxAbs[c]! > 0 ? maxAbs[c]! / INT8_SYMMETRIC_MAX : 1;
  const data = new Int8Array(w.length);
  for (let i = 0; i < w.length; i++) {
    data[i] = saturate(roundHalfEven(w[i]! / scales[channelOf(i)]!), { min: -INT8_SYMMETRIC_MAX, max: INT8_SYMMETRIC_MAX });
  }
  return { data, scales };
}

/** int32 bias codes with scale inputScale x weightScales[c] (zero point 0), as QLinearConv adds them to its accumulator. */
export function quantizeBias(bias: Float32Array, inputScale: number, weightScales: Float32Array): { data: Int32Array; scales: Float32Array } {
  const scales = new Float32Array(bias.length);
  const data = new Int32Array(bias.length);
  for (let c = 0; c < bias.length; c++) {
    scales[c] = inputScale * weightScales[c]!;
    data[c] = saturate(roundHalfEven(bias[c]! / scales[c]!), { min: -2147483648, max: 2147483647 });
  }
  return { data, scales };
}
