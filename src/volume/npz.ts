// NumPy .npz archives: a zip of .npy members, stored (np.savez) or deflated (np.savez_compressed). Keys are member
// names without the ".npy" suffix, as np.load reports them.
//
// Reading assumes a hostile archive: a few MB of zip can claim, or inflate to, gigabytes. The central directory is
// walked here (zip64 included) rather than by a zip library that allocates each entry at its declared size. For
// each deflated member only its .npy header is inflated first; the shape x dtype it declares is checked against
// the decode limits (limits.ts) before anything else is inflated or allocated, and the member is then inflated
// with zlib stopping at exactly that size. The sizes the zip records, in the central directory or the local
// header, are never trusted for either.
import { zipSync, type Zippable } from 'fflate';
import { CodedError } from '../errors/coded-error.ts';
import { inflateBounded, inflatedPrefix, InflateLimitError } from './inflate.ts';
import { checkArraySize, DEFAULT_DECODE_LIMITS, type DecodeLimits } from './limits.ts';
import { NpyError, npyArray, npyDataStart, NPY_PREAMBLE_BYTES, readNpyHeader, writeNpy, type NdArray, type NpyLayout } from './npy.ts';

export { NpyError, type NdArray, type NdDtype, type NdData } from './npy.ts';

const EOCD_SIGNATURE = 0x06054b50;
const EOCD_MIN_SIZE = 22;
const ZIP64_LOCATOR_SIGNATURE = 0x07064b50;
const ZIP64_EOCD_SIGNATURE = 0x06064b50;
const CENTRAL_SIGNATURE = 0x02014b50;
const LOCAL_SIGNATURE = 0x04034b50;
const ZIP64_EXTRA_ID = 0x0001;
const STORED = 0;
const DEFLATED = 8;

/**
 * Members an archive may list. The challenge files hold up to five arrays; a cap keeps an archive of thousands of
 * entries (all pointing at the same data, say) from costing a header inflation each.
 */
export const MAX_NPZ_MEMBERS = 256;

export interface ReadNpzOptions {
  /** Size limits on the arrays (default DEFAULT_DECODE_LIMITS); exceeding one is a CodedError PAYLOAD_TOO_LARGE. */
  readonly limits?: DecodeLimits;
  /** Read only these keys; other members are skipped without being inflated (np.load is lazy the same way). */
  readonly keys?: readonly string[];
  /** Most elements an array of this key may have, checked with the limits (e.g. boxes: rows a request may hold). */
  readonly maxElements?: Readonly<Record<string, number>>;
}

/**
 * Decode an .npz archive into its arrays, in archive order. `name` (usually the file path) appears in errors.
 * Members that are not .npy files are skipped, as np.load does not treat them as arrays. Format errors are
 * NpyErrors; an array over the limits is a CodedError PAYLOAD_TOO_LARGE naming `<name>.<key>`, raised before
 * its data is inflated or allocated.
 */
export function readNpz(bytes: Uint8Array, name: string, options: ReadNpzOptions = {}): Map<string, NdArray> {
  const limits = options.limits ?? DEFAULT_DECODE_LIMITS;
  const zip = new ZipReader(bytes, name);
  const entries = zip.centralDirectory();
  const arrays = new Map<string, NdArray>();
  let decoded = 0;
  for (const entry of entries) {
    if (!entry.name.endsWith('.npy')) continue;
    const key = entry.name.slice(0, -'.npy'.length);
    if (options.keys && !options.keys.includes(key)) continue;
    if (arrays.has(key)) throw new NpyError('NPZ_CORRUPT', `${name}: corrupt .npz archive: member ${entry.name} appears twice`);
    const array = readMember(zip, entry, `${name}[${key}]`, `${name}.${key}`, limits, decoded, options.maxElements?.[key]);
    decoded += array.data.byteLength;
    arrays.set(key, array);
  }
  return arrays;
}

function readMember(zip: ZipReader, entry: ZipEntry, name: string, field: string, limits: DecodeLimits, decodedSoFar: number, maxElements = Infinity): NdArray {
  const data = zip.memberData(entry);
  const check = (layout: NpyLayout): void => {
    if (!(layout.count <= maxElements)) {
      throw new CodedError('PAYLOAD_TOO_LARGE', `shape [${layout.shape.join(', ')}] has ${layout.count} elements, more than the ${maxElements} this array may hold`, field);
    }
    checkArraySize(limits, field, layout.shape, layout.count, layout.itemSize, decodedSoFar);
  };
  if (entry.method === STORED) {
    const layout = readNpyHeader(data, name);
    check(layout);
    return npyArray(layout, data, name);
  }
  const inflate = <T>(what: () => T): T => {
    try {
      return what();
    } catch (err) {
      if (err instanceof NpyError || err instanceof CodedError) throw err;
      throw new NpyError('NPZ_CORRUPT', `${zip.name}: corrupt .npz archive: ${entry.name}: ${(err as Error).message}`);
    }
  };
  // The header first: its length from the preamble, then the header itself, then the array size it declares.
  const preamble = inflate(() => inflatedPrefix('deflate-raw', data, NPY_PREAMBLE_BYTES));
  const dataStart = npyDataStart(preamble, name);
  const layout: NpyLayout = readNpyHeader(inflate(() => inflatedPrefix('deflate-raw', data, dataStart)), name);
  check(layout);
  const fileBytes = layout.dataStart + layout.byteLength;
  const file = inflate(() => {
    try {
      return inflateBounded('deflate-raw', data, fileBytes);
    } catch (err) {
      if (err instanceof InflateLimitError) {
        throw new CodedError('PAYLOAD_TOO_LARGE', `inflates to more than the ${fileBytes} bytes its .npy header declares (shape [${layout.shape.join(', ')}] ${layout.dtype})`, field);
      }
      throw err;
    }
  });
  // The inflated file is ours alone when it is large (zlib allocated it for this call); small outputs may share
  // Node's buffer pool and are copied, which npyArray does unless the view is aligned and owned.
  const owned = file.byteOffset === 0 && file.buffer.byteLength <= fileBytes + 1;
  return npyArray(layout, file, name, { view: owned });
}

interface ZipEntry {
  readonly name: string;
  readonly method: number;
  readonly compressedSize: number;
  readonly localHeaderOffset: number;
}

/** The parts of the zip format an .npz uses: one disk, stored or deflated members, zip64 sizes and offsets. */
class ZipReader {
  private readonly view: DataView;

  constructor(private readonly bytes: Uint8Array, readonly name: string) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  private corrupt(why: string): never {
    throw new NpyError('NPZ_CORRUPT', `${this.name}: corrupt .npz archive: ${why}`);
  }

  /** Offset of the end-of-central-directory record; a truncated download loses it first. */
  private endOfCentralDirectory(): number {
    const bytes = this.bytes;
    if (bytes.length >= EOCD_MIN_SIZE) {
      // The record is the last thing in the file, followed by a comment of at most 65535 bytes.
      const stop = Math.max(0, bytes.length - EOCD_MIN_SIZE - 0xffff);
      for (let i = bytes.length - EOCD_MIN_SIZE; i >= stop; i--) {
        if (this.view.getUint32(i, true) === EOCD_SIGNATURE && i + EOCD_MIN_SIZE + this.view.getUint16(i + 20, true) === bytes.length) return i;
      }
    }
    throw new NpyError('NPZ_TRUNCATED', `${this.name}: not a complete .npz archive (no zip end-of-central-directory record; truncated?)`);
  }

  /** 64-bit little-endian size or offset as a number; anything past 2^53 is far beyond any payload and refused. */
  private uint64(offset: number): number {
    const value = this.view.getBigUint64(offset, true);
    if (value > BigInt(Number.MAX_SAFE_INTEGER)) this.corrupt(`a zip64 size or offset of ${value}`);
    return Number(value);
  }

  centralDirectory(): ZipEntry[] {
    const eocd = this.endOfCentralDirectory();
    let count = this.view.getUint16(eocd + 10, true);
    let size = this.view.getUint32(eocd + 12, true);
    let offset = this.view.getUint32(eocd + 16, true);
    const locator = eocd - 20;
    if (locator >= 0 && this.view.getUint32(locator, true) === ZIP64_LOCATOR_SIGNATURE) {
      const zip64 = this.uint64(locator + 8);
      if (zip64 + 56 > eocd || this.view.getUint32(zip64, true) !== ZIP64_EOCD_SIGNATURE) this.corrupt('bad zip64 end-of-central-directory record');
      count = this.uint64(zip64 + 32);
      size = this.uint64(zip64 + 40);
      offset = this.uint64(zip64 + 48);
    }
    if (count > MAX_NPZ_MEMBERS) {
      throw new CodedError('PAYLOAD_TOO_LARGE', `the archive lists ${count} members, more than the ${MAX_NPZ_MEMBERS} we read`, this.name);
    }
    if (offset + size > eocd) this.corrupt('the central directory lies outside the archive');
    const entries: ZipEntry[] = [];
    let at = offset;
    for (let i = 0; i < count; i++) {
      if (at + 46 > offset + size || this.view.getUint32(at, true) !== CENTRAL_SIGNATURE) this.corrupt(`central directory entry ${i} is damaged`);
      const flags = this.view.getUint16(at + 8, true);
      const method = this.view.getUint16(at + 10, true);
      let compressedSize = this.view.getUint32(at + 20, true);
      const uncompressedSize32 = this.view.getUint32(at + 24, true);
      const nameLength = this.view.getUint16(at + 28, true);
      const extraLength = this.view.getUint16(at + 30, true);
      const commentLength = this.view.getUint16(at + 32, true);
      let localHeaderOffset = this.view.getUint32(at + 42, true);
      const end = at + 46 + nameLength + extraLength + commentLength;
      if (end > offset + size) this.corrupt(`central directory entry ${i} runs past the directory`);
      const name = new TextDecoder().decode(this.bytes.subarray(at + 46, at + 46 + nameLength));
      // Zip64: the extra field holds, in this order, the sizes and offset whose 32-bit fields are all ones.
      if (compressedSize === 0xffffffff || uncompressedSize32 === 0xffffffff || localHeaderOffset === 0xffffffff) {
        let extra = at + 46 + nameLength;
        const extraEnd = extra + extraLength;
        let found = false;
        while (extra + 4 <= extraEnd) {
          const id = this.view.getUint16(extra, true);
          const length = this.view.getUint16(extra + 2, true);
          if (id === ZIP64_EXTRA_ID) {
            let field = extra + 4;
            const take = (): number => {
              if (field + 8 > extra + 4 + length) this.corrupt(`${name}: zip64 extra field too short`);
              const value = this.uint64(field);
              field += 8;
              return value;
            };
            if (uncompressedSize32 === 0xffffffff) take(); // the uncompressed size is never trusted
            if (compressedSize === 0xffffffff) compressedSize = take();
            if (localHeaderOffset === 0xffffffff) localHeaderOffset = take();
            found = true;
            break;
          }
          extra += 4 + length;
        }
        if (!found) this.corrupt(`${name}: zip64 sizes without a zip64 extra field`);
      }
      if (name.endsWith('.npy')) {
        if (flags & 1) this.corrupt(`${name} is encrypted`);
        if (method !== STORED && method !== DEFLATED) this.corrupt(`${name} uses compression method ${method}; only stored and deflated members are read`);
      }
      entries.push({ name, method, compressedSize, localHeaderOffset });
      at = end;
    }
    return entries;
  }

  /** The member's stored or deflated bytes, located by its local header and the central directory's size. */
  memberData(entry: ZipEntry): Uint8Array {
    const at = entry.localHeaderOffset;
    if (at + 30 > this.bytes.length || this.view.getUint32(at, true) !== LOCAL_SIGNATURE) this.corrupt(`${entry.name}: bad local header`);
    const start = at + 30 + this.view.getUint16(at + 26, true) + this.view.getUint16(at + 28, true);
    const end = start + entry.compressedSize;
    if (end > this.bytes.length) this.corrupt(`${entry.name}: data runs past the end of the archive`);
    return this.bytes.subarray(start, end);
  }
}

export interface WriteNpzOptions {
  /** Deflate the members like np.savez_compressed; otherwise store them like np.savez. */
  readonly compress?: boolean;
}

/** Encode arrays as an .npz archive (one `<key>.npy` member each). */
export function writeNpz(arrays: ReadonlyMap<string, NdArray>, options: WriteNpzOptions = {}): Uint8Array {
  const level = options.compress ? 6 : 0; // zlib's default level, which np.savez_compressed uses
  const files: Zippable = {};
  for (const [key, array] of arrays) {
    files[`${key}.npy`] = [writeNpy(array), { level }];
  }
  return zipSync(files);
}
