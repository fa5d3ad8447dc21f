// Raw voxel payloads: little-endian values in C order with a declared shape and dtype, and the array layouts
// (shapes) that raw and npz payloads share.
import { endianness } from 'node:os';
import { CodedError } from '../errors/coded-error.ts';
import type { VoxelArray } from './intensity.ts';
import { checkArraySize, DEFAULT_DECODE_LIMITS, type DecodeLimits } from './limits.ts';

export type RawDType = 'uint8' | 'int16' | 'uint16' | 'float32';
export const RAW_DTYPES: readonly RawDType[] = Object.freeze(['uint8', 'int16', 'uint16', 'float32']);

export interface RawHeader {
  /** (D, H, W) volume, (H, W) grey image or (H, W, 3) RGB image, C order (last axis fastest). */
  readonly shape: readonly number[];
  readonly dtype: RawDType;
  /** (z, y, x) voxel spacing, carried to the output; not used by inference. */
  readonly spacing?: readonly number[];
}

/** How an array shape maps onto the pipeline's (D, H, W, C) image. */
export interface ArrayLayout {
  readonly depth: number;
  readonly height: number;
  readonly width: number;
  readonly channels: 1 | 3;
  /** Shape of the label array written back: the input shape without the channel axis. */
  readonly labelShape: readonly number[];
}

/** Geometry of a raw or npz input: enough to write labels back in the same array frame. */
export interface ArrayGeometry {
  readonly kind: 'array';
  /** The input array's shape as received. */
  readonly shape: readonly number[];
  readonly labelShape: readonly number[];
  /** (z, y, x) spacing as received (npz: as stored in the file's `spacing`). */
  readonly spacing?: readonly [number, number, number];
}

/** Largest dimension we accept; guards arithmetic on hostile shapes long before any allocation. */
const MAX_DIM = 1 << 20;

/**
 * Interpret an array shape. A trailing axis of exactly 3 on a 3-axis array means RGB channels, as in the challenge's
 * 2D files (H, W, 3); so a grey volume must be at least 4 voxels wide, which any real volume is.
 */
export function arrayLayout(shape: readonly number[], field: string): ArrayLayout {
  if (!Array.isArray(shape) || shape.length < 2 || shape.length > 3) {
    throw new CodedError('PAYLOAD_FORMAT', `must have 2 axes (H, W) or 3 axes (D, H, W) or (H, W, 3), got [${String(shape)}]`, field);
  }
  shape.forEach((n, i) => {
    if (!(Number.isInteger(n) && n >= 1 && n <= MAX_DIM)) {
      throw new CodedError('PAYLOAD_FORMAT', `must be an integer in 1..${MAX_DIM}, got ${n}`, `${field}[${i}]`);
    }
  });
  if (shape.length === 2) return { depth: 1, height: shape[0]!, width: shape[1]!, channels: 1, labelShape: [shape[0]!, shape[1]!] };
  if (shape[2] === 3) return { depth: 1, height: shape[0]!, width: shape[1]!, channels: 3, labelShape: [shape[0]!, shape[1]!] };
  return { depth: shape[0]!, height: shape[1]!, width: shape[2]!, channels: 1, labelShape: [shape[0]!, shape[1]!, shape[2]!] };
}

/** (z, y, x) spacing, or undefined when absent or empty (a proto3 repeated field that was not set). */
export function validateSpacing(spacing: unknown, field: string): [number, number, number] | undefined {
  if (spacing === undefined || (Array.isArray(spacing) && spacing.length === 0)) return undefined;
  if (!Array.isArray(spacing) || spacing.length !== 3 || !spacing.every((s) => typeof s === 'number' && Number.isFinite(s) && s > 0)) {
    throw new CodedError('PAYLOAD_FORMAT', `must be three finite numbers > 0 (z, y, x), got ${JSON.stringify(spacing)}`, field);
  }
  return [spacing[0], spacing[1], spacing[2]];
}

const BYTES_PER_VOXEL: Readonly<Record<RawDType, number>> = Object.freeze({ uint8: 1, int16: 2, uint16: 2, float32: 4 });
const hostIsLittleEndian = endianness() === 'LE';

/**
 * Decode raw voxels. The result views `bytes` without copying when the host is little-endian and the offset is
 * aligned for the dtype; otherwise it copies.
 */
export function readRawVoxels(header: RawHeader, bytes: Uint8Array, field = 'header.raw', limits: DecodeLimits = DEFAULT_DECODE_LIMITS): { voxels: VoxelArray; layout: ArrayLayout } {
  const { layout, count } = checkRawHeader(header, bytes.byteLength, field, limits);
  return { voxels: littleEndianArray(header.dtype, bytes, count), layout };
}

/**
 * Everything a raw payload's header alone decides: the shape, the voxel and byte limits, and that shape x dtype is
 * exactly `payloadBytes`. The server runs it on the request header before reading a byte of the upload, so a header
 * that lies about its payload, or a shape over maxVoxels, costs the client one message, not an upload.
 */
export function checkRawHeader(header: RawHeader, payloadBytes: number, field = 'header.raw', limits: DecodeLimits = DEFAULT_DECODE_LIMITS): { layout: ArrayLayout; count: number } {
  if (!RAW_DTYPES.includes(header.dtype)) {
    throw new CodedError('PAYLOAD_FORMAT', `must be one of ${RAW_DTYPES.join(', ')}, got ${String(header.dtype)}`, `${field}.dtype`);
  }
  const layout = arrayLayout(header.shape, `${field}.shape`);
  const count = layout.depth * layout.height * layout.width * layout.channels;
  const size = BYTES_PER_VOXEL[header.dtype];
  // The payload's length is already bounded by maxPayloadBytes; the voxel count is not, for small dtypes.
  checkArraySize(limits, `${field}.shape`, header.shape, count, size);
  if (payloadBytes !== count * size) {
    throw new CodedError(
      'PAYLOAD_SIZE_MISMATCH',
      `has ${payloadBytes} bytes but ${field}.shape [${header.shape.join(', ')}] of ${header.dtype} needs ${count * size}`,
      'payload',
    );
  }
  return { layout, count };
}

function littleEndianArray(dtype: RawDType, bytes: Uint8Array, count: number): VoxelArray {
  if (dtype === 'uint8') return bytes;
  const size = BYTES_PER_VOXEL[dtype];
  const aligned = bytes.byteOffset % size === 0;
  if (hostIsLittleEndian && aligned) {
    if (dtype === 'int16') return new Int16Array(bytes.buffer, bytes.byteOffset, count);
    if (dtype === 'uint16') return new Uint16Array(bytes.buffer, bytes.byteOffset, count);
    return new Float32Array(bytes.buffer, bytes.byteOffset, count);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (dtype === 'int16') return Int16Array.from({ length: count }, (_, i) => view.getInt16(i * 2, true));
  if (dtype === 'uint16') return Uint16Array.from({ length: count }, (_, i) => view.getUint16(i * 2, true));
  return Float32Array.from({ length: count }, (_, i) => view.getFloat32(i * 4, true));
}

/**
 * A plain Uint8Array view of the same bytes. Node Buffers (from zlib, fs, Buffer.concat) are Uint8Arrays whose
 * slice() does not copy; viewing them as plain arrays keeps slice() a copy everywhere in this module.
 */
export function plainBytes(bytes: Uint8Array): Uint8Array {
  return Buffer.isBuffer(bytes) ? new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength) : bytes;
}

/** Label values as little-endian bytes (uint8 as is, uint16 two bytes each, low byte first). */
export function labelBytesLittleEndian(labels: Uint8Array | Uint16Array): Uint8Array {
  if (labels instanceof Uint8Array) return labels;
  if (hostIsLittleEndian) return new Uint8Array(labels.buffer, labels.byteOffset, labels.byteLength);
  const out = new Uint8Array(labels.length * 2);
  const view = new DataView(out.buffer);
  for (let i = 0; i < labels.length; i++) view.setUint16(i * 2, labels[i]!, true);
  return out;
}
