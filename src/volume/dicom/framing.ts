// One series over one byte stream (the Segment upload): length-prefixed Part 10 instances.
//
//   "DICMSER1"                      8 bytes, ASCII magic
//   repeated: uint32 LE n, n bytes  one DICOM instance each (Part 10 file or bare data set), n >= 1
//
// A payload that does not start with the magic is read as one instance (a single Part 10 file), so a 2D image can be
// sent as it is. Why not a zip: DICOM compresses its pixel data already, and a zip would add a second decompression
// with its own bomb checks and member names that carry patient data in practice; a length prefix costs nothing to
// walk, streams, and is a dozen lines in any client (writeDicomUpload below is the reference writer).
import { CodedError } from '../../errors/coded-error.ts';

export const DICOM_UPLOAD_MAGIC = 'DICMSER1';

/**
 * Most instances one upload may hold: a thin-slice whole-body CT has about 2000 slices; each instance costs a parse
 * and its bookkeeping however small it is.
 */
export const MAX_DICOM_INSTANCES = 4096;

const MAGIC_BYTES = new TextEncoder().encode(DICOM_UPLOAD_MAGIC);

/** The instances of an upload, as views into it (nothing is copied). */
export function readDicomUpload(payload: Uint8Array, maxInstances = MAX_DICOM_INSTANCES): Uint8Array[] {
  if (!hasMagic(payload)) {
    if (payload.length === 0) throw new CodedError('PAYLOAD_FORMAT', 'is empty: a DICOM payload holds at least one instance', 'payload');
    return [payload];
  }
  const view = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
  const instances: Uint8Array[] = [];
  let at = MAGIC_BYTES.length;
  while (at < payload.length) {
    const index = instances.length;
    if (index >= maxInstances) {
      throw new CodedError('PAYLOAD_TOO_LARGE', `holds more than ${maxInstances} DICOM instances, the most one series may have`, 'payload');
    }
    if (at + 4 > payload.length) throw new CodedError('PAYLOAD_FORMAT', `the length prefix at byte ${at} is cut short: truncated upload`, `payload.dicom[${index}]`);
    const length = view.getUint32(at, true);
    at += 4;
    if (length === 0) throw new CodedError('PAYLOAD_FORMAT', `has length 0 at byte ${at - 4}`, `payload.dicom[${index}]`);
    if (at + length > payload.length) {
      throw new CodedError('PAYLOAD_SIZE_MISMATCH', `declares ${length} bytes at byte ${at - 4} but the upload has ${payload.length - at} left: truncated upload`, `payload.dicom[${index}]`);
    }
    instances.push(payload.subarray(at, at + length));
    at += length;
  }
  if (instances.length === 0) throw new CodedError('PAYLOAD_FORMAT', `holds the ${DICOM_UPLOAD_MAGIC} magic but no instance`, 'payload');
  return instances;
}

/** Frames instances for upload (clients, tests, the CLI). */
export function writeDicomUpload(instances: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(MAGIC_BYTES.length + instances.reduce((n, b) => n + 4 + b.length, 0));
  const view = new DataView(out.buffer);
  out.set(MAGIC_BYTES, 0);
  let at = MAGIC_BYTES.length;
  for (const instance of instances) {
    view.setUint32(at, instance.length, true);
    out.set(instance, at + 4);
    at += 4 + instance.length;
  }
  return out;
}

function hasMagic(payload: Uint8Array): boolean {
  return payload.length >= MAGIC_BYTES.length && MAGIC_BYTES.every((b, i) => payload[i] === b);
}
