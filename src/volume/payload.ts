// Payload decoding and label encoding: the one place that turns the bytes a client sends (raw voxels, a challenge
// npz, a NIfTI file, a DICOM series) into the pipeline's 8-bit ImageVolume plus the geometry needed to send labels
// back in the input's own frame, and turns a label volume into the requested output format (raw, npz, NIfTI, and
// for DICOM inputs a DICOM SEG).
import { gzipSync } from 'node:zlib';
import { CodedError } from '../errors/coded-error.ts';
import { fieldUnder } from '../errors/field-path.ts';
import { challengeCase, type NdArrayLike } from './challenge.ts';
import type { DicomCodecs } from './dicom/codecs.ts';
import { describeSegments } from './dicom/segment-descriptions.ts';
import { writeSegmentation, type SegmentationAlgorithm, type SegmentationOptions, type SegmentDescription } from './dicom/seg-writer.ts';
import { decodeDicom, type DicomGeometry } from './dicom-volume.ts';
import type { ImageVolume } from './image-volume.ts';
import { preparationBytes, type IntensityPreparation, type VoxelArray, type VoxelType } from './intensity.ts';
import { imageFrom, prepareVoxels } from './prepared-image.ts';
import { checkWorkingBytes, decodeLimits, type DecodeLimits } from './limits.ts';
import { niftiGeometryForAffine, niftiGeometryForArray, openNifti, writeNiftiLabels, type NiftiGeometry } from './nifti.ts';
import { readNpz, writeNpz, type NdArray } from './npz.ts';
import { MAX_OBJECTS, type ObjectPrompt } from './prompts.ts';
import { arrayLayout, labelBytesLittleEndian, plainBytes, readRawVoxels, validateSpacing, type ArrayGeometry, type ArrayLayout, type RawHeader } from './raw.ts';

export type PayloadFormat = 'raw' | 'npz' | 'nifti' | 'dicom';
export const PAYLOAD_FORMATS: readonly PayloadFormat[] = Object.freeze(['raw', 'npz', 'nifti', 'dicom']);

export interface PayloadHeader {
  readonly format: PayloadFormat;
  /** Required for `raw`, ignored otherwise (npz, NIfTI and DICOM describe themselves). */
  readonly raw?: RawHeader;
  /**
   * How stored values become 0..255. Unset: `asis`, except for DICOM, where the series decides (CT window for CT,
   * percentiles for grey images over 8 bits, as-is otherwise: dicom-volume.ts). RGB images accept only `asis`.
   */
  readonly intensity?: IntensityPreparation;
}

export type VolumeGeometry = ArrayGeometry | NiftiGeometry | DicomGeometry;
export type { DicomGeometry } from './dicom-volume.ts';

export interface DecodedVolume {
  readonly image: ImageVolume;
  readonly geometry: VolumeGeometry;
  /** Box prompts stored in an npz payload (`boxes`), labelled 1..N in file order as the reference writes them. */
  readonly boxes?: readonly ObjectPrompt[];
  /** Scribble prompts stored in an npz payload (`scribbles` label map; background value 1000 ignored). */
  readonly scribbles?: readonly ObjectPrompt[];
  /** DICOM inputs: Modality (0008,0060) as stored, for routing when the request names no modality. */
  readonly dicomModality?: string;
}

/**
 * Decoded-size limits (limits.ts); each missing one takes its default. The server passes maxPayloadBytes as
 * maxDecodedBytes, so compression never admits a volume larger than an uncompressed upload could be, and the
 * setting maxVoxels under its own name.
 */
export type DecodeOptions = Partial<DecodeLimits>;

/**
 * Decodes a payload. DICOM in a compressed transfer syntax needs `codecs` (loadDicomCodecs(), awaited once per
 * thread: the codec threads do, src/workers/codec-worker.ts).
 */
export function decodePayload(header: PayloadHeader, bytes: Uint8Array, options: DecodeOptions = {}, codecs?: DicomCodecs): DecodedVolume {
  const intensity = header.intensity ?? { kind: 'asis' };
  const limits = decodeLimits(options);
  switch (header.format) {
    case 'raw':
      return decodeRaw(header, bytes, intensity, limits);
    case 'npz':
      return decodeNpz(bytes, intensity, limits);
    case 'nifti':
      return decodeNifti(bytes, intensity, limits);
    case 'dicom': {
      const { image, geometry, modalityCode } = decodeDicom(bytes, header.intensity, limits, codecs);
      return { image, geometry, ...(modalityCode !== undefined ? { dicomModality: modalityCode } : {}) };
    }
    default:
      throw new CodedError('PAYLOAD_FORMAT', `must be one of ${PAYLOAD_FORMATS.join(', ')}, got ${String(header.format)}`, 'header.format');
  }
}

function decodeRaw(header: PayloadHeader, bytes: Uint8Array, intensity: IntensityPreparation, limits: DecodeLimits): DecodedVolume {
  if (!header.raw) throw new CodedError('PAYLOAD_FORMAT', 'is required for the raw format (shape and dtype)', 'header.raw');
  const spacing = validateSpacing(header.raw.spacing, 'header.raw.spacing');
  const { voxels, layout } = readRawVoxels(header.raw, bytes, 'header.raw', limits);
  checkWorkingBytes(limits, 'payload', { copy: voxels.buffer === bytes.buffer ? 0 : voxels.byteLength, preparation: preparationBytes(voxelTypeOf(voxels), voxels.length, intensity) });
  return {
    image: imageFrom(layout, prepareVoxels(voxels, layout, intensity), spacing),
    geometry: { kind: 'array', shape: [...header.raw.shape], labelShape: layout.labelShape, ...(spacing ? { spacing } : {}) },
  };
}

/** The npz members a request uses; any others are skipped without being inflated. */
const NPZ_KEYS: readonly string[] = Object.freeze(['imgs', 'boxes', 'spacing', 'scribbles']);

/**
 * Caps on the small arrays, checked from their .npy headers like the image's: every box becomes an object (a
 * request holds at most MAX_OBJECTS), and the spacing is three numbers (a few more are tolerated so the message
 * about its length comes from validateSpacing). Without them a few KB of zip could declare a (10^7, 6) `boxes`
 * array under both size limits and have ten million prompt objects built before the object limit refuses them.
 */
const NPZ_MAX_ELEMENTS: Readonly<Record<string, number>> = Object.freeze({ boxes: MAX_OBJECTS * 6, spacing: 16 });

function decodeNpz(bytes: Uint8Array, intensity: IntensityPreparation, limits: DecodeLimits): DecodedVolume {
  let arrays: ReadonlyMap<string, NdArray>;
  try {
    arrays = readNpz(bytes, 'npz', { limits, keys: NPZ_KEYS, maxElements: NPZ_MAX_ELEMENTS });
  } catch (err) {
    if (err instanceof CodedError) throw err;
    // readNpz's messages name the archive as "npz" or the member as "npz[key]".
    throw new CodedError('PAYLOAD_FORMAT', `is not a readable npz (${(err as Error).message})`, 'payload');
  }
  const imgs = arrays.get('imgs');
  if (!imgs) throw new CodedError('PAYLOAD_FORMAT', `is missing (keys: ${[...arrays.keys()].join(', ') || 'none'})`, 'npz.imgs');
  const layout = arrayLayout(imgs.shape, 'npz.imgs.shape');
  const voxels = voxelArrayOf(imgs, 'npz.imgs');
  // The members are already decoded (within maxDecodedBytes); the preparation's buffers come on top of them.
  let decoded = 0;
  for (const array of arrays.values()) decoded += array.data.byteLength;
  // A scribble map becomes per-label lists of voxel indices (4 bytes each) in the challenge reader, at most one per
  // element: counted here, since a scribble map of ones compresses to almost nothing (65 KB for 128 x 512 x 512).
  const scribbleIndexBytes = (arrays.get('scribbles')?.data.length ?? 0) * Uint32Array.BYTES_PER_ELEMENT;
  checkWorkingBytes(limits, 'payload', { decoded, preparation: preparationBytes(voxelTypeOf(voxels), voxels.length, intensity), scribbles: scribbleIndexBytes });
  const spacingArray = arrays.get('spacing');
  const spacing = spacingArray ? validateSpacing(Array.from(spacingArray.data, Number), 'npz.spacing') : undefined;
  const image = imageFrom(layout, prepareVoxels(voxels, layout, intensity), spacing);
  // Prompts are read by the pipeline's challenge reader so npz files mean the same over gRPC and on the CLI. It
  // sees the prepared uint8 image; the name carries no 2D/3D hint, so the shape decides, as arrayLayout does.
  const prepared = new Map(arrays);
  prepared.set('imgs', { dtype: 'uint8', shape: imgs.shape, data: image.data });
  const prompts = (kind: 'boxes' | 'scribbles'): readonly ObjectPrompt[] | undefined => {
    if (!arrays.has(kind)) return undefined;
    try {
      return challengeCase(prepared, 'payload.npz', kind).objects;
    } catch (err) {
      // The reader's complaints (IMAGE_INVALID, PROMPT_INVALID naming `boxes[0]`) are format problems of this npz.
      if (err instanceof CodedError) throw new CodedError('PAYLOAD_FORMAT', err.detail, fieldUnder('npz', err.field ?? kind));
      throw err;
    }
  };
  const boxes = prompts('boxes');
  const scribbles = prompts('scribbles');
  return {
    image,
    geometry: { kind: 'array', shape: [...imgs.shape], labelShape: layout.labelShape, ...(spacing ? { spacing } : {}) },
    ...(boxes ? { boxes } : {}),
    ...(scribbles ? { scribbles } : {}),
  };
}

function decodeNifti(bytes: Uint8Array, intensity: IntensityPreparation, limits: DecodeLimits): DecodedVolume {
  // The header alone first: the limits, the working memory with this preparation, then the voxels.
  const source = openNifti(bytes, limits);
  checkWorkingBytes(limits, 'payload', { ...source.workingBytes, preparation: preparationBytes(source.voxelType, source.count, intensity) });
  const { voxels, geometry } = source.read();
  const [depth, height, width] = geometry.labelShape;
  const layout: ArrayLayout = { depth, height, width, channels: 1, labelShape: geometry.labelShape };
  return { image: imageFrom(layout, prepareVoxels(voxels, layout, intensity), geometry.spacing), geometry };
}

const NPZ_DTYPES: Readonly<Record<string, new (...args: never[]) => VoxelArray>> = Object.freeze({
  uint8: Uint8Array, int8: Int8Array, int16: Int16Array, uint16: Uint16Array,
  int32: Int32Array, uint32: Uint32Array, float32: Float32Array, float64: Float64Array,
});

function voxelTypeOf(voxels: VoxelArray): VoxelType {
  for (const [type, Ctor] of Object.entries(NPZ_DTYPES)) if (voxels instanceof Ctor) return type as VoxelType;
  throw new Error(`unreachable voxel array ${voxels.constructor.name}`);
}

function voxelArrayOf(array: NdArrayLike, field: string): VoxelArray {
  const Ctor = NPZ_DTYPES[array.dtype];
  if (!Ctor || !(array.data instanceof Ctor)) {
    throw new CodedError('PAYLOAD_FORMAT', `must be one of ${Object.keys(NPZ_DTYPES).join(', ')}, got ${array.dtype}`, `${field}.dtype`);
  }
  return array.data as VoxelArray;
}

export type LabelFormat = 'raw' | 'npz' | 'nifti' | 'dicom-seg';
export const LABEL_FORMATS: readonly LabelFormat[] = Object.freeze(['raw', 'npz', 'nifti', 'dicom-seg']);

/** What a DICOM SEG needs besides the labels: plain data, so it crosses to the codec thread. */
export interface SegOutputOptions {
  /** One per label value in the volume; default one per label present, "Object <label>", SCT "Tissue". */
  readonly segments?: readonly SegmentDescription[];
  /** The service and the networks (with their weights' identity) that made the labels. */
  readonly algorithm: SegmentationAlgorithm;
  /** Series/instance numbers, UIDs, description; defaults as seg-writer.ts says. */
  readonly options?: SegmentationOptions;
}

export interface EncodedOutput {
  readonly bytes: Uint8Array;
  /** DICOM SEG only: the identity of the written instance (for a PACS that stores it). */
  readonly segmentation?: { readonly sopInstanceUid: string; readonly seriesInstanceUid: string };
}

/**
 * Encode a label volume (D*H*W values in the image's order) for the client:
 * - raw: little-endian uint8/uint16 in the label shape, gzip-wrapped when `gzip`;
 * - npz: one array `segs` like the challenge's output files; `gzip` deflates its entries (np.savez_compressed)
 *   rather than wrapping the zip;
 * - nifti: a single-file NIfTI with the input's header (see nifti.ts), `.nii.gz` when `gzip`; for DICOM inputs a
 *   NIfTI-1 header whose sform and qform are the series' affine (RAS), for raw/npz inputs their spacing only;
 * - dicom-seg: DICOM inputs only, a binary DICOM Segmentation over the source series (dicom/seg-writer.ts); never
 *   gzipped (`seg` says what it needs).
 */
export function encodeLabels(labels: Uint8Array | Uint16Array, geometry: VolumeGeometry, format: LabelFormat, gzip: boolean, seg?: SegOutputOptions): Uint8Array {
  return encodeLabelOutput(labels, geometry, format, gzip, seg).bytes;
}

/** encodeLabels, with the written SEG's identity. */
export function encodeLabelOutput(labels: Uint8Array | Uint16Array, geometry: VolumeGeometry, format: LabelFormat, gzip: boolean, seg?: SegOutputOptions): EncodedOutput {
  const shape = geometry.labelShape;
  const count = shape.reduce((a, b) => a * b, 1);
  if (labels.length !== count) {
    throw new CodedError('LABELS_INVALID', `has ${labels.length} voxels but the input's label shape [${shape.join(', ')}] has ${count}`, 'labels');
  }
  switch (format) {
    case 'raw': {
      const bytes = labelBytesLittleEndian(labels);
      return { bytes: gzip ? plainBytes(gzipSync(bytes)) : bytes };
    }
    case 'npz': {
      const segs = labels instanceof Uint16Array
        ? { dtype: 'uint16' as const, shape: [...shape], data: labels }
        : { dtype: 'uint8' as const, shape: [...shape], data: labels };
      return { bytes: writeNpz(new Map([['segs', segs]]), { compress: gzip }) };
    }
    case 'nifti':
      return { bytes: writeNiftiLabels(labels, niftiGeometryOf(geometry), gzip) };
    case 'dicom-seg': {
      if (geometry.kind !== 'dicom') throw new CodedError('LABELS_INVALID', `a DICOM SEG needs a DICOM input (this one is ${geometry.kind})`, 'header.output.format');
      if (gzip) throw new CodedError('LABELS_INVALID', 'a DICOM SEG is a DICOM file and is not gzipped', 'header.output.gzip');
      if (!seg) throw new Error('encodeLabels: dicom-seg needs the algorithm identification (seg)');
      const segments = seg.segments ?? describeSegments(distinctLabels(labels).map((label) => ({ label })));
      const written = writeSegmentation(labels, geometry.series, segments, seg.algorithm, seg.options);
      return { bytes: written.bytes, segmentation: { sopInstanceUid: written.sopInstanceUid, seriesInstanceUid: written.seriesInstanceUid } };
    }
    default:
      throw new CodedError('LABELS_INVALID', `must be one of ${LABEL_FORMATS.join(', ')}, got ${String(format)}`, 'header.output.format');
  }
}

/** The NIfTI header labels are written with: the input's own, or one made from the input's geometry. */
function niftiGeometryOf(geometry: VolumeGeometry): NiftiGeometry {
  switch (geometry.kind) {
    case 'nifti':
      return geometry;
    case 'array':
      return niftiGeometryForArray(geometry);
    case 'dicom': {
      const { series } = geometry;
      // Images without patient geometry (photographs, CR, US) have no place in patient space: spacing only.
      if (!series.geometry.patient) return niftiGeometryForArray({ kind: 'array', shape: [...series.shape], labelShape: [...series.shape], spacing: geometry.spacing });
      return niftiGeometryForAffine(series.shape, series.geometry.affineRas);
    }
  }
}

function distinctLabels(labels: Uint8Array | Uint16Array): number[] {
  const seen = new Uint8Array(65536);
  for (let i = 0; i < labels.length; i++) seen[labels[i]!] = 1;
  const out: number[] = [];
  for (let v = 1; v < seen.length; v++) if (seen[v]) out.push(v);
  return out;
}
