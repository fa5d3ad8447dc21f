// Errors the server raises itself (stream protocol, limits, admission). Same shape as PipelineError and
// VolumeError: a stable code from the registry, the request field at fault when there is one, a client message.
import type { ErrorCode } from './registry.ts';

export class ServiceError extends Error {
  constructor(readonly code: ErrorCode, message: string, readonly field?: string) {
    super(field ? `${field}: ${message}` : message);
    this.name = 'ServiceError';
  }
}
