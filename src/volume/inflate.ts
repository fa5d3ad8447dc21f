// Inflating compressed payloads without trusting them: first only as much as it takes to read the header inside
// (an npy header, a NIfTI header), so the size that header declares can be checked against the limits before the
// rest is inflated; then the whole stream, with zlib stopping at that size. A stream that would inflate past it
// (a bomb, or a header that understates the data) is stopped there, not inflated to its end first.
import { Gunzip, Inflate } from 'fflate';
import { constants, gunzipSync, inflateRawSync } from 'node:zlib';

export type Compression = 'deflate-raw' | 'gzip';

/**
 * Compressed bytes fed per step while reading a prefix. Deflate expands at most ~1032:1, so one step never makes
 * more than about 64 KiB of output, however the stream was built. Small steps matter: fflate inflates a bomb's
 * long zero runs at only a few MB/s (measured: 1 KiB steps, 1 MiB of output, ~350 ms), so a reader that wants
 * 128 header bytes must not be handed a megabyte.
 */
const PREFIX_STEP = 64;

/**
 * The first `length` inflated bytes (fewer when the stream is shorter). Costs about `length` bytes of output plus
 * one step's worth, whatever the stream would inflate to. Throws what the inflater throws on corrupt input.
 */
export function inflatedPrefix(compression: Compression, compressed: Uint8Array, length: number): Uint8Array {
  const out = new Uint8Array(length);
  let have = 0;
  let ended = false;
  const collect = (chunk: Uint8Array, final: boolean): void => {
    const take = Math.min(chunk.length, length - have);
    out.set(chunk.subarray(0, take), have);
    have += take;
    if (final) ended = true;
  };
  const inflater = compression === 'gzip' ? new Gunzip(collect) : new Inflate(collect);
  for (let offset = 0; have < length && !ended && offset < compressed.length; offset += PREFIX_STEP) {
    const end = Math.min(offset + PREFIX_STEP, compressed.length);
    inflater.push(compressed.subarray(offset, end), end === compressed.length);
  }
  return out.subarray(0, have);
}

/** The stream inflated to more than `maxLength` bytes; inflating stopped there. */
export class InflateLimitError extends Error {
  constructor(readonly maxLength: number) {
    super(`inflates to more than ${maxLength} bytes`);
    this.name = 'InflateLimitError';
  }
}

/**
 * The whole stream inflated, refusing (InflateLimitError) as soon as the output passes `maxLength`. zlib writes
 * into one output buffer of maxLength + 1 bytes, allocated up front but committed page by page as it fills, so a
 * stream of the declared size is inflated without a second copy and one that is longer is stopped after a single
 * byte too many. Other zlib errors (corrupt data) are thrown as they are.
 */
export function inflateBounded(compression: Compression, compressed: Uint8Array, maxLength: number): Uint8Array {
  // zlib's smallest output chunk is 64 bytes; the limit check is exact either way.
  const options = { maxOutputLength: Math.max(1, maxLength), chunkSize: Math.max(constants.Z_MIN_CHUNK, maxLength + 1) };
  let out: Buffer;
  try {
    out = compression === 'gzip' ? gunzipSync(compressed, options) : inflateRawSync(compressed, options);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') throw new InflateLimitError(maxLength);
    throw err;
  }
  if (maxLength === 0 && out.length > 0) throw new InflateLimitError(0);
  return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
}
