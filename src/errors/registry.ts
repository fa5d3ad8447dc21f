// The error registry: every stable error code a client can see, the gRPC status it travels as and the level it is
// logged at. The codes the server, the pipeline and the payload layer raise are all listed here, so this file is
// the one place that decides how any failure looks on the wire; the layers import their codes from it (it imports
// nothing of ours). docs/errors.md lists exactly these codes (a test keeps them in step).

/** gRPC status names we answer with (a subset of grpc.status). */
export type StatusName =
  | 'CANCELLED'
  | 'INVALID_ARGUMENT'
  | 'DEADLINE_EXCEEDED'
  | 'RESOURCE_EXHAUSTED'
  | 'UNAVAILABLE'
  | 'UNAUTHENTICATED'
  | 'NOT_FOUND'
  | 'FAILED_PRECONDITION'
  | 'INTERNAL';

/** Client mistakes log at info, overload at warn, our own faults at error. */
export type ErrorLogLevel = 'debug' | 'info' | 'warn' | 'error';

export interface ErrorInfo {
  readonly status: StatusName;
  readonly logLevel: ErrorLogLevel;
  readonly description: string;
}

/** Codes the server itself raises while reading a request stream or admitting a call. */
const SERVICE_ERRORS = {
  HEADER_INVALID: {
    status: 'INVALID_ARGUMENT', logLevel: 'info',
    description: 'a header field is missing, unknown or out of range; the message names the field path',
  },
  STREAM_INVALID: {
    status: 'INVALID_ARGUMENT', logLevel: 'info',
    description: 'the request stream is out of order: no header first, a second header, or a message with neither header nor chunk',
  },
  MESSAGE_UNDECODABLE: {
    status: 'INVALID_ARGUMENT', logLevel: 'info',
    description: 'a request message is not a valid protobuf encoding of the method\'s request type (any RPC); the call ends at that message',
  },
  MESSAGE_TOO_LARGE: {
    status: 'RESOURCE_EXHAUSTED', logLevel: 'info',
    description: 'a request message is larger than the receive limit (maxMessageBytes; any RPC); send the payload in smaller chunks',
  },
  PAYLOAD_INCOMPLETE: {
    status: 'INVALID_ARGUMENT', logLevel: 'info',
    description: 'the client half-closed before sending the payload size its header declared',
  },
  PAYLOAD_EXCEEDS_DECLARED: {
    status: 'RESOURCE_EXHAUSTED', logLevel: 'info',
    description: 'the chunks carried more bytes than the header declared',
  },
  PAYLOAD_LIMIT_EXCEEDED: {
    status: 'RESOURCE_EXHAUSTED', logLevel: 'info',
    description: 'the declared payload size is larger than the server accepts (maxPayloadBytes)',
  },
  TOO_MANY_REQUESTS: {
    status: 'RESOURCE_EXHAUSTED', logLevel: 'warn',
    description: 'the server is already running its maximum number of requests past their upload (maxConcurrentRequests) or receiving its maximum number of uploads (maxConcurrentUploads); the message says which',
  },
  UPLOAD_MEMORY_EXHAUSTED: {
    status: 'RESOURCE_EXHAUSTED', logLevel: 'warn',
    description: 'the declared payload_bytes do not fit beside the uploads already in flight in the upload memory budget (uploadMemoryBytes); refused right after the header, retry later or on another replica',
  },
  POOL_SATURATED: {
    status: 'RESOURCE_EXHAUSTED', logLevel: 'warn',
    description: 'the worker pool queue is full (queueLimit tasks waiting)',
  },
  QUEUE_FULL: {
    status: 'RESOURCE_EXHAUSTED', logLevel: 'warn',
    description: 'piscina\'s own task queue in a thread pool is at its bound and refused more tasks; retry later',
  },
  SESSION_NOT_FOUND: {
    status: 'NOT_FOUND', logLevel: 'info',
    description: 'the session named by session_id is not held: never opened, closed, expired (sessionIdleSeconds) or dropped to make room for a newer one; upload the volume again',
  },
  SESSION_LIMIT: {
    status: 'RESOURCE_EXHAUSTED', logLevel: 'warn',
    description: 'no room for another session: maxSessions or sessionMemoryBytes reached and every held session has a request running',
  },
  SESSIONS_DISABLED: {
    status: 'FAILED_PRECONDITION', logLevel: 'info',
    description: 'keep_session or session_id was used on a server started with maxSessions 0',
  },
  UPLOAD_IDLE_TIMEOUT: {
    status: 'DEADLINE_EXCEEDED', logLevel: 'info',
    description: 'no request message (the header included) arrived for uploadIdleTimeoutMs; the upload was abandoned and its slot freed',
  },
  UPLOAD_TOO_SLOW: {
    status: 'DEADLINE_EXCEEDED', logLevel: 'info',
    description: 'the upload averaged below uploadMinBytesPerSecond once the grace of uploadIdleTimeoutMs after the first chunk had passed',
  },
  RESPONSE_STALLED: {
    status: 'DEADLINE_EXCEEDED', logLevel: 'info',
    description: 'the client did not read the responses for responseStallTimeoutMs; the work was stopped and its slot freed',
  },
  MODELS_LOADING: {
    status: 'UNAVAILABLE', logLevel: 'info',
    description: 'the networks are still loading; retry when health reports SERVING',
  },
  SHUTTING_DOWN: {
    status: 'UNAVAILABLE', logLevel: 'info',
    description: 'the server is draining for shutdown and takes no new requests',
  },
  SHUTDOWN_INTERRUPTED: {
    status: 'UNAVAILABLE', logLevel: 'warn',
    description: 'the server was shutting down and the request was still running when the grace period (shutdownGraceMs) ended; its work was stopped, retry on another replica',
  },
  UNAUTHENTICATED: {
    status: 'UNAUTHENTICATED', logLevel: 'info',
    description: 'a bearer token is configured and the call did not carry it in `authorization: Bearer <token>`',
  },
  DEADLINE_EXCEEDED: {
    status: 'DEADLINE_EXCEEDED', logLevel: 'info',
    description: 'the call deadline passed; the remaining work was stopped',
  },
  WORKER_FAILED: {
    status: 'UNAVAILABLE', logLevel: 'error',
    description: 'a worker thread died while running part of this request (other requests are unaffected); the pool replaces the thread, so retrying is safe',
  },
  INFERENCE_FAILED: {
    status: 'INTERNAL', logLevel: 'error',
    description: 'onnxruntime refused or failed a run for this request inside a worker (the worker stays up); the client sees a generic message, the details are in the server log',
  },
  INTERNAL: {
    status: 'INTERNAL', logLevel: 'error',
    description: 'an unexpected server fault; the client sees a generic message, the details are in the server log',
  },
} as const satisfies Record<string, ErrorInfo>;

/** Codes the pipeline raises for requests it cannot serve (prompts, image shape, routing, memory, networks). */
const PIPELINE_ERRORS = {
  PROMPT_INVALID: {
    status: 'INVALID_ARGUMENT', logLevel: 'info',
    description: 'a prompt is malformed or does not fit the image (box outside, bad label, empty scribble); the message names the field path',
  },
  IMAGE_INVALID: {
    status: 'INVALID_ARGUMENT', logLevel: 'info',
    description: 'the decoded image does not have a shape the networks accept',
  },
  MODALITY_UNKNOWN: {
    status: 'INVALID_ARGUMENT', logLevel: 'info',
    description: 'a modality name in a routing override is not one of the known modalities',
  },
  NETWORK_UNAVAILABLE: {
    status: 'UNAVAILABLE', logLevel: 'warn',
    description: 'the network needed is not loaded (still loading, failed, or the server is shutting down)',
  },
  NETWORK_NOT_SERVED: {
    status: 'FAILED_PRECONDITION', logLevel: 'info',
    description: 'the request needs a network this server does not run (its `models` setting serves only the other one): ask for ROUTE or the served network',
  },
  REQUEST_CANCELLED: {
    status: 'CANCELLED', logLevel: 'info',
    description: 'the client cancelled the call; the remaining work was stopped',
  },
  MEMORY_BUDGET_EXCEEDED: {
    status: 'RESOURCE_EXHAUSTED', logLevel: 'warn',
    description: 'the request needs more embedding memory than the configured budget allows',
  },
} as const satisfies Record<string, ErrorInfo>;

/** Codes the payload layer (src/volume) raises decoding payloads and encoding label volumes: all client mistakes. */
const VOLUME_ERRORS = {
  PAYLOAD_FORMAT: {
    status: 'INVALID_ARGUMENT', logLevel: 'info',
    description: 'the payload or its header does not describe a volume we can read (unknown format, bad shape or dtype, missing npz key)',
  },
  PAYLOAD_SIZE_MISMATCH: {
    status: 'INVALID_ARGUMENT', logLevel: 'info',
    description: 'the payload byte length differs from what the declared shape and dtype need',
  },
  PAYLOAD_TOO_LARGE: {
    status: 'RESOURCE_EXHAUSTED', logLevel: 'info',
    description: 'the payload would decode to more than the server allows: more voxels than maxVoxels, more decoded bytes than maxPayloadBytes, or more working memory than 4 x maxPayloadBytes; refused from its own headers before it is inflated, or as soon as inflating passes what they declare',
  },
  NIFTI_UNSUPPORTED: {
    status: 'INVALID_ARGUMENT', logLevel: 'info',
    description: 'a valid NIfTI file using a feature we do not read (datatype, 4D series, header/image pair)',
  },
  INTENSITY_INVALID: {
    status: 'INVALID_ARGUMENT', logLevel: 'info',
    description: 'the intensity preparation parameters are invalid or cannot be applied to these voxels',
  },
  LABELS_INVALID: {
    status: 'INVALID_ARGUMENT', logLevel: 'info',
    description: 'the label volume does not fit the geometry or the requested output format',
  },
  DICOM_INVALID: {
    status: 'INVALID_ARGUMENT', logLevel: 'info',
    description: 'a DICOM instance cannot be read: not Part 10 or a bare data set, a damaged element, a missing or inconsistent image attribute (Rows, Bits Allocated, Photometric Interpretation, ...), a damaged compressed frame, or a Segmentation we do not read; the message names the instance by its index in the upload and its SOP Instance UID',
  },
  DICOM_SERIES_INVALID: {
    status: 'INVALID_ARGUMENT', logLevel: 'info',
    description: 'the instances do not form one volume: mixed series, differing rows/columns or pixel formats, missing or duplicate positions, non-parallel orientations, gantry tilt, or non-uniform slice spacing beyond the tolerance; the message names the instances at fault',
  },
  DICOM_UNSUPPORTED: {
    status: 'INVALID_ARGUMENT', logLevel: 'info',
    description: 'a valid DICOM instance using a feature we do not decode: a transfer syntax (named by UID and name), lossy JPEG of a precision other than 8 or 12 bits or of a process other than sequential Huffman-coded DCT, a segmented palette, a fractional Segmentation',
  },
} as const satisfies Record<string, ErrorInfo>;

/**
 * Codes of the PACS round trip (src/pacs, docs/pacs.md): reading a series and storing a Segmentation over DICOMweb.
 * The PACS is the server's own dependency, so its failures are not the client's mistakes: refusals and unreadable
 * answers are FAILED_PRECONDITION (an operator must fix the configuration or the PACS), an unreachable PACS is
 * UNAVAILABLE (the retries are already spent; retry later).
 */
const PACS_ERRORS = {
  PACS_ENDPOINT_UNKNOWN: {
    status: 'INVALID_ARGUMENT', logLevel: 'info',
    description: 'the request names a PACS endpoint this server is not configured with (its `pacs` setting); the message lists the configured names',
  },
  PACS_UNREACHABLE: {
    status: 'UNAVAILABLE', logLevel: 'warn',
    description: 'the PACS could not be reached or kept failing: connection refused or timed out, silent past responseTimeoutMs, or answering 5xx / 429, on every attempt (the endpoint\'s retries spent)',
  },
  PACS_NOT_FOUND: {
    status: 'NOT_FOUND', logLevel: 'info',
    description: 'the PACS does not hold the study or series the request names (WADO-RS 404, or a series with no instance)',
  },
  PACS_REFUSED: {
    status: 'FAILED_PRECONDITION', logLevel: 'warn',
    description: 'the PACS refused this server\'s credentials for the endpoint (HTTP 401 or 403), or the server could not read its credentials file; fix the endpoint\'s `auth` (the server log says which)',
  },
  PACS_STORE_REJECTED: {
    status: 'FAILED_PRECONDITION', logLevel: 'warn',
    description: 'the PACS did not store the Segmentation (STOW-RS): the message gives its HTTP status and the failure reason it sent (Failure Reason code, or its error text)',
  },
  PACS_RESPONSE_INVALID: {
    status: 'FAILED_PRECONDITION', logLevel: 'warn',
    description: 'the PACS answered in a form DICOMweb does not allow: not multipart/related DICOM for a retrieve, a damaged multipart body, unreadable DICOM JSON; check that the endpoint url is the DICOMweb root',
  },
  PACS_SERIES_TOO_LARGE: {
    status: 'RESOURCE_EXHAUSTED', logLevel: 'info',
    description: 'the series on the PACS holds more bytes than an upload may (maxPayloadBytes) or more instances than a DICOM upload may; refused while it streams in, as soon as it passes the limit',
  },
} as const satisfies Record<string, ErrorInfo>;

export const ERROR_REGISTRY: Readonly<Record<ErrorCode, ErrorInfo>> = Object.freeze({ ...SERVICE_ERRORS, ...PIPELINE_ERRORS, ...VOLUME_ERRORS, ...PACS_ERRORS });

export type ServiceErrorCode = keyof typeof SERVICE_ERRORS;
export type PipelineErrorCode = keyof typeof PIPELINE_ERRORS;
export type VolumeErrorCode = keyof typeof VOLUME_ERRORS;
export type PacsErrorCode = keyof typeof PACS_ERRORS;
export type ErrorCode = ServiceErrorCode | PipelineErrorCode | VolumeErrorCode | PacsErrorCode;

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && Object.hasOwn(ERROR_REGISTRY, value);
}
