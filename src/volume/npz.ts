// NumPy .npz archives: a zip of .npy members, stored (np.savez) or deflated (np.savez_compressed). Keys are member
// names without the ".npy" suffix, as np.load reports them.
import { unzipSync, zipSync, type Zippable } from 'fflate';
import { NpyError, readNpy, writeNpy, type NdArray } from './npy.ts';

export { NpyError, type NdArray, type NdDtype, type NdData } from './npy.ts';

const EOCD_SIGNATURE = 0x06054b50;
const EOCD_MIN_SIZE = 22;

/** True when the zip's end-of-central-directory record is present; a truncated download loses it first. */
function hasEndOfCentralDirectory(bytes: Uint8Array): boolean {
  if (bytes.length < EOCD_MIN_SIZE) return false;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  // The record is the last thing in the file, followed by a comment of at most 65535 bytes.
  const stop = Math.max(0, bytes.length - EOCD_MIN_SIZE - 0xffff);
  for (let i = bytes.length - EOCD_MIN_SIZE; i >= stop; i--) {
    if (view.getUint32(i, true) === EOCD_SIGNATURE && i + EOCD_MIN_SIZE + view.getUint16(i + 20, true) === bytes.length) return true;
  }
  return false;
}

/**
 * Decode an .npz archive into its arrays, in archive order. `name` (usually the file path) appears in errors.
 * Members that are not .npy files are skipped, as np.load does not treat them as arrays.
 */
export function readNpz(bytes: Uint8Array, name: string): Map<string, NdArray> {
  if (!hasEndOfCentralDirectory(bytes)) {
    throw new NpyError('NPZ_TRUNCATED', `${name}: not a complete .npz archive (no zip end-of-central-directory record; truncated?)`);
  }
  let members: Record<string, Uint8Array>;
  try {
    members = unzipSync(bytes, { filter: (file) => file.name.endsWith('.npy') });
  } catch (err) {
    throw new NpyError('NPZ_CORRUPT', `${name}: corrupt .npz archive: ${(err as Error).message}`);
  }
  const arrays = new Map<string, NdArray>();
  for (const [member, data] of Object.entries(members)) {
    const key = member.slice(0, -'.npy'.length);
    arrays.set(key, readNpy(data, `${name}[${key}]`));
  }
  return arrays;
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
