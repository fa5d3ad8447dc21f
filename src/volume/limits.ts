// Decoded-size limits: how large a volume a payload may turn into, checked against what the payload's own header
// says (npy shape x dtype, NIfTI dim x datatype, raw shape x dtype) before anything is inflated or allocated, and
// enforced again while inflating, because a zip or gzip stream may inflate to more than any header declares.
//
// Three numbers bound one decode:
// - maxDecodedBytes: the decoded data in its stored dtype (an inflated npz member, a decompressed NIfTI file), so a
//   compressed payload never decodes to more than an uncompressed one could carry; the server passes
//   maxPayloadBytes, the same limit the upload itself has.
// - maxVoxels: the voxels of any one array, whatever their dtype. Everything the service keeps per request after
//   decoding scales with voxels, not bytes (see DEFAULT_MAX_VOXELS).
// - maxWorkingBytes: every buffer the decoder allocates on the way to the 8-bit image (inflated data, aligned or
//   byte-swapped copies, NIfTI scaling's copy, the intensity preparation's scratch and its output), estimated from
//   the header. Without it, a 1 MiB .nii.gz of uint8 zeros with scl_inter 1 and percentile preparation passes both
//   limits above and allocates 18 bytes per voxel (a float64 scaled copy, a float64 copy for the percentiles).
//   It is not a setting of its own: WORKING_BYTES_PER_DECODED_BYTE times maxDecodedBytes, plus WORKING_BYTES_FLOOR.
import { CodedError } from '../errors/coded-error.ts';

export interface DecodeLimits {
  /** Decoded data in its stored dtype, per payload (all npz members together). */
  readonly maxDecodedBytes: number;
  /** Voxels of any one array (the image, its scribble map). */
  readonly maxVoxels: number;
  /** Every buffer decoding allocates for one payload, the payload itself aside. */
  readonly maxWorkingBytes: number;
}

const MiB = 1024 * 1024;

/**
 * 256 Mi voxels = 512 x 512 x 1024, the int16 CT that the default maxPayloadBytes (512 MiB) admits, so the two
 * defaults agree for the commonest CT dtype, and uint8 volumes (the challenge's npz files) get the same voxel
 * bound instead of twice it. Per voxel a request holds after decoding the prepared 8-bit image (1 B), the label
 * assembler's uint16 ordinals (2 B), the labels (1-2 B) and their encoding (up to 2 B): about 1.75 GiB at this
 * size, which with two workers (~0.5 GiB each) and the 1 GiB embedding budget still fits the 4 GiB pod of
 * deploy/. The bombs, 300, 700 and 2200 slices of 1024 x 1024, are 315 M voxels and more.
 */
export const DEFAULT_MAX_VOXELS = 256 * MiB;

/** The default of maxPayloadBytes (src/config/schema.ts), which the server passes as maxDecodedBytes. */
export const DEFAULT_MAX_DECODED_BYTES = 512 * MiB;

/**
 * Decoding may allocate 4 bytes per decoded byte: 2 GiB at the default 512 MiB. The common large decodes the other
 * limits admit stay under it (a 512 MiB int16 raw CT with percentiles: a 256 MiB image and no scratch; a
 * 512 x 512 x 1024 int16 .nii.gz with scl scaling and a CT window: the 512 MiB file, a 1 GiB int32 scaled copy, the
 * 256 MiB image), and more would hold over half of deploy/'s 4 GiB pod for one request.
 */
export const WORKING_BYTES_PER_DECODED_BYTE = 4;

/**
 * Added to the working limit for the decoders' fixed-size scratch (the percentile preparation's 512 KiB histogram),
 * which does not scale with the payload: without it a server configured with a small maxPayloadBytes refused every
 * percentile-prepared 16-bit payload, however small.
 */
export const WORKING_BYTES_FLOOR = 16 * MiB;

export const DEFAULT_DECODE_LIMITS: DecodeLimits = Object.freeze({
  maxDecodedBytes: DEFAULT_MAX_DECODED_BYTES,
  maxVoxels: DEFAULT_MAX_VOXELS,
  maxWorkingBytes: WORKING_BYTES_PER_DECODED_BYTE * DEFAULT_MAX_DECODED_BYTES + WORKING_BYTES_FLOOR,
});

/** Limits with any missing field taken from the defaults; maxWorkingBytes follows maxDecodedBytes unless given. */
export function decodeLimits(partial: Partial<DecodeLimits> = {}): DecodeLimits {
  const maxDecodedBytes = partial.maxDecodedBytes ?? DEFAULT_MAX_DECODED_BYTES;
  return {
    maxDecodedBytes,
    maxVoxels: partial.maxVoxels ?? DEFAULT_MAX_VOXELS,
    maxWorkingBytes: partial.maxWorkingBytes ?? WORKING_BYTES_PER_DECODED_BYTE * maxDecodedBytes + WORKING_BYTES_FLOOR,
  };
}

/**
 * Refuses an array of `voxels` elements of `bytesPerVoxel` each before it is allocated. `shape` is shown in the
 * message; products of hostile shapes may exceed 2^53, and any such product is refused here, never multiplied on.
 */
export function checkArraySize(limits: DecodeLimits, field: string, shape: readonly number[], voxels: number, bytesPerVoxel: number, decodedSoFar = 0): void {
  const described = `[${shape.join(', ')}]`;
  if (!(voxels <= limits.maxVoxels)) {
    throw new CodedError('PAYLOAD_TOO_LARGE', `shape ${described} is ${voxels} voxels, more than the maximum of ${limits.maxVoxels} (maxVoxels)`, field);
  }
  const bytes = voxels * bytesPerVoxel;
  if (!(decodedSoFar + bytes <= limits.maxDecodedBytes)) {
    const others = decodedSoFar > 0 ? ` (with ${decodedSoFar} bytes decoded before it)` : '';
    throw new CodedError('PAYLOAD_TOO_LARGE', `shape ${described} decodes to ${bytes} bytes${others}, more than the maximum of ${limits.maxDecodedBytes} (maxDecodedBytes)`, field);
  }
}

/** Refuses a decode whose buffers, estimated from the header, would exceed maxWorkingBytes. */
export function checkWorkingBytes(limits: DecodeLimits, field: string, parts: Readonly<Record<string, number>>): void {
  const total = Object.values(parts).reduce((a, b) => a + b, 0);
  if (!(total <= limits.maxWorkingBytes)) {
    const listed = Object.entries(parts).filter(([, n]) => n > 0).map(([name, n]) => `${name} ${n}`).join(', ');
    throw new CodedError('PAYLOAD_TOO_LARGE', `decoding needs ${total} bytes of buffers (${listed}), more than the maximum of ${limits.maxWorkingBytes} (maxWorkingBytes)`, field);
  }
}
