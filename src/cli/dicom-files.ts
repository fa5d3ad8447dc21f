// The DICOM instances of `onesam segment <folder|file>`: every DICOM file under a folder (any depth; exports from
// PACS and CD viewers nest series in folders named by number), grouped by Series Instance UID, never by folder
// (one folder often holds several series, and one series may span folders). One series is segmented: the only one
// there is, or the one --series names; otherwise the person is shown the series to choose from. The instances are
// then handed on unparsed, framed as the wire's DICOM upload, so that the CLI and the server read them with the
// same decoder.
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { CodedError } from '../errors/coded-error.ts';
import type { DecodeLimits } from '../volume/limits.ts';
import { readInstance, TAG, type DicomInstance } from '../volume/dicom/part10.ts';
import { UsageError } from './args.ts';

/** Media Storage SOP Class of a DICOMDIR (PS3.10): an index of files, not an image. */
const MEDIA_DIRECTORY_STORAGE = '1.2.840.10008.1.3.10';
const PREAMBLE = 128;

export interface DicomSeriesChoice {
  readonly seriesInstanceUid: string;
  readonly modality: string | undefined;
  readonly files: readonly string[];
}

export interface DicomInputFiles {
  /** The chosen series' instances in file-name order (the decoder orders slices by geometry). */
  readonly instances: readonly Uint8Array[];
  readonly files: readonly string[];
  readonly series: DicomSeriesChoice;
}

/**
 * Reads the DICOM files at `path` (a file, or a folder searched at any depth) and picks one series. Files that are
 * not DICOM (no "DICM" at byte 128: README.txt, thumbnails, a viewer's executable) and DICOMDIR indexes are passed
 * over. The total read is bounded by maxDecodedBytes, as an upload's decoded size is.
 */
export async function readDicomInput(path: string, options: { readonly series?: string; readonly limits: DecodeLimits }): Promise<DicomInputFiles> {
  const info = await stat(path);
  const candidates = info.isDirectory() ? await filesUnder(path) : [path];
  let total = 0;
  const bySeries = new Map<string, { modality: string | undefined; files: string[]; instances: Uint8Array[] }>();
  for (const file of candidates) {
    const bytes = new Uint8Array(await readFile(file));
    // A file named on the command line is read whatever it holds (a bare data set has no magic); in a folder only
    // Part 10 files count.
    if (info.isDirectory() && !hasPart10Magic(bytes)) continue;
    total += bytes.length;
    if (total > options.limits.maxDecodedBytes) {
      throw new CodedError('PAYLOAD_TOO_LARGE', `the DICOM files under "${path}" hold more than ${options.limits.maxDecodedBytes} bytes (maxDecodedBytes)`, 'input');
    }
    let instance: DicomInstance;
    try {
      instance = readInstance(bytes, 0, options.limits);
    } catch (err) {
      // The decoder names an upload position; here the person knows the file.
      if (err instanceof CodedError) throw new CodedError(err.code, `${file}: ${err.detail}`, 'input');
      throw err;
    }
    if (mediaStorageClass(instance) === MEDIA_DIRECTORY_STORAGE) continue;
    const uid = instance.attributes.string(TAG.SeriesInstanceUID) ?? '(no Series Instance UID)';
    const entry = bySeries.get(uid) ?? { modality: instance.attributes.string(TAG.Modality), files: [], instances: [] };
    entry.files.push(file);
    entry.instances.push(bytes);
    bySeries.set(uid, entry);
  }
  if (bySeries.size === 0) throw new UsageError(`no DICOM image files under "${path}"`);
  const choices = [...bySeries.entries()];
  const chosen = options.series === undefined
    ? (choices.length === 1 ? choices[0] : undefined)
    : choices.find(([uid]) => uid === options.series);
  if (!chosen) {
    const list = choices.map(([uid, s]) => `  ${uid}  ${s.modality ?? '-'}  ${s.files.length} file${s.files.length === 1 ? '' : 's'}`).join('\n');
    throw new UsageError(options.series === undefined
      ? `"${path}" holds ${choices.length} series; choose one with --series <Series Instance UID>:\n${list}`
      : `--series ${options.series} is not among the series under "${path}":\n${list}`);
  }
  const [seriesInstanceUid, s] = chosen;
  return { instances: s.instances, files: s.files, series: { seriesInstanceUid, modality: s.modality, files: s.files } };
}

async function filesUnder(folder: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (dir: string): Promise<void> => {
    const entries = await readdir(dir, { withFileTypes: true });
    entries.sort((a, b) => a.name.localeCompare(b.name));
    for (const entry of entries) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) await walk(path);
      // DICOMDIR (and its variants) index the files beside them; they are not images.
      else if (entry.isFile() && !/^dicomdir/i.test(entry.name)) out.push(path);
    }
  };
  await walk(folder);
  return out;
}

function hasPart10Magic(bytes: Uint8Array): boolean {
  return bytes.length >= PREAMBLE + 4 && bytes[PREAMBLE] === 0x44 && bytes[PREAMBLE + 1] === 0x49 && bytes[PREAMBLE + 2] === 0x43 && bytes[PREAMBLE + 3] === 0x4d;
}

/** (0002,0002) Media Storage SOP Class UID of a Part 10 file, or its SOP Class UID. */
function mediaStorageClass(instance: DicomInstance): string | undefined {
  return instance.attributes.string('x00020002') ?? instance.attributes.string(TAG.SOPClassUID);
}
