// DICOM Part 10 instances (PS3.10 7.1: preamble, "DICM", file meta group, data set) and bare data sets without
// them, parsed by dicom-parser into element offsets: nothing is copied out of the upload except a deflated data
// set, which is inflated with zlib stopping at maxDecodedBytes. Values are read through DicomAttributes, which
// knows the transfer syntax's byte order. Errors name the instance by its index in the upload and, once known, its
// SOP Instance UID; never by patient attributes.
import { createRequire } from 'node:module';
import type { DataSet, Element, ParseDicomOptions } from 'dicom-parser';
import { CodedError } from '../../errors/coded-error.ts';
import { inflateBounded, InflateLimitError } from '../inflate.ts';
import type { DecodeLimits } from '../limits.ts';
import { EXPLICIT_VR_BIG_ENDIAN, EXPLICIT_VR_LITTLE_ENDIAN, IMPLICIT_VR_LITTLE_ENDIAN, transferSyntax, type TransferSyntax } from './transfer-syntax.ts';

// dicom-parser ships a UMD bundle: Node's ESM loader sees no named exports in it, so it is loaded as CommonJS.
const dicomParser = createRequire(import.meta.url)('dicom-parser') as typeof import('dicom-parser');

/** Tags as dicom-parser spells them (xggggeeee). */
export const TAG = Object.freeze({
  TransferSyntaxUID: 'x00020010',
  SpecificCharacterSet: 'x00080005',
  ImageType: 'x00080008',
  SOPClassUID: 'x00080016',
  SOPInstanceUID: 'x00080018',
  Modality: 'x00080060',
  StudyInstanceUID: 'x0020000d',
  SeriesInstanceUID: 'x0020000e',
  InstanceNumber: 'x00200013',
  ImagePositionPatient: 'x00200032',
  ImageOrientationPatient: 'x00200037',
  FrameOfReferenceUID: 'x00200052',
  SamplesPerPixel: 'x00280002',
  PhotometricInterpretation: 'x00280004',
  PlanarConfiguration: 'x00280006',
  NumberOfFrames: 'x00280008',
  Rows: 'x00280010',
  Columns: 'x00280011',
  PixelSpacing: 'x00280030',
  ImagerPixelSpacing: 'x00181164',
  SliceThickness: 'x00180050',
  SpacingBetweenSlices: 'x00180088',
  BitsAllocated: 'x00280100',
  BitsStored: 'x00280101',
  HighBit: 'x00280102',
  PixelRepresentation: 'x00280103',
  RescaleIntercept: 'x00281052',
  RescaleSlope: 'x00281053',
  RedPaletteDescriptor: 'x00281101',
  GreenPaletteDescriptor: 'x00281102',
  BluePaletteDescriptor: 'x00281103',
  RedPaletteData: 'x00281201',
  GreenPaletteData: 'x00281202',
  BluePaletteData: 'x00281203',
  SegmentedRedPaletteData: 'x00281221',
  GridFrameOffsetVector: 'x3004000c',
  SharedFunctionalGroups: 'x52009229',
  PerFrameFunctionalGroups: 'x52009230',
  PlanePositionSequence: 'x00209113',
  PlaneOrientationSequence: 'x00209116',
  PixelMeasuresSequence: 'x00289110',
  PixelValueTransformationSequence: 'x00289145',
  PixelData: 'x7fe00010',
});

/** Where an instance sits in the upload, for messages and error fields. */
export interface InstanceRef {
  /** 0-based position in the upload. */
  readonly index: number;
  readonly sopInstanceUid?: string;
}

/** `payload.dicom[3]`: the error field of an instance. */
export function instanceField(ref: InstanceRef): string {
  return `payload.dicom[${ref.index}]`;
}

/** `instance 3 (SOP Instance UID 1.2.3)`: how messages name an instance. */
export function describeInstance(ref: InstanceRef): string {
  return ref.sopInstanceUid ? `instance ${ref.index} (SOP Instance UID ${ref.sopInstanceUid})` : `instance ${ref.index}`;
}

/** Typed access to one data set (an instance's, or a sequence item's) in its transfer syntax's byte order. */
export class DicomAttributes {
  constructor(readonly dataSet: DataSet, readonly ref: InstanceRef) {}

  element(tag: string): Element | undefined {
    return this.dataSet.elements[tag];
  }

  has(tag: string): boolean {
    return this.dataSet.elements[tag] !== undefined;
  }

  /** A string value with DICOM padding removed; undefined when absent or empty. */
  string(tag: string): string | undefined {
    const value = this.dataSet.string(tag);
    return value === undefined || value === '' ? undefined : value;
  }

  /** US (or an implicit-VR element read as US). */
  uint16(tag: string, index = 0): number | undefined {
    const element = this.element(tag);
    if (!element || element.length < 2 * (index + 1)) return undefined;
    return this.dataSet.uint16(tag, index);
  }

  /** The values of an IS or DS element (backslash-separated decimal strings); [] when absent or empty. */
  decimals(tag: string): number[] {
    const text = this.string(tag);
    if (text === undefined) return [];
    return text.split('\\').map((part) => {
      const value = Number(part.trim());
      if (part.trim() === '' || !Number.isFinite(value)) {
        throw new CodedError('DICOM_INVALID', `${describeInstance(this.ref)}: ${tagName(tag)} holds ${JSON.stringify(text)}, not decimal numbers`, instanceField(this.ref));
      }
      return value;
    });
  }

  /** One IS or DS value, undefined when absent. */
  decimal(tag: string): number | undefined {
    return this.decimals(tag)[0];
  }

  /** The items of a sequence; [] when absent or empty. */
  sequence(tag: string): DicomAttributes[] {
    const items = this.element(tag)?.items ?? [];
    return items.flatMap((item) => (item.dataSet ? [new DicomAttributes(item.dataSet, this.ref)] : []));
  }

  /** The raw value bytes of an element (a view into the upload). */
  bytes(tag: string): Uint8Array | undefined {
    const element = this.element(tag);
    if (!element) return undefined;
    const array = this.dataSet.byteArray;
    return array.subarray(element.dataOffset, element.dataOffset + element.length);
  }
}

/** `(0028,0010) Rows`-style name of a tag, for messages. */
export function tagName(tag: string): string {
  const name = Object.entries(TAG).find(([, t]) => t === tag)?.[0];
  const pretty = `(${tag.slice(1, 5)},${tag.slice(5, 9)})`.toUpperCase();
  return name ? `${pretty} ${name}` : pretty;
}

export interface DicomInstance {
  readonly ref: InstanceRef;
  readonly transferSyntax: TransferSyntax;
  /** The top-level data set. */
  readonly attributes: DicomAttributes;
  /** True when the bytes had a preamble, "DICM" and a file meta group. */
  readonly part10: boolean;
  /** Bytes held on top of the upload: the inflated data set of a deflated instance. */
  readonly inflatedBytes: number;
}

const PREAMBLE = 128;
const DICM = [0x44, 0x49, 0x43, 0x4d];

/**
 * Parses one instance. Part 10 files are recognised by "DICM" after the 128-byte preamble; anything else is read as a
 * bare data set when its first element looks like one (an even group up to 0x0008): explicit VR when bytes 4-5 are a
 * VR, big endian when the group reads small only that way, implicit VR little endian otherwise (PS3.5 says a bare
 * data set is implicit VR LE unless agreed otherwise; we recognise the others rather than misread them).
 */
export function readInstance(bytes: Uint8Array, index: number, limits: DecodeLimits): DicomInstance {
  let ref: InstanceRef = { index };
  const field = instanceField(ref);
  const part10 = bytes.length >= PREAMBLE + 4 && DICM.every((b, i) => bytes[PREAMBLE + i] === b);
  let input = bytes;
  const options: ParseDicomOptions = {};
  if (!part10) {
    const bare = bareDataSetSyntax(bytes);
    if (!bare) throw new CodedError('DICOM_INVALID', `${describeInstance(ref)} is not a DICOM Part 10 file (no "DICM" at byte 128) and does not start like a DICOM data set`, field);
    if (bare.metaGroup) {
      // A file meta group without the preamble: put one in front so the parser reads the meta group as such.
      input = new Uint8Array(PREAMBLE + 4 + bytes.length);
      input.set(DICM, PREAMBLE);
      input.set(bytes, PREAMBLE + 4);
    } else {
      options.TransferSyntaxUID = bare.uid;
    }
  }
  let inflatedBytes = 0;
  options.inflater = (array: Uint8Array, position: number): Uint8Array => {
    let inflated: Uint8Array;
    try {
      inflated = inflateBounded('deflate-raw', array.subarray(position), Math.max(0, limits.maxDecodedBytes - position));
    } catch (err) {
      if (err instanceof InflateLimitError) {
        throw new CodedError('PAYLOAD_TOO_LARGE', `${describeInstance(ref)}: its deflated data set inflates to more than ${limits.maxDecodedBytes} bytes (maxDecodedBytes)`, field);
      }
      throw new CodedError('DICOM_INVALID', `${describeInstance(ref)}: its deflated data set is not a valid deflate stream (${(err as Error).message})`, field);
    }
    const whole = new Uint8Array(position + inflated.length);
    whole.set(array.subarray(0, position));
    whole.set(inflated, position);
    inflatedBytes = whole.length;
    return whole;
  };
  let dataSet: DataSet;
  try {
    dataSet = dicomParser.parseDicom(input, options);
  } catch (err) {
    if (err instanceof CodedError) throw err;
    const partial = (err as { dataSet?: DataSet }).dataSet;
    const sop = partial?.string(TAG.SOPInstanceUID);
    if (sop) ref = { index, sopInstanceUid: sop };
    const pixels = partial?.elements[TAG.PixelData];
    if (partial && pixels && pixels.length !== 0xffffffff && pixels.dataOffset + pixels.length > partial.byteArray.length) {
      const have = Math.max(0, partial.byteArray.length - pixels.dataOffset);
      throw new CodedError('PAYLOAD_SIZE_MISMATCH', `${describeInstance(ref)}: Pixel Data declares ${pixels.length} bytes but the instance ends after ${have}: truncated`, field);
    }
    throw new CodedError('DICOM_INVALID', `${describeInstance(ref)} is not a readable DICOM data set (${parserMessage(err)})`, field);
  }
  const sopInstanceUid = dataSet.string(TAG.SOPInstanceUID);
  if (sopInstanceUid) ref = { index, sopInstanceUid };
  const uid = dataSet.string(TAG.TransferSyntaxUID) ?? options.TransferSyntaxUID;
  if (!uid) throw new CodedError('DICOM_INVALID', `${describeInstance(ref)}: its file meta group has no (0002,0010) TransferSyntaxUID`, field);
  return {
    ref,
    transferSyntax: transferSyntax(uid, `${field}.transferSyntax`, describeInstance(ref)),
    attributes: new DicomAttributes(dataSet, ref),
    part10,
    inflatedBytes,
  };
}

/** dicom-parser throws strings or objects with an `exception` text. */
function parserMessage(err: unknown): string {
  if (typeof err === 'string') return err;
  const exception = (err as { exception?: unknown })?.exception;
  if (typeof exception === 'string') return exception;
  return err instanceof Error ? err.message : String(err);
}

const VRS = new Set(['AE', 'AS', 'AT', 'CS', 'DA', 'DS', 'DT', 'FD', 'FL', 'IS', 'LO', 'LT', 'OB', 'OD', 'OF', 'OL', 'OV', 'OW', 'PN', 'SH', 'SL', 'SQ', 'SS', 'ST', 'SV', 'TM', 'UC', 'UI', 'UL', 'UN', 'UR', 'US', 'UT', 'UV']);

/** The transfer syntax a bare data set appears to use, from its first element; undefined if it is not one. */
function bareDataSetSyntax(bytes: Uint8Array): { uid: string; metaGroup: boolean } | undefined {
  if (bytes.length < 8) return undefined;
  const groupLe = bytes[0]! | (bytes[1]! << 8);
  const groupBe = (bytes[0]! << 8) | bytes[1]!;
  const vr = String.fromCharCode(bytes[4]!, bytes[5]!);
  const explicit = VRS.has(vr);
  const plausible = (group: number): boolean => group % 2 === 0 && group <= 0x0008;
  if (plausible(groupLe)) {
    if (groupLe === 0x0002) return explicit ? { uid: EXPLICIT_VR_LITTLE_ENDIAN, metaGroup: true } : undefined;
    return { uid: explicit ? EXPLICIT_VR_LITTLE_ENDIAN : IMPLICIT_VR_LITTLE_ENDIAN, metaGroup: false };
  }
  if (plausible(groupBe) && explicit) return { uid: EXPLICIT_VR_BIG_ENDIAN, metaGroup: false };
  return undefined;
}
