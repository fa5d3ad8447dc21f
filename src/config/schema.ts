// The configuration schema: every setting once, with its type, bounds, default, environment variable and CLI flag.
// Loading (load.ts), the docs (docs/configuration.md, kept in step by a test) and `onesam serve --help` all read
// this table.
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { DEFAULT_MAX_VOXELS } from '../volume/limits.ts';
import type { PacsEndpoint } from '../pacs/endpoint.ts';
import { DEFAULT_MODELS, type NetworkModels } from '../pipeline/serving.ts';
import { DEFAULT_GAP_MODE, EXACT_SPEED_LEVEL, GAP_MODES, MAX_SPEED_LEVEL, type GapMode } from '../pipeline/speed-level.ts';
import type { NetworkPrecisions } from '../pipeline/calibration-set.ts';

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
export const LOG_LEVELS: readonly LogLevel[] = Object.freeze(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']);

export interface TlsConfig {
  /** PEM server certificate chain (path). */
  readonly cert: string;
  /** PEM private key (path). */
  readonly key: string;
  /** PEM CA bundle (path); when set, clients must present a certificate it signed (mTLS). */
  readonly clientCa?: string;
}

export interface Config {
  readonly host: string;
  readonly port: number;
  readonly metricsPort: number;
  readonly modelsDir: string;
  readonly cacheDir?: string;
  readonly workers: number;
  readonly intraOpThreads: number;
  /** Threads decoding payloads and encoding labels, apart from the onnxruntime workers. */
  readonly codecThreads: number;
  readonly maxPayloadBytes: number;
  /** Voxels a payload may decode to (any one array), checked from its header before anything is inflated. */
  readonly maxVoxels: number;
  readonly maxMessageBytes: number;
  readonly maxConcurrentRequests: number;
  /** Segment calls in their upload phase at once (header and chunks still arriving); apart from maxConcurrentRequests. */
  readonly maxConcurrentUploads: number;
  /** Longest wait for the next request message (the header included) before the call ends UPLOAD_IDLE_TIMEOUT. */
  readonly uploadIdleTimeoutMs: number;
  /** Slowest average upload rate accepted once uploadIdleTimeoutMs has passed since the first chunk; 0 turns it off. */
  readonly uploadMinBytesPerSecond: number;
  /** Longest a response may wait for the client to read (the stream blocked on 'drain') before RESPONSE_STALLED. */
  readonly responseStallTimeoutMs: number;
  /** Declared payload bytes all uploads in flight may hold together (UPLOAD_MEMORY_EXHAUSTED beyond); >= maxPayloadBytes. */
  readonly uploadMemoryBytes: number;
  readonly queueLimit: number;
  readonly embeddingBudgetBytes: number;
  /** Speed level of 3D box walks for requests that do not name one (RequestHeader.speed_level); 1 is exact. */
  readonly speedLevel: number;
  /** How 3D walks above speed level 1 fill the slices between computed ones (src/pipeline/speed-level.ts, GapMode). */
  readonly speedLevelGaps: GapMode;
  /** Volumes kept for later prompts (RequestHeader.keep_session); 0 turns sessions off. */
  readonly maxSessions: number;
  /** Bytes of prepared volumes all sessions may hold (their cached embeddings count in embeddingBudgetBytes). */
  readonly sessionMemoryBytes: number;
  readonly sessionIdleSeconds: number;
  readonly shutdownGraceMs: number;
  readonly tls?: TlsConfig;
  readonly authToken?: string;
  readonly logLevel: LogLevel;
  /** Modality -> network overrides of the default routing table (validated against src/pipeline/router.ts). */
  readonly routing: Readonly<Record<string, string>>;
  /**
   * Repository model serving each network (checked against modelsDir in load.ts). A network left out is not loaded
   * and ROUTE sends every modality to the served one (src/pipeline/serving.ts).
   */
  readonly models: NetworkModels;
  /** The networks the models setting asks for in int8 (`"precision": "int8"`), with their calibration; absent: all fp32. */
  readonly modelPrecisions?: NetworkPrecisions;
  /**
   * DICOMweb endpoints by name (docs/pacs.md): the only PACS addresses the server ever contacts. Requests name an
   * endpoint; an empty object turns PACS sources and stores off.
   */
  readonly pacs: Readonly<Record<string, PacsEndpoint>>;
}

export type FieldType = 'port' | 'int' | 'bytes' | 'string' | 'path' | 'secret' | 'choice' | 'routing' | 'models' | 'pacs';

export interface FieldSpec {
  /** Dotted path in the config file and in error messages. */
  readonly path: string;
  readonly env: string;
  readonly flag?: string;
  readonly type: FieldType;
  readonly min?: number;
  readonly max?: number;
  /** type 'choice': the values accepted. */
  readonly choices?: readonly string[];
  /** Shown in docs; the effective default is computed in load.ts when it depends on the machine. */
  readonly defaultText: string;
  readonly description: string;
}

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;

export const DEFAULTS = Object.freeze({
  host: '0.0.0.0',
  port: 50051,
  metricsPort: 9464,
  modelsDir: fileURLToPath(new URL('../../models', import.meta.url)),
  models: DEFAULT_MODELS as NetworkModels,
  intraOpThreads: 1,
  // One thread keeps decoding off the event loop; requests queue for it only while another volume is being decoded.
  codecThreads: 1,
  // A 512 x 512 x 1000 int16 CT is 500 MiB.
  maxPayloadBytes: 512 * MiB,
  // 512 x 512 x 1024: the int16 CT maxPayloadBytes admits; why it fits the pod: DEFAULT_MAX_VOXELS in src/volume/limits.ts.
  maxVoxels: DEFAULT_MAX_VOXELS,
  // grpc-js defaults to 4 MiB; clients send ~1 MiB chunks, so 8 MiB leaves room without inviting huge messages.
  maxMessageBytes: 8 * MiB,
  maxConcurrentRequests: 8,
  // maxConcurrentUploads defaults to twice maxConcurrentRequests (load.ts): room for the next requests to upload
  // while the compute slots are busy, without letting stalled uploads multiply unbounded.
  // A client sending ~1 MiB chunks sends one every few ms on any working link; 30 s outlasts TCP retransmission
  // backoff and a client's GC pause or slow disk read, and bounds what a silent client holds.
  uploadIdleTimeoutMs: 30_000,
  // 64 KiB/s (512 kbit/s) is far below any link that carries CT volumes (a 150 MiB CT takes 40 minutes at it), and
  // far above a slowloris trickle, which it cuts as soon as the grace (uploadIdleTimeoutMs) has passed.
  uploadMinBytesPerSecond: 64 * 1024,
  responseStallTimeoutMs: 30_000,
  // Raw payloads in flight, against the 4 GiB pod of deploy/: two uploads of the largest payload (maxPayloadBytes)
  // or about seven 150 MB CTs at once, beside the networks, the 1 GiB embedding budget and the sessions' volumes.
  // Without it, maxConcurrentUploads x maxPayloadBytes (8 GiB at the defaults) is the bound. load.ts raises it to
  // maxPayloadBytes when that is larger and this is not set.
  uploadMemoryBytes: 1 * GiB,
  queueLimit: 10_000,
  embeddingBudgetBytes: 1 * GiB,
  // Exact unless a deployment opts in: level 1 gives the reference's masks (docs/pipeline.md, "Speed levels").
  speedLevel: EXACT_SPEED_LEVEL,
  // Refinement protects small objects that jump between slices (bench/README.md, "speed-level").
  speedLevelGaps: DEFAULT_GAP_MODE,
  maxSessions: 16,
  // Prepared volumes are 8-bit: a 512 x 512 x 300 CT kept as a session is 75 MiB.
  sessionMemoryBytes: 1 * GiB,
  // MONAI Label keeps uploaded images an hour; an interactive reading session rarely pauses for 10 minutes.
  sessionIdleSeconds: 600,
  // Kubernetes' default terminationGracePeriodSeconds is 30; keep a margin for the pool to close.
  shutdownGraceMs: 25_000,
  logLevel: 'info' as LogLevel,
});

/** Workers x intra-op threads <= cores (../shared/docs/node-stack-notes.md: oversubscription cost ~40% on 2 cores). */
export function defaultWorkers(intraOpThreads: number, cores = availableParallelism()): number {
  return Math.max(1, Math.floor(cores / intraOpThreads));
}

export const CONFIG_FIELDS: readonly FieldSpec[] = Object.freeze([
  { path: 'host', env: 'ONESAM_HOST', flag: 'host', type: 'string', defaultText: '0.0.0.0', description: 'Address the gRPC and metrics listeners bind to.' },
  { path: 'port', env: 'ONESAM_PORT', flag: 'port', type: 'port', defaultText: '50051', description: 'gRPC port (0 picks a free port, logged at start).' },
  { path: 'metricsPort', env: 'ONESAM_METRICS_PORT', flag: 'metrics-port', type: 'port', defaultText: '9464', description: 'HTTP port serving Prometheus metrics at /metrics.' },
  { path: 'modelsDir', env: 'ONESAM_MODELS_DIR', flag: 'models', type: 'path', defaultText: '<project>/models (the embedded demo models)', description: 'Model repository folder (models/<name>/manifest.json).' },
  { path: 'models', env: 'ONESAM_MODELS', flag: 'network-models', type: 'models', defaultText: '{"litemedsam":"litemedsam-demo","onesam":"onesam-demo"}', description: 'Repository model serving each network: a JSON object of network -> model name (the flag also takes litemedsam=NAME,onesam=NAME), or -> {"model": NAME, "precision": "int8", "calibration": FOLDER of .npz cases, "calibrationMethod": "percentile" (default)|"minmax"} for an int8 image encoder (bench/README.md, "int8"). Only the networks named are loaded; with one, ROUTE sends every modality to it. Checked at start: unknown network, missing model or wrong architecture stop the server.' },
  { path: 'cacheDir', env: 'ONESAM_CACHE_DIR', type: 'path', defaultText: 'inside each model folder', description: 'Where compiled ONNX graphs are cached; set it when the model folder is read-only.' },
  { path: 'workers', env: 'ONESAM_WORKERS', flag: 'workers', type: 'int', min: 1, max: 256, defaultText: 'cores / intraOpThreads', description: 'Worker threads, each holding every network.' },
  { path: 'intraOpThreads', env: 'ONESAM_INTRA_OP_THREADS', flag: 'threads', type: 'int', min: 1, max: 256, defaultText: '1', description: 'onnxruntime intra-op threads per worker. Keep workers x threads <= cores.' },
  { path: 'codecThreads', env: 'ONESAM_CODEC_THREADS', flag: 'codec-threads', type: 'int', min: 1, max: 64, defaultText: '1', description: 'Threads that decode payloads and encode labels, off the main thread and apart from the workers.' },
  { path: 'maxPayloadBytes', env: 'ONESAM_MAX_PAYLOAD_BYTES', type: 'bytes', min: 1, defaultText: '512MiB', description: 'Largest declared payload per request, and largest decoded payload data (the inflated npz members, the decompressed NIfTI).' },
  { path: 'maxVoxels', env: 'ONESAM_MAX_VOXELS', type: 'int', min: 1, defaultText: '268435456 (512 x 512 x 1024)', description: 'Most voxels a payload may decode to (any one array), checked from its header before anything is inflated (PAYLOAD_TOO_LARGE).' },
  { path: 'maxMessageBytes', env: 'ONESAM_MAX_MESSAGE_BYTES', type: 'bytes', min: 64 * 1024, max: 64 * MiB, defaultText: '8MiB', description: 'gRPC receive limit per message (clients send ~1 MiB chunks).' },
  { path: 'maxConcurrentRequests', env: 'ONESAM_MAX_CONCURRENT_REQUESTS', type: 'int', min: 1, max: 10_000, defaultText: '8', description: 'Segment calls served at once; more are refused with RESOURCE_EXHAUSTED.' },
  { path: 'maxConcurrentUploads', env: 'ONESAM_MAX_CONCURRENT_UPLOADS', type: 'int', min: 1, max: 10_000, defaultText: '2 x maxConcurrentRequests', description: 'Segment calls receiving their header and payload at once, counted apart from maxConcurrentRequests; more are refused with RESOURCE_EXHAUSTED.' },
  { path: 'uploadIdleTimeoutMs', env: 'ONESAM_UPLOAD_IDLE_TIMEOUT_MS', type: 'int', min: 1_000, max: 3_600_000, defaultText: '30000', description: 'Longest wait for the next request message, the header included (UPLOAD_IDLE_TIMEOUT).' },
  { path: 'uploadMinBytesPerSecond', env: 'ONESAM_UPLOAD_MIN_BYTES_PER_SECOND', type: 'bytes', min: 0, defaultText: '64KiB', description: 'Slowest average upload rate accepted after a grace of uploadIdleTimeoutMs from the first chunk (UPLOAD_TOO_SLOW); 0 turns it off.' },
  { path: 'responseStallTimeoutMs', env: 'ONESAM_RESPONSE_STALL_TIMEOUT_MS', type: 'int', min: 1_000, max: 3_600_000, defaultText: '30000', description: 'Longest a response may wait for the client to read it (RESPONSE_STALLED).' },
  { path: 'uploadMemoryBytes', env: 'ONESAM_UPLOAD_MEMORY_BYTES', type: 'bytes', min: 1, defaultText: '1GiB, or maxPayloadBytes if larger', description: 'Declared payload bytes all uploads in flight may hold together; an upload that does not fit is refused after its header (UPLOAD_MEMORY_EXHAUSTED). At least maxPayloadBytes.' },
  { path: 'queueLimit', env: 'ONESAM_QUEUE_LIMIT', type: 'int', min: 1, defaultText: '10000', description: 'Worker tasks waiting beyond which new work is refused (RESOURCE_EXHAUSTED).' },
  { path: 'embeddingBudgetBytes', env: 'ONESAM_EMBEDDING_BUDGET_BYTES', type: 'bytes', min: 16 * MiB, defaultText: '1GiB', description: 'Slice embeddings held at once across all requests.' },
  { path: 'speedLevel', env: 'ONESAM_SPEED_LEVEL', flag: 'speed-level', type: 'int', min: EXACT_SPEED_LEVEL, max: MAX_SPEED_LEVEL, defaultText: '1', description: `Speed level of 3D box walks for requests that leave speed_level unset: N > 1 computes every N-th slice and interpolates the others (1..${MAX_SPEED_LEVEL}; 1 is exact).` },
  { path: 'speedLevelGaps', env: 'ONESAM_SPEED_LEVEL_GAPS', flag: 'speed-level-gaps', type: 'choice', choices: GAP_MODES, defaultText: DEFAULT_GAP_MODE, description: `How 3D walks above speed level 1 fill the slices between computed ones: ${GAP_MODES.join(' or ')}. refine decodes each gap's far slice again with its own mask's box and walks a gap exactly where its two computed masks disagree (Dice < 0.8): safer on small objects that jump between slices. interpolate computes every N-th slice once and interpolates every other one: fastest, for objects that change smoothly over N slices.` },
  { path: 'maxSessions', env: 'ONESAM_MAX_SESSIONS', type: 'int', min: 0, max: 100_000, defaultText: '16', description: 'Volumes kept for later prompts (keep_session); the least recently used idle one makes room for a new one. 0 turns sessions off.' },
  { path: 'sessionMemoryBytes', env: 'ONESAM_SESSION_MEMORY_BYTES', type: 'bytes', min: 1, defaultText: '1GiB', description: 'Prepared 8-bit volumes all sessions may hold; their cached slice embeddings count in embeddingBudgetBytes.' },
  { path: 'sessionIdleSeconds', env: 'ONESAM_SESSION_IDLE_SECONDS', type: 'int', min: 1, max: 86_400, defaultText: '600', description: 'A session without requests for this long is dropped.' },
  { path: 'shutdownGraceMs', env: 'ONESAM_SHUTDOWN_GRACE_MS', type: 'int', min: 0, max: 3_600_000, defaultText: '25000', description: 'How long SIGTERM waits for in-flight requests before ending them with SHUTDOWN_INTERRUPTED.' },
  { path: 'tls.cert', env: 'ONESAM_TLS_CERT', type: 'path', defaultText: 'unset (plaintext)', description: 'PEM certificate chain; with tls.key enables TLS.' },
  { path: 'tls.key', env: 'ONESAM_TLS_KEY', type: 'path', defaultText: 'unset', description: 'PEM private key of tls.cert.' },
  { path: 'tls.clientCa', env: 'ONESAM_TLS_CLIENT_CA', type: 'path', defaultText: 'unset (no client certificates)', description: 'PEM CA bundle; when set, clients must present a certificate it signed (mTLS).' },
  { path: 'authToken', env: 'ONESAM_AUTH_TOKEN', type: 'secret', defaultText: 'unset (no token)', description: 'Bearer token required in `authorization: Bearer <token>` on every call except health.' },
  { path: 'logLevel', env: 'ONESAM_LOG_LEVEL', flag: 'log-level', type: 'choice', choices: LOG_LEVELS, defaultText: 'info', description: `pino level: ${LOG_LEVELS.join(', ')}.` },
  { path: 'routing', env: 'ONESAM_ROUTING', type: 'routing', defaultText: '{} (the default table)', description: 'JSON object of modality -> "litemedsam" | "onesam" overrides of the routing table.' },
  { path: 'pacs', env: 'ONESAM_PACS', type: 'pacs', defaultText: '{} (no PACS)', description: 'JSON object of endpoint name -> DICOMweb endpoint (url, auth, caFile, timeouts, retries; docs/pacs.md): the only PACS the server contacts.' },
] satisfies FieldSpec[]);

/** Environment variable naming the JSON config file (the `--config` flag wins over it). */
export const CONFIG_FILE_ENV = 'ONESAM_CONFIG';
