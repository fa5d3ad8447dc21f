// Series assembly: the instances of one upload (framing.ts) into one volume of shape (D, H, W), or (D, H, W, 3) for
// colour, with its geometry (geometry.ts) and, per slice, the source image it came from (for prompts that name a
// SOP Instance UID and for the SEG's references).
//
// Every instance's header is read and checked first (one series, one pixel format, the decode limits on the whole
// volume, positions), and only then are frames decoded, straight into the output array. Slices are single-frame
// instances, or the frames of multi-frame instances placed by their per-frame (or shared) functional groups
// (Enhanced CT/MR: Plane Position, Plane Orientation, Pixel Measures, Pixel Value Transformation) or, for RT Dose,
// by the Grid Frame Offset Vector. Frames without any position are accepted from a single instance only (a 2D
// image, a cine loop, a multi-frame secondary capture) and keep their stored order.
import { CodedError } from '../../errors/coded-error.ts';
import { VOXEL_BYTES, type VoxelArray, type VoxelType } from '../intensity.ts';
import { checkArraySize, checkWorkingBytes, decodeLimits, type DecodeLimits } from '../limits.ts';
import { decodeFrame, type DicomCodecs } from './codecs.ts';
import { imageGeometry, orderSlices, type PlacedSlice, type SeriesGeometry, type Vec3 } from './geometry.ts';
import { describeInstance, instanceField, readInstance, TAG, type DicomAttributes, type DicomInstance } from './part10.ts';
import { pixelLayout, type PixelLayout } from './pixel-layout.ts';
import { allocateVoxels, greyVoxelType, IDENTITY_RESCALE, writeGreyFrame, writeRgbFrame, type Rescale } from './pixels.ts';
import { copySourceAttributes, type SourceAttribute } from './source-attributes.ts';

/** Where one slice of the volume came from. */
export interface SliceReference {
  readonly sopClassUid: string;
  readonly sopInstanceUid: string;
  /** 1-based frame number within a multi-frame instance; absent for single-frame instances. */
  readonly frameNumber?: number;
  /** The instance's index in the upload. */
  readonly instanceIndex: number;
  /** Image Position (Patient) of the slice, LPS mm, when the series has patient geometry. */
  readonly position?: Vec3;
}

/** Everything about the series except its voxels: plain data (it crosses threads and outlives the upload). */
export interface DicomSeriesInfo {
  /** (D, H, W). */
  readonly shape: readonly [number, number, number];
  readonly channels: 1 | 3;
  /** Grey voxel type (pixels.ts rule); uint8 for colour. */
  readonly voxelType: VoxelType;
  readonly geometry: SeriesGeometry;
  /** Slice z of the volume is slices[z]. */
  readonly slices: readonly SliceReference[];
  /** Modality (0008,0060) as stored; the router maps it (src/pipeline/dicom-modality.ts). */
  readonly modality?: string;
  readonly studyInstanceUid?: string;
  readonly seriesInstanceUid?: string;
  readonly frameOfReferenceUid?: string;
  /** Slice Thickness of the first slice, when stored. */
  readonly sliceThickness?: number;
  /** Patient and study attributes for derived objects (source-attributes.ts). */
  readonly sourceAttributes: readonly SourceAttribute[];
}

export interface DicomSeriesVolume extends DicomSeriesInfo {
  /** D*H*W grey values, or D*H*W*3 RGB bytes (channels last). */
  readonly voxels: VoxelArray;
}

/** A series whose headers are read and checked; nothing large is allocated yet. */
export interface DicomSeriesSource {
  readonly info: DicomSeriesInfo;
  /** Buffers read() allocates, by purpose (bytes), for the working-memory check. */
  readonly workingBytes: Readonly<Record<string, number>>;
  /** Decodes every frame into the volume. Compressed syntaxes need the codecs (loadDicomCodecs). */
  read(codecs?: DicomCodecs): DicomSeriesVolume;
}

/** One slice before ordering: an instance's frame and what places and scales it. */
interface FrameRecord {
  readonly instance: DicomInstance;
  readonly layout: PixelLayout;
  /** 0-based frame. */
  readonly frame: number;
  readonly multiFrame: boolean;
  readonly position?: Vec3;
  readonly orientation?: readonly number[];
  readonly pixelSpacing?: readonly [number, number];
  readonly thickness?: number;
  readonly rescale: Rescale;
}

/**
 * Reads the headers of `instances` (the upload's, in upload order) and checks that they form one volume within the
 * limits. DicomSeriesSource.read() decodes it.
 */
export function openSeries(instances: readonly Uint8Array[], options: Partial<DecodeLimits> = {}): DicomSeriesSource {
  const limits = decodeLimits(options);
  if (instances.length === 0) throw new CodedError('PAYLOAD_FORMAT', 'holds no DICOM instance', 'payload');
  const parsed = instances.map((bytes, index) => readInstance(bytes, index, limits));
  checkOneSeries(parsed);
  const layouts = parsed.map(pixelLayout);
  checkSameLayout(parsed, layouts);
  const layout = layouts[0]!;
  const channels: 1 | 3 = layout.samplesPerPixel === 3 || layout.photometric === 'PALETTE COLOR' ? 3 : 1;
  const frames = layouts.reduce((n, l) => n + l.frames, 0);
  const shapeForMessage = [frames, layout.rows, layout.columns, ...(channels === 3 ? [3] : [])];
  checkArraySize(limits, 'payload', shapeForMessage, frames * layout.rows * layout.columns * channels, layout.bitsAllocated / 8);

  const records = parsed.flatMap((instance, i) => frameRecords(instance, layouts[i]!));
  const { order, geometry } = placeFrames(records, parsed.length);
  const ordered = order.map((i) => records[i]!);
  const voxelType: VoxelType = channels === 3 ? 'uint8' : greyVoxelType(layout, ordered.map((r) => r.rescale));
  const count = ordered.length * layout.rows * layout.columns * channels;
  const workingBytes = {
    inflated: parsed.reduce((n, p) => n + p.inflatedBytes, 0),
    volume: count * VOXEL_BYTES[voxelType],
    frame: layout.frameSamples * (layout.bitsAllocated / 8),
  };
  checkWorkingBytes(limits, 'payload', workingBytes);

  const first = parsed[0]!.attributes;
  const thickness = ordered[0]!.thickness;
  const modality = first.string(TAG.Modality);
  const info: DicomSeriesInfo = {
    shape: [ordered.length, layout.rows, layout.columns],
    channels,
    voxelType,
    geometry,
    slices: ordered.map((r) => sliceReference(r, geometry.patient)),
    ...optional('modality', modality),
    ...optional('studyInstanceUid', first.string(TAG.StudyInstanceUID)),
    ...optional('seriesInstanceUid', first.string(TAG.SeriesInstanceUID)),
    ...optional('frameOfReferenceUid', first.string(TAG.FrameOfReferenceUID)),
    ...optional('sliceThickness', thickness),
    sourceAttributes: copySourceAttributes(first),
  };
  return {
    info,
    workingBytes,
    read(codecs?: DicomCodecs): DicomSeriesVolume {
      const voxels = allocateVoxels(voxelType, count);
      const perSlice = layout.rows * layout.columns * channels;
      ordered.forEach((record, z) => {
        const decoded = decodeFrame(record.instance, record.layout, record.frame, codecs);
        if (channels === 3) writeRgbFrame(decoded, record.layout, record.instance, voxels as Uint8Array, z * perSlice);
        else writeGreyFrame(decoded, record.layout, record.rescale, voxels, z * perSlice);
      });
      return { ...info, voxels };
    },
  };
}

/** Reads a whole series: headers, limits (working memory included), then the pixels. */
export function readSeries(instances: readonly Uint8Array[], options: Partial<DecodeLimits> = {}, codecs?: DicomCodecs): DicomSeriesVolume {
  return openSeries(instances, options).read(codecs);
}

function optional<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}

function sliceReference(record: FrameRecord, patient: boolean): SliceReference {
  const a = record.instance.attributes;
  return {
    sopClassUid: a.string(TAG.SOPClassUID) ?? '',
    sopInstanceUid: a.string(TAG.SOPInstanceUID) ?? '',
    ...(record.multiFrame ? { frameNumber: record.frame + 1 } : {}),
    instanceIndex: record.instance.ref.index,
    ...(patient && record.position ? { position: record.position } : {}),
  };
}

function checkOneSeries(instances: readonly DicomInstance[]): void {
  const first = instances[0]!;
  const series = first.attributes.string(TAG.SeriesInstanceUID);
  const seen = new Map<string, DicomInstance>();
  for (const instance of instances) {
    const other = instance.attributes.string(TAG.SeriesInstanceUID);
    if (other !== series) {
      throw new CodedError('DICOM_SERIES_INVALID', `${describeInstance(instance.ref)} belongs to series ${other ?? '(none)'}, ${describeInstance(first.ref)} to series ${series ?? '(none)'}: send one series per request`, instanceField(instance.ref));
    }
    const sop = instance.ref.sopInstanceUid;
    if (!sop) throw new CodedError('DICOM_INVALID', `${describeInstance(instance.ref)} has no (0008,0018) SOPInstanceUID`, instanceField(instance.ref));
    const twin = seen.get(sop);
    if (twin) {
      throw new CodedError('DICOM_SERIES_INVALID', `${describeInstance(instance.ref)} has the same SOP Instance UID as instance ${twin.ref.index}: an instance sent twice`, instanceField(instance.ref));
    }
    seen.set(sop, instance);
  }
}

/** Fields every instance of the volume must share with the first. */
const SAME: readonly (keyof PixelLayout)[] = ['rows', 'columns', 'samplesPerPixel', 'bitsAllocated', 'bitsStored', 'signed', 'photometric'];

function checkSameLayout(instances: readonly DicomInstance[], layouts: readonly PixelLayout[]): void {
  const first = layouts[0]!;
  layouts.forEach((layout, i) => {
    for (const key of SAME) {
      if (layout[key] !== first[key]) {
        const instance = instances[i]!;
        throw new CodedError('DICOM_SERIES_INVALID', `${describeInstance(instance.ref)} has ${key} ${String(layout[key])}, ${describeInstance(instances[0]!.ref)} has ${String(first[key])}: the images of one volume must have the same size and pixel format`, instanceField(instance.ref));
      }
    }
  });
}

function vec3(values: readonly number[]): Vec3 | undefined {
  return values.length >= 3 ? [values[0]!, values[1]!, values[2]!] : undefined;
}

function spacing(values: readonly number[]): readonly [number, number] | undefined {
  return values.length >= 2 && values[0]! > 0 && values[1]! > 0 ? [values[0]!, values[1]!] : undefined;
}

function rescaleOf(a: DicomAttributes | undefined): Rescale | undefined {
  if (!a) return undefined;
  const slope = a.decimal(TAG.RescaleSlope);
  const intercept = a.decimal(TAG.RescaleIntercept);
  if (slope === undefined && intercept === undefined) return undefined;
  return { slope: slope ?? 1, intercept: intercept ?? 0 };
}

/** The slices of one instance: one per frame, with position, orientation, spacing and rescale. */
function frameRecords(instance: DicomInstance, layout: PixelLayout): FrameRecord[] {
  const a = instance.attributes;
  const top = {
    position: vec3(a.decimals(TAG.ImagePositionPatient)),
    orientation: a.decimals(TAG.ImageOrientationPatient),
    pixelSpacing: spacing(a.decimals(TAG.PixelSpacing)) ?? spacing(a.decimals(TAG.ImagerPixelSpacing)),
    thickness: a.decimal(TAG.SliceThickness),
    rescale: rescaleOf(a) ?? IDENTITY_RESCALE,
  };
  const multiFrame = layout.frames > 1 || a.has(TAG.PerFrameFunctionalGroups);
  const shared = a.sequence(TAG.SharedFunctionalGroups)[0];
  const perFrame = a.sequence(TAG.PerFrameFunctionalGroups);
  if (perFrame.length > 0 && perFrame.length !== layout.frames) {
    throw new CodedError('DICOM_INVALID', `${describeInstance(instance.ref)} has ${perFrame.length} per-frame functional group items for ${layout.frames} frames`, instanceField(instance.ref));
  }
  const offsets = a.decimals(TAG.GridFrameOffsetVector);
  const normal = top.orientation.length === 6 ? crossOf(top.orientation) : undefined;
  return Array.from({ length: layout.frames }, (_, frame) => {
    // A functional group macro: the frame's own item first, then the shared one (PS3.3 C.7.6.16).
    const group = (tag: string): DicomAttributes | undefined => perFrame[frame]?.sequence(tag)[0] ?? shared?.sequence(tag)[0];
    const plane = group(TAG.PlanePositionSequence);
    const orientation = group(TAG.PlaneOrientationSequence)?.decimals(TAG.ImageOrientationPatient);
    const measures = group(TAG.PixelMeasuresSequence);
    let position = plane ? vec3(plane.decimals(TAG.ImagePositionPatient)) : undefined;
    if (!position && layout.frames === 1) position = top.position;
    if (!position && top.position && normal && offsets.length === layout.frames) {
      // RT Dose: frames lie at the Grid Frame Offset Vector along the normal from Image Position (PS3.3 C.8.8.3.2).
      position = top.position.map((p, i) => p + offsets[frame]! * normal[i]!) as unknown as Vec3;
    }
    const frameOrientation = orientation && orientation.length === 6 ? orientation : top.orientation;
    const pixelSpacing = (measures ? spacing(measures.decimals(TAG.PixelSpacing)) : undefined) ?? top.pixelSpacing;
    const thickness = measures?.decimal(TAG.SliceThickness) ?? top.thickness;
    const rescale = rescaleOf(group(TAG.PixelValueTransformationSequence)) ?? top.rescale;
    return {
      instance, layout, frame, multiFrame, rescale,
      ...(position ? { position } : {}),
      ...(frameOrientation.length === 6 ? { orientation: frameOrientation } : {}),
      ...(pixelSpacing ? { pixelSpacing } : {}),
      ...(thickness !== undefined ? { thickness } : {}),
    };
  });
}

function crossOf(orientation: readonly number[]): Vec3 {
  const [a, b, c, d, e, f] = orientation as [number, number, number, number, number, number];
  return [b * f - c * e, c * d - a * f, a * e - b * d];
}

function recordName(record: FrameRecord): string {
  const name = describeInstance(record.instance.ref);
  return record.multiFrame ? `${name} frame ${record.frame + 1}` : name;
}

/** Orders the frames: by geometry when every frame is placed, in stored order when none is and they are one instance. */
function placeFrames(records: readonly FrameRecord[], instanceCount: number): { order: number[]; geometry: SeriesGeometry } {
  const placed = records.filter((r) => r.position && r.orientation);
  const pixelSpacing = records[0]!.pixelSpacing;
  for (const record of records) {
    const s = record.pixelSpacing;
    if (pixelSpacing && s && (Math.abs(s[0] - pixelSpacing[0]) > 1e-4 * pixelSpacing[0] || Math.abs(s[1] - pixelSpacing[1]) > 1e-4 * pixelSpacing[1])) {
      throw new CodedError('DICOM_SERIES_INVALID', `${recordName(record)} has Pixel Spacing [${s.join(', ')}], ${recordName(records[0]!)} [${pixelSpacing.join(', ')}]: the slices of one volume must share it`, instanceField(record.instance.ref));
    }
  }
  if (placed.length === records.length) {
    const slices: PlacedSlice[] = records.map((r) => ({ name: recordName(r), field: instanceField(r.instance.ref), position: r.position!, orientation: r.orientation! }));
    if (!pixelSpacing) {
      throw new CodedError('DICOM_INVALID', `${recordName(records[0]!)} has Image Position (Patient) but no Pixel Spacing: its geometry is incomplete`, instanceField(records[0]!.instance.ref));
    }
    return orderSlices(slices, pixelSpacing, records[0]!.thickness);
  }
  if (placed.length > 0) {
    const missing = records.find((r) => !(r.position && r.orientation))!;
    throw new CodedError('DICOM_SERIES_INVALID', `${recordName(missing)} has no Image Position/Orientation (Patient) while ${recordName(placed[0]!)} has: its place in the volume is unknown`, instanceField(missing.instance.ref));
  }
  if (instanceCount > 1) {
    const second = records.find((r) => r.instance.ref.index === 1)!;
    throw new CodedError('DICOM_SERIES_INVALID', `${instanceCount} instances without Image Position/Orientation (Patient) cannot be ordered into one volume: send one image per request`, instanceField(second.instance.ref));
  }
  return { order: records.map((_, i) => i), geometry: imageGeometry(records.length, pixelSpacing) };
}
