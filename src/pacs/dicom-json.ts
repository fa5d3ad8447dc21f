// The DICOM JSON model (PS3.18 F.2) as DICOMweb answers carry it: QIDO-RS matches and the STOW-RS response. Keys are
// 8-hex tags, each attribute `{ "vr": ..., "Value": [...] }`; person names come as `{ "Alphabetic": ... }`, IS and
// DS values may arrive as JSON numbers (Orthanc sends them so). Only the attributes the service shows or needs.

export type DicomJson = Readonly<Record<string, { readonly vr?: string; readonly Value?: readonly unknown[] } | undefined>>;

/** The first value of `tag` as text ('' when absent): strings as they are, numbers printed, names by their alphabetic form. */
export function text(dataset: DicomJson, tag: string): string {
  return texts(dataset, tag)[0] ?? '';
}

/** Every value of `tag` as text. */
export function texts(dataset: DicomJson, tag: string): string[] {
  const values = dataset[tag]?.Value;
  if (!Array.isArray(values)) return [];
  return values.map((v) => {
    if (typeof v === 'string') return v;
    if (typeof v === 'number') return String(v);
    if (typeof v === 'object' && v !== null && typeof (v as { Alphabetic?: unknown }).Alphabetic === 'string') return (v as { Alphabetic: string }).Alphabetic;
    return '';
  });
}

/** The first value of an IS/DS/US tag as a number; undefined when absent or not a number. */
export function number(dataset: DicomJson, tag: string): number | undefined {
  const t = text(dataset, tag);
  if (t === '') return undefined;
  const n = Number(t);
  return Number.isFinite(n) ? n : undefined;
}

/** The items of a sequence attribute. */
export function items(dataset: DicomJson, tag: string): DicomJson[] {
  const values = dataset[tag]?.Value;
  return Array.isArray(values) ? values.filter((v): v is DicomJson => typeof v === 'object' && v !== null && !Array.isArray(v)) : [];
}

/** One study a QIDO-RS search matched. */
export interface StudyMatch {
  readonly studyInstanceUid: string;
  readonly patientId: string;
  readonly patientName: string;
  /** YYYYMMDD as stored. */
  readonly studyDate: string;
  readonly accessionNumber: string;
  readonly description: string;
  readonly modalities: readonly string[];
  readonly series?: number;
  readonly instances?: number;
}

/** One series a QIDO-RS search matched. */
export interface SeriesMatch {
  readonly studyInstanceUid: string;
  readonly seriesInstanceUid: string;
  readonly modality: string;
  readonly seriesNumber?: number;
  readonly description: string;
  readonly instances?: number;
}

export const TAG = Object.freeze({
  StudyDate: '00080020',
  AccessionNumber: '00080050',
  ModalitiesInStudy: '00080061',
  Modality: '00080060',
  StudyDescription: '00081030',
  SeriesDescription: '0008103E',
  RetrieveURL: '00081190',
  ReferencedSOPClassUID: '00081150',
  ReferencedSOPInstanceUID: '00081155',
  WarningReason: '00081196',
  FailureReason: '00081197',
  FailedSOPSequence: '00081198',
  ReferencedSOPSequence: '00081199',
  PatientName: '00100010',
  PatientID: '00100020',
  StudyInstanceUID: '0020000D',
  SeriesInstanceUID: '0020000E',
  SeriesNumber: '00200011',
  NumberOfStudyRelatedSeries: '00201206',
  NumberOfStudyRelatedInstances: '00201208',
  NumberOfSeriesRelatedInstances: '00201209',
});

export function studyMatch(d: DicomJson): StudyMatch {
  const series = number(d, TAG.NumberOfStudyRelatedSeries);
  const instances = number(d, TAG.NumberOfStudyRelatedInstances);
  return {
    studyInstanceUid: text(d, TAG.StudyInstanceUID),
    patientId: text(d, TAG.PatientID),
    patientName: text(d, TAG.PatientName),
    studyDate: text(d, TAG.StudyDate),
    accessionNumber: text(d, TAG.AccessionNumber),
    description: text(d, TAG.StudyDescription),
    modalities: texts(d, TAG.ModalitiesInStudy),
    ...(series !== undefined ? { series } : {}),
    ...(instances !== undefined ? { instances } : {}),
  };
}

export function seriesMatch(d: DicomJson, studyInstanceUid: string): SeriesMatch {
  const seriesNumber = number(d, TAG.SeriesNumber);
  const instances = number(d, TAG.NumberOfSeriesRelatedInstances);
  return {
    studyInstanceUid: text(d, TAG.StudyInstanceUID) || studyInstanceUid,
    seriesInstanceUid: text(d, TAG.SeriesInstanceUID),
    modality: text(d, TAG.Modality),
    ...(seriesNumber !== undefined ? { seriesNumber } : {}),
    description: text(d, TAG.SeriesDescription),
    ...(instances !== undefined ? { instances } : {}),
  };
}

/** What a STOW-RS response says about each instance sent. */
export interface StoreResponse {
  readonly stored: readonly { readonly sopClassUid: string; readonly sopInstanceUid: string; readonly retrieveUrl: string; readonly warning?: number }[];
  readonly failed: readonly { readonly sopClassUid: string; readonly sopInstanceUid: string; readonly reason?: number }[];
  /** The study's RetrieveURL, when the PACS sent one. */
  readonly retrieveUrl: string;
}

export function storeResponse(d: DicomJson): StoreResponse {
  return {
    stored: items(d, TAG.ReferencedSOPSequence).map((i) => {
      const warning = number(i, TAG.WarningReason);
      return {
        sopClassUid: text(i, TAG.ReferencedSOPClassUID), sopInstanceUid: text(i, TAG.ReferencedSOPInstanceUID), retrieveUrl: text(i, TAG.RetrieveURL),
        ...(warning !== undefined ? { warning } : {}),
      };
    }),
    failed: items(d, TAG.FailedSOPSequence).map((i) => {
      const reason = number(i, TAG.FailureReason);
      return { sopClassUid: text(i, TAG.ReferencedSOPClassUID), sopInstanceUid: text(i, TAG.ReferencedSOPInstanceUID), ...(reason !== undefined ? { reason } : {}) };
    }),
    retrieveUrl: text(d, TAG.RetrieveURL),
  };
}

/** Failure Reason (0008,1197) and Warning Reason (0008,1196) values of the storage service (PS3.4 Annex B), in our words. */
const FAILURE_REASONS: Readonly<Record<number, string>> = {
  0xb000: 'coercion of data elements',
  0xb006: 'elements discarded',
  0xb007: 'data set does not match the SOP class',
  0x0110: 'processing failure',
  0x0111: 'duplicate SOP instance',
  0x0112: 'no such SOP instance',
  0x0117: 'invalid object instance',
  0x0119: 'class-instance conflict',
  0x0122: 'SOP class not supported',
  0x0124: 'not authorized',
  0xa700: 'out of resources',
  0xa900: 'data set does not match the SOP class',
  0xc000: 'cannot understand',
  0xc122: 'transfer syntax not supported',
};

/** `0x0110 (processing failure)`: the code as DICOM documents print it, with its meaning when known. */
export function describeFailureReason(reason: number): string {
  const hex = `0x${reason.toString(16).toUpperCase().padStart(4, '0')}`;
  const meaning = FAILURE_REASONS[reason] ?? (reason >= 0xa700 && reason <= 0xa7ff ? 'out of resources' : reason >= 0xc000 && reason <= 0xcfff ? 'cannot understand' : undefined);
  return meaning ? `${hex} (${meaning})` : hex;
}
