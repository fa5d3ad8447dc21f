// Errors the pipeline raises for requests it cannot serve. `field` is the path of the offending request field.
export type PipelineErrorCode =
  | 'PROMPT_INVALID'
  | 'IMAGE_INVALID'
  | 'MODALITY_UNKNOWN'
  | 'NETWORK_UNAVAILABLE'
  | 'NETWORK_NOT_SERVED'
  | 'REQUEST_CANCELLED'
  | 'MEMORY_BUDGET_EXCEEDED';

export class PipelineError extends Error {
  constructor(readonly code: PipelineErrorCode, message: string, readonly field?: string) {
    super(field ? `${field}: ${message}` : message);
    this.name = 'PipelineError';
  }
}
