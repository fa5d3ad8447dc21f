// Errors the pipeline raises for requests it cannot serve. `field` is the path of the offending request field.
// The codes and how they travel to a client are in the registry (src/errors/registry.ts).
import type { PipelineErrorCode } from '../errors/registry.ts';

export type { PipelineErrorCode };

export class PipelineError extends Error {
  constructor(readonly code: PipelineErrorCode, message: string, readonly field?: string) {
    super(field ? `${field}: ${message}` : message);
    this.name = 'PipelineError';
  }
}
