// The request header, checked field by field before any payload byte is read: a client mistake here costs one
// message, not a 500 MiB upload. Errors name the field as the proto spells it (`header.raw.dtype`). Prompts are
// converted from wire form here, once; a scribble's strokes wait for the image size to become voxels, and prompts
// in DICOM terms (slices by SOP Instance UID, boxes in patient mm) for the series geometry (request-objects.ts).
import { CodedError } from '../errors/coded-error.ts';
import type { Prompt__Output } from '../generated/onesam/v1/Prompt.ts';
import type { RequestHeader__Output } from '../generated/onesam/v1/RequestHeader.ts';
import type { SliceRef__Output } from '../generated/onesam/v1/SliceRef.ts';
import { isDicomUid } from '../pacs/client.ts';
import { MODALITIES, parseModality } from '../pipeline/router.ts';
import { speedLevelProblem } from '../pipeline/speed-level.ts';
import type { Stroke } from '../protocol/scribble-strokes.ts';
import type { EnsembleMode, Modality, ObjectPrompt } from '../pipeline/types.ts';
import type { DicomPromptShape, DicomSliceRef } from '../volume/dicom/prompt-mapping.ts';
import type { SegmentText } from '../volume/dicom/segment-descriptions.ts';
import type { IntensityPreparation } from '../volume/intensity.ts';
import { decodeLimits } from '../volume/limits.ts';
import type { LabelFormat, PayloadHeader } from '../volume/payload.ts';
import { checkRawHeader } from '../volume/raw.ts';
import { labelFormatFromWire, modeFromWire, payloadFormatFromWire, voxelTypeFromWire } from '../protocol/wire.ts';
import { segmentFromWire } from './segment-description.ts';

export const MAX_REQUEST_ID_LENGTH = 128;

export interface OutputOptions {
  readonly format: LabelFormat;
  readonly gzip: boolean;
  readonly forceUint16: boolean;
}

/**
 * Where the request's volume comes from: chunks after the header, a session an earlier request kept, or a series
 * the server retrieves from a configured PACS (read as a DICOM upload).
 */
export type VolumeSource =
  | { readonly kind: 'upload'; readonly payload: PayloadHeader; readonly payloadBytes: number; readonly keepSession: boolean }
  | { readonly kind: 'session'; readonly sessionId: string }
  | { readonly kind: 'pacs'; readonly endpoint: string; readonly studyInstanceUid: string; readonly seriesInstanceUid: string; readonly payload: PayloadHeader; readonly keepSession: boolean };

/** RequestHeader.store: the endpoint the DICOM SEG output goes to, and whether its bytes come back too. */
export interface StoreRequest {
  readonly endpoint: string;
  readonly sendLabels: boolean;
}

/**
 * A header prompt in the pipeline's terms, except a scribble (its strokes become voxels once the image size is
 * known) and a prompt in DICOM terms (mapped once the series geometry is known).
 */
export type HeaderPrompt =
  | ObjectPrompt
  | { readonly label: number; readonly strokes: readonly Stroke[] }
  | { readonly label: number; readonly dicom: DicomPromptShape };

export interface ParsedHeader {
  readonly requestId: string;
  readonly modality: Modality | undefined;
  readonly source: VolumeSource;
  /** In order, so pipeline paths `prompts[i]` are `header.prompts[i]`. */
  readonly prompts: readonly HeaderPrompt[];
  /** Prompt i's SegmentDescription (for DICOM SEG output), when it sent one. */
  readonly segments: readonly (SegmentText | undefined)[];
  readonly mode: EnsembleMode;
  readonly output: OutputOptions;
  /** RequestHeader.store, when set. */
  readonly store?: StoreRequest;
  /** RequestHeader.speed_level, when set (else the server's speedLevel setting applies). */
  readonly speedLevel?: number;
}

export interface HeaderLimits {
  readonly maxPayloadBytes: number;
  /** Checked on a raw payload's declared shape, before the upload (the other formats' shapes are inside the payload). */
  readonly maxVoxels?: number;
  /** The configured PACS endpoint names (the `pacs` setting): the only ones header.pacs and header.store may name. */
  readonly pacsEndpoints?: readonly string[];
}

function invalid(field: string, message: string): CodedError {
  return new CodedError('HEADER_INVALID', message, field);
}

export function parseHeader(header: RequestHeader__Output, limits: HeaderLimits, newRequestId: () => string): ParsedHeader {
  const requestId = header.requestId === '' ? newRequestId() : header.requestId;
  if (requestId.length > MAX_REQUEST_ID_LENGTH || !/^[\x21-\x7e]+$/.test(requestId)) {
    throw invalid('header.request_id', `must be 1..${MAX_REQUEST_ID_LENGTH} printable ASCII characters without spaces`);
  }
  let modality: Modality | undefined;
  if (header.modality !== '') {
    modality = parseModality(header.modality);
    if (!modality) throw invalid('header.modality', `unknown modality "${header.modality.slice(0, 40)}" (known: ${MODALITIES.join(', ')}; leave empty when unknown)`);
  }
  const common = {
    requestId,
    modality,
    mode: parseMode(header),
    output: parseOutput(header),
    prompts: header.prompts.map((p, i) => promptFromWire(p, `header.prompts[${i}]`)),
    segments: header.prompts.map((p, i) => segmentFromWire(p.segment, `header.prompts[${i}].segment`)),
    ...parseSpeedLevel(header),
  };
  const store = header.store ? parseStore(header, limits, common.output) : undefined;
  const withStore = { ...common, ...(store ? { store } : {}) };
  if (header.sessionId !== '') {
    if (header.pacs) throw invalid('header.pacs', 'cannot be combined with header.session_id: the session already holds its volume');
    return { ...withStore, source: parseSessionSource(header) };
  }
  if (header.pacs) return { ...withStore, source: parsePacsSource(header, limits) };
  const source = parseUpload(header, limits);
  // A session's volume is known only once the session is found: the handler checks it then.
  if (common.output.format === 'dicom-seg' && source.payload.format !== 'dicom') {
    throw invalid('header.output.format', `LABEL_FORMAT_DICOM_SEG needs a DICOM input (PAYLOAD_FORMAT_DICOM, or a session holding one), got ${String(header.format)}`);
  }
  return { ...withStore, source };
}

/** A configured endpoint's name, or PACS_ENDPOINT_UNKNOWN listing the configured ones. */
function pacsEndpoint(name: string, field: string, limits: HeaderLimits): string {
  const known = limits.pacsEndpoints ?? [];
  if (name === '') throw invalid(field, `is required: one of the PACS endpoints this server is configured with (${known.length ? known.join(', ') : 'none'})`);
  if (!known.includes(name)) {
    throw new CodedError('PACS_ENDPOINT_UNKNOWN', `names no PACS endpoint of this server: ${known.length ? `it knows ${known.join(', ')}` : 'it is configured with none (the `pacs` setting)'}, got "${name.slice(0, 64)}"`, field);
  }
  return name;
}

function parsePacsSource(header: RequestHeader__Output, limits: HeaderLimits): VolumeSource {
  const pacs = header.pacs!;
  const endpoint = pacsEndpoint(pacs.endpoint, 'header.pacs.endpoint', limits);
  const uid = (value: string, field: string): string => {
    if (!isDicomUid(value)) throw invalid(field, `must be a DICOM UID (digits and dots, at most 64 characters), got "${value.slice(0, 70)}"`);
    return value;
  };
  const studyInstanceUid = uid(pacs.studyInstanceUid, 'header.pacs.study_instance_uid');
  const seriesInstanceUid = uid(pacs.seriesInstanceUid, 'header.pacs.series_instance_uid');
  // The series is the payload: a second description of it could only disagree.
  const format = header.format as unknown;
  if (format !== 'PAYLOAD_FORMAT_UNSPECIFIED' && format !== 0 && format !== 'PAYLOAD_FORMAT_DICOM') {
    throw invalid('header.format', `must be unset or PAYLOAD_FORMAT_DICOM when header.pacs names the series, got ${String(header.format)}`);
  }
  if (header.raw) throw invalid('header.raw', 'must be unset when header.pacs names the series');
  if (header.payloadBytes !== 0) throw invalid('header.payload_bytes', 'must be unset when header.pacs names the series: the server fetches it, no chunk follows the header');
  const intensity = intensityFromWire(header);
  return {
    kind: 'pacs', endpoint, studyInstanceUid, seriesInstanceUid, keepSession: header.keepSession,
    payload: { format: 'dicom', ...(intensity ? { intensity } : {}) },
  };
}

function parseStore(header: RequestHeader__Output, limits: HeaderLimits, output: OutputOptions): StoreRequest {
  const store = header.store!;
  const endpoint = pacsEndpoint(store.endpoint, 'header.store.endpoint', limits);
  if (output.format !== 'dicom-seg') throw invalid('header.output.format', 'must be LABEL_FORMAT_DICOM_SEG with header.store: a PACS stores the labels as a DICOM Segmentation');
  return { endpoint, sendLabels: store.sendLabels };
}

function parseSessionSource(header: RequestHeader__Output): VolumeSource {
  const id = header.sessionId;
  if (id.length > MAX_REQUEST_ID_LENGTH || !/^[\x21-\x7e]+$/.test(id)) {
    throw invalid('header.session_id', `must be a session id from Accepted.session (1..${MAX_REQUEST_ID_LENGTH} printable ASCII characters)`);
  }
  // The volume is the session's: a second description of it could only disagree.
  const unset = (field: string, isSet: boolean): void => {
    if (isSet) throw invalid(field, 'must be unset when header.session_id names a kept volume (the session already holds it)');
  };
  unset('header.format', header.format !== 'PAYLOAD_FORMAT_UNSPECIFIED' && (header.format as unknown) !== 0);
  unset('header.raw', header.raw !== null && header.raw !== undefined);
  unset('header.intensity', header.intensity !== null && header.intensity !== undefined);
  unset('header.payload_bytes', header.payloadBytes !== 0);
  if (header.keepSession) throw invalid('header.keep_session', 'cannot be combined with header.session_id (the volume is already kept)');
  return { kind: 'session', sessionId: id };
}

function parseUpload(header: RequestHeader__Output, limits: HeaderLimits): Extract<VolumeSource, { readonly kind: 'upload' }> {
  const format = payloadFormatFromWire(header.format);
  if (!format) throw invalid('header.format', `must be PAYLOAD_FORMAT_RAW, PAYLOAD_FORMAT_NPZ, PAYLOAD_FORMAT_NIFTI or PAYLOAD_FORMAT_DICOM, got ${String(header.format)}`);
  let raw: PayloadHeader['raw'];
  if (format === 'raw') {
    if (!header.raw) throw invalid('header.raw', 'is required for PAYLOAD_FORMAT_RAW (shape and dtype)');
    const dtype = voxelTypeFromWire(header.raw.dtype);
    if (!dtype) throw invalid('header.raw.dtype', `must be VOXEL_TYPE_UINT8, _INT16, _UINT16 or _FLOAT32, got ${String(header.raw.dtype)}`);
    raw = { shape: header.raw.shape, dtype, ...(header.raw.spacing.length > 0 ? { spacing: header.raw.spacing } : {}) };
  }
  const payloadBytes = header.payloadBytes;
  if (!Number.isSafeInteger(payloadBytes) || payloadBytes <= 0) throw invalid('header.payload_bytes', `must be the payload size in bytes (> 0), got ${payloadBytes}`);
  if (payloadBytes > limits.maxPayloadBytes) {
    throw new CodedError('PAYLOAD_LIMIT_EXCEEDED', `${payloadBytes} bytes exceed this server's limit of ${limits.maxPayloadBytes}`, 'header.payload_bytes');
  }
  // A raw header fully describes its payload: a shape over the limits, or one that disagrees with payload_bytes,
  // is refused now with the codes the decoder would give, not after the client sent every byte.
  if (raw) checkRawHeader(raw, payloadBytes, 'header.raw', decodeLimits({ maxDecodedBytes: limits.maxPayloadBytes, ...(limits.maxVoxels !== undefined ? { maxVoxels: limits.maxVoxels } : {}) }));
  const intensity = intensityFromWire(header);
  return {
    kind: 'upload',
    // Unset intensity is as-is for every format but DICOM, whose series decides (src/volume/dicom-volume.ts).
    payload: { format, ...(raw ? { raw } : {}), ...(intensity ? { intensity } : {}) },
    payloadBytes,
    keepSession: header.keepSession,
  };
}

function parseSpeedLevel(header: RequestHeader__Output): { speedLevel?: number } {
  if (header.speedLevel === 0) return {};
  const problem = speedLevelProblem(header.speedLevel);
  if (problem) throw invalid('header.speed_level', `${problem} (0 or unset: the server's setting)`);
  return { speedLevel: header.speedLevel };
}

function parseMode(header: RequestHeader__Output): EnsembleMode {
  const mode = modeFromWire(header.network);
  if (!mode) throw invalid('header.network', `must be an ENSEMBLE_MODE_ value (ROUTE, LITEMEDSAM, ONESAM, FUSE), got ${String(header.network)}`);
  return mode;
}

function parseOutput(header: RequestHeader__Output): OutputOptions {
  const format = labelFormatFromWire(header.output?.format);
  if (!format) throw invalid('header.output.format', `must be LABEL_FORMAT_RAW, LABEL_FORMAT_NPZ, LABEL_FORMAT_NIFTI or LABEL_FORMAT_DICOM_SEG, got ${String(header.output?.format)}`);
  const gzip = header.output?.gzip ?? false;
  if (format === 'dicom-seg' && gzip) throw invalid('header.output.gzip', 'must be false with LABEL_FORMAT_DICOM_SEG: a Segmentation is a DICOM file, sent as it is');
  return { format, gzip, forceUint16: header.output?.forceUint16 ?? false };
}

/** The preparation the header names; undefined when it names none (each format has its default). */
function intensityFromWire(header: RequestHeader__Output): IntensityPreparation | undefined {
  const prep = header.intensity;
  switch (prep?.preparation) {
    case undefined:
      return undefined;
    case 'asis':
      return { kind: 'asis' };
    case 'ctWindow': {
      const w = prep.ctWindow!;
      return { kind: 'ct-window', ...(w.level !== undefined ? { level: w.level } : {}), ...(w.width !== undefined ? { width: w.width } : {}) };
    }
    case 'percentile': {
      const p = prep.percentile!;
      return { kind: 'percentile', ...(p.low !== undefined ? { low: p.low } : {}), ...(p.high !== undefined ? { high: p.high } : {}) };
    }
  }
}

/**
 * One wire prompt in the pipeline's terms. Checked for structure only (a kind is set, box numbers are finite);
 * ranges against the image are the pipeline's to check.
 */
function promptFromWire(prompt: Prompt__Output, field: string): HeaderPrompt {
  const finite = (value: number, name: string): void => {
    if (!Number.isFinite(value)) throw new CodedError('PROMPT_INVALID', `must be a finite number, got ${value}`, `${field}.${name}`);
  };
  const label = prompt.label;
  switch (prompt.kind) {
    case 'box2d': {
      const b = prompt.box2d!;
      for (const k of ['xMin', 'yMin', 'xMax', 'yMax'] as const) finite(b[k], `box2d.${snake(k)}`);
      const xy = { x0: b.xMin, y0: b.yMin, x1: b.xMax, y1: b.yMax };
      if (b.slice) {
        if (b.z !== undefined) throw new CodedError('PROMPT_INVALID', 'names its slice twice: set z or slice, not both', `${field}.box2d`);
        return { label, dicom: { kind: 'box2d', ...xy, slice: sliceRefFromWire(b.slice, `${field}.box2d.slice`) } };
      }
      return { label, prompt: { kind: 'box2d', ...xy, ...(b.z !== undefined ? { z: b.z } : {}) } };
    }
    case 'box3d': {
      const b = prompt.box3d!;
      for (const k of ['xMin', 'yMin', 'xMax', 'yMax'] as const) finite(b[k], `box3d.${snake(k)}`);
      const xy = { x0: b.xMin, y0: b.yMin, x1: b.xMax, y1: b.yMax };
      if (b.sliceFirst || b.sliceLast) {
        if (!b.sliceFirst || !b.sliceLast) {
          throw new CodedError('PROMPT_INVALID', 'slice_first and slice_last name the slices together: set both or neither', `${field}.box3d.${b.sliceFirst ? 'slice_last' : 'slice_first'}`);
        }
        if (b.zMin !== 0 || b.zMax !== 0) throw new CodedError('PROMPT_INVALID', `names its slices twice: leave z_min and z_max 0 with slice_first and slice_last, got ${b.zMin} and ${b.zMax}`, `${field}.box3d`);
        return {
          label,
          dicom: { kind: 'box3d', ...xy, sliceFirst: sliceRefFromWire(b.sliceFirst, `${field}.box3d.slice_first`), sliceLast: sliceRefFromWire(b.sliceLast, `${field}.box3d.slice_last`) },
        };
      }
      return { label, prompt: { kind: 'box3d', ...xy, z0: b.zMin, z1: b.zMax } };
    }
    case 'scribble':
      return { label, strokes: prompt.scribble!.strokes.map((s) => s.points) };
    case 'patientBox': {
      const box = prompt.patientBox!;
      const corner = (values: readonly number[], name: string): readonly number[] => {
        if (values.length !== 3 || !values.every(Number.isFinite)) {
          throw new CodedError('PROMPT_INVALID', `must be three finite numbers (x, y, z) in mm (LPS), got [${values.slice(0, 4).join(', ')}${values.length > 4 ? ', ...' : ''}]`, `${field}.patient_box.${name}`);
        }
        return values;
      };
      return { label, dicom: { kind: 'patient-box', cornerA: corner(box.cornerA, 'corner_a'), cornerB: corner(box.cornerB, 'corner_b') } };
    }
    default:
      throw new CodedError('PROMPT_INVALID', 'needs one of box2d, box3d, scribble or patient_box', field);
  }
}

function sliceRefFromWire(ref: SliceRef__Output, field: string): DicomSliceRef {
  if (!/^[0-9.]{1,64}$/.test(ref.sopInstanceUid)) {
    throw new CodedError('PROMPT_INVALID', 'must be a DICOM UID (digits and dots, at most 64 characters)', `${field}.sop_instance_uid`);
  }
  return { sopInstanceUid: ref.sopInstanceUid, frameNumber: ref.frameNumber };
}

function snake(name: string): string {
  return name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}
