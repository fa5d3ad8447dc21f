// The label file `onesam segment -o` writes: its format from `--format` or else the output's extension, and the
// bytes, made by the server's own label encoder (encodeLabels) so a file written here equals the answer of a
// gRPC request for that format.
import type { SegOutputOptions, VolumeGeometry } from '../volume/payload.ts';
import { encodeLabels } from '../volume/payload.ts';
import { UsageError } from './args.ts';
import type { InputKind } from './input-kind.ts';

/** What `--format` takes: the extensions' names. */
export type OutputFormatName = 'npz' | 'nii' | 'nii.gz' | 'raw' | 'dcm';
export const OUTPUT_FORMATS: readonly OutputFormatName[] = Object.freeze(['npz', 'nii.gz', 'nii', 'raw', 'dcm']);

export type OutputFormat =
  /** `segs` in a deflated npz, like the challenge's output files. */
  | { readonly name: 'npz'; readonly encoding: 'npz'; readonly gzip: true }
  /** NIfTI-1 (or the input's NIfTI version) with the input's geometry; `.nii.gz` gzipped. */
  | { readonly name: 'nii' | 'nii.gz'; readonly encoding: 'nifti'; readonly gzip: boolean }
  /** Little-endian uint8 / uint16 labels in the label shape, nothing else (the --json summary says the shape). */
  | { readonly name: 'raw'; readonly encoding: 'raw'; readonly gzip: false }
  /** A binary DICOM Segmentation over the source series: DICOM inputs only. */
  | { readonly name: 'dcm'; readonly encoding: 'dicom-seg'; readonly gzip: false };

function formatNamed(name: OutputFormatName): OutputFormat {
  switch (name) {
    case 'npz': return { name, encoding: 'npz', gzip: true };
    case 'nii': return { name, encoding: 'nifti', gzip: false };
    case 'nii.gz': return { name, encoding: 'nifti', gzip: true };
    case 'raw': return { name, encoding: 'raw', gzip: false };
    case 'dcm': return { name, encoding: 'dicom-seg', gzip: false };
  }
}

/** `--format` when given (it wins over the name: `-o labels.bin --format raw`), else the extension of `path`. */
export function chooseOutputFormat(path: string, flag: string | undefined): OutputFormat {
  if (flag !== undefined) {
    const name = flag.replace(/^\./, '').toLowerCase();
    if (!(OUTPUT_FORMATS as readonly string[]).includes(name)) throw new UsageError(`--format must be one of ${OUTPUT_FORMATS.join(', ')}, got "${flag}"`);
    return formatNamed(name as OutputFormatName);
  }
  const lower = path.toLowerCase();
  // Longest first: ".nii.gz" before ".gz" would matter if plain .gz were a format.
  const name = OUTPUT_FORMATS.find((f) => lower.endsWith(`.${f}`));
  if (!name) throw new UsageError(`cannot tell the output format from "${path}": end it in ${OUTPUT_FORMATS.map((f) => `.${f}`).join(', ')} or give --format`);
  return formatNamed(name);
}

/** Refuses, before any work, an output the input cannot have. */
export function checkOutputForInput(format: OutputFormat, input: InputKind): void {
  if (format.encoding !== 'dicom-seg') return;
  if (input !== 'dicom') throw new UsageError(`a DICOM SEG output (.dcm) references the source images, so it needs a DICOM input; for this input write .nii.gz, .npz or .raw`);
}

/** The output file's bytes; a DICOM SEG needs `seg` (the segments and the algorithm that made them). */
export function encodeOutput(labels: Uint8Array | Uint16Array, geometry: VolumeGeometry, format: OutputFormat, seg?: SegOutputOptions): Uint8Array {
  return encodeLabels(labels, geometry, format.encoding, format.gzip, seg);
}
