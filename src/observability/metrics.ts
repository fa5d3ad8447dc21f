// Prometheus metrics of the service, on a registry of its own (so tests can create several servers in one
// process). Latencies are histograms with low-cardinality labels; worker timings come back with task results and
// are observed here, in the main thread. Default process metrics (RSS, event loop lag) are main-thread only.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { PacsObserver } from '../pacs/client.ts';

export const STAGES = ['ingest', 'preprocess', 'encode', 'decode', 'postprocess', 'assemble', 'send'] as const;
export type Stage = (typeof STAGES)[number];

export interface SessionTotals {
  readonly sessions: number;
  readonly bytes: number;
}

/** Segment calls by admission phase (src/server/service-state.ts). */
export interface AdmissionSnapshot {
  /** Holding an upload slot: receiving, or complete and waiting for a compute slot. */
  readonly uploading: number;
  /** Holding a compute slot: decoding, segmenting, sending labels. */
  readonly computing: number;
  /** Declared payload bytes reserved by the uploads in flight, and the budget (uploadMemoryBytes). */
  readonly uploadBytes?: number;
  readonly uploadBudgetBytes?: number;
}

/** Slice embeddings held in the server-wide embedding budget, and the budget. */
export interface EmbeddingSnapshot {
  readonly inUse: number;
  readonly limit: number;
}

export interface PoolSnapshot {
  readonly queued: number;
  readonly busy: number;
  readonly workers: number;
  /** Threads alive with their sessions loaded (fewer than `workers` while a lost one is replaced). */
  readonly ready?: number;
}

const REQUEST_BUCKETS = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600];
const IOU_BUCKETS = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.95, 1];
const STAGE_BUCKETS = [0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];

export class ServiceMetrics {
  readonly registry = new Registry();
  readonly requestDuration: Histogram<'method' | 'network' | 'status'>;
  readonly stageDuration: Histogram<'stage'>;
  readonly queueTime: Histogram;
  readonly computeTime: Histogram;
  readonly slicesEncoded: Counter<'network'>;
  readonly slicesReused: Counter<'network'>;
  /** Object slices a speed-level walk filled by shape interpolation instead of decoding (docs/pipeline.md). */
  readonly slicesInterpolated: Counter;
  /** Segment requests that ran the pipeline, by speed level (1: the exact walk). */
  readonly speedLevelRequests: Counter<'level'>;
  /** Per segmented object: the decoder's mean predicted IoU, by network (`fuse` when both ran). */
  readonly predictedIou: Histogram<'network'>;
  /** Segmented objects by quality hint (ok, low_predicted_iou, empty). */
  readonly objects: Counter<'quality'>;
  readonly sessionsOpened: Counter;
  readonly sessionsDropped: Counter<'reason'>;
  readonly inFlight: Gauge;
  readonly bytesReceived: Counter;
  readonly bytesSent: Counter;
  readonly cancelled: Counter<'method'>;
  readonly errors: Counter<'code'>;
  readonly modelLoadFailures: Counter;
  readonly graphRepairs: Counter;
  readonly workerFailures: Counter<'kind'>;
  /** DICOMweb operations with the configured PACS endpoints (src/pacs), retries included. */
  readonly pacsDuration: Histogram<'endpoint' | 'operation' | 'outcome'>;
  readonly pacsBytes: Counter<'endpoint' | 'operation'>;
  readonly pacsRetries: Counter<'endpoint' | 'operation'>;
  private modelsReadySource: (() => boolean) | undefined;
  private poolSource: (() => PoolSnapshot | undefined) | undefined;
  private sessionSource: (() => SessionTotals) | undefined;
  private embeddingSource: (() => EmbeddingSnapshot | undefined) | undefined;
  private admissionSource: (() => AdmissionSnapshot) | undefined;

  constructor(options: { readonly defaultMetrics?: boolean } = {}) {
    const registers = [this.registry];
    this.requestDuration = new Histogram({
      name: 'onesam_request_duration_seconds', help: 'RPC wall time from the first message to the status, by method, network and gRPC status.',
      labelNames: ['method', 'network', 'status'], buckets: REQUEST_BUCKETS, registers,
    });
    this.stageDuration = new Histogram({
      name: 'onesam_stage_duration_seconds', help: 'Time per request spent in each stage (pipeline stages summed over objects and workers).',
      labelNames: ['stage'], buckets: STAGE_BUCKETS, registers,
    });
    this.queueTime = new Histogram({
      name: 'onesam_request_queue_seconds', help: 'Time per request its worker tasks waited for a free worker.', buckets: STAGE_BUCKETS, registers,
    });
    this.computeTime = new Histogram({
      name: 'onesam_request_compute_seconds', help: 'Worker compute time per request (preprocess, encode, decode, postprocess).', buckets: STAGE_BUCKETS, registers,
    });
    this.slicesEncoded = new Counter({ name: 'onesam_slices_encoded_total', help: 'Slices run through an image encoder.', labelNames: ['network'], registers });
    this.slicesReused = new Counter({ name: 'onesam_slices_reused_total', help: 'Slice embeddings a session request took from its session instead of encoding.', labelNames: ['network'], registers });
    // Levels are integers 1..MAX_SPEED_LEVEL (validated with the header): bounded cardinality. Beside
    // onesam_slices_encoded_total they show how much of the traffic is not the reference's exact walk.
    this.slicesInterpolated = new Counter({ name: 'onesam_slices_interpolated_total', help: 'Object slices that speed-level 3D walks filled by shape interpolation instead of decoding them.', registers });
    this.speedLevelRequests = new Counter({ name: 'onesam_speed_level_requests_total', help: 'Segmented requests by speed level (1: every slice, exact).', labelNames: ['level'], registers });
    // A drift in what the networks are fed (a new scanner, another modality routed to the wrong network) shows as
    // this distribution sliding down long before anyone reviews masks.
    this.predictedIou = new Histogram({
      name: 'onesam_object_predicted_iou', help: 'Mean predicted IoU of each segmented object (the mask decoder\'s IoU head), by network (fuse: both).',
      labelNames: ['network'], buckets: IOU_BUCKETS, registers,
    });
    this.objects = new Counter({ name: 'onesam_objects_total', help: 'Segmented objects by quality hint: ok, low_predicted_iou, empty.', labelNames: ['quality'], registers });
    this.sessionsOpened = new Counter({ name: 'onesam_sessions_opened_total', help: 'Volumes kept as sessions (keep_session).', registers });
    this.sessionsDropped = new Counter({ name: 'onesam_sessions_dropped_total', help: 'Sessions dropped, by reason: closed, expired, evicted (room for a newer one), shutdown.', labelNames: ['reason'], registers });
    this.inFlight = new Gauge({ name: 'onesam_inflight_requests', help: 'Segment calls being served.', registers });
    this.bytesReceived = new Counter({ name: 'onesam_received_bytes_total', help: 'Payload bytes received in chunks.', registers });
    this.bytesSent = new Counter({ name: 'onesam_sent_bytes_total', help: 'Encoded label bytes sent.', registers });
    this.cancelled = new Counter({ name: 'onesam_requests_cancelled_total', help: 'Calls the client cancelled before the server sent a status.', labelNames: ['method'], registers });
    this.errors = new Counter({ name: 'onesam_errors_total', help: 'Failed calls by stable error code.', labelNames: ['code'], registers });

    this.modelLoadFailures = new Counter({
      name: 'onesam_model_load_failures_total', help: 'Times the networks failed to load (at start, or when a replacement worker thread could not load them); the server then stays NOT_SERVING.', registers,
    });
    this.graphRepairs = new Counter({
      name: 'onesam_graph_cache_repairs_total', help: 'Cached compiled graphs that failed their size/SHA-256 check and were rebuilt from the weights.', registers,
    });
    this.workerFailures = new Counter({
      name: 'onesam_worker_failures_total', help: 'Worker faults: thread_lost (a thread died and was replaced), task_failed (a task failed inside a live thread, e.g. onnxruntime failed a run: INFERENCE_FAILED).',
      labelNames: ['kind'], registers,
    });
    // Endpoint names come from the configuration, operations and outcomes from fixed lists: bounded cardinality.
    this.pacsDuration = new Histogram({
      name: 'onesam_pacs_request_duration_seconds', help: 'DICOMweb operations with a PACS endpoint (search, retrieve, store), retries and their waits included, by endpoint, operation and outcome (ok or the error code).',
      labelNames: ['endpoint', 'operation', 'outcome'], buckets: REQUEST_BUCKETS, registers,
    });
    this.pacsBytes = new Counter({
      name: 'onesam_pacs_bytes_total', help: 'Body bytes received from (search, retrieve) or sent to (store) PACS endpoints, by the attempt that settled each operation.',
      labelNames: ['endpoint', 'operation'], registers,
    });
    this.pacsRetries = new Counter({
      name: 'onesam_pacs_retries_total', help: 'DICOMweb attempts retried after a transient failure (connection error or timeout, 5xx, 429).',
      labelNames: ['endpoint', 'operation'], registers,
    });
    const modelsReady = (): boolean => this.modelsReadySource?.() ?? false;
    new Gauge({
      name: 'onesam_models_ready', help: '1 while the networks are loaded and the worker pool can serve; 0 while loading, after a load failure and from shutdown.', registers,
      collect() { this.set(modelsReady() ? 1 : 0); },
    });
    const pool = (): PoolSnapshot | undefined => this.poolSource?.();
    new Gauge({
      name: 'onesam_pool_workers_ready', help: 'Worker threads alive with their sessions loaded (below onesam_pool_workers while a lost thread is replaced).', registers,
      collect() { const s = pool(); this.set(s?.ready ?? s?.workers ?? 0); },
    });
    new Gauge({
      name: 'onesam_pool_queue_depth', help: 'Worker tasks waiting for a free worker.', registers,
      collect() { this.set(pool()?.queued ?? 0); },
    });
    new Gauge({
      name: 'onesam_pool_utilisation', help: 'Busy workers / workers (0..1).', registers,
      collect() { const s = pool(); this.set(s && s.workers > 0 ? s.busy / s.workers : 0); },
    });
    new Gauge({
      name: 'onesam_pool_workers', help: 'Worker threads in the pool (0 while loading).', registers,
      collect() { this.set(pool()?.workers ?? 0); },
    });
    const sessions = (): SessionTotals | undefined => this.sessionSource?.();
    new Gauge({
      name: 'onesam_sessions', help: 'Sessions held.', registers,
      collect() { this.set(sessions()?.sessions ?? 0); },
    });
    new Gauge({
      name: 'onesam_session_volume_bytes', help: 'Bytes of prepared volumes the sessions hold (their cached embeddings are in the embedding budget).', registers,
      collect() { this.set(sessions()?.bytes ?? 0); },
    });
    const admission = (): AdmissionSnapshot | undefined => this.admissionSource?.();
    new Gauge({
      name: 'onesam_admitted_requests', help: 'Segment calls holding an admission slot, by phase: upload (maxConcurrentUploads) or compute (maxConcurrentRequests).',
      labelNames: ['phase'], registers,
      collect() {
        const a = admission();
        this.set({ phase: 'upload' }, a?.uploading ?? 0);
        this.set({ phase: 'compute' }, a?.computing ?? 0);
      },
    });
    // Raw payloads in flight: what hostile or bursty uploads can make the process hold, bounded by uploadMemoryBytes.
    new Gauge({
      name: 'onesam_upload_reserved_bytes', help: 'Declared payload bytes reserved by the uploads in flight (from the header until the raw payload is decoded or dropped).', registers,
      collect() { this.set(admission()?.uploadBytes ?? 0); },
    });
    new Gauge({
      name: 'onesam_upload_budget_bytes', help: 'The upload memory budget (uploadMemoryBytes); uploads that do not fit are refused with UPLOAD_MEMORY_EXHAUSTED.', registers,
      collect() { this.set(admission()?.uploadBudgetBytes ?? 0); },
    });
    // Embeddings are the service's largest variable memory: they should fall back to the sessions' share when idle.
    const embeddings = (): EmbeddingSnapshot | undefined => this.embeddingSource?.();
    new Gauge({
      name: 'onesam_embedding_bytes', help: 'Bytes of slice embeddings held in the embedding budget (requests in flight, their spare buffers, and session caches).', registers,
      collect() { this.set(embeddings()?.inUse ?? 0); },
    });
    new Gauge({
      name: 'onesam_embedding_budget_bytes', help: 'The embedding budget (embeddingBudgetBytes); 0 until the models are loaded.', registers,
      collect() { this.set(embeddings()?.limit ?? 0); },
    });
    if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: this.registry });
  }

  /** Where pool gauges read from; set once the pool exists (gauges read 0 until then). */
  setPoolSource(source: () => PoolSnapshot | undefined): void {
    this.poolSource = source;
  }

  /** Whether the networks can serve now (drives onesam_models_ready). */
  setModelsReadySource(source: () => boolean): void {
    this.modelsReadySource = source;
  }

  setSessionSource(source: () => SessionTotals): void {
    this.sessionSource = source;
  }

  /** Where the embedding gauges read from; set once the segmenter exists (they read 0 until then). */
  setEmbeddingSource(source: () => EmbeddingSnapshot | undefined): void {
    this.embeddingSource = source;
  }

  setAdmissionSource(source: () => AdmissionSnapshot): void {
    this.admissionSource = source;
  }

  /** What the PACS clients report, as the onesam_pacs_* metrics. */
  pacsObserver(): PacsObserver {
    return {
      operation: (e) => {
        this.pacsDuration.observe({ endpoint: e.endpoint, operation: e.operation, outcome: e.outcome }, e.ms / 1000);
        this.pacsBytes.inc({ endpoint: e.endpoint, operation: e.operation }, e.bytes);
      },
      retry: (e) => this.pacsRetries.inc({ endpoint: e.endpoint, operation: e.operation }),
    };
  }

  observeStage(stage: Stage, ms: number): void {
    this.stageDuration.observe({ stage }, ms / 1000);
  }
}
