// The ONE mapping from anything a handler can throw to the gRPC status the client receives. Known errors (a code
// in the registry) keep their message, which already names the field at fault; anything else becomes INTERNAL
// with a generic message, so stack traces and library internals never leave the server (grpc-js would otherwise
// send a thrown error's raw message as UNKNOWN).
import { Metadata, status as GrpcStatus } from '@grpc/grpc-js';
import { ERROR_REGISTRY, isErrorCode, type ErrorCode, type ErrorLogLevel } from './registry.ts';

/** Trailing metadata keys that carry the stable code and field path, for clients that branch on them. */
export const ERROR_CODE_KEY = 'onesam-error-code';
export const ERROR_FIELD_KEY = 'onesam-error-field';
export const REQUEST_ID_KEY = 'onesam-request-id';
/** Response header of every Segment call: the server's own id for it, the one its log lines carry. */
export const SERVER_REQUEST_ID_KEY = 'onesam-server-request-id';

/** Longest client message we send; longer ones are cut (a hostile field value must not bloat trailers). */
const MAX_DETAILS = 1024;

export interface MappedError {
  readonly code: ErrorCode;
  readonly status: GrpcStatus;
  /** What the client reads: the error's own message for known codes, a generic line for INTERNAL. */
  readonly details: string;
  readonly logLevel: ErrorLogLevel;
  readonly field?: string;
}

export function mapError(error: unknown, requestId?: string): MappedError {
  const known = classify(error);
  if (known) {
    const info = ERROR_REGISTRY[known.code];
    return {
      code: known.code,
      status: GrpcStatus[info.status],
      details: truncate(known.message),
      logLevel: info.logLevel,
      ...(known.field ? { field: known.field } : {}),
    };
  }
  return {
    code: 'INTERNAL',
    status: GrpcStatus.INTERNAL,
    details: requestId ? `internal error (request ${requestId}); details are in the server log` : 'internal error; details are in the server log',
    logLevel: ERROR_REGISTRY.INTERNAL.logLevel,
  };
}

/** The status object handed to grpc-js (`call.emit('error', ...)`, a unary callback, or `call.destroy`). */
export function toStatusObject(mapped: MappedError, requestId?: string): { code: GrpcStatus; details: string; metadata: Metadata } {
  const metadata = new Metadata();
  metadata.set(ERROR_CODE_KEY, mapped.code);
  if (mapped.field) metadata.set(ERROR_FIELD_KEY, asciiHeader(mapped.field));
  if (requestId) metadata.set(REQUEST_ID_KEY, asciiHeader(requestId));
  return { code: mapped.status, details: mapped.details, metadata };
}

function classify(error: unknown): { code: ErrorCode; message: string; field?: string } | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const e = error as { code?: unknown; message?: unknown; field?: unknown; name?: unknown };
  const message = typeof e.message === 'string' ? e.message : '';
  if (isErrorCode(e.code) && e.code !== 'INTERNAL') {
    return { code: e.code, message, ...(typeof e.field === 'string' ? { field: e.field } : {}) };
  }
  if (e.name === 'AbortError' || e.code === 'ABORT_ERR') return { code: 'REQUEST_CANCELLED', message: 'request cancelled' };
  return undefined;
}

function truncate(text: string): string {
  return text.length <= MAX_DETAILS ? text : `${text.slice(0, MAX_DETAILS - 3)}...`;
}

/** Metadata values must be printable ASCII; field paths and request ids normally are. */
function asciiHeader(text: string): string {
  return truncate(text.replace(/[^\x20-\x7e]/g, '?'));
}

/** The status name (`INVALID_ARGUMENT`) of a numeric gRPC status, for metric labels and logs. */
export function statusName(code: GrpcStatus): string {
  return GrpcStatus[code] ?? String(code);
}
