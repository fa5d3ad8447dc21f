// Reads the input of `onesam segment` into what the pipeline takes (the prepared 8-bit image), the geometry the
// labels are written back in, the prompts a challenge npz carries, and what `--server` uploads. A challenge npz is
// read as before (its file name's 2D/3D prefix, its own boxes or scribbles); a NIfTI file goes through the
// server's own decoder (decodePayload), so it means the same here as over gRPC, and over --server the file itself
// is sent with its format and intensity preparation.
import { readFile } from 'node:fs/promises';
import type { ImageVolume, ObjectPrompt } from '../pipeline/types.ts';
import { challengeCase, type ChallengeCase } from '../volume/challenge.ts';
import { CodedError } from '../errors/coded-error.ts';
import type { IntensityPreparation } from '../volume/intensity.ts';
import type { DecodeLimits } from '../volume/limits.ts';
import { readNpz, type NdArray } from '../volume/npz.ts';
import { loadDicomCodecs } from '../volume/dicom/codecs.ts';
import { writeDicomUpload } from '../volume/dicom/framing.ts';
import { dicomPromptMapping } from '../volume/dicom/prompt-mapping.ts';
import { decodePayload, type PayloadFormat, type VolumeGeometry } from '../volume/payload.ts';
import { readDicomInput } from './dicom-files.ts';
import { UsageError } from './args.ts';
import type { InputKind } from './input-kind.ts';
import type { DicomPromptMapping } from './prompt-objects.ts';

export interface SegmentInput {
  readonly kind: InputKind;
  /** "a NIfTI input", for messages. */
  readonly description: string;
  readonly image: ImageVolume;
  /** The frame labels are written in: the npz's array shape, the NIfTI header (or, later, the DICOM series). */
  readonly geometry: VolumeGeometry;
  /** The prompts stored in a challenge npz, when the person gave none. */
  readonly fileObjects?: readonly ObjectPrompt[];
  /** What `--server` sends; absent: the prepared voxels as raw uint8 (a challenge npz is already prepared). */
  readonly upload?: { readonly format: PayloadFormat; readonly bytes: Uint8Array; readonly intensity: IntensityPreparation };
  /** DICOM inputs: maps boxes in mm and slices named by instance to voxels. */
  readonly dicom?: DicomPromptMapping;
  /** DICOM inputs: Modality (0008,0060) as stored, which routes the request when --modality is not given. */
  readonly dicomModality?: string;
}

export interface InputOptions {
  /** --intensity; undefined means the default of the input kind. */
  readonly intensity: IntensityPreparation | undefined;
  readonly limits: DecodeLimits;
  /** The person gave prompts (flags or a file): an npz's own boxes and scribbles are not read as objects. */
  readonly promptsGiven: boolean;
  /** --prompt: which of an npz's own prompts to use. */
  readonly npzPrompt: 'auto' | 'boxes' | 'scribbles';
  /** --series: which series of a DICOM folder holding several. */
  readonly series?: string;
}

export async function readSegmentInput(path: string, kind: InputKind, options: InputOptions): Promise<SegmentInput> {
  switch (kind) {
    case 'npz':
      return readChallengeNpz(path, options);
    case 'nifti':
      return readNiftiFile(path, options);
    case 'dicom':
      return readDicomSeries(path, options);
  }
}

/**
 * An empty `boxes` member: challengeCase always builds the file's objects, and when the person gave prompts the
 * file needs none of its own (a plain image npz has no `boxes` at all).
 */
const NO_BOXES: NdArray = Object.freeze({ dtype: 'int64', shape: [0, 0], data: new BigInt64Array(0) });

async function readChallengeNpz(path: string, options: InputOptions): Promise<SegmentInput> {
  if (options.intensity && options.intensity.kind !== 'asis') {
    throw new UsageError(`--intensity ${options.intensity.kind === 'ct-window' ? 'ct' : options.intensity.kind}: a challenge npz holds an image already prepared to 0..255; --intensity applies to NIfTI (and DICOM) inputs`);
  }
  // The same decoded-size limits as the server's, so a bomb is refused here too instead of filling memory.
  const arrays = readNpz(new Uint8Array(await readFile(path)), path, { limits: options.limits });
  let kase: ChallengeCase;
  if (options.promptsGiven) {
    const imageOnly = new Map(arrays);
    imageOnly.delete('scribbles');
    imageOnly.set('boxes', NO_BOXES);
    kase = challengeCase(imageOnly, path, 'boxes');
  } else {
    kase = challengeCase(arrays, path, options.npzPrompt);
  }
  const { image } = kase;
  const shape = arrays.get('imgs')!.shape;
  const labelShape = kase.is3D ? [image.depth, image.height, image.width] : [image.height, image.width];
  return {
    kind: 'npz',
    description: 'a challenge npz',
    image,
    geometry: { kind: 'array', shape: [...shape], labelShape, ...(image.spacing ? { spacing: image.spacing } : {}) },
    ...(options.promptsGiven ? {} : { fileObjects: kase.objects }),
  };
}

async function readNiftiFile(path: string, options: InputOptions): Promise<SegmentInput> {
  const bytes = new Uint8Array(await readFile(path));
  // Unset means as-is, as on the wire: a volume in Hounsfield units needs --intensity ct.
  const intensity = options.intensity ?? { kind: 'asis' };
  try {
    const decoded = decodePayload({ format: 'nifti', intensity }, bytes, options.limits);
    return { kind: 'nifti', description: 'a NIfTI input', image: decoded.image, geometry: decoded.geometry, upload: { format: 'nifti', bytes, intensity } };
  } catch (e) {
    // The decoder names the wire field; here the person typed a flag.
    if (e instanceof CodedError && e.field?.startsWith('header.intensity')) {
      const field = e.field.replace('header.intensity', '--intensity');
      throw new CodedError(e.code, `${e.detail} (--intensity ct[:level,width] or percentile[:low,high])`, field);
    }
    throw e;
  }
}

/**
 * A DICOM folder or file: one series (dicom-files.ts), framed as the wire's DICOM upload and decoded by the server's
 * own decoder, so it means the same here as over gRPC. Unset --intensity takes the series' default (CT window for
 * CT, percentiles for other grey images over 8 bits, as-is otherwise); over --server the same files are sent with
 * that preparation named, so the server cannot choose differently.
 */
async function readDicomSeries(path: string, options: InputOptions): Promise<SegmentInput> {
  const files = await readDicomInput(path, { limits: options.limits, ...(options.series !== undefined ? { series: options.series } : {}) });
  return readDicomInstances(files.instances, `a DICOM series (${files.instances.length} file${files.instances.length === 1 ? '' : 's'})`, options);
}

/**
 * One series' instances already in memory (a folder's files, or a series retrieved from a PACS by `onesam pacs`),
 * framed and decoded as the server decodes a DICOM upload.
 */
export async function readDicomInstances(instances: readonly Uint8Array[], description: string, options: Pick<InputOptions, 'intensity' | 'limits'>): Promise<SegmentInput> {
  const bytes = writeDicomUpload(instances);
  const decoded = decodePayload({ format: 'dicom', ...(options.intensity ? { intensity: options.intensity } : {}) }, bytes, options.limits, await loadDicomCodecs());
  const { geometry } = decoded;
  if (geometry.kind !== 'dicom') throw new Error('unreachable: a DICOM payload decodes to a DICOM geometry');
  return {
    kind: 'dicom',
    description,
    image: decoded.image,
    geometry,
    upload: { format: 'dicom', bytes, intensity: geometry.intensity },
    dicom: dicomPromptMapping(geometry.series),
    ...(decoded.dicomModality !== undefined ? { dicomModality: decoded.dicomModality } : {}),
  };
}
