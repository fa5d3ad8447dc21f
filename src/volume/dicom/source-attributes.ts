// The source attributes a derived object (our SEG) copies: the Patient and General Study modules, the character
// set their text is in, and what identifies the study. Kept as raw value bytes with their VR (which is fixed for
// these attributes, so implicit-VR sources copy the same), never decoded: text stays in its own character set, and
// the values are plain data that crosses threads and survives after the upload is gone.
import type { DicomAttributes } from './part10.ts';

export interface SourceAttribute {
  /** (group << 16) | element. */
  readonly tag: number;
  readonly vr: string;
  readonly value: Uint8Array;
}

/** Attributes copied when present, in tag order. Type 2 ones (PS3.3 C.7.1.1, C.7.2.1) are written empty if absent. */
export const COPIED_ATTRIBUTES: readonly { readonly tag: number; readonly vr: string; readonly type2: boolean }[] = Object.freeze([
  { tag: 0x00080005, vr: 'CS', type2: false }, // SpecificCharacterSet
  { tag: 0x00080020, vr: 'DA', type2: true }, // StudyDate
  { tag: 0x00080030, vr: 'TM', type2: true }, // StudyTime
  { tag: 0x00080050, vr: 'SH', type2: true }, // AccessionNumber
  { tag: 0x00080090, vr: 'PN', type2: true }, // ReferringPhysicianName
  { tag: 0x00081030, vr: 'LO', type2: false }, // StudyDescription
  { tag: 0x00100010, vr: 'PN', type2: true }, // PatientName
  { tag: 0x00100020, vr: 'LO', type2: true }, // PatientID
  { tag: 0x00100021, vr: 'LO', type2: false }, // IssuerOfPatientID
  { tag: 0x00100030, vr: 'DA', type2: true }, // PatientBirthDate
  { tag: 0x00100040, vr: 'CS', type2: true }, // PatientSex
  { tag: 0x00101010, vr: 'AS', type2: false }, // PatientAge
  { tag: 0x00101020, vr: 'DS', type2: false }, // PatientSize
  { tag: 0x00101030, vr: 'DS', type2: false }, // PatientWeight
  { tag: 0x0020000d, vr: 'UI', type2: false }, // StudyInstanceUID
  { tag: 0x00200010, vr: 'SH', type2: true }, // StudyID
]);

export function parserTag(tag: number): string {
  return `x${tag.toString(16).padStart(8, '0')}`;
}

/** Copies of the COPIED_ATTRIBUTES the instance has (empty values included). */
export function copySourceAttributes(attributes: DicomAttributes): SourceAttribute[] {
  const out: SourceAttribute[] = [];
  for (const { tag, vr } of COPIED_ATTRIBUTES) {
    const value = attributes.bytes(parserTag(tag));
    if (value) out.push({ tag, vr, value: value.slice() });
  }
  return out;
}
