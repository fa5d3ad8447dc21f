// Which cases `onesam segment` runs and where each one's labels go. One input that is a file, or a folder holding
// DICOM files, is one case written to -o, exactly as before batches existed. Several inputs, or a folder holding
// case files, make a batch: -o names a folder and each case's labels are written there under the input's name
// (the challenge layout: `imgs/2DBox_US_0004.npz` -> `segs/2DBox_US_0004.npz`).
//
// The folder rule: a folder that directly holds .npz, .nii or .nii.gz files is a folder of cases, one per such
// file, in name order (sub-folders and other files are passed over); a folder holding none of them keeps its
// meaning of one DICOM series, its DICOM files searched at any depth (dicom-files.ts). A DICOM series in a batch
// is named on the command line as its own folder.
import { readdir, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { UsageError } from './args.ts';
import { inputKindFromName, type InputKind } from './input-kind.ts';
import type { OutputFormatName } from './output-format.ts';

/** The files of a folder that make it a folder of cases rather than a DICOM series. */
export function isCaseFileName(name: string): boolean {
  const kind = inputKindFromName(name);
  return kind === 'npz' || kind === 'nifti';
}

/** The case files among a folder's entries (files only), in name order. */
export function caseFilesOf(entries: readonly { readonly name: string; readonly isFile: boolean }[]): string[] {
  return entries.filter((e) => e.isFile && isCaseFileName(e.name)).map((e) => e.name).sort();
}

export interface SegmentInputs {
  /** The cases' paths, in command-line order, each folder's cases in name order. */
  readonly inputs: readonly string[];
  /** Several inputs, or a folder of cases: -o is a folder. */
  readonly batch: boolean;
}

/** Expands the command line's inputs (see the file comment); a missing path is a usage error. */
export async function expandInputs(positionals: readonly string[]): Promise<SegmentInputs> {
  const inputs: string[] = [];
  let caseFolder = false;
  for (const path of positionals) {
    let info;
    try {
      info = await stat(path);
    } catch {
      throw new UsageError(`cannot read the input "${path}": no such file or folder`);
    }
    if (!info.isDirectory()) {
      inputs.push(path);
      continue;
    }
    const entries = (await readdir(path, { withFileTypes: true })).map((d) => ({ name: d.name, isFile: d.isFile() }));
    const cases = caseFilesOf(entries);
    if (cases.length === 0) {
      inputs.push(path);
      continue;
    }
    caseFolder = true;
    inputs.push(...cases.map((name) => join(path, name)));
  }
  return { inputs, batch: caseFolder || positionals.length > 1 };
}

/** The input's name without its extension (`.nii.gz` as one), for naming its output. */
export function caseStem(input: string): string {
  const name = basename(input.replace(/[\\/]+$/, ''));
  const lower = name.toLowerCase();
  for (const ext of ['.nii.gz', '.nii', '.npz', '.dcm', '.dicom']) {
    if (lower.endsWith(ext) && name.length > ext.length) return name.slice(0, -ext.length);
  }
  return name;
}

/** A batch case's output format: --format when given, else the input's own (a DICOM series gets a DICOM SEG). */
export function batchOutputFormat(input: string, kind: InputKind, formatFlag: string | undefined): OutputFormatName {
  if (formatFlag !== undefined) return formatFlag.replace(/^\./, '').toLowerCase() as OutputFormatName;
  if (kind === 'nifti') return input.toLowerCase().endsWith('.nii') ? 'nii' : 'nii.gz';
  return kind === 'dicom' ? 'dcm' : 'npz';
}

/**
 * Each case's output path in the folder `outDir`, named after its input. Two inputs that would write the same
 * file (`a/x.npz` and `b/x.npz`) are refused before any work: one would silently overwrite the other.
 */
export function batchOutputs(inputs: readonly { readonly path: string; readonly format: OutputFormatName }[], outDir: string): string[] {
  const seen = new Map<string, string>();
  return inputs.map(({ path, format }) => {
    const name = `${caseStem(path)}.${format}`;
    const earlier = seen.get(name);
    if (earlier !== undefined) throw new UsageError(`"${earlier}" and "${path}" would both be written to ${join(outDir, name)}: segment them in separate runs`);
    seen.set(name, path);
    return join(outDir, name);
  });
}

/**
 * Whether a batch may hold a volume to walk, judged from names before anything is read: a challenge npz whose name
 * starts with "2D" is a 2D image (the reference script's own rule); any other input may be a volume.
 */
export function batchMayWalk(inputs: readonly string[]): boolean {
  return inputs.some((path) => !(inputKindFromName(path) === 'npz' && basename(path).startsWith('2D')));
}
