// safetensors writer (the inverse of ./safetensors.ts): `onesam import` stores every checkpoint in the model
// repository in this one format, so the server never needs the pickle reader at startup.
import { numel, type CheckpointDType, type CheckpointTensor } from './tensor.ts';

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** IEEE 754 float32 -> half bits, rounding to nearest even (exact for values that came from a half). */
export function float32ToHalfBits(value: number): number {
  f32[0] = value;
  const x = u32[0]!;
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  const man = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (man ? 0x200 : 0);
  const e = exp - 112; // rebias 127 -> 15
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    // Half subnormal: count units of 2^-24.
    const shift = 126 - exp;
    if (shift > 24) return sign;
    const m = man | 0x800000;
    let q = m >>> shift;
    const rem = m & ((1 << shift) - 1);
    const half = 1 << (shift - 1);
    if (rem > half || (rem === half && q & 1)) q++;
    return sign | q;
  }
  let h = sign | (e << 10) | (man >>> 13);
  const rem = man & 0x1fff;
  // A carry out of the mantissa correctly bumps the exponent (up to infinity).
  if (rem > 0x1000 || (rem === 0x1000 && h & 1)) h++;
  return h;
}

/** Little-endian bytes of `data` stored as `dtype` (integer dtypes take the values held as float64). */
export function encodeTensorBytes(dtype: CheckpointDType, data: ArrayLike<number>): Uint8Array {
  const n = data.length;
  switch (dtype) {
    case 'F32': return new Uint8Array(Float32Array.from(data).buffer);
    case 'F64': return new Uint8Array(Float64Array.from(data).buffer);
    case 'F16': {
      const out = new Uint16Array(n);
      for (let i = 0; i < n; i++) out[i] = float32ToHalfBits(data[i]!);
      return new Uint8Array(out.buffer);
    }
    case 'BF16': {
      // Round to nearest even on the top 16 bits of the float32.
      const out = new Uint16Array(n);
      for (let i = 0; i < n; i++) {
        f32[0] = data[i]!;
        const x = u32[0]!;
        out[i] = Number.isNaN(data[i]) ? 0x7fc0 : (x + 0x7fff + ((x >>> 16) & 1)) >>> 16;
      }
      return new Uint8Array(out.buffer);
    }
    case 'I64': {
      const out = new BigInt64Array(n);
      for (let i = 0; i < n; i++) out[i] = BigInt(data[i]!);
      return new Uint8Array(out.buffer);
    }
    case 'I32': return new Uint8Array(Int32Array.from(data).buffer);
    case 'I16': return new Uint8Array(Int16Array.from(data).buffer);
    case 'I8': return new Uint8Array(Int8Array.from(data).buffer);
    case 'U8': case 'BOOL': return Uint8Array.from(data);
  }
}

export interface StoredTensor {
  /** The dtype written to the file. */
  readonly dtype: CheckpointDType;
  readonly shape: readonly number[];
  readonly data: ArrayLike<number>;
}

/** Serialises tensors (in iteration order) as a safetensors file; the header is padded to 8 bytes as upstream does. */
export function writeSafetensors(tensors: Iterable<[string, StoredTensor]>, metadata: Record<string, string> = { format: 'pt' }): Uint8Array {
  const header: Record<string, unknown> = { __metadata__: metadata };
  const blobs: Uint8Array[] = [];
  let offset = 0;
  for (const [name, t] of tensors) {
    if (t.data.length !== numel(t.shape)) throw new Error(`tensor ${name}: ${t.data.length} values for shape [${t.shape.join(',')}]`);
    const bytes = encodeTensorBytes(t.dtype, t.data);
    header[name] = { dtype: t.dtype, shape: [...t.shape], data_offsets: [offset, offset + bytes.byteLength] };
    blobs.push(bytes);
    offset += bytes.byteLength;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (Buffer.byteLength(json) % 8)) % 8);
  const headerBytes = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + headerBytes.byteLength + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerBytes.byteLength), true);
  out.set(headerBytes, 8);
  let at = 8 + headerBytes.byteLength;
  for (const b of blobs) { out.set(b, at); at += b.byteLength; }
  return out;
}

/**
 * The dtype a tensor is stored with in the repository: half stays half (the demo weights are fp16 and a
 * round trip through float32 is exact), other floats become float32 (the graphs compute in fp32), integer
 * buffers keep their dtype.
 */
export function repositoryDtype(t: CheckpointTensor): CheckpointDType {
  switch (t.dtype) {
    case 'F16': case 'F32': return t.dtype;
    case 'BF16': case 'F64': return 'F32';
    default: return t.dtype;
  }
}
