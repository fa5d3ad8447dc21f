// Which kind of input `onesam segment` was given: a challenge npz, a NIfTI file or a DICOM folder / file. The name
// decides when it says (.npz, .nii, .nii.gz, .dcm, a folder); otherwise the first bytes do, so an export named
// `case_001` or `IM0001` still works. Reading each kind is segment-input.ts's job.
import { open, stat } from 'node:fs/promises';
import { UsageError } from './args.ts';

export type InputKind = 'npz' | 'nifti' | 'dicom';

export const INPUT_FORMS = 'a challenge .npz, a NIfTI .nii / .nii.gz, or a DICOM folder or file';

/** The kind a file name implies, or undefined when it does not say. */
export function inputKindFromName(name: string): InputKind | undefined {
  const lower = name.toLowerCase();
  if (lower.endsWith('.npz')) return 'npz';
  if (lower.endsWith('.nii') || lower.endsWith('.nii.gz')) return 'nifti';
  if (lower.endsWith('.dcm') || lower.endsWith('.dicom') || /(^|[\\/])dicomdir$/.test(lower)) return 'dicom';
  return undefined;
}

/** Bytes read from a file's start to tell its kind: DICOM's "DICM" sits at 128, NIfTI-2's header is 540 bytes. */
export const SNIFF_BYTES = 544;

/** The kind a file's first bytes show, or undefined. A gzip stream is not opened: only a .nii.gz name says NIfTI. */
export function inputKindFromBytes(head: Uint8Array): InputKind | undefined {
  const view = new DataView(head.buffer, head.byteOffset, head.byteLength);
  const ascii = (offset: number, text: string): boolean =>
    head.length >= offset + text.length && [...text].every((c, i) => head[offset + i] === c.charCodeAt(0));
  if (ascii(0, 'PK\x03\x04') || ascii(0, 'PK\x05\x06')) return 'npz';
  if (ascii(128, 'DICM')) return 'dicom';
  if (head.length >= 4) {
    for (const le of [true, false]) {
      const size = view.getInt32(0, le);
      if (size === 348 && ascii(344, 'n+1\0')) return 'nifti';
      if (size === 540 && ascii(4, 'n+2\0')) return 'nifti';
    }
  }
  return undefined;
}

/**
 * The kind of the input at `path`: a folder is a DICOM series (the seam the DICOM reader plugs into), a file by
 * its name or else its first bytes. A missing path or an unrecognisable file is a usage error.
 */
export async function detectInputKind(path: string): Promise<InputKind> {
  let info;
  try {
    info = await stat(path);
  } catch {
    throw new UsageError(`cannot read the input "${path}": no such file or folder`);
  }
  if (info.isDirectory()) return 'dicom';
  const byName = inputKindFromName(path);
  if (byName) return byName;
  const file = await open(path, 'r');
  try {
    const head = new Uint8Array(SNIFF_BYTES);
    const { bytesRead } = await file.read(head, 0, SNIFF_BYTES, 0);
    const byBytes = inputKindFromBytes(head.subarray(0, bytesRead));
    if (byBytes) return byBytes;
  } finally {
    await file.close();
  }
  throw new UsageError(`cannot tell what "${path}" is from its name or its first bytes: give ${INPUT_FORMS}`);
}
