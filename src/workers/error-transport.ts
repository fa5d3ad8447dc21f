// Errors across a worker-thread boundary. Structured cloning keeps an Error's message and stack but drops its class
// and own properties, so a CodedError thrown in a worker would arrive as a bare Error without `code` or `field`,
// and the one error mapping (src/errors/grpc-status.ts) would turn a client mistake into INTERNAL. A worker packs
// what it threw into plain data instead: a coded error as its code, field path, detail, name and stack, from which
// the main thread rebuilds the same error, whatever layer raised it. Anything else comes back as an Error with its
// name, message, stack and any string `code`/`field`, so it maps exactly as it would have in the main thread
// (usually INTERNAL, with the worker's stack in the log).
import { CodedError } from '../errors/coded-error.ts';
import { isErrorCode } from '../errors/registry.ts';

/** Plain data describing a thrown value; survives structured cloning unchanged. */
export interface PackedError {
  readonly name: string;
  readonly message: string;
  readonly stack?: string;
  readonly code?: string;
  readonly field?: string;
  /** A CodedError's detail (what is wrong, without the field path): with `code` and `field` it rebuilds the error. */
  readonly detail?: string;
}

export function packError(error: unknown): PackedError {
  if (typeof error !== 'object' || error === null) {
    return { name: 'Error', message: `non-error thrown: ${String(error)}` };
  }
  const e = error as { name?: unknown; message?: unknown; stack?: unknown; code?: unknown; field?: unknown };
  return {
    name: typeof e.name === 'string' ? e.name : 'Error',
    message: typeof e.message === 'string' ? e.message : '',
    ...(typeof e.stack === 'string' ? { stack: e.stack } : {}),
    ...(typeof e.code === 'string' ? { code: e.code } : {}),
    ...(typeof e.field === 'string' ? { field: e.field } : {}),
    ...(error instanceof CodedError ? { detail: error.detail } : {}),
  };
}

export function unpackError(packed: PackedError): Error {
  let error: Error;
  if (packed.detail !== undefined && isErrorCode(packed.code)) {
    // The message is composed from field and detail again: the same text the worker's error carried.
    error = new CodedError(packed.code, packed.detail, packed.field);
  } else {
    error = new Error(packed.message);
    if (packed.code !== undefined) Object.defineProperty(error, 'code', { value: packed.code, enumerable: true });
    if (packed.field !== undefined) Object.defineProperty(error, 'field', { value: packed.field, enumerable: true });
  }
  error.name = packed.name;
  // The worker's stack says where it failed; the main thread's would only point here.
  if (packed.stack !== undefined) error.stack = packed.stack;
  return error;
}
