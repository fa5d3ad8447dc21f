// A minimal DICOM Part 10 writer: Explicit VR Little Endian, defined lengths everywhere, elements sorted by tag.
// Enough for the objects we create (SEG); written here rather than taken from dcmjs, whose writer comes with a
// normalising layer that refuses single-slice sources, writes empty frames, and whose latest release requires Node 22.
import { randomUUID } from 'node:crypto';
import { EXPLICIT_VR_LITTLE_ENDIAN } from './transfer-syntax.ts';

/** Identifies this writer in the file meta group (a UUID-derived UID, PS3.5 B.2). */
export const IMPLEMENTATION_CLASS_UID = '2.25.74157754606697624631477791205534571437';
export const IMPLEMENTATION_VERSION_NAME = 'ONESAM_SERVE_1';

export type ElementValue =
  | { readonly kind: 'text'; readonly values: readonly string[] }
  | { readonly kind: 'bytes'; readonly bytes: Uint8Array }
  | { readonly kind: 'numbers'; readonly values: readonly number[] }
  | { readonly kind: 'items'; readonly items: readonly DataSetElements[] };

export interface DataElement {
  /** (group << 16) | element. */
  readonly tag: number;
  readonly vr: string;
  readonly value: ElementValue;
}

export type DataSetElements = readonly DataElement[];

/** Text (string VRs, DS and IS written from numbers by the caller: see decimalString). */
export function text(tag: number, vr: string, ...values: string[]): DataElement {
  return { tag, vr, value: { kind: 'text', values } };
}
/** Binary numbers: US, UL, SS, SL, FL, FD, AT (an AT value is (group << 16) | element). */
export function numbers(tag: number, vr: string, ...values: number[]): DataElement {
  return { tag, vr, value: { kind: 'numbers', values } };
}
export function bytes(tag: number, vr: string, value: Uint8Array): DataElement {
  return { tag, vr, value: { kind: 'bytes', bytes: value } };
}
export function sequence(tag: number, ...items: DataSetElements[]): DataElement {
  return { tag, vr: 'SQ', value: { kind: 'items', items } };
}

/** A DS value of at most 16 characters (PS3.5 6.2), as precise as fits. */
export function decimalString(value: number): string {
  if (!Number.isFinite(value)) throw new RangeError(`DS cannot hold ${value}`);
  const plain = String(value + 0);
  if (plain.length <= 16 && !plain.includes('e')) return plain;
  for (let digits = 15; digits >= 1; digits--) {
    const candidate = String(Number(value.toPrecision(digits)));
    if (candidate.length <= 16) return candidate;
  }
  throw new RangeError(`DS cannot hold ${value}`);
}

/** A new UID under 2.25 (a UUID as a decimal integer, PS3.5 B.2): no registered root needed. */
export function newUid(): string {
  return `2.25.${BigInt(`0x${randomUUID().replace(/-/g, '')}`).toString()}`;
}

/** VRs with a 4-byte length after two reserved bytes in explicit VR (PS3.5 7.1.2). */
const LONG_VRS = new Set(['OB', 'OD', 'OF', 'OL', 'OV', 'OW', 'SQ', 'UC', 'UN', 'UR', 'UT', 'SV', 'UV']);
const ENCODER = new TextEncoder();

function valueBytes(element: DataElement): Uint8Array {
  const { vr, value } = element;
  switch (value.kind) {
    case 'bytes': return padded(value.bytes, 0);
    case 'text': return padded(ENCODER.encode(value.values.join('\\')), vr === 'UI' ? 0 : 0x20);
    case 'numbers': {
      const width = vr === 'US' || vr === 'SS' ? 2 : vr === 'FD' ? 8 : 4;
      const out = new Uint8Array(width * value.values.length);
      const view = new DataView(out.buffer);
      value.values.forEach((v, i) => {
        const at = i * width;
        if (vr === 'US') view.setUint16(at, v, true);
        else if (vr === 'SS') view.setInt16(at, v, true);
        else if (vr === 'UL') view.setUint32(at, v, true);
        else if (vr === 'SL') view.setInt32(at, v, true);
        else if (vr === 'FL') view.setFloat32(at, v, true);
        else if (vr === 'FD') view.setFloat64(at, v, true);
        else if (vr === 'AT') { view.setUint16(at, v >>> 16, true); view.setUint16(at + 2, v & 0xffff, true); }
        else throw new Error(`numbers() does not write VR ${vr}`);
      });
      return out;
    }
    case 'items': return concat(value.items.map(item));
  }
}

function padded(data: Uint8Array, pad: number): Uint8Array {
  if (data.length % 2 === 0) return data;
  const out = new Uint8Array(data.length + 1);
  out.set(data);
  out[data.length] = pad;
  return out;
}

function item(elements: DataSetElements): Uint8Array {
  const body = encodeDataSet(elements);
  const header = new Uint8Array(8);
  const view = new DataView(header.buffer);
  view.setUint16(0, 0xfffe, true);
  view.setUint16(2, 0xe000, true);
  view.setUint32(4, body.length, true);
  return concat([header, body]);
}

function encodeElement(element: DataElement): Uint8Array {
  const value = valueBytes(element);
  const long = LONG_VRS.has(element.vr);
  const header = new Uint8Array(long ? 12 : 8);
  const view = new DataView(header.buffer);
  view.setUint16(0, element.tag >>> 16, true);
  view.setUint16(2, element.tag & 0xffff, true);
  header[4] = element.vr.charCodeAt(0);
  header[5] = element.vr.charCodeAt(1);
  if (long) view.setUint32(8, value.length, true);
  else {
    if (value.length > 0xffff) throw new RangeError(`a ${element.vr} value of ${value.length} bytes does not fit a 16-bit length`);
    view.setUint16(6, value.length, true);
  }
  return concat([header, value]);
}

/** Encodes a data set (elements sorted by tag, as PS3.5 7.1 requires). */
export function encodeDataSet(elements: DataSetElements): Uint8Array {
  const sorted = [...elements].sort((a, b) => a.tag - b.tag);
  for (let i = 1; i < sorted.length; i++) {
    if (sorted[i]!.tag === sorted[i - 1]!.tag) throw new Error(`element (${sorted[i]!.tag.toString(16).padStart(8, '0')}) appears twice`);
  }
  return concat(sorted.map(encodeElement));
}

/**
 * A Part 10 file: preamble, "DICM", file meta group (PS3.10 7.1), then the data set: elements encoded here in
 * Explicit VR Little Endian, or bytes already encoded in `transferSyntaxUid` (tests wrap data sets in other syntaxes).
 */
export function writePart10(dataSet: DataSetElements | Uint8Array, sopClassUid: string, sopInstanceUid: string, transferSyntaxUid = EXPLICIT_VR_LITTLE_ENDIAN): Uint8Array {
  const meta = encodeDataSet([
    bytes(0x00020001, 'OB', new Uint8Array([0, 1])),
    text(0x00020002, 'UI', sopClassUid),
    text(0x00020003, 'UI', sopInstanceUid),
    text(0x00020010, 'UI', transferSyntaxUid),
    text(0x00020012, 'UI', IMPLEMENTATION_CLASS_UID),
    text(0x00020013, 'SH', IMPLEMENTATION_VERSION_NAME),
  ]);
  const groupLength = encodeElement(numbers(0x00020000, 'UL', meta.length));
  const preamble = new Uint8Array(132);
  preamble.set(ENCODER.encode('DICM'), 128);
  return concat([preamble, groupLength, meta, dataSet instanceof Uint8Array ? dataSet : encodeDataSet(dataSet)]);
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}
