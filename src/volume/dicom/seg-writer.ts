// DICOM Segmentation (binary) from a label volume on a source series' grid (PS3.3 A.51, C.8.20): one segment per
// label value, one frame per (segment, slice) holding any voxel of it (empty frames are left out), frames ordered by
// segment then by slice, each referencing its source image (and frame) and carrying its plane position; patient and
// study attributes copied from the source, in a new series of the source study.
//
// Defaults a client can override per segment: category and type SCT 85756007 "Tissue" (in CIDs 7150 and 7151),
// algorithm type SEMIAUTOMATIC (the masks follow a person's prompts). The algorithm identification names the
// service and every network that contributed, with its weights' identity, both in the segment's Segmentation
// Algorithm Identification and in the equipment's Software Versions.
import { CodedError } from '../../errors/coded-error.ts';
import type { DicomSeriesInfo } from './series.ts';
import { COPIED_ATTRIBUTES } from './source-attributes.ts';
import { bytes, decimalString, newUid, numbers, sequence, text, writePart10, type DataElement, type DataSetElements } from './part10-writer.ts';

export const SEGMENTATION_SOP_CLASS_UID = '1.2.840.10008.5.1.4.1.1.66.4';

export interface Code {
  readonly value: string;
  readonly scheme: string;
  readonly meaning: string;
}

export const TISSUE: Code = Object.freeze({ value: '85756007', scheme: 'SCT', meaning: 'Tissue' });

export interface SegmentDescription {
  /** The value of this segment's voxels in the label volume. */
  readonly label: number;
  /** Segment Label (LO: at most 64 characters). */
  readonly text: string;
  readonly category?: Code;
  readonly type?: Code;
  readonly algorithmType?: 'AUTOMATIC' | 'SEMIAUTOMATIC';
}

/** The software that made the masks: the service and each network with its weights' identity. */
export interface SegmentationAlgorithm {
  /** e.g. "OneSAM Serve". */
  readonly name: string;
  readonly version: string;
  /** Each network that contributed, e.g. { name: 'litemedsam', weights: 'sha256:4f2a...' }. */
  readonly networks: readonly { readonly name: string; readonly weights: string }[];
}

export interface SegmentationOptions {
  readonly seriesNumber?: number;
  readonly instanceNumber?: number;
  /** Default "OneSAM research segmentation - not for clinical use". */
  readonly seriesDescription?: string;
  /** Content Label (CS: upper case, digits, space, underscore; at most 16). Default "ONESAM". */
  readonly contentLabel?: string;
  readonly now?: Date;
  /** UIDs for the new series and instance; fresh 2.25 UIDs by default. */
  readonly seriesInstanceUid?: string;
  readonly sopInstanceUid?: string;
}

export interface WrittenSegmentation {
  readonly bytes: Uint8Array;
  readonly sopInstanceUid: string;
  readonly seriesInstanceUid: string;
  /** Frames written (non-empty (segment, slice) pairs; one empty frame when there are none). */
  readonly frames: number;
  /** Segment numbers (1..n, in the order of `segments`) and the label value each holds. */
  readonly segments: readonly { readonly number: number; readonly label: number }[];
}

export const DEFAULT_SERIES_DESCRIPTION = 'OneSAM research segmentation - not for clinical use';

/** Writes a binary SEG of `labels` (D*H*W values in the series' slice order) over the series described by `series`. */
export function writeSegmentation(labels: Uint8Array | Uint16Array, series: DicomSeriesInfo, segments: readonly SegmentDescription[], algorithm: SegmentationAlgorithm, options: SegmentationOptions = {}): WrittenSegmentation {
  const [depth, rows, columns] = series.shape;
  const perSlice = rows * columns;
  if (labels.length !== depth * perSlice) {
    throw new CodedError('LABELS_INVALID', `has ${labels.length} voxels but the series is ${depth}x${rows}x${columns}`, 'labels');
  }
  if (segments.length === 0) throw new CodedError('LABELS_INVALID', 'a Segmentation needs at least one segment description', 'segments');
  const numberOf = new Map<number, number>();
  segments.forEach((s, i) => {
    if (!(Number.isInteger(s.label) && s.label >= 1 && s.label <= 65535)) throw new CodedError('LABELS_INVALID', `must be 1..65535, got ${s.label}`, `segments[${i}].label`);
    if (numberOf.has(s.label)) throw new CodedError('LABELS_INVALID', `label ${s.label} is described twice`, `segments[${i}].label`);
    numberOf.set(s.label, i + 1);
  });
  // Which (segment, slice) frames hold voxels; a label without a description is refused rather than dropped.
  const present = segments.map(() => new Uint8Array(depth));
  for (let z = 0; z < depth; z++) {
    for (let i = z * perSlice, end = i + perSlice; i < end; i++) {
      const label = labels[i]!;
      if (label === 0) continue;
      const number = numberOf.get(label);
      if (number === undefined) throw new CodedError('LABELS_INVALID', `label ${label} appears in the volume but has no segment description`, 'segments');
      present[number - 1]![z] = 1;
    }
  }
  let frames: { segment: number; z: number }[] = [];
  segments.forEach((_, s) => { for (let z = 0; z < depth; z++) if (present[s]![z]) frames.push({ segment: s + 1, z }); });
  // NumberOfFrames must be at least 1: an empty result keeps one empty frame of the first segment and slice.
  if (frames.length === 0) frames = [{ segment: 1, z: 0 }];

  const pixelData = packFrames(labels, frames, segments, perSlice);
  const now = options.now ?? new Date();
  const sopInstanceUid = options.sopInstanceUid ?? newUid();
  const seriesInstanceUid = options.seriesInstanceUid ?? newUid();
  const patient = series.geometry.patient && series.frameOfReferenceUid !== undefined;
  const dimensionUid = newUid();
  const date = dicomDate(now);
  const time = dicomTime(now);
  const identity = algorithm.networks.map((n) => `${n.name} ${n.weights}`);

  const elements: DataElement[] = [
    ...copiedAttributes(series),
    text(0x00080008, 'CS', 'DERIVED', 'PRIMARY'),
    text(0x00080012, 'DA', date),
    text(0x00080013, 'TM', time),
    text(0x00080016, 'UI', SEGMENTATION_SOP_CLASS_UID),
    text(0x00080018, 'UI', sopInstanceUid),
    text(0x00080023, 'DA', date),
    text(0x00080033, 'TM', time),
    text(0x00080060, 'CS', 'SEG'),
    text(0x00080070, 'LO', algorithm.name),
    text(0x0008103e, 'LO', options.seriesDescription ?? DEFAULT_SERIES_DESCRIPTION),
    text(0x00081090, 'LO', algorithm.name),
    sequence(0x00081115, [
      sequence(0x0008114a, ...uniqueSources(series).map((s) => [text(0x00081150, 'UI', s.sopClassUid), text(0x00081155, 'UI', s.sopInstanceUid)])),
      text(0x0020000e, 'UI', series.seriesInstanceUid ?? ''),
    ]),
    text(0x00181000, 'LO', 'none'),
    text(0x00181020, 'LO', `${algorithm.name} ${algorithm.version}`.slice(0, 64), ...identity.map((s) => s.slice(0, 64))),
    text(0x0020000e, 'UI', seriesInstanceUid),
    text(0x00200011, 'IS', String(options.seriesNumber ?? 9001)),
    text(0x00200013, 'IS', String(options.instanceNumber ?? 1)),
    ...(patient ? [text(0x00200052, 'UI', series.frameOfReferenceUid!), text(0x00201040, 'LO')] : []),
    // Without Plane Orientation (an image without patient geometry: a photograph, CR, US), the General Image
    // module wants Patient Orientation (type 2C); empty, as nothing says how the image lies in the patient.
    ...(patient ? [] : [text(0x00200020, 'CS')]),
    sequence(0x00209221, [text(0x00209164, 'UI', dimensionUid)]),
    sequence(0x00209222,
      [numbers(0x00209165, 'AT', 0x0062000b), numbers(0x00209167, 'AT', 0x0062000a), text(0x00209164, 'UI', dimensionUid)],
      [numbers(0x00209165, 'AT', 0x00200032), numbers(0x00209167, 'AT', 0x00209113), text(0x00209164, 'UI', dimensionUid)]),
    numbers(0x00280002, 'US', 1),
    text(0x00280004, 'CS', 'MONOCHROME2'),
    text(0x00280008, 'IS', String(frames.length)),
    numbers(0x00280010, 'US', rows),
    numbers(0x00280011, 'US', columns),
    numbers(0x00280100, 'US', 1),
    numbers(0x00280101, 'US', 1),
    numbers(0x00280102, 'US', 0),
    numbers(0x00280103, 'US', 0),
    text(0x00282110, 'CS', '00'),
    text(0x00620001, 'CS', 'BINARY'),
    sequence(0x00620002, ...segments.map((s, i) => segmentItem(s, i + 1, algorithm))),
    text(0x00700080, 'CS', options.contentLabel ?? 'ONESAM'),
    text(0x00700081, 'LO', 'Promptable segmentation (research use)'),
    text(0x00700084, 'PN'),
    sequence(0x52009229, sharedGroups(series, patient)),
    sequence(0x52009230, ...frames.map((f) => perFrameGroups(series, f.segment, f.z, patient))),
    bytes(0x7fe00010, 'OB', pixelData),
  ];
  return {
    bytes: writePart10(elements, SEGMENTATION_SOP_CLASS_UID, sopInstanceUid),
    sopInstanceUid,
    seriesInstanceUid,
    frames: frames.length,
    segments: segments.map((s, i) => ({ number: i + 1, label: s.label })),
  };
}

/** The source's patient and study attributes, type 2 ones written empty when the source lacks them. */
function copiedAttributes(series: DicomSeriesInfo): DataElement[] {
  const have = new Map(series.sourceAttributes.map((a) => [a.tag, a]));
  const out: DataElement[] = [];
  for (const { tag, vr, type2 } of COPIED_ATTRIBUTES) {
    const source = have.get(tag);
    if (source) out.push(bytes(tag, vr, currentForm(vr, source.value)));
    else if (type2) out.push(text(tag, vr));
  }
  if (!have.has(0x0020000d)) {
    if (!series.studyInstanceUid) throw new CodedError('LABELS_INVALID', 'the source has no Study Instance UID: a Segmentation belongs to its source study', 'series');
    out.push(text(0x0020000d, 'UI', series.studyInstanceUid));
  }
  return out;
}

/**
 * A copied DA or TM value in the form PS3.5 6.2 requires now: sources from the ACR-NEMA era write the retired forms
 * "YYYY.MM.DD" and "HH:MM:SS", which a new object may not carry (dciodvfy: "Character invalid for this VR").
 * Anything else is copied as it is.
 */
function currentForm(vr: string, value: Uint8Array): Uint8Array {
  if (vr !== 'DA' && vr !== 'TM') return value;
  const text = new TextDecoder('latin1').decode(value).replace(/[\0 ]+$/, '');
  const retired = vr === 'DA' ? /^\d{4}\.\d{2}\.\d{2}$/ : /^\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?$/;
  if (!retired.test(text)) return value;
  const current = vr === 'DA' ? text.replaceAll('.', '') : text.replaceAll(':', '');
  // Even length, padded with a space (PS3.5 6.2).
  return new TextEncoder().encode(current.length % 2 ? `${current} ` : current);
}

function code(tag: number, c: Code): DataElement {
  return sequence(tag, [text(0x00080100, 'SH', c.value), text(0x00080102, 'SH', c.scheme), text(0x00080104, 'LO', c.meaning)]);
}

function segmentItem(segment: SegmentDescription, number: number, algorithm: SegmentationAlgorithm): DataSetElements {
  return [
    code(0x00620003, segment.category ?? TISSUE),
    numbers(0x00620004, 'US', number),
    text(0x00620005, 'LO', segment.text.slice(0, 64)),
    sequence(0x00620007, [
      code(0x0066002f, { value: '123110', scheme: 'DCM', meaning: 'Artificial Intelligence' }),
      text(0x00660031, 'LO', algorithm.version.slice(0, 64)),
      text(0x00660032, 'LT', algorithm.networks.map((n) => `${n.name} weights ${n.weights}`).join('; ')),
      text(0x00660036, 'LO', algorithm.name.slice(0, 64)),
    ]),
    text(0x00620008, 'CS', segment.algorithmType ?? 'SEMIAUTOMATIC'),
    text(0x00620009, 'LO', `${algorithm.name} (${algorithm.networks.map((n) => n.name).join(' + ')})`.slice(0, 64)),
    code(0x0062000f, segment.type ?? TISSUE),
  ];
}

function sharedGroups(series: DicomSeriesInfo, patient: boolean): DataSetElements {
  const g = series.geometry;
  const [sliceSpacing, rowSpacing, columnSpacing] = g.spacing;
  const thickness = series.sliceThickness ?? sliceSpacing;
  const measures = [
    text(0x00180050, 'DS', decimalString(thickness)),
    ...(series.shape[0] > 1 ? [text(0x00180088, 'DS', decimalString(sliceSpacing))] : []),
    text(0x00280030, 'DS', decimalString(rowSpacing), decimalString(columnSpacing)),
  ];
  return [
    ...(patient ? [sequence(0x00209116, [text(0x00200037, 'DS', ...[...g.rowDirection, ...g.columnDirection].map(decimalString))])] : []),
    sequence(0x00289110, measures),
  ];
}

function perFrameGroups(series: DicomSeriesInfo, segment: number, z: number, patient: boolean): DataSetElements {
  const slice = series.slices[z]!;
  const source: DataElement[] = [
    text(0x00081150, 'UI', slice.sopClassUid),
    text(0x00081155, 'UI', slice.sopInstanceUid),
    ...(slice.frameNumber !== undefined ? [text(0x00081160, 'IS', String(slice.frameNumber))] : []),
    code(0x0040a170, { value: '121322', scheme: 'DCM', meaning: 'Source image for image processing operation' }),
  ];
  return [
    sequence(0x00089124, [sequence(0x00082112, source), code(0x00089215, { value: '113076', scheme: 'DCM', meaning: 'Segmentation' })]),
    sequence(0x00209111, [numbers(0x00209157, 'UL', segment, z + 1)]),
    ...(patient && slice.position ? [sequence(0x00209113, [text(0x00200032, 'DS', ...slice.position.map(decimalString))])] : []),
    sequence(0x0062000a, [numbers(0x0062000b, 'US', segment)]),
  ];
}

function uniqueSources(series: DicomSeriesInfo): { sopClassUid: string; sopInstanceUid: string }[] {
  const seen = new Map<string, { sopClassUid: string; sopInstanceUid: string }>();
  for (const s of series.slices) if (!seen.has(s.sopInstanceUid)) seen.set(s.sopInstanceUid, { sopClassUid: s.sopClassUid, sopInstanceUid: s.sopInstanceUid });
  return [...seen.values()];
}

/**
 * BitsAllocated 1 (PS3.5 8.1.1): pixel k of the concatenated frames is bit k & 7 of byte k >> 3, lowest bit
 * first; frames are not padded to whole bytes, only the total to an even length.
 */
function packFrames(labels: Uint8Array | Uint16Array, frames: readonly { segment: number; z: number }[], segments: readonly SegmentDescription[], perSlice: number): Uint8Array {
  const bits = frames.length * perSlice;
  const out = new Uint8Array(Math.ceil(Math.ceil(bits / 8) / 2) * 2);
  let k = 0;
  for (const { segment, z } of frames) {
    const label = segments[segment - 1]!.label;
    for (let i = z * perSlice, end = i + perSlice; i < end; i++, k++) {
      if (labels[i] === label) out[k >> 3]! |= 1 << (k & 7);
    }
  }
  return out;
}

function dicomDate(d: Date): string {
  return `${d.getUTCFullYear()}${String(d.getUTCMonth() + 1).padStart(2, '0')}${String(d.getUTCDate()).padStart(2, '0')}`;
}

function dicomTime(d: Date): string {
  return `${String(d.getUTCHours()).padStart(2, '0')}${String(d.getUTCMinutes()).padStart(2, '0')}${String(d.getUTCSeconds()).padStart(2, '0')}`;
}
