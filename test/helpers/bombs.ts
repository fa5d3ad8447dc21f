// Decompression bombs built in memory, small on disk: npz archives and .nii.gz files whose members inflate to
// gigabytes, with zip, npy and NIfTI headers that tell the truth or lie as a test needs. A deflate stream of N MiB
// of zeros is one flushed 1 MiB segment (about 1 KiB) repeated N times: a full flush resets the compressor's
// history, so each copy decodes on its own, and the stream ends with an empty final block.
import { constants, deflateRawSync } from 'node:zlib';

const MiB = 1024 * 1024;
const ZERO_SEGMENT = deflateRawSync(Buffer.alloc(MiB), { level: 9, finishFlush: constants.Z_FULL_FLUSH });
const FINAL_BLOCK = deflateRawSync(Buffer.alloc(0));

/** A raw deflate stream of `prefix` followed by `zeros` zero bytes, about 1 KiB per MiB of zeros. */
export function deflatedZeros(prefix: Uint8Array, zeros: number): Uint8Array {
  const parts: Uint8Array[] = [deflateRawSync(prefix, { finishFlush: constants.Z_FULL_FLUSH })];
  for (let left = zeros; left > 0; left -= MiB) {
    parts.push(left >= MiB ? ZERO_SEGMENT : deflateRawSync(Buffer.alloc(left), { finishFlush: constants.Z_FULL_FLUSH }));
  }
  parts.push(FINAL_BLOCK);
  return new Uint8Array(Buffer.concat(parts));
}

/** A gzip file around deflatedZeros (CRC and length trailer zero: a reader that gets that far has already lost). */
export function gzippedZeros(prefix: Uint8Array, zeros: number): Uint8Array {
  const header = Uint8Array.of(0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff);
  return new Uint8Array(Buffer.concat([header, deflatedZeros(prefix, zeros), new Uint8Array(8)]));
}

/** A .npy header (magic, version 1.0, dict padded to 64 bytes) for `shape` of `descr`, without data. */
export function npyHeader(shape: readonly number[], descr = '|u1'): Uint8Array {
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  const dict = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shapeText}, }`;
  const total = Math.ceil((10 + dict.length + 1) / 64) * 64;
  const out = new Uint8Array(total);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
  new DataView(out.buffer).setUint16(8, total - 10, true);
  out.set(new TextEncoder().encode(dict.padEnd(total - 11, ' ') + '\n'), 10);
  return out;
}

export interface ZipMember {
  readonly name: string;
  /** 0 stored, 8 deflated. */
  readonly method: 0 | 8;
  /** The member's bytes as stored in the archive (deflated when method is 8). */
  readonly data: Uint8Array;
  /** The uncompressed size the archive records (a bomb may record the truth or anything else). */
  readonly uncompressedSize: number;
  /** Record sizes and offset in zip64 extra fields, as numpy's savez does for the local header. */
  readonly zip64?: boolean;
}

/** A zip archive of the members (CRCs zero: no reader of ours checks them); zip64 records when any member asks. */
export function zipArchive(members: readonly ZipMember[]): Uint8Array {
  const chunks: Uint8Array[] = [];
  const central: Uint8Array[] = [];
  let offset = 0;
  const anyZip64 = members.some((m) => m.zip64);
  for (const m of members) {
    const name = new TextEncoder().encode(m.name);
    const extra = m.zip64 ? zip64Extra([m.uncompressedSize, m.data.length, offset]) : new Uint8Array(0);
    const localExtra = m.zip64 ? zip64Extra([m.uncompressedSize, m.data.length]) : new Uint8Array(0);
    const local = new DataView(new ArrayBuffer(30));
    local.setUint32(0, 0x04034b50, true);
    local.setUint16(4, m.zip64 ? 45 : 20, true);
    local.setUint16(8, m.method, true);
    local.setUint32(18, m.zip64 ? 0xffffffff : m.data.length, true);
    local.setUint32(22, m.zip64 ? 0xffffffff : m.uncompressedSize, true);
    local.setUint16(26, name.length, true);
    local.setUint16(28, localExtra.length, true);
    chunks.push(new Uint8Array(local.buffer), name, localExtra, m.data);
    const entry = new DataView(new ArrayBuffer(46));
    entry.setUint32(0, 0x02014b50, true);
    entry.setUint16(4, 45, true);
    entry.setUint16(6, m.zip64 ? 45 : 20, true);
    entry.setUint16(10, m.method, true);
    entry.setUint32(20, m.zip64 ? 0xffffffff : m.data.length, true);
    entry.setUint32(24, m.zip64 ? 0xffffffff : m.uncompressedSize, true);
    entry.setUint16(28, name.length, true);
    entry.setUint16(30, extra.length, true);
    entry.setUint32(42, m.zip64 ? 0xffffffff : offset, true);
    central.push(new Uint8Array(entry.buffer), name, extra);
    offset += 30 + name.length + localExtra.length + m.data.length;
  }
  const cdStart = offset;
  const cdSize = central.reduce((n, c) => n + c.length, 0);
  const tail: Uint8Array[] = [];
  if (anyZip64) {
    const eocd64 = new DataView(new ArrayBuffer(56));
    eocd64.setUint32(0, 0x06064b50, true);
    eocd64.setBigUint64(4, 44n, true);
    eocd64.setUint16(12, 45, true);
    eocd64.setUint16(14, 45, true);
    eocd64.setBigUint64(24, BigInt(members.length), true);
    eocd64.setBigUint64(32, BigInt(members.length), true);
    eocd64.setBigUint64(40, BigInt(cdSize), true);
    eocd64.setBigUint64(48, BigInt(cdStart), true);
    const locator = new DataView(new ArrayBuffer(20));
    locator.setUint32(0, 0x07064b50, true);
    locator.setBigUint64(8, BigInt(cdStart + cdSize), true);
    locator.setUint32(16, 1, true);
    tail.push(new Uint8Array(eocd64.buffer), new Uint8Array(locator.buffer));
  }
  const eocd = new DataView(new ArrayBuffer(22));
  eocd.setUint32(0, 0x06054b50, true);
  eocd.setUint16(8, anyZip64 ? 0xffff : members.length, true);
  eocd.setUint16(10, anyZip64 ? 0xffff : members.length, true);
  eocd.setUint32(12, anyZip64 ? 0xffffffff : cdSize, true);
  eocd.setUint32(16, anyZip64 ? 0xffffffff : cdStart, true);
  tail.push(new Uint8Array(eocd.buffer));
  return new Uint8Array(Buffer.concat([...chunks, ...central, ...tail]));
}

function zip64Extra(values: readonly number[]): Uint8Array {
  const view = new DataView(new ArrayBuffer(4 + 8 * values.length));
  view.setUint16(0, 0x0001, true);
  view.setUint16(2, 8 * values.length, true);
  values.forEach((v, i) => view.setBigUint64(4 + 8 * i, BigInt(v), true));
  return new Uint8Array(view.buffer);
}

export interface NpzBombOptions {
  /** The shape the .npy header declares (default: the (2200, 1024, 1024)). */
  readonly shape?: readonly number[];
  readonly descr?: string;
  /** Zero bytes the deflate stream actually holds after the header (default: what the shape needs). */
  readonly streamZeros?: number;
  /** The uncompressed size the zip records (default: the truth, header + stream). */
  readonly declaredSize?: number;
  readonly zip64?: boolean;
  readonly key?: string;
}

/** An npz whose one member (`imgs`) is a deflated .npy of zeros, ~1 KiB per MiB inflated. */
export function npzBomb(options: NpzBombOptions = {}): Uint8Array {
  const shape = options.shape ?? [2200, 1024, 1024];
  const descr = options.descr ?? '|u1';
  const itemSize = Number(descr.slice(2));
  const header = npyHeader(shape, descr);
  const zeros = options.streamZeros ?? shape.reduce((a, b) => a * b, 1) * itemSize;
  const data = deflatedZeros(header, zeros);
  const truth = header.length + zeros;
  return zipArchive([{
    name: `${options.key ?? 'imgs'}.npy`, method: 8, data, uncompressedSize: options.declaredSize ?? (truth > 0xfffffffe && !options.zip64 ? 0xfffffffe : truth), zip64: options.zip64 ?? false,
  }]);
}

/** A NIfTI-1 header (348 bytes + 4 extension bytes) declaring (nx, ny, nz) voxels of `datatype`. */
export function niftiHeader(dims: readonly [number, number, number], options: { datatype?: number; bitpix?: number; voxOffset?: number; slope?: number; inter?: number } = {}): Uint8Array {
  const bytes = new Uint8Array(352);
  const view = new DataView(bytes.buffer);
  view.setInt32(0, 348, true);
  [3, dims[0], dims[1], dims[2], 1, 1, 1, 1].forEach((d, i) => view.setInt16(40 + 2 * i, d, true));
  view.setInt16(70, options.datatype ?? 2, true);
  view.setInt16(72, options.bitpix ?? 8, true);
  [1, 1, 1, 1, 0, 0, 0, 0].forEach((p, i) => view.setFloat32(76 + 4 * i, p, true));
  view.setFloat32(108, options.voxOffset ?? 352, true);
  view.setFloat32(112, options.slope ?? 0, true);
  view.setFloat32(116, options.inter ?? 0, true);
  bytes.set(new TextEncoder().encode('n+1\0'), 344);
  return bytes;
}
