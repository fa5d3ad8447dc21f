// A simulated worker pool on a virtual clock, for schedule tests and benches that need no networks: the real
// executePlan and EmbeddingStore run against it, and time advances only when every promise chain has settled, so a
// run takes milliseconds, is deterministic, and its makespan is exact in the simulated units (not the host's
// timers). Decodes go before encodes, and a finished task's worker takes the next queued task before the walk that
// waited for it runs on, as src/workers/pool.ts dispatches.
import { CodedError } from '../../src/errors/coded-error.ts';
import type { WorkerPool } from '../../src/workers/pool.ts';
import type { DecodeResult, DecodeTask, EncodeResult, EncodeTask } from '../../src/workers/protocol.ts';

export interface VirtualPoolOptions {
  readonly workers: number;
  readonly encodeMs: number;
  readonly decodeMs: number;
  /** Called as an encode starts running; a throw fails that encode (as a worker's error would). */
  readonly onEncode?: (task: EncodeTask) => void;
  /**
   * Virtual milliseconds between a submission and its task entering the queue: the main thread's turnaround, during
   * which a worker with nothing queued idles (default 0).
   */
  readonly submitMs?: number;
  /** Submissions find this many tasks waiting: refused with POOL_SATURATED, as src/workers/pool.ts does. */
  readonly queueLimit?: number;
  /** The decode's answer (default: empty masks, the prompt box as the next box). */
  readonly decode?: (task: DecodeTask) => DecodeResult;
}

export interface VirtualPool {
  readonly pool: WorkerPool;
  /** Encodes submitted so far. */
  readonly encodes: () => number;
  /** The most encodes queued or running at once. */
  readonly maxEncodesInPool: () => number;
  /** Runs `work` to completion on the virtual clock; resolves with its result and the virtual time it took. */
  readonly run: <T>(work: () => Promise<T>) => Promise<{ value: T; ms: number }>;
  /** Called after every virtual event (a task finished), with the virtual time. */
  onEvent?: (nowMs: number) => void;
}

export function virtualPool(o: VirtualPoolOptions): VirtualPool {
  let now = 0;
  let busy = 0;
  let encodes = 0;
  let encodesInPool = 0;
  let maxEncodesInPool = 0;
  let seq = 0;
  const queue: { decode: boolean; start: () => void }[] = [];
  const timers: { at: number; seq: number; fire: () => void }[] = [];
  const dispatch = (): void => {
    while (busy < o.workers && queue.length > 0) {
      const i = Math.max(0, queue.findIndex((q) => q.decode));
      queue.splice(i, 1)[0]!.start();
    }
  };
  const submit = <T>(decode: boolean, ms: number, result: () => T): Promise<T> => new Promise((resolve, reject) => {
    if (o.queueLimit !== undefined && queue.length >= o.queueLimit) {
      reject(new CodedError('POOL_SATURATED', `the worker pool queue is full (${o.queueLimit} tasks waiting)`));
      return;
    }
    const entry = {
      decode,
      start: () => {
        busy++;
        timers.push({
          at: now + ms, seq: seq++,
          fire: () => {
            busy--;
            try {
              resolve(result());
            } catch (e) {
              reject(e);
            }
            dispatch();
          },
        });
      },
    };
    if (!o.submitMs) {
      queue.push(entry);
      dispatch();
    } else {
      timers.push({ at: now + o.submitMs, seq: seq++, fire: () => { queue.push(entry); dispatch(); } });
    }
  });
  const pool = {
    workers: o.workers,
    encode: (t: EncodeTask): Promise<EncodeResult> => {
      encodes++;
      maxEncodesInPool = Math.max(maxEncodesInPool, ++encodesInPool);
      return submit(false, o.encodeMs, () => {
        encodesInPool--;
        o.onEncode?.(t);
        return { cancelled: t.cancel !== undefined && Atomics.load(t.cancel, 0) === 1, preprocessMs: 0, encodeMs: o.encodeMs };
      });
    },
    decode: (t: DecodeTask): Promise<DecodeResult> => submit(true, o.decodeMs, () => o.decode?.(t) ?? {
      cancelled: false, masks: new Uint8Array(t.height * t.width), iou: new Float32Array(1), decodeMs: o.decodeMs, postprocessMs: 0,
      // The walk's next box: the same box, as on an object that keeps its size.
      nextBoxes: t.prompts.kind === 'boxes' ? [Array.from(t.prompts.boxes256) as [number, number, number, number]] : [null],
    }),
  };
  const vp: VirtualPool = {
    pool: pool as unknown as WorkerPool,
    encodes: () => encodes,
    maxEncodesInPool: () => maxEncodesInPool,
    run: async (work) => {
      const start = now;
      let done = false;
      let failure: unknown;
      let value: unknown;
      work().then((v) => { value = v; }, (e: unknown) => { failure = e; }).finally(() => { done = true; });
      for (;;) {
        // A macrotask hop: every microtask chain started by the last event has run before time moves on.
        await new Promise<void>((r) => setImmediate(r));
        if (done) break;
        if (timers.length === 0) throw new Error('virtual pool: nothing running and the work did not finish (deadlock)');
        timers.sort((a, b) => a.at - b.at || a.seq - b.seq);
        const next = timers.shift()!;
        now = next.at;
        next.fire();
        vp.onEvent?.(now);
      }
      if (failure !== undefined) throw failure;
      return { value: value as never, ms: now - start };
    },
  };
  return vp;
}
