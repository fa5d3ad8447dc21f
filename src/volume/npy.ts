// NumPy .npy arrays (format versions 1.0, 2.0 and 3.0): little-endian, C-order, the numeric dtypes the challenge
// files use. The header is a Python dict literal; we parse only the three keys NumPy writes, strictly, so a file
// we cannot read faithfully is rejected with a named reason instead of being misread.

/** Element types we read and write, named like the typed arrays that hold them. */
export type NdDtype = 'uint8' | 'int8' | 'uint16' | 'int16' | 'uint32' | 'int32' | 'int64' | 'uint64' | 'float32' | 'float64' | 'bool';

export type NdData = Uint8Array | Int8Array | Uint16Array | Int16Array | Uint32Array | Int32Array
  | BigInt64Array | BigUint64Array | Float32Array | Float64Array;

/** An n-dimensional array in C order. `bool` arrays hold 0/1 bytes in a Uint8Array. */
export interface NdArray {
  readonly dtype: NdDtype;
  readonly shape: readonly number[];
  readonly data: NdData;
}

export type NpyErrorCode = 'NPY_BAD_MAGIC' | 'NPY_BAD_HEADER' | 'NPY_UNSUPPORTED_DTYPE' | 'NPY_FORTRAN_ORDER'
  | 'NPY_BIG_ENDIAN' | 'NPY_TRUNCATED' | 'NPZ_TRUNCATED' | 'NPZ_CORRUPT';

/** A file we cannot read or an array we cannot write; `code` is stable, the message names the file or key. */
export class NpyError extends Error {
  constructor(readonly code: NpyErrorCode, message: string) {
    super(message);
    this.name = 'NpyError';
  }
}

interface DtypeInfo {
  readonly dtype: NdDtype;
  readonly size: number;
  readonly make: (buffer: ArrayBuffer, byteOffset: number, length: number) => NdData;
}

// Keyed by the kind+size part of a NumPy descr ('u1', 'f8', ...); the byte-order character is checked separately.
const DESCRS: Readonly<Record<string, DtypeInfo>> = Object.freeze({
  u1: { dtype: 'uint8', size: 1, make: (b, o, n) => new Uint8Array(b, o, n) },
  i1: { dtype: 'int8', size: 1, make: (b, o, n) => new Int8Array(b, o, n) },
  b1: { dtype: 'bool', size: 1, make: (b, o, n) => new Uint8Array(b, o, n) },
  u2: { dtype: 'uint16', size: 2, make: (b, o, n) => new Uint16Array(b, o, n) },
  i2: { dtype: 'int16', size: 2, make: (b, o, n) => new Int16Array(b, o, n) },
  u4: { dtype: 'uint32', size: 4, make: (b, o, n) => new Uint32Array(b, o, n) },
  i4: { dtype: 'int32', size: 4, make: (b, o, n) => new Int32Array(b, o, n) },
  u8: { dtype: 'uint64', size: 8, make: (b, o, n) => new BigUint64Array(b, o, n) },
  i8: { dtype: 'int64', size: 8, make: (b, o, n) => new BigInt64Array(b, o, n) },
  f4: { dtype: 'float32', size: 4, make: (b, o, n) => new Float32Array(b, o, n) },
  f8: { dtype: 'float64', size: 8, make: (b, o, n) => new Float64Array(b, o, n) },
});

const DESCR_OF: Readonly<Record<NdDtype, string>> = Object.freeze({
  uint8: '|u1', int8: '|i1', bool: '|b1', uint16: '<u2', int16: '<i2', uint32: '<u4', int32: '<i4',
  uint64: '<u8', int64: '<i8', float32: '<f4', float64: '<f8',
});

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // "\x93NUMPY"

if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1) {
  // Typed arrays use the platform byte order; every platform Node supports is little-endian, but say so loudly.
  throw new Error('npy: this reader assumes a little-endian platform');
}

/** Number of elements of a shape (1 for a 0-d array). */
export function elementCount(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/**
 * Longest header we read. NumPy's own np.load refuses headers over 10000 bytes unless told otherwise; ours allows
 * more, but bounds what a reader must inflate before it knows an array's size.
 */
export const MAX_NPY_HEADER_BYTES = 65_536;

/** Bytes before the header text: magic, version and the header length field (10 for version 1, 12 for 2 and 3). */
export const NPY_PREAMBLE_BYTES = 12;

/** What a .npy header says: the array's dtype and shape, and where and how long its data is. */
export interface NpyLayout {
  readonly dtype: NdDtype;
  readonly shape: number[];
  /** Elements (the product of the shape; may exceed 2^53 for hostile shapes: check it before allocating). */
  readonly count: number;
  readonly itemSize: number;
  /** Offset of the data in the file. */
  readonly dataStart: number;
  /** count * itemSize. */
  readonly byteLength: number;
  readonly make: DtypeInfo['make'];
}

/**
 * Where the data of a .npy file starts, from its first NPY_PREAMBLE_BYTES bytes (fewer is fine for version 1), so
 * a reader of a compressed member knows how much to inflate to see the whole header.
 */
export function npyDataStart(bytes: Uint8Array, name: string): number {
  if (bytes.length < 10 || MAGIC.some((m, i) => bytes[i] !== m)) {
    throw new NpyError(bytes.length < 10 ? 'NPY_TRUNCATED' : 'NPY_BAD_MAGIC', `${name}: not a .npy file (bad magic string)`);
  }
  const major = bytes[6]!;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let start: number;
  if (major === 1) {
    start = 10 + view.getUint16(8, true);
  } else if (major === 2 || major === 3) {
    if (bytes.length < 12) throw new NpyError('NPY_TRUNCATED', `${name}: truncated .npy header`);
    const headerLength = view.getUint32(8, true);
    if (headerLength > MAX_NPY_HEADER_BYTES) {
      throw new NpyError('NPY_BAD_HEADER', `${name}: .npy header of ${headerLength} bytes is longer than the ${MAX_NPY_HEADER_BYTES} we read`);
    }
    start = 12 + headerLength;
  } else {
    throw new NpyError('NPY_BAD_HEADER', `${name}: unsupported .npy format version ${major}.${bytes[7]}`);
  }
  return start;
}

/** Parses a .npy header; `bytes` needs to hold only the file's first npyDataStart() bytes. Allocates nothing. */
export function readNpyHeader(bytes: Uint8Array, name: string): NpyLayout {
  const dataStart = npyDataStart(bytes, name);
  const major = bytes[6]!;
  const headerStart = major === 1 ? 10 : 12;
  if (dataStart > bytes.length) throw new NpyError('NPY_TRUNCATED', `${name}: truncated .npy header`);
  // Version 3 allows UTF-8 field names; 1 and 2 are latin-1. Our keys are ASCII either way.
  const header = new TextDecoder(major === 3 ? 'utf-8' : 'latin1').decode(bytes.subarray(headerStart, dataStart));
  const { descr, fortranOrder, shape } = parseHeader(header, name);

  const info = DESCRS[descr.slice(1)];
  const order = descr[0];
  if (!info || !['<', '>', '|', '='].includes(order!)) {
    throw new NpyError('NPY_UNSUPPORTED_DTYPE', `${name}: unsupported dtype '${descr}' (supported: ${Object.keys(DESCRS).join(', ')}, little-endian)`);
  }
  if (order === '>' && info.size > 1) {
    throw new NpyError('NPY_BIG_ENDIAN', `${name}: big-endian dtype '${descr}' is not supported; save it little-endian`);
  }
  if (fortranOrder && shape.length > 1) {
    throw new NpyError('NPY_FORTRAN_ORDER', `${name}: Fortran-ordered arrays are not supported; save with C order`);
  }
  const count = elementCount(shape);
  return { dtype: info.dtype, shape, count, itemSize: info.size, dataStart, byteLength: count * info.size, make: info.make };
}

/**
 * The array of a .npy file whose header `layout` describes, from the whole file `bytes`. With `view`, the data is
 * used in place when `bytes` is the caller's own buffer and the data is aligned for its dtype; otherwise (and by
 * default) it is copied into a fresh, aligned buffer that never aliases `bytes`.
 */
export function npyArray(layout: NpyLayout, bytes: Uint8Array, name: string, options: { readonly view?: boolean } = {}): NdArray {
  const { dataStart, byteLength, count } = layout;
  if (dataStart + byteLength > bytes.length) {
    throw new NpyError('NPY_TRUNCATED', `${name}: data truncated (need ${byteLength} bytes after the header, have ${Math.max(0, bytes.length - dataStart)})`);
  }
  const offset = bytes.byteOffset + dataStart;
  if (options.view && bytes.buffer instanceof ArrayBuffer && offset % layout.itemSize === 0) {
    return { dtype: layout.dtype, shape: layout.shape, data: layout.make(bytes.buffer, offset, count) };
  }
  const buffer = new ArrayBuffer(byteLength);
  new Uint8Array(buffer).set(bytes.subarray(dataStart, dataStart + byteLength));
  return { dtype: layout.dtype, shape: layout.shape, data: layout.make(buffer, 0, count) };
}

/**
 * Decode one .npy file. `name` (file or npz key) appears in every error message.
 * The data is copied into a fresh, aligned buffer, so the result never aliases `bytes`.
 */
export function readNpy(bytes: Uint8Array, name: string): NdArray {
  return npyArray(readNpyHeader(bytes, name), bytes, name);
}

function parseHeader(header: string, name: string): { descr: string; fortranOrder: boolean; shape: number[] } {
  const bad = (why: string): never => { throw new NpyError('NPY_BAD_HEADER', `${name}: malformed .npy header (${why}): ${header.trim()}`); };
  const descr = /'descr'\s*:\s*'([^']*)'/.exec(header)?.[1] ?? bad('no descr');
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(header)?.[1] ?? bad('no fortran_order');
  const shapeText = /'shape'\s*:\s*\(([^)]*)\)/.exec(header)?.[1] ?? bad('no shape');
  const shape = shapeText.split(',').map((s) => s.trim()).filter((s) => s.length > 0).map((s) => {
    if (!/^\d+L?$/.test(s)) bad(`shape entry '${s}'`);
    return Number.parseInt(s, 10);
  });
  return { descr, fortranOrder: fortran === 'True', shape };
}

/** Encode one array as .npy version 1.0 (2.0 when the header would not fit), as numpy.save writes it. */
export function writeNpy(array: NdArray): Uint8Array {
  const count = elementCount(array.shape);
  if (array.data.length !== count) {
    throw new NpyError('NPY_BAD_HEADER', `array of shape (${array.shape.join(', ')}) needs ${count} elements, has ${array.data.length}`);
  }
  const shapeText = array.shape.length === 1 ? `(${array.shape[0]},)` : `(${array.shape.join(', ')})`;
  const dict = `{'descr': '${DESCR_OF[array.dtype]}', 'fortran_order': False, 'shape': ${shapeText}, }`;
  // NumPy pads with spaces so that magic + length field + header (ending in '\n') is a multiple of 64 bytes.
  let prefix = 10;
  let total = Math.ceil((prefix + dict.length + 1) / 64) * 64;
  let major = 1;
  if (total - prefix > 0xffff) {
    major = 2;
    prefix = 12;
    total = Math.ceil((prefix + dict.length + 1) / 64) * 64;
  }
  const headerLength = total - prefix;
  const header = dict + ' '.repeat(headerLength - dict.length - 1) + '\n';
  const body = new Uint8Array(array.data.buffer, array.data.byteOffset, array.data.byteLength);
  const out = new Uint8Array(total + body.length);
  out.set(MAGIC, 0);
  out[6] = major;
  out[7] = 0;
  const view = new DataView(out.buffer);
  if (major === 1) view.setUint16(8, headerLength, true);
  else view.setUint32(8, headerLength, true);
  for (let i = 0; i < header.length; i++) out[prefix + i] = header.charCodeAt(i);
  out.set(body, total);
  return out;
}
