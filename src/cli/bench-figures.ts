// The arithmetic of `onesam bench`: pool shapes to measure, the best per-slice and per-prompt times, the network
// work a volume needs at those times, and efficiency (that work over the measured wall time).
import type { NetworkName } from '../models/network-contract.ts';

export interface PoolShape {
  readonly workers: number;
  readonly threads: number;
}

export const shapeName = (s: PoolShape): string => `${s.workers}x${s.threads}`;

/**
 * Every workers x threads split with workers * threads <= cores, both powers of two (plus all the cores as one
 * worker, and one thread per core, when the count is not a power of two), largest products first.
 */
export function poolShapes(cores: number): PoolShape[] {
  const counts = new Set<number>([cores]);
  for (let n = 1; n <= cores; n *= 2) counts.add(n);
  const shapes: PoolShape[] = [];
  for (const workers of counts) {
    for (const threads of counts) if (workers * threads <= cores) shapes.push({ workers, threads });
  }
  return shapes.sort((a, b) => b.workers * b.threads - a.workers * a.threads || b.workers - a.workers);
}

/** Parses `WxT` (as `--shapes 2x1,1x2` gives it). */
export function parseShape(text: string): PoolShape | undefined {
  const m = /^(\d+)x(\d+)$/.exec(text.trim());
  if (!m) return undefined;
  const workers = Number(m[1]);
  const threads = Number(m[2]);
  return workers >= 1 && threads >= 1 ? { workers, threads } : undefined;
}

/** One network measured at one pool shape: per-item wall time with every worker busy, and one worker's latency. */
export interface NetworkTiming {
  readonly network: NetworkName;
  readonly shape: PoolShape;
  /** Burst wall time / slices: what a slice costs the machine at this shape. */
  readonly encoderSliceMs: number;
  /** Median time of one encode inside its worker. */
  readonly encoderLatencyMs: number;
  readonly decoderPromptMs: number;
  readonly decoderLatencyMs: number;
}

export interface BestTimes {
  readonly encoderSliceMs: number;
  readonly decoderPromptMs: number;
}

/** Per network, the smallest per-slice and per-prompt machine time over every shape measured. */
export function bestTimes(timings: readonly NetworkTiming[]): Partial<Record<NetworkName, BestTimes>> {
  const best: Partial<Record<NetworkName, BestTimes>> = {};
  for (const t of timings) {
    const b = best[t.network];
    best[t.network] = {
      encoderSliceMs: Math.min(b?.encoderSliceMs ?? Infinity, t.encoderSliceMs),
      decoderPromptMs: Math.min(b?.decoderPromptMs ?? Infinity, t.decoderPromptMs),
    };
  }
  return best;
}

/** The network work one volume needs: slices each network must encode (distinct) and prompts it must decode. */
export interface NecessaryWork {
  readonly network: NetworkName;
  readonly slices: number;
  readonly prompts: number;
}

/** Milliseconds of machine time the work costs at the best times: the floor for the volume's wall time. */
export function necessaryMs(work: readonly NecessaryWork[], best: Partial<Record<NetworkName, BestTimes>>): number {
  let ms = 0;
  for (const w of work) {
    const b = best[w.network];
    if (!b) throw new Error(`no timing measured for network ${w.network}`);
    ms += w.slices * b.encoderSliceMs + w.prompts * b.decoderPromptMs;
  }
  return ms;
}

/**
 * Efficiency: the necessary work at the best measured times over the wall time. 1 means the pipeline adds nothing
 * to the networks' own cost (no idle worker, no extra encode); it can read slightly above 1 from timing noise.
 */
export function efficiency(necessary: number, wallMs: number): number {
  if (!(wallMs > 0)) throw new Error(`wall time must be positive, got ${wallMs}`);
  return necessary / wallMs;
}

/**
 * Pool busy fraction: worker time spent in tasks (pre-processing, encodes, decodes, post-processing, as the
 * workers time them) over workers x wall. Unlike efficiency it compares two times of the same run, so a VM that
 * is slower during the timing bursts than during the walk (or faster) does not move it; it does not see a walk
 * whose encodes ran slower than the bursts' (that shows in efficiency).
 */
export function poolBusy(workerMs: number, workers: number, wallMs: number): number {
  if (!(wallMs > 0) || !(workers >= 1)) throw new Error(`wall time and workers must be positive, got ${wallMs} ms, ${workers} workers`);
  return workerMs / (workers * wallMs);
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Rounds for printing: one decimal below 100, none above. */
export function round(x: number, digits = x < 100 ? 1 : 0): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
