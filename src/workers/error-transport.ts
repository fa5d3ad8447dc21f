// Errors across a worker-thread boundary. Structured cloning keeps an Error's message and stack but drops its class
// and own properties, so a VolumeError thrown in a worker would arrive as a bare Error without `code` or `field`,
// and the one error mapping (src/errors/grpc-status.ts) would turn a client mistake into INTERNAL. A worker packs
// what it threw into plain data instead, and the main thread rebuilds the same class with the same code, field and
// message. Anything else comes back as an Error with its name, message, stack and any string `code`/`field`, so
// it maps exactly as it would have in the main thread (usually INTERNAL, with the worker's stack in the log).
import type { ErrorCode } from '../errors/registry.ts';
import { ServiceError } from '../errors/service-error.ts';
import { PipelineError, type PipelineErrorCode } from '../pipeline/errors.ts';
import { VolumeError, type VolumeErrorCode } from '../volume/errors.ts';

/** Plain data describing a thrown value; survives structured cloning unchanged. */
export interface PackedError {
  /** Which class to rebuild: one of ours with a stable code, or `other`. */
  readonly kind: 'VolumeError' | 'PipelineError' | 'ServiceError' | 'other';
  readonly name: string;
  readonly message: string;
  readonly stack?: string;
  readonly code?: string;
  readonly field?: string;
}

export function packError(error: unknown): PackedError {
  if (typeof error !== 'object' || error === null) {
    return { kind: 'other', name: 'Error', message: `non-error thrown: ${String(error)}` };
  }
  const e = error as { name?: unknown; message?: unknown; stack?: unknown; code?: unknown; field?: unknown };
  const kind = error instanceof VolumeError ? 'VolumeError'
    : error instanceof PipelineError ? 'PipelineError'
      : error instanceof ServiceError ? 'ServiceError'
        : 'other';
  return {
    kind,
    name: typeof e.name === 'string' ? e.name : 'Error',
    message: typeof e.message === 'string' ? e.message : '',
    ...(typeof e.stack === 'string' ? { stack: e.stack } : {}),
    ...(typeof e.code === 'string' ? { code: e.code } : {}),
    ...(typeof e.field === 'string' ? { field: e.field } : {}),
  };
}

export function unpackError(packed: PackedError): Error {
  let error: Error;
  switch (packed.kind) {
    case 'VolumeError':
      // The constructors prefix the field to the message; the packed message already carries that prefix.
      error = new VolumeError(packed.code as VolumeErrorCode, packed.field ?? '', '');
      break;
    case 'PipelineError':
      error = new PipelineError(packed.code as PipelineErrorCode, '', packed.field);
      break;
    case 'ServiceError':
      error = new ServiceError(packed.code as ErrorCode, '', packed.field);
      break;
    default:
      error = new Error();
      error.name = packed.name;
      if (packed.code !== undefined) Object.defineProperty(error, 'code', { value: packed.code, enumerable: true });
      if (packed.field !== undefined) Object.defineProperty(error, 'field', { value: packed.field, enumerable: true });
  }
  error.message = packed.message;
  // The worker's stack says where it failed; the main thread's would only point here.
  if (packed.stack !== undefined) error.stack = packed.stack;
  return error;
}
