// Errors of the evaluation command, each with a stable code and a message naming the file or key.

export type EvalErrorCode = 'EVAL_NO_CASES' | 'EVAL_MISSING_PREDICTION' | 'EVAL_MISSING_KEY' | 'EVAL_SHAPE_MISMATCH' | 'EVAL_BAD_SPACING' | 'EVAL_BAD_DTYPE';

export class EvalError extends Error {
  constructor(readonly code: EvalErrorCode, message: string) {
    super(message);
    this.name = 'EvalError';
  }
}
