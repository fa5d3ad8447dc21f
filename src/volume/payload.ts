// Payload decoding and label encoding: the one place that turns the bytes a client sends (raw voxels, a challenge
// npz, a NIfTI file) into the pipeline's 8-bit ImageVolume plus the geometry needed to send labels back in the
// input's own frame, and turns a label volume into the requested output format.
import { gzipSync } from 'node:zlib';
import { CodedError } from '../errors/coded-error.ts';
import { fieldUnder } from '../errors/field-path.ts';
import { challengeCase, type NdArrayLike } from './challenge.ts';
import type { ImageVolume } from './image-volume.ts';
import { preparationBytes, prepareIntensity, type IntensityPreparation, type VoxelArray, type VoxelType } from './intensity.ts';
import { checkWorkingBytes, decodeLimits, type DecodeLimits } from './limits.ts';
import { openNifti, writeNiftiLabels, type NiftiGeometry } from './nifti.ts';
import { readNpz, writeNpz, type NdArray } from './npz.ts';
import { MAX_OBJECTS, type ObjectPrompt } from './prompts.ts';
import { arrayLayout, labelBytesLittleEndian, plainBytes, readRawVoxels, validateSpacing, type ArrayGeometry, type ArrayLayout, type RawHeader } from './raw.ts';

export type PayloadFormat = 'raw' | 'npz' | 'nifti';
export const PAYLOAD_FORMATS: readonly PayloadFormat[] = Object.freeze(['raw', 'npz', 'nifti']);

export interface PayloadHeader {
  readonly format: PayloadFormat;
  /** Required for `raw`, ignored otherwise (npz and NIfTI describe themselves). */
  readonly raw?: RawHeader;
  /** How stored values become 0..255; default `asis`. RGB images accept only `asis`. */
  readonly intensity?: IntensityPreparation;
}

export type VolumeGeometry = ArrayGeometry | NiftiGeometry;

export interface DecodedVolume {
  readonly image: ImageVolume;
  readonly geometry: VolumeGeometry;
  /** Box prompts stored in an npz payload (`boxes`), labelled 1..N in file order as the reference writes them. */
  readonly boxes?: readonly ObjectPrompt[];
  /** Scribble prompts stored in an npz payload (`scribbles` label map; background value 1000 ignored). */
  readonly scribbles?: readonly ObjectPrompt[];
}

/**
 * Decoded-size limits (limits.ts); each missing one takes its default. The server passes maxPayloadBytes as
 * maxDecodedBytes, so compression never admits a volume larger than an uncompressed upload could be, and the
 * setting maxVoxels under its own name.
 */
export type DecodeOptions = Partial<DecodeLimits>;

export function decodePayload(header: PayloadHeader, bytes: Uint8Array, options: DecodeOptions = {}): DecodedVolume {
  const intensity = header.intensity ?? { kind: 'asis' };
  const limits = decodeLimits(options);
  switch (header.format) {
    case 'raw':
      return decodeRaw(header, bytes, intensity, limits);
    case 'npz':
      return decodeNpz(bytes, intensity, limits);
    case 'nifti':
      return decodeNifti(bytes, intensity, limits);
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
    image: imageFrom(layout, prepare(voxels, layout, intensity), spacing),
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
  const image = imageFrom(layout, prepare(voxels, layout, intensity), spacing);
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
  return { image: imageFrom(layout, prepare(voxels, layout, intensity), geometry.spacing), geometry };
}

function prepare(voxels: VoxelArray, layout: ArrayLayout, intensity: IntensityPreparation): Uint8Array {
  if (layout.channels === 3 && intensity.kind !== 'asis') {
    throw new CodedError('INTENSITY_INVALID', `an RGB image takes only asis, got ${intensity.kind}`, 'header.intensity.kind');
  }
  return prepareIntensity(voxels, intensity, 'header.intensity');
}

function imageFrom(layout: ArrayLayout, data: Uint8Array, spacing?: readonly [number, number, number]): ImageVolume {
  return { depth: layout.depth, height: layout.height, width: layout.width, channels: layout.channels, data, ...(spacing ? { spacing } : {}) };
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

export type LabelFormat = PayloadFormat;

/**
 * Encode a label volume (D*H*W values in the image's order) for the client:
 * - raw: little-endian uint8/uint16 in the label shape, gzip-wrapped when `gzip`;
 * - npz: one array `segs` like the challenge's output files; `gzip` deflates its entries (np.savez_compressed)
 *   rather than wrapping the zip;
 * - nifti: a single-file NIfTI with the input's header (see nifti.ts), `.nii.gz` when `gzip`.
 */
export function encodeLabels(labels: Uint8Array | Uint16Array, geometry: VolumeGeometry, format: LabelFormat, gzip: boolean): Uint8Array {
  const shape = geometry.labelShape;
  const count = shape.reduce((a, b) => a * b, 1);
  if (labels.length !== count) {
    throw new CodedError('LABELS_INVALID', `has ${labels.length} voxels but the input's label shape [${shape.join(', ')}] has ${count}`, 'labels');
  }
  switch (format) {
    case 'raw': {
      const bytes = labelBytesLittleEndian(labels);
      return gzip ? plainBytes(gzipSync(bytes)) : bytes;
    }
    case 'npz': {
      const segs = labels instanceof Uint16Array
        ? { dtype: 'uint16' as const, shape: [...shape], data: labels }
        : { dtype: 'uint8' as const, shape: [...shape], data: labels };
      return writeNpz(new Map([['segs', segs]]), { compress: gzip });
    }
    case 'nifti':
      return writeNiftiLabels(labels, geometry, gzip);
    default:
      throw new CodedError('LABELS_INVALID', `must be one of ${PAYLOAD_FORMATS.join(', ')}, got ${String(format)}`, 'header.output.format');
  }
}
