// How `onesam segment` sizes its worker pool for the job (the server keeps the `workers` / `intraOpThreads`
// settings). A lone slice cannot be split across workers, so one worker with an intra-op thread per core encodes
// it about twice as fast as one worker on one core; a volume walk keeps one worker per core busy with its own
// slice, which beats threads inside one run (bench/README.md, "cli-startup"). --workers / --threads override it,
// with the meaning they always had.
import { defaultWorkers } from '../config/schema.ts';

export interface PoolShape {
  readonly workers: number;
  readonly intraOpThreads: number;
  /**
   * onnxruntime's memory arena in every session: on when the job does not walk. Its first run is then about as fast
   * as the next ones instead of 2-3x slower, at about the same peak RSS for one network (bench/README.md,
   * "cli-startup"). A walk's workers decide per network as the server's do (session-options.ts, `encoderArena`).
   */
  readonly cpuMemArena: boolean;
}

/**
 * `walks`: the job encodes more than one slice of a volume (for a batch: may do so). `flags`: --workers and
 * --threads when given; either one given sizes the pool as before (threads default 1, workers cores / threads).
 */
export function choosePoolShape(walks: boolean, flags: { readonly workers?: number | undefined; readonly threads?: number | undefined }, cores: number): PoolShape {
  if (flags.workers !== undefined || flags.threads !== undefined) {
    const intraOpThreads = flags.threads ?? 1;
    return { workers: flags.workers ?? defaultWorkers(intraOpThreads, cores), intraOpThreads, cpuMemArena: !walks };
  }
  return walks
    ? { workers: defaultWorkers(1, cores), intraOpThreads: 1, cpuMemArena: false }
    : { workers: 1, intraOpThreads: Math.max(1, cores), cpuMemArena: true };
}
