// Tensors as read from a checkpoint, before any graph building.

export type CheckpointDType = 'F32' | 'F16' | 'BF16' | 'F64' | 'I64' | 'I32' | 'I16' | 'I8' | 'U8' | 'BOOL';

/** A tensor with its dtype as stored; floating tensors are widened to float32 on read. */
export interface CheckpointTensor {
  readonly dtype: CheckpointDType;
  readonly shape: readonly number[];
  /** float32 for floating dtypes; for integer dtypes, the values as float64 (only buffers like num_batches_tracked). */
  readonly data: Float32Array | Float64Array;
}

/** A named collection of tensors: a PyTorch state dict. */
export type StateDict = ReadonlyMap<string, CheckpointTensor>;

export function numel(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** IEEE 754 half to float32 (exact: every half value is representable). */
export function halfToFloat32(src: Uint16Array): Float32Array {
  const out = new Float32Array(src.length);
  const u32 = new Uint32Array(out.buffer);
  for (let i = 0; i < src.length; i++) {
    const h = src[i]!;
    const sign = (h & 0x8000) << 16;
    const exp = (h >> 10) & 0x1f;
    const man = h & 0x3ff;
    if (exp === 0) {
      // Subnormal half or zero: value = man * 2^-24.
      out[i] = (man * 5.960464477539063e-8) * (sign ? -1 : 1);
    } else if (exp === 31) {
      u32[i] = sign | 0x7f800000 | (man << 13);
    } else {
      u32[i] = sign | ((exp + 112) << 23) | (man << 13);
    }
  }
  return out;
}

/** bfloat16 is the top half of a float32. */
export function bf16ToFloat32(src: Uint16Array): Float32Array {
  const out = new Float32Array(src.length);
  const u32 = new Uint32Array(out.buffer);
  for (let i = 0; i < src.length; i++) u32[i] = src[i]! << 16;
  return out;
}

/**
 * Decodes raw little-endian bytes of one tensor. `bytes` may be unaligned (zip entries, safetensors offsets),
 * so it is copied into a fresh aligned buffer first.
 */
export function decodeTensorBytes(dtype: CheckpointDType, shape: readonly number[], bytes: Uint8Array): CheckpointTensor {
  const n = numel(shape);
  const width = BYTES_PER_ELEMENT[dtype];
  if (bytes.byteLength !== n * width) {
    throw new Error(`tensor of dtype ${dtype} and shape [${shape.join(',')}] needs ${n * width} bytes, found ${bytes.byteLength}`);
  }
  const copy = new Uint8Array(bytes.byteLength);
  copy.set(bytes);
  const buf = copy.buffer;
  let data: Float32Array | Float64Array;
  switch (dtype) {
    case 'F32': data = new Float32Array(buf); break;
    case 'F16': data = halfToFloat32(new Uint16Array(buf)); break;
    case 'BF16': data = bf16ToFloat32(new Uint16Array(buf)); break;
    case 'F64': data = Float32Array.from(new Float64Array(buf)); break;
    case 'I64': data = Float64Array.from(new BigInt64Array(buf), Number); break;
    case 'I32': data = Float64Array.from(new Int32Array(buf)); break;
    case 'I16': data = Float64Array.from(new Int16Array(buf)); break;
    case 'I8': data = Float64Array.from(new Int8Array(buf)); break;
    case 'U8': case 'BOOL': data = Float64Array.from(copy); break;
  }
  return { dtype, shape: [...shape], data };
}

export const BYTES_PER_ELEMENT: Record<CheckpointDType, number> = {
  F32: 4, F16: 2, BF16: 2, F64: 8, I64: 8, I32: 4, I16: 2, I8: 1, U8: 1, BOOL: 1,
};
