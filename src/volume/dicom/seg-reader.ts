// Reading a binary DICOM Segmentation back onto its source series' grid: each frame is placed on the slice whose
// SOP Instance UID (and frame number) its Source Image Sequence names, or, without one, on the slice at its Plane
// Position; the result is a label volume whose values are segment numbers (0 background). Overlapping segments
// cannot be one label volume and are refused; so are fractional segmentations.
import { CodedError } from '../../errors/coded-error.ts';
import type { DecodeLimits } from '../limits.ts';
import { checkArraySize, decodeLimits } from '../limits.ts';
import { describeInstance, instanceField, readInstance, TAG, type DicomAttributes } from './part10.ts';
import type { Code } from './seg-writer.ts';
import { SEGMENTATION_SOP_CLASS_UID } from './seg-writer.ts';
import type { SliceReference } from './series.ts';

export interface ReadSegment {
  readonly number: number;
  readonly label: string;
  readonly category?: Code;
  readonly type?: Code;
  readonly algorithmType?: string;
  readonly algorithmName?: string;
}

export interface ReadSegmentation {
  /** D*H*W segment numbers on the source grid (uint16 when there are more than 255 segments). */
  readonly labels: Uint8Array | Uint16Array;
  readonly segments: readonly ReadSegment[];
  readonly frames: number;
  readonly referencedSeriesInstanceUid?: string;
}

const SEG = Object.freeze({
  SegmentationType: 'x00620001',
  SegmentSequence: 'x00620002',
  SegmentNumber: 'x00620004',
  SegmentLabel: 'x00620005',
  SegmentAlgorithmType: 'x00620008',
  SegmentAlgorithmName: 'x00620009',
  CategoryCodeSequence: 'x00620003',
  TypeCodeSequence: 'x0062000f',
  SegmentIdentificationSequence: 'x0062000a',
  ReferencedSegmentNumber: 'x0062000b',
  DerivationImageSequence: 'x00089124',
  SourceImageSequence: 'x00082112',
  ReferencedSOPInstanceUID: 'x00081155',
  ReferencedFrameNumber: 'x00081160',
  ReferencedSeriesSequence: 'x00081115',
  CodeValue: 'x00080100',
  CodingSchemeDesignator: 'x00080102',
  CodeMeaning: 'x00080104',
});

/**
 * Reads `bytes` (a SEG instance) onto the grid of the source series whose slices are `slices` (DicomSeriesInfo.slices)
 * and shape is (D, H, W) = `shape`.
 */
export function readSegmentation(bytes: Uint8Array, slices: readonly SliceReference[], shape: readonly [number, number, number], options: Partial<DecodeLimits> = {}): ReadSegmentation {
  const limits = decodeLimits(options);
  const instance = readInstance(bytes, 0, limits);
  const a = instance.attributes;
  const field = instanceField(instance.ref);
  const who = describeInstance(instance.ref);
  const invalid = (why: string): CodedError => new CodedError('DICOM_INVALID', `${who}: ${why}`, field);
  if (a.string(TAG.SOPClassUID) !== SEGMENTATION_SOP_CLASS_UID) throw invalid(`SOP Class UID ${a.string(TAG.SOPClassUID) ?? '(none)'} is not Segmentation Storage`);
  const type = a.string(SEG.SegmentationType);
  if (type !== 'BINARY') throw new CodedError('DICOM_UNSUPPORTED', `${who}: Segmentation Type ${type ?? '(none)'} is not read, only BINARY`, field);
  if (instance.transferSyntax.encoding !== 'native') throw new CodedError('DICOM_UNSUPPORTED', `${who}: a Segmentation in ${instance.transferSyntax.name} is not read`, field);
  const [depth, rows, columns] = shape;
  if (a.uint16(TAG.Rows) !== rows || a.uint16(TAG.Columns) !== columns) {
    throw invalid(`it is ${a.uint16(TAG.Rows)}x${a.uint16(TAG.Columns)} (Rows x Columns), the source series ${rows}x${columns}`);
  }
  if (a.uint16(TAG.BitsAllocated) !== 1) throw invalid(`Bits Allocated ${a.uint16(TAG.BitsAllocated)}: a binary Segmentation has 1`);
  const frames = a.decimal(TAG.NumberOfFrames) ?? 1;
  const perFrame = a.sequence(TAG.PerFrameFunctionalGroups);
  if (perFrame.length !== frames) throw invalid(`${perFrame.length} per-frame functional group items for ${frames} frames`);
  checkArraySize(limits, field, [depth, rows, columns], depth * rows * columns, 2);
  const perSlice = rows * columns;
  const pixels = a.bytes(TAG.PixelData) ?? new Uint8Array(0);
  if (pixels.length * 8 < frames * perSlice) {
    throw new CodedError('PAYLOAD_SIZE_MISMATCH', `${who}: Pixel Data has ${pixels.length} bytes, ${frames} frames of ${rows}x${columns} bits need ${Math.ceil((frames * perSlice) / 8)}: truncated`, field);
  }
  const segments = a.sequence(SEG.SegmentSequence).map(segmentOf);
  const numbers = new Set(segments.map((s) => s.number));
  const labels = segments.length > 255 ? new Uint16Array(depth * perSlice) : new Uint8Array(depth * perSlice);
  const bySop = new Map(slices.map((s, z) => [`${s.sopInstanceUid}/${s.frameNumber ?? 1}`, z]));
  for (let f = 0; f < frames; f++) {
    const groups = perFrame[f]!;
    const segment = groups.sequence(SEG.SegmentIdentificationSequence)[0]?.uint16(SEG.ReferencedSegmentNumber);
    if (segment === undefined || !numbers.has(segment)) throw invalid(`frame ${f + 1} names segment ${segment ?? '(none)'}, which the Segment Sequence does not describe`);
    const z = sliceOf(groups, f, bySop, slices, invalid);
    const base = z * perSlice;
    let k = f * perSlice;
    for (let i = 0; i < perSlice; i++, k++) {
      if (!((pixels[k >> 3]! >> (k & 7)) & 1)) continue;
      const existing = labels[base + i]!;
      if (existing !== 0 && existing !== segment) throw invalid(`segments ${existing} and ${segment} overlap on slice ${z}: overlapping segments do not fit one label volume`);
      labels[base + i] = segment;
    }
  }
  const referenced = a.sequence(SEG.ReferencedSeriesSequence)[0]?.string(TAG.SeriesInstanceUID);
  return { labels, segments, frames, ...(referenced ? { referencedSeriesInstanceUid: referenced } : {}) };
}

function codeOf(item: DicomAttributes | undefined): Code | undefined {
  if (!item) return undefined;
  return { value: item.string(SEG.CodeValue) ?? '', scheme: item.string(SEG.CodingSchemeDesignator) ?? '', meaning: item.string(SEG.CodeMeaning) ?? '' };
}

function segmentOf(item: DicomAttributes): ReadSegment {
  const category = codeOf(item.sequence(SEG.CategoryCodeSequence)[0]);
  const type = codeOf(item.sequence(SEG.TypeCodeSequence)[0]);
  const algorithmType = item.string(SEG.SegmentAlgorithmType);
  const algorithmName = item.string(SEG.SegmentAlgorithmName);
  return {
    number: item.uint16(SEG.SegmentNumber) ?? 0,
    label: item.string(SEG.SegmentLabel) ?? '',
    ...(category ? { category } : {}),
    ...(type ? { type } : {}),
    ...(algorithmType ? { algorithmType } : {}),
    ...(algorithmName ? { algorithmName } : {}),
  };
}

/** The source slice of a frame: by its source image reference, else by its plane position. */
function sliceOf(groups: DicomAttributes, frame: number, bySop: ReadonlyMap<string, number>, slices: readonly SliceReference[], invalid: (why: string) => CodedError): number {
  for (const derivation of groups.sequence(SEG.DerivationImageSequence)) {
    for (const source of derivation.sequence(SEG.SourceImageSequence)) {
      const sop = source.string(SEG.ReferencedSOPInstanceUID);
      const number = source.decimal(SEG.ReferencedFrameNumber) ?? 1;
      const z = sop === undefined ? undefined : bySop.get(`${sop}/${number}`);
      if (z !== undefined) return z;
    }
  }
  const position = groups.sequence(TAG.PlanePositionSequence)[0]?.decimals(TAG.ImagePositionPatient);
  if (position && position.length === 3) {
    const z = slices.findIndex((s) => s.position && s.position.every((v, i) => Math.abs(v - position[i]!) < 1e-3));
    if (z >= 0) return z;
  }
  throw invalid(`frame ${frame + 1} references no slice of the source series (by SOP Instance UID or plane position)`);
}
