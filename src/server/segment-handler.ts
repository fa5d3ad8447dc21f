// The Segment RPC: header -> payload chunks -> accepted -> progress* -> labels* -> summary. One SegmentCall per
// stream. Everything that can go wrong ends in `fail`, which maps the error once (src/errors) and sends the
// status unless the client is already gone. Cancellation and deadlines abort the pipeline through an AbortSignal;
// the pipeline stops between slices and never interrupts a worker inside onnxruntime. Decoding the payload and
// encoding the labels run on the codec threads (src/workers/codec-pool.ts), so a large volume never stalls the
// event loop that serves health checks and the other streams.
import { randomUUID } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import { CodedError } from '../errors/coded-error.ts';
import type { SegmentRequest__Output } from '../generated/onesam/v1/SegmentRequest.ts';
import type { SegmentResponse } from '../generated/onesam/v1/SegmentResponse.ts';
import type { Summary } from '../generated/onesam/v1/Summary.ts';
import { mapError, SERVER_REQUEST_ID_KEY, statusName, toStatusObject } from '../errors/grpc-status.ts';
import { networkRecord } from '../models/network-contract.ts';
import type { Logger } from '../observability/logger.ts';
import { errorForLog, requestLogger } from '../observability/logger.ts';
import type { ServiceMetrics } from '../observability/metrics.ts';
import type { SegmentationPlan, Segmenter } from '../pipeline/segmenter.ts';
import type { ProgressEvent, SegmentationRequest, SegmentationResult } from '../pipeline/types.ts';
import type { DecodedVolume } from '../volume/payload.ts';
import type { PayloadCodec } from '../workers/codec-pool.ts';
import type { PacsDirectory } from '../pacs/directory.ts';
import { fetchSeries, storeSegmentation, type StoredSegmentation } from './pacs-transfer.ts';
import { nextMessage, readPayload } from './payload-reader.ts';
import { parseHeader, type ParsedHeader } from './request-header.ts';
import { chooseObjects, rebasePromptErrors } from './request-objects.ts';
import { ResponseWriter } from './response-writer.ts';
import { acceptedMessage, summaryMessage, type RequestTimes } from './response-messages.ts';
import { requestModality } from './request-modality.ts';
import { segOutputOptions } from './seg-output.ts';
import type { Admission, ServiceState } from './service-state.ts';
import type { SessionLease, SessionRegistry } from './session-registry.ts';

/**
 * grpc-js ends a call at its deadline with a timer, and libuv timers run on the event loop's cached clock: on a
 * busy loop the timer fires before the wall-clock deadline. Measured with the loop blocked in 120 ms bursts: 3 of
 * 20 calls saw 'cancelled' 15-19 ms before getDeadline(), and CI once counted a deadline as a client cancel. A
 * 'cancelled' event this close to the deadline is the deadline, not the client.
 */
const DEADLINE_TIMER_SLACK_MS = 1_000;

/** The result of an upload-only session request: nothing segmented, nothing encoded. */
const NOTHING_SEGMENTED: SegmentationResult = Object.freeze({
  labels: new Uint8Array(0),
  objects: [],
  slicesEncoded: networkRecord(() => 0),
  slicesReused: networkRecord(() => 0),
  speedLevel: 1,
  slicesInterpolated: 0,
  stages: { preprocess: 0, encode: 0, decode: 0, postprocess: 0, assemble: 0, queue: 0 },
  wallMs: 0,
});

/** Label bytes per response message: the same ~1 MiB clients use for payload chunks. */
export const LABEL_CHUNK_BYTES = 1024 * 1024;

export interface SegmentHandlerDeps {
  readonly state: ServiceState;
  readonly limits: { readonly maxPayloadBytes: number; readonly maxVoxels: number };
  /** Stalled-client limits (docs/configuration.md): upload idle time and rate floor, response stall time. */
  readonly timeouts: StallTimeouts;
  readonly metrics: ServiceMetrics;
  readonly logger: Logger;
  readonly codec: PayloadCodec;
  readonly sessions: SessionRegistry;
  /** The configured PACS endpoints (header.pacs, header.store); none when the `pacs` setting is empty. */
  readonly pacs?: PacsDirectory;
  /**
   * Whether the message guard (src/server/message-guard.ts) ended this call, and with what: it then sent, logged
   * and counted the status itself, and the 'cancelled' that follows is not the client's.
   */
  readonly refusal?: (metadata: grpc.Metadata) => CodedError | undefined;
  /** The speedLevel setting: the level of requests whose header leaves speed_level unset. */
  readonly speedLevel: number;
}

export interface StallTimeouts {
  readonly uploadIdleTimeoutMs: number;
  readonly uploadMinBytesPerSecond: number;
  readonly responseStallTimeoutMs: number;
}

type SegmentServerCall = grpc.ServerDuplexStream<SegmentRequest__Output, SegmentResponse>;

export function createSegmentHandler(deps: SegmentHandlerDeps): grpc.handleBidiStreamingCall<SegmentRequest__Output, SegmentResponse> {
  return (call) => {
    void new SegmentCall(deps, call).run();
  };
}

class SegmentCall {
  private readonly abort = new AbortController();
  private readonly started = performance.now();
  private readonly writer: ResponseWriter<SegmentResponse>;
  /** The server's own id for this call: the one every log line carries (client text never reaches the log). */
  private readonly requestId = randomUUID();
  /** The id the client reads back (accepted, summary, trailers): its own request_id once the header proved valid. */
  private echoedRequestId: string = this.requestId;
  private log: Logger;
  /** Set once a status is on its way (ours, or grpc-js's DEADLINE_EXCEEDED): later 'cancelled' events are noise. */
  private statusSent = false;
  private outcome: 'cancelled' | 'deadline' | undefined;
  /** The status name the call ended with, once fail() (or the message guard) decided it: it decides only once. */
  private endedAs: string | undefined;
  private network = 'none';
  private readonly deadlineAt: number;
  private deadlineTimer: NodeJS.Timeout | undefined;
  /** The session this request kept or used; released once the pipeline work settled. */
  private lease: SessionLease | undefined;
  /** A PACS source's fetch, once done: its counts stay in every later Progress message (they are cumulative). */
  private fetched = { instancesFetched: 0, bytesFetched: 0 };
  private fetchMs: number | undefined;

  constructor(private readonly deps: SegmentHandlerDeps, private readonly call: SegmentServerCall) {
    this.log = requestLogger(deps.logger, this.requestId, 'Segment');
    // The server's id for this call, before anything else: the only id the logs hold for a client whose own
    // request ids are free text (observability/logger.ts, loggableClientId).
    const idHeader = new grpc.Metadata();
    idHeader.set(SERVER_REQUEST_ID_KEY, this.requestId);
    call.sendMetadata(idHeader);
    this.writer = new ResponseWriter(call, this.abort.signal, { stallMs: deps.timeouts.responseStallTimeoutMs, onStall: (err) => this.abortWith(err) });
    const deadline = call.getDeadline();
    this.deadlineAt = deadline instanceof Date ? deadline.getTime() : deadline;
    if (Number.isFinite(this.deadlineAt)) {
      // grpc-js sends DEADLINE_EXCEEDED itself; this timer stops our work at the same moment.
      this.deadlineTimer = setTimeout(() => this.stop('deadline'), Math.max(0, this.deadlineAt - Date.now()));
      this.deadlineTimer.unref();
    }
    call.on('cancelled', () => {
      const refused = deps.refusal?.(call.metadata);
      if (refused) this.refused(refused);
      else this.stop(Date.now() >= this.deadlineAt - DEADLINE_TIMER_SLACK_MS ? 'deadline' : 'cancelled');
    });
  }

  private stop(reason: 'cancelled' | 'deadline'): void {
    // grpc-js 1.14 emits 'cancelled' after a normal finish too: only a call without a status was cancelled.
    if (this.statusSent || this.outcome) return;
    this.outcome = reason;
    if (reason === 'deadline') {
      this.statusSent = true;
      this.abort.abort(new CodedError('DEADLINE_EXCEEDED', 'the call deadline passed'));
    } else {
      this.deps.metrics.cancelled.inc({ method: 'Segment' });
      this.abort.abort(new CodedError('REQUEST_CANCELLED', 'the client cancelled the call'));
    }
  }

  /** Stops the request for a reason of the server's own (a stalled client): that reason becomes its status. */
  private abortWith(reason: CodedError): void {
    if (this.statusSent || this.outcome || this.abort.signal.aborted) return;
    this.abort.abort(reason);
  }

  /** The message guard ended the call: its status is out, logged and counted; only the work is left to stop. */
  private refused(reason: CodedError): void {
    if (this.statusSent || this.outcome) return;
    this.statusSent = true;
    this.endedAs = statusName(mapError(reason).status);
    this.abort.abort(reason);
  }

  /**
   * The drain's grace period ended with this call still running: it ends now, with UNAVAILABLE and its code sent
   * as a status (not an RST_STREAM when the server closes), logged and counted like any failure. Its pipeline
   * stops between slices; run() releases the slot once it has settled, and the drain waits for that.
   */
  private interrupt(reason: CodedError): void {
    if (this.statusSent || this.outcome) return;
    this.fail(reason);
  }

  async run(): Promise<void> {
    const { metrics, state } = this.deps;
    metrics.inFlight.inc();
    const stopInterrupts = state.whileRunning((reason) => this.interrupt(reason));
    let admission: Admission | undefined;
    let status = 'OK';
    try {
      admission = state.admit();
      await this.serve(admission);
    } catch (err) {
      // A pipeline stopped by abortWith() throws its own REQUEST_CANCELLED: the abort's reason is the real cause.
      const reason: unknown = this.abort.signal.reason;
      status = this.fail(reason instanceof CodedError && !this.outcome ? reason : err);
    } finally {
      stopInterrupts();
      // A call interrupted by the drain may still return normally when the abort came after its last check.
      status = this.endedAs ?? status;
      clearTimeout(this.deadlineTimer);
      // Only now has the pipeline settled (an aborted segment() returns once its in-flight slices finished).
      this.lease?.release();
      admission?.release();
      metrics.inFlight.dec();
      metrics.requestDuration.observe({ method: 'Segment', network: this.network, status }, (performance.now() - this.started) / 1000);
    }
  }

  private async serve(admission: Admission): Promise<void> {
    const { limits, metrics, timeouts } = this.deps;
    const segmenter = admission.segmenter;
    const signal = this.abort.signal;
    const messages = this.call.iterator({ destroyOnReturn: false }) as AsyncIterator<SegmentRequest__Output>;
    const first = await nextMessage(messages, timeouts.uploadIdleTimeoutMs, signal, 'the header');
    if (first.done) throw new CodedError('STREAM_INVALID', 'the stream ended before a header');
    if (first.value.message !== 'header' || !first.value.header) {
      throw new CodedError('STREAM_INVALID', 'the first message must be a header', 'header');
    }
    if (first.value.header.requestId !== '') {
      this.log = requestLogger(this.deps.logger, this.requestId, 'Segment', first.value.header.requestId);
    }
    const header = parseHeader(first.value.header, { ...limits, pacsEndpoints: this.deps.pacs?.names ?? [] }, () => this.requestId);
    this.echoedRequestId = header.requestId;
    const upload = header.source.kind === 'upload' ? header.source : undefined;
    // A volume that arrives with this request (uploaded or fetched) may be kept as a session.
    const keepSession = header.source.kind !== 'session' && header.source.keepSession;
    this.log.info({
      format: header.source.kind === 'session' ? 'session' : header.source.payload.format, modality: header.modality ?? null, mode: header.mode, prompts: header.prompts.length,
      payloadBytes: upload?.payloadBytes ?? 0, output: header.output,
      // The session id is the client's text until the registry knows it; ingest names the session once found.
      session: header.source.kind === 'session',
      // Endpoint names are the server's own configuration; the UIDs name a patient's study and stay out of the log.
      ...(header.source.kind === 'pacs' ? { pacs: header.source.endpoint } : {}),
      ...(header.store ? { store: header.store.endpoint } : {}),
    }, 'segment request');

    const ingestStart = performance.now();
    const decoded = await this.ingest(messages, header, admission);
    const ingestMs = performance.now() - ingestStart;
    this.checkAborted();
    // An upload's format was checked with the header; a session's volume is known only now.
    if (header.output.format === 'dicom-seg' && decoded.geometry.kind !== 'dicom') {
      throw new CodedError('HEADER_INVALID', 'LABEL_FORMAT_DICOM_SEG needs a DICOM input (PAYLOAD_FORMAT_DICOM, or a session holding one), and this session\'s volume was not uploaded as DICOM', 'header.output.format');
    }

    // keep_session without any prompt: the volume is uploaded ahead of the first prompt (a viewer opening a study),
    // so the answer is the acceptance and a summary, with no labels.
    const uploadOnly = keepSession && header.prompts.length === 0 && !decoded.boxes?.length && !decoded.scribbles?.length;
    const { objects, source } = uploadOnly ? { objects: [], source: 'header' as const } : chooseObjects(header, decoded);
    const routed = requestModality(header.modality, decoded, this.lease?.session);
    const modality = routed.modality;
    const request: SegmentationRequest = {
      requestId: header.requestId, image: decoded.image, objects, mode: header.mode, ...(modality ? { modality } : {}),
      speedLevel: header.speedLevel ?? this.deps.speedLevel,
    };
    const plan = rebasePromptErrors(() => segmenter.plan(request), source);
    this.network = networkLabel(plan);
    // A volume is kept only once its prompts proved valid: a refused request leaves nothing behind.
    if (keepSession) {
      this.lease = this.deps.sessions.open(decoded, modality, () => segmenter.openCache());
      metrics.sessionsOpened.inc();
      this.log.info({ sessionId: this.lease.session.id, sessionBytes: this.lease.session.bytes }, 'session opened');
    }
    const session = this.lease?.session;
    await this.writer.write({ accepted: acceptedMessage(header, decoded.image, plan, routed.source, session && this.deps.sessions.snapshot(session)) });
    this.checkAborted();
    if (uploadOnly) {
      const times: RequestTimes = { ingestMs, sendMs: 0, wallMs: performance.now() - this.started, ...this.pacsTimes() };
      await this.finish(summaryMessage(header, NOTHING_SEGMENTED, 'uint8', decoded.geometry.labelShape, 0, times, session && this.deps.sessions.snapshot(session)));
      this.log.info({ wallMs: Math.round(times.wallMs), sessionId: session?.id }, 'volume kept without prompts');
      return;
    }

    const progress = { slicesEncoded: 0, slicesTotal: 0, objectsDone: 0, objectsTotal: objects.length, ...this.fetched, storing: false };
    const onProgress = (event: ProgressEvent): void => {
      if (event.kind === 'encoded') {
        // Counted as the work happens, not when the request completes: a dashboard sees a cancelled request's
        // work stop where it stopped, and the slices it did encode are not lost from the total.
        (event.reused ? metrics.slicesReused : metrics.slicesEncoded).inc({ network: event.network });
        progress.slicesEncoded = event.done;
        progress.slicesTotal = event.total;
      } else {
        progress.objectsDone = event.done;
        progress.objectsTotal = event.total;
      }
      this.writer.offerProgress({ progress: { ...progress } });
    };
    const result: SegmentationResult = await rebasePromptErrors(() => segmenter.segment(request, { signal, onProgress, plan, ...(session ? { cache: session.cache } : {}) }), source);
    this.checkAborted();

    const sendStart = performance.now();
    const seg = header.output.format === 'dicom-seg' ? segOutputOptions(objects, header.segments, result, segmenter.networks()) : undefined;
    // The label volume moves to the codec thread: result.labels is unusable from here on.
    const { bytes: encoded, dtype, segmentation } = await this.deps.codec.encode({
      labels: result.labels, geometry: decoded.geometry, format: header.output.format, gzip: header.output.gzip, forceUint16: header.output.forceUint16,
      ...(seg ? { seg } : {}),
    });
    this.checkAborted();
    const written = segmentation && decoded.geometry.kind === 'dicom'
      ? { ...segmentation, studyInstanceUid: decoded.geometry.series.studyInstanceUid ?? '' }
      : undefined;
    // Stored before any label goes out: a store that fails fails the call, and the client can simply retry it.
    let stored: StoredSegmentation | undefined;
    if (header.store && written) {
      this.writer.offerProgress({ progress: { ...progress, storing: true } });
      stored = await storeSegmentation(this.deps.pacs!.client(header.store.endpoint, 'header.store.endpoint'), encoded, written.studyInstanceUid || undefined, written.sopInstanceUid, signal);
      this.checkAborted();
      this.log.info({ store: stored.endpoint, storeMs: Math.round(stored.ms), segBytes: encoded.length, ...(stored.warning ? { warning: stored.warning } : {}) }, 'segmentation stored in the PACS');
    }
    const sendLabels = !header.store || header.store.sendLabels;
    for (let offset = 0; sendLabels && offset < encoded.length; offset += LABEL_CHUNK_BYTES) {
      const data = encoded.subarray(offset, Math.min(offset + LABEL_CHUNK_BYTES, encoded.length));
      await this.writer.write({ labels: { data, offset } });
      this.checkAborted();
      metrics.bytesSent.inc(data.length);
    }
    const times: RequestTimes = { ingestMs, sendMs: performance.now() - sendStart, wallMs: performance.now() - this.started, ...this.pacsTimes(stored) };
    const labelBytes = sendLabels ? encoded.length : 0;
    await this.finish(summaryMessage(header, result, dtype, decoded.geometry.labelShape, labelBytes, times, session && this.deps.sessions.snapshot(session), written,
      stored && { endpoint: stored.endpoint, retrieveUrl: stored.retrieveUrl, warning: stored.warning }));
    this.record(result, times);
    this.log.info({
      wallMs: Math.round(times.wallMs), network: this.network, modalitySource: routed.source, objects: result.objects.length, slicesEncoded: result.slicesEncoded,
      slicesReused: result.slicesReused, labelBytes: encoded.length,
      ...objectQualityLog(result.objects),
    }, 'segment done');
  }

  /** The PACS legs' times for the summary, when the request had them. */
  private pacsTimes(stored?: StoredSegmentation): Pick<RequestTimes, 'fetchMs' | 'storeMs'> {
    return { ...(this.fetchMs !== undefined ? { fetchMs: this.fetchMs } : {}), ...(stored ? { storeMs: stored.ms } : {}) };
  }

  /** Sends the summary, the last message, and ends the call with OK. */
  private async finish(summary: Summary): Promise<void> {
    await this.writer.writeLast({ summary });
    this.checkAborted();
    // From here the call has succeeded: a later stall timer or drain interrupt must not follow the summary with an
    // error status (both check statusSent).
    this.statusSent = true;
    this.call.end();
  }

  /**
   * Reads and decodes the payload, or leases the session's volume. Uploaded bytes move to the codec thread
   * (transferred, not copied) and go out of scope there, before the long pipeline run.
   */
  private async ingest(messages: AsyncIterator<SegmentRequest__Output>, header: ParsedHeader, admission: Admission): Promise<DecodedVolume> {
    const { limits, metrics, timeouts } = this.deps;
    const signal = this.abort.signal;
    if (header.source.kind === 'session') {
      this.lease = this.deps.sessions.acquire(header.source.sessionId);
      this.log = this.log.child({ sessionId: this.lease.session.id });
      const next = await nextMessage(messages, timeouts.uploadIdleTimeoutMs, signal, 'the half-close after a session header');
      if (!next.done) throw new CodedError('STREAM_INVALID', 'no chunk may follow a header that names a session (header.session_id): the session holds the volume', 'chunk');
      await admission.compute(signal);
      return this.lease.session.volume;
    }
    if (header.source.kind === 'pacs') return this.fetchFromPacs(messages, header.source, admission);
    const upload = header.source;
    // Before the payload array exists: its declared size must fit in the upload memory budget (upload-budget.ts).
    const reservation = admission.reserveUpload(upload.payloadBytes);
    try {
      const bytes = await readPayload(messages, upload.payloadBytes, {
        signal,
        saturated: () => saturated(admission.segmenter),
        onBytes: (n) => metrics.bytesReceived.inc(n),
        timing: { idleMs: timeouts.uploadIdleTimeoutMs, minBytesPerSecond: timeouts.uploadMinBytesPerSecond },
      });
      // The upload is complete: from here on the call counts against maxConcurrentRequests, not the upload slots.
      await admission.compute(signal);
      // Awaited here so the reservation lasts until the codec thread, which holds the transferred payload, is done.
      return await this.deps.codec.decode(upload.payload, bytes, { maxDecodedBytes: limits.maxPayloadBytes, maxVoxels: limits.maxVoxels });
    } finally {
      // The raw payload is gone: decoded, or dropped by a failed read, a cancel, a timeout or a drain interrupt.
      reservation.release();
    }
  }

  /**
   * A series from a PACS instead of an upload: after the half-close, retrieved in the upload phase (it holds an
   * upload slot and, as it grows, upload memory, like an upload), framed as a DICOM upload and decoded on the codec
   * threads like one. Progress messages report the instances and bytes received so far.
   */
  private async fetchFromPacs(messages: AsyncIterator<SegmentRequest__Output>, source: Extract<ParsedHeader['source'], { kind: 'pacs' }>, admission: Admission): Promise<DecodedVolume> {
    const { limits, timeouts } = this.deps;
    const signal = this.abort.signal;
    const next = await nextMessage(messages, timeouts.uploadIdleTimeoutMs, signal, 'the half-close after a PACS header');
    if (!next.done) throw new CodedError('STREAM_INVALID', 'no chunk may follow a header that names a PACS series (header.pacs): the server fetches it', 'chunk');
    const client = this.deps.pacs!.client(source.endpoint, 'header.pacs.endpoint');
    const reservation = admission.reserveUpload(0);
    try {
      const series = await fetchSeries(client, source.studyInstanceUid, source.seriesInstanceUid, {
        maxBytes: limits.maxPayloadBytes,
        signal,
        reservation,
        onProgress: (instances, bytes) => {
          this.fetched = { instancesFetched: instances, bytesFetched: bytes };
          this.writer.offerProgress({ progress: { ...this.fetched } });
        },
      });
      this.fetchMs = series.ms;
      this.log.info({ pacs: source.endpoint, instances: series.instances, bytes: series.bytes, fetchMs: Math.round(series.ms) }, 'series fetched from the PACS');
      await admission.compute(signal);
      return await this.deps.codec.decode(source.payload, series.payload, { maxDecodedBytes: limits.maxPayloadBytes, maxVoxels: limits.maxVoxels });
    } finally {
      reservation.release();
    }
  }

  private checkAborted(): void {
    if (this.abort.signal.aborted) throw this.abort.signal.reason;
  }

  private record(result: SegmentationResult, times: RequestTimes): void {
    const { metrics } = this.deps;
    const s = result.stages;
    metrics.observeStage('ingest', times.ingestMs);
    metrics.observeStage('preprocess', s.preprocess);
    metrics.observeStage('encode', s.encode);
    metrics.observeStage('decode', s.decode);
    metrics.observeStage('postprocess', s.postprocess);
    metrics.observeStage('assemble', s.assemble);
    metrics.observeStage('send', times.sendMs);
    metrics.queueTime.observe(s.queue / 1000);
    metrics.computeTime.observe((s.preprocess + s.encode + s.decode + s.postprocess) / 1000);
    metrics.speedLevelRequests.inc({ level: String(result.speedLevel) });
    metrics.slicesInterpolated.inc(result.slicesInterpolated);
    for (const o of result.objects) {
      metrics.objects.inc({ quality: o.quality });
      metrics.predictedIou.observe({ network: o.networks.length > 1 ? 'fuse' : o.networks[0] ?? 'none' }, o.predictedIou.mean);
    }
  }

  /**
   * Maps, logs and (when the client can still hear it) sends the error; returns the status name for metrics. Only
   * the first call counts: an interrupted call fails at once and again when its aborted pipeline throws.
   */
  private fail(err: unknown): string {
    this.endedAs ??= this.settle(err);
    return this.endedAs;
  }

  private settle(err: unknown): string {
    if (this.outcome === 'cancelled') {
      this.log.info({ wallMs: Math.round(performance.now() - this.started) }, 'segment cancelled by the client');
      return 'CANCELLED';
    }
    if (this.outcome === 'deadline') {
      this.deps.metrics.errors.inc({ code: 'DEADLINE_EXCEEDED' });
      this.log.info({ wallMs: Math.round(performance.now() - this.started) }, 'segment deadline exceeded');
      return 'DEADLINE_EXCEEDED';
    }
    // INTERNAL's message to the client names the server's request id: the one the log lines carry.
    const mapped = mapError(err, this.requestId);
    this.deps.metrics.errors.inc({ code: mapped.code });
    // The message (mapped.details) quotes what the client sent (a modality, npz key names, a session id): it goes
    // to the client only. The code and the field path (always the server's own words) go to the log.
    const fields = { code: mapped.code, field: mapped.field };
    if (mapped.code === 'INTERNAL') this.log.error({ ...fields, error: errorForLog(err) }, 'segment failed');
    else this.log[mapped.logLevel](fields, 'segment failed');
    if (!this.statusSent) {
      this.statusSent = true;
      this.abort.abort(err);
      this.call.emit('error', toStatusObject(mapped, this.echoedRequestId));
    }
    return statusName(mapped.status);
  }
}

const round3 = (x: number): number => Math.round(x * 1000) / 1000;
/** Objects listed one by one in the log line; a request may carry 65535, which are then only counted. */
const LOGGED_OBJECTS = 16;

/**
 * How sure the model was: objects per quality hint, and the first objects' quality, predicted IoU and early stop in
 * prompt order. Volumes and voxel counts stay out: they describe the patient's anatomy, the predicted IoU only the
 * model.
 */
function objectQualityLog(objects: SegmentationResult['objects']): Record<string, unknown> {
  const qualityCounts: Record<string, number> = {};
  for (const o of objects) qualityCounts[o.quality] = (qualityCounts[o.quality] ?? 0) + 1;
  return {
    qualityCounts,
    objectQuality: objects.slice(0, LOGGED_OBJECTS).map((o) => ({ quality: o.quality, iouMean: round3(o.predictedIou.mean), iouMin: round3(o.predictedIou.min), stoppedEarly: o.stoppedEarly })),
  };
}

function saturated(segmenter: Segmenter): boolean {
  const s = segmenter.poolStats();
  return s.busy >= s.workers && s.queued > 0;
}

function networkLabel(plan: SegmentationPlan): string {
  if (plan.mode === 'fuse') return 'fuse';
  const networks = new Set(plan.objects.flatMap((o) => o.networks));
  if (networks.size === 0) return plan.mode === 'route' ? 'none' : plan.mode;
  return [...networks].sort().join('+');
}
