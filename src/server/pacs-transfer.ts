// The Segment call's two PACS legs: retrieving the series a header names (instead of an upload) and storing the
// DICOM SEG it produced. The series arrives as it would from a client: framed as a PAYLOAD_FORMAT_DICOM upload, held
// against the upload memory budget as it grows, and decoded on the codec threads by the caller. Errors keep their
// PACS codes and gain the header field they concern.
import { CodedError } from '../errors/coded-error.ts';
import type { DicomwebClient } from '../pacs/client.ts';
import { MAX_DICOM_INSTANCES, writeDicomUpload } from '../volume/dicom/framing.ts';
import type { UploadReservation } from './upload-budget.ts';

/** Progress messages while a series streams in: at most this often (a CT has hundreds of instances). */
const FETCH_PROGRESS_INTERVAL_MS = 100;

export interface FetchedSeries {
  /** The instances framed as a DICOM upload (src/volume/dicom/framing.ts). */
  readonly payload: Uint8Array;
  readonly instances: number;
  readonly bytes: number;
  readonly ms: number;
}

export interface FetchOptions {
  /** maxPayloadBytes: a series may not hold more than an upload could. */
  readonly maxBytes: number;
  readonly signal: AbortSignal;
  /** Follows the bytes received (UPLOAD_MEMORY_EXHAUSTED when they outgrow the budget). */
  readonly reservation: UploadReservation;
  readonly onProgress: (instances: number, bytes: number) => void;
}

export async function fetchSeries(client: DicomwebClient, studyUid: string, seriesUid: string, options: FetchOptions): Promise<FetchedSeries> {
  const started = performance.now();
  let reported = 0;
  let last = { instances: 0, bytes: 0 };
  let instances: Uint8Array[];
  try {
    instances = await client.retrieveSeries(studyUid, seriesUid, {
      maxBytes: options.maxBytes,
      maxInstances: MAX_DICOM_INSTANCES,
      signal: options.signal,
      onProgress: (n, bytes) => {
        options.reservation.resize(bytes);
        last = { instances: n, bytes };
        const now = performance.now();
        if (now - reported >= FETCH_PROGRESS_INTERVAL_MS) {
          reported = now;
          options.onProgress(n, bytes);
        }
      },
    });
  } catch (err) {
    throw underField(err, 'header.pacs');
  }
  options.onProgress(last.instances, last.bytes);
  const bytes = instances.reduce((n, b) => n + b.length, 0);
  // The framing copies once; the parts go out of scope with this function, before the decode.
  return { payload: writeDicomUpload(instances), instances: instances.length, bytes, ms: performance.now() - started };
}

export interface StoredSegmentation {
  readonly endpoint: string;
  readonly retrieveUrl: string;
  readonly warning: string;
  readonly ms: number;
}

/** STOW-RS of one Segmentation into its study; resolves once the PACS holds it. */
export async function storeSegmentation(client: DicomwebClient, seg: Uint8Array, studyUid: string | undefined, sopInstanceUid: string, signal: AbortSignal): Promise<StoredSegmentation> {
  const started = performance.now();
  let answer;
  try {
    answer = await client.store([seg], { ...(studyUid ? { studyUid } : {}), signal });
  } catch (err) {
    throw underField(err, 'header.store');
  }
  // The PACS lists what it stored; a PACS that lists nothing still answered 200 (it stored the one instance sent).
  const ours = answer.stored.find((s) => s.sopInstanceUid === sopInstanceUid) ?? answer.stored[0];
  return { endpoint: client.endpoint.name, retrieveUrl: ours?.retrieveUrl ?? '', warning: ours?.warning ?? '', ms: performance.now() - started };
}

/** A PACS error without a field gets the header field it concerns; every other error passes unchanged. */
function underField(err: unknown, field: string): unknown {
  if (err instanceof CodedError && err.field === undefined && err.code.startsWith('PACS_')) return new CodedError(err.code, err.detail, field);
  return err;
}
