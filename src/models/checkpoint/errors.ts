// Errors raised while reading and validating checkpoints. The code is stable; the message names the problem.
export type CheckpointErrorCode =
  | 'CHECKPOINT_TRUNCATED'
  | 'CHECKPOINT_CORRUPT'
  | 'CHECKPOINT_FORMAT'
  | 'CHECKPOINT_ARCH_MISMATCH'
  | 'CHECKPOINT_UNREADABLE';

export class CheckpointError extends Error {
  constructor(readonly code: CheckpointErrorCode, message: string) {
    super(message);
    this.name = 'CheckpointError';
  }
}
