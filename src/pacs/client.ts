// The DICOMweb client of one configured endpoint: QIDO-RS search, WADO-RS series retrieve and STOW-RS store
// (PS3.18 10.4-10.6). Every failure ends as a CodedError of the PACS family (src/errors/registry.ts), after the
// endpoint's retries for the transient ones (retry.ts); every operation, failed or not, is reported to the observer
// with its time, bytes and attempts, which the server turns into metrics.
import { CodedError } from '../errors/coded-error.ts';
import type { ErrorCode } from '../errors/registry.ts';
import { describeFailureReason, seriesMatch, storeResponse, studyMatch, type DicomJson, type SeriesMatch, type StoreResponse, type StudyMatch } from './dicom-json.ts';
import type { PacsEndpoint } from './endpoint.ts';
import { PacsHttp, TransportError, type PacsResponse } from './http.ts';
import { newBoundary, parseMediaType, readMultipart, writeMultipart } from './multipart.ts';
import { AttemptFailure, isTransientStatus, parseRetryAfter, RetriesSpent, withRetries, type RetryHooks } from './retry.ts';

export type PacsOperation = 'search' | 'retrieve' | 'store';

/** One finished operation, for metrics and logs. */
export interface PacsOperationEvent {
  readonly endpoint: string;
  readonly operation: PacsOperation;
  /** 'ok', or the code the operation failed with. */
  readonly outcome: 'ok' | ErrorCode;
  readonly ms: number;
  /** Body bytes received (search, retrieve) or sent (store) by the attempt that settled it. */
  readonly bytes: number;
  readonly attempts: number;
}

export interface PacsObserver {
  operation?(event: PacsOperationEvent): void;
  retry?(event: { readonly endpoint: string; readonly operation: PacsOperation; readonly attempt: number; readonly reason: string; readonly delayMs: number }): void;
}

export interface RetrieveOptions {
  /** Most bytes the series' instances may hold together (maxPayloadBytes), checked as they stream in. */
  readonly maxBytes: number;
  readonly maxInstances: number;
  readonly signal?: AbortSignal;
  /** After each instance: instances and bytes received so far in this attempt (a retry starts again from 0). */
  readonly onProgress?: (instances: number, bytes: number) => void;
}

export interface SearchOptions {
  /** Matching keys and their values (`PatientID`, `StudyDate`, `ModalitiesInStudy`...), plus limit/offset. */
  readonly match?: Readonly<Record<string, string>>;
  readonly limit?: number;
  readonly signal?: AbortSignal;
}

export interface StoredInstance {
  readonly sopClassUid: string;
  readonly sopInstanceUid: string;
  /** Where the PACS says the instance can be retrieved ('' when it did not say). */
  readonly retrieveUrl: string;
  /** A Warning Reason the PACS attached (it stored the instance, perhaps coerced). */
  readonly warning?: string;
}

/** The media type asked for a retrieve: the stored bytes, whatever their transfer syntax (no transcoding). */
export const RETRIEVE_ACCEPT = 'multipart/related; type="application/dicom"; transfer-syntax=*';
/** QIDO-RS and STOW-RS responses are small JSON documents; a larger one is not what was asked for. */
const MAX_JSON_BYTES = 64 * 1024 * 1024;
/** The part of an error body quoted in a message. */
const MAX_QUOTED = 200;
const UID = /^[0-9]+(\.[0-9]+)*$/;
const MATCH_KEY = /^([A-Za-z][A-Za-z0-9]{0,63}|[0-9A-Fa-f]{8})$/;

export class DicomwebClient {
  private readonly http: PacsHttp;

  constructor(readonly endpoint: PacsEndpoint, private readonly observer: PacsObserver = {}, private readonly hooks: Omit<RetryHooks, 'onRetry'> = {}) {
    this.http = new PacsHttp(endpoint);
  }

  /** QIDO-RS /studies. */
  async searchStudies(options: SearchOptions = {}): Promise<StudyMatch[]> {
    const found = await this.search('/studies', options, 'studies');
    return found.map(studyMatch);
  }

  /** QIDO-RS /studies/{study}/series. */
  async searchSeries(studyUid: string, options: SearchOptions = {}): Promise<SeriesMatch[]> {
    checkUid(studyUid, 'Study Instance UID');
    const found = await this.search(`/studies/${studyUid}/series`, options, `series of study ${studyUid}`);
    return found.map((d) => seriesMatch(d, studyUid));
  }

  /**
   * WADO-RS /studies/{study}/series/{series}: every instance of the series as stored (Part 10 bytes), streamed
   * through the multipart reader with the byte and instance limits applied as the parts arrive.
   */
  async retrieveSeries(studyUid: string, seriesUid: string, options: RetrieveOptions): Promise<Uint8Array[]> {
    checkUid(studyUid, 'Study Instance UID');
    checkUid(seriesUid, 'Series Instance UID');
    const what = `series ${seriesUid} of study ${studyUid}`;
    return this.run('retrieve', options.signal, async (count) => {
      const res = await this.http.send({ method: 'GET', path: `/studies/${studyUid}/series/${seriesUid}`, headers: { accept: RETRIEVE_ACCEPT } }, options.signal);
      await this.expectOk(res, what, 'retrieve');
      const type = parseMediaType(headerText(res.headers['content-type']));
      const boundary = type?.params.get('boundary');
      if (type?.type !== 'multipart/related' || !boundary) {
        res.body.destroy();
        throw this.error('PACS_RESPONSE_INVALID', `answered the retrieve of ${what} with Content-Type ${JSON.stringify(headerText(res.headers['content-type']) ?? '')}, not multipart/related with a boundary`);
      }
      const declared = type.params.get('type');
      if (declared !== undefined && declared.toLowerCase() !== 'application/dicom') {
        res.body.destroy();
        throw this.error('PACS_RESPONSE_INVALID', `answered the retrieve of ${what} with parts of type ${JSON.stringify(declared)}, not application/dicom`);
      }
      const instances: Uint8Array[] = [];
      let bytes = 0;
      const parts = readMultipart(counted(res.body, count), boundary, {
        maxBytes: options.maxBytes,
        maxParts: options.maxInstances,
        tooLarge: (limit) => this.error('PACS_SERIES_TOO_LARGE', `${what} holds ${limit}: a series may hold at most ${options.maxBytes} bytes (maxPayloadBytes) in at most ${options.maxInstances} instances`),
        malformed: (flaw) => this.error('PACS_RESPONSE_INVALID', `answered the retrieve of ${what} with a multipart body that ${flaw}`),
      });
      try {
        for await (const part of parts) {
          const partType = parseMediaType(part.headers.get('content-type'));
          if (partType && partType.type !== 'application/dicom') {
            throw this.error('PACS_RESPONSE_INVALID', `answered the retrieve of ${what} with a part of type ${partType.type}, not application/dicom`);
          }
          instances.push(part.body);
          bytes += part.body.length;
          options.onProgress?.(instances.length, bytes);
        }
      } finally {
        // A limit or a malformed part stops the read: the rest of the body is not wanted.
        if (!res.body.complete) res.body.destroy();
      }
      if (instances.length === 0) throw this.error('PACS_NOT_FOUND', `holds no instance of ${what}`);
      return instances;
    });
  }

  /**
   * STOW-RS: stores `instances` (Part 10 files) with one request, in `studyUid` when given (the PACS then refuses
   * instances of another study). Resolves only when every instance was stored.
   */
  async store(instances: readonly Uint8Array[], options: { readonly studyUid?: string; readonly signal?: AbortSignal } = {}): Promise<{ stored: StoredInstance[]; retrieveUrl: string }> {
    if (options.studyUid !== undefined) checkUid(options.studyUid, 'Study Instance UID');
    const boundary = newBoundary();
    const body = writeMultipart(instances.map((b) => ({ contentType: 'application/dicom', body: b })), boundary);
    return this.run('store', options.signal, async (count) => {
      count(body.length);
      const res = await this.http.send({
        method: 'POST',
        path: options.studyUid !== undefined ? `/studies/${options.studyUid}` : '/studies',
        headers: { 'content-type': `multipart/related; type="application/dicom"; boundary=${boundary}`, accept: 'application/dicom+json' },
        body,
      }, options.signal);
      if (res.status === 401 || res.status === 403) {
        await drain(res);
        throw this.error('PACS_REFUSED', `refused this server's credentials for the store (HTTP ${res.status})`);
      }
      if (isTransientStatus(res.status)) throw await this.transientStatus(res, 'store');
      const json = await readJson(res, MAX_JSON_BYTES);
      const answer = json.ok && isObject(json.value) ? storeResponse(json.value as DicomJson) : undefined;
      if (res.status !== 200 && res.status !== 202) {
        throw this.error('PACS_STORE_REJECTED', `did not store the Segmentation: HTTP ${res.status}${rejectionReason(answer, json.text)}`);
      }
      if (!answer) throw this.error('PACS_RESPONSE_INVALID', `answered the store with HTTP ${res.status} but no DICOM JSON response (${quote(json.text)})`);
      if (answer.failed.length > 0) throw this.error('PACS_STORE_REJECTED', `did not store the Segmentation: HTTP ${res.status}${rejectionReason(answer, json.text)}`);
      return { stored: storedInstances(answer), retrieveUrl: answer.retrieveUrl };
    });
  }

  /** Closes the endpoint's idle connections. */
  close(): void {
    this.http.close();
  }

  private async search(path: string, options: SearchOptions, what: string): Promise<DicomJson[]> {
    const query = new URLSearchParams();
    for (const [key, value] of Object.entries(options.match ?? {})) {
      // Callers check what people type (the CLI's flags); this guards the URL.
      if (!MATCH_KEY.test(key)) throw new RangeError(`a QIDO-RS matching key is a DICOM keyword or an 8-hex tag, got ${JSON.stringify(key.slice(0, 70))}`);
      query.append(key, value);
    }
    if (options.limit !== undefined) query.set('limit', String(options.limit));
    return this.run('search', options.signal, async (count) => {
      const res = await this.http.send({ method: 'GET', path, query, headers: { accept: 'application/dicom+json' } }, options.signal);
      // No match: 200 with [] (Orthanc), or 204 without a body (PS3.18 allows both).
      if (res.status === 204) {
        await drain(res);
        return [];
      }
      await this.expectOk(res, what, 'search');
      const json = await readJson(res, MAX_JSON_BYTES, count);
      if (!json.ok || !Array.isArray(json.value) || !json.value.every(isObject)) {
        throw this.error('PACS_RESPONSE_INVALID', `answered the search for ${what} with something other than a DICOM JSON array (${quote(json.text)})`);
      }
      return json.value as DicomJson[];
    });
  }

  /** Throws the PACS family's error for any status but 200 (after reading a little of the body for the message). */
  private async expectOk(res: PacsResponse, what: string, operation: PacsOperation): Promise<void> {
    if (res.status === 200) return;
    if (isTransientStatus(res.status)) throw await this.transientStatus(res, operation);
    const body = await readText(res, 4096);
    if (res.status === 401 || res.status === 403) throw this.error('PACS_REFUSED', `refused this server's credentials for the ${operation} of ${what} (HTTP ${res.status})`);
    if (res.status === 404) throw this.error('PACS_NOT_FOUND', `holds no ${what} (HTTP 404)`);
    throw this.error('PACS_RESPONSE_INVALID', `answered the ${operation} of ${what} with HTTP ${res.status} (${quote(body)})`);
  }

  private async transientStatus(res: PacsResponse, operation: PacsOperation): Promise<AttemptFailure> {
    await drain(res);
    const retryAfter = parseRetryAfter(headerText(res.headers['retry-after']));
    return new AttemptFailure(true, new Error(`answered the ${operation} with HTTP ${res.status}`), retryAfter);
  }

  /**
   * Runs one operation with the endpoint's retries and reports it. `attempt` gets a byte counter for the
   * observer; any CodedError it throws is final, transport failures are retried when they are transient.
   */
  private async run<T>(operation: PacsOperation, signal: AbortSignal | undefined, attempt: (count: (bytes: number) => void) => Promise<T>): Promise<T> {
    const started = performance.now();
    let bytes = 0;
    let attempts = 1;
    const report = (outcome: 'ok' | ErrorCode): void => {
      this.observer.operation?.({ endpoint: this.endpoint.name, operation, outcome, ms: performance.now() - started, bytes, attempts });
    };
    try {
      const { value } = await withRetries(async (n) => {
        attempts = n;
        bytes = 0;
        try {
          return await attempt((b) => { bytes += b; });
        } catch (err) {
          if (signal?.aborted) throw signal.reason;
          throw classify(err);
        }
      }, { retries: this.endpoint.retries, delayMs: this.endpoint.retryDelayMs }, signal, {
        ...this.hooks,
        onRetry: (n, reason, delayMs) => this.observer.retry?.({ endpoint: this.endpoint.name, operation, attempt: n, reason: reason.message, delayMs }),
      });
      report('ok');
      return value;
    } catch (err) {
      const coded = signal?.aborted ? signal.reason : this.final(err);
      report(coded instanceof CodedError ? coded.code : 'INTERNAL');
      throw coded;
    }
  }

  /** The error a spent or final failure becomes. */
  private final(err: unknown): unknown {
    if (!(err instanceof RetriesSpent)) return err;
    const cause = err.cause;
    if (cause instanceof CodedError) return cause;
    const tries = err.attempts > 1 ? ` (${err.attempts} attempts)` : '';
    if (cause instanceof TransportError && cause.kind === 'credentials') return this.error('PACS_REFUSED', cause.message);
    return this.error('PACS_UNREACHABLE', `${cause.message}${tries}`);
  }

  private error(code: ErrorCode, detail: string): CodedError {
    return new CodedError(code, `PACS endpoint "${this.endpoint.name}" ${detail}`);
  }
}

/** An attempt's failure, told transient or final. */
function classify(err: unknown): unknown {
  if (err instanceof AttemptFailure) return err;
  if (err instanceof CodedError) return new AttemptFailure(false, err);
  if (err instanceof TransportError) return new AttemptFailure(err.kind === 'connect' || err.kind === 'timeout' || err.kind === 'network', err);
  // The response stream breaking mid-body (ECONNRESET "aborted", EPIPE): the connection, worth another attempt.
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (typeof code === 'string' && /^E[A-Z]+$/.test(code)) return new AttemptFailure(true, new TransportError(`broke the connection during the transfer (${code})`, 'network', { cause: err }));
  return err;
}

/** A UID goes into a URL path: digits and dots only, as DICOM defines them. Callers check what clients send first. */
export function isDicomUid(uid: string): boolean {
  return uid.length <= 64 && UID.test(uid);
}

function checkUid(uid: string, what: string): void {
  if (!isDicomUid(uid)) throw new RangeError(`not a DICOM ${what} (digits and dots, at most 64 characters): ${JSON.stringify(uid.slice(0, 70))}`);
}

function storedInstances(answer: StoreResponse): StoredInstance[] {
  return answer.stored.map((s) => ({
    sopClassUid: s.sopClassUid, sopInstanceUid: s.sopInstanceUid, retrieveUrl: s.retrieveUrl,
    ...(s.warning !== undefined ? { warning: describeFailureReason(s.warning) } : {}),
  }));
}

function rejectionReason(answer: StoreResponse | undefined, text: string): string {
  const reasons = answer?.failed.map((f) => f.reason).filter((r): r is number => r !== undefined) ?? [];
  if (reasons.length > 0) return `, Failure Reason ${[...new Set(reasons)].map(describeFailureReason).join(', ')}`;
  return text.trim() === '' ? '' : ` (${quote(text)})`;
}

/** A short, printable excerpt of a PACS's text for a message (it may quote anything: keep it brief). */
function quote(text: string): string {
  const flat = text.replace(/\s+/g, ' ').replace(/[^\x20-\x7e]/g, '?').trim();
  return flat.length > MAX_QUOTED ? `${flat.slice(0, MAX_QUOTED - 3)}...` : flat;
}

function headerText(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function isObject(value: unknown): boolean {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

async function* counted(body: AsyncIterable<Uint8Array>, count: (bytes: number) => void): AsyncGenerator<Uint8Array> {
  for await (const chunk of body) {
    count(chunk.length);
    yield chunk;
  }
}

/** Reads and forgets the rest of a body, so the connection can serve the next request. */
async function drain(res: PacsResponse): Promise<void> {
  try {
    for await (const chunk of res.body) void chunk;
  } catch {
    // The status already says what happened; a body cut short adds nothing.
  }
}

/** At most `max` bytes of a body as text; the rest is dropped with the connection. */
async function readText(res: PacsResponse, max: number): Promise<string> {
  const chunks: Buffer[] = [];
  let length = 0;
  try {
    for await (const chunk of res.body as AsyncIterable<Buffer>) {
      chunks.push(chunk);
      length += chunk.length;
      if (length >= max) break;
    }
  } catch {
    // As in drain().
  }
  res.body.destroy();
  return Buffer.concat(chunks).subarray(0, max).toString('utf8');
}

async function readJson(res: PacsResponse, max: number, count?: (bytes: number) => void): Promise<{ ok: boolean; value?: unknown; text: string }> {
  const chunks: Buffer[] = [];
  let length = 0;
  for await (const chunk of res.body as AsyncIterable<Buffer>) {
    count?.(chunk.length);
    length += chunk.length;
    if (length > max) {
      res.body.destroy();
      return { ok: false, text: `a JSON answer of more than ${max} bytes` };
    }
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') return { ok: false, text: '' };
  try {
    return { ok: true, value: JSON.parse(text), text };
  } catch {
    return { ok: false, text };
  }
}
