// The worker pool: piscina threads that each hold ORT sessions for every network, fed by a two-level priority
// queue in the main thread. Decodes go before encodes, so walks keep moving and release embeddings; prefetch
// encodes fill the remaining capacity. Tasks are handed to piscina only when a thread is free, so piscina's own
// queue stays empty and our queue depth is the real backlog (exported as a metric).
import { fileURLToPath } from 'node:url';
import { availableParallelism } from 'node:os';
import { Piscina } from 'piscina';
import type { NetworkName } from '../pipeline/types.ts';
import type { DecodeResult, DecodeTask, EncodeResult, EncodeTask, PingResult, WorkerInit, WorkerModelPaths } from './protocol.ts';

export interface PoolOptions {
  readonly models: Readonly<Partial<Record<NetworkName, WorkerModelPaths>>>;
  /** Worker threads; default: cores / intraOpThreads. */
  readonly workers?: number;
  readonly intraOpThreads?: number;
  /** Tasks waiting in the main-thread queue beyond which submissions fail with PoolSaturatedError. */
  readonly maxQueue?: number;
}

export class PoolSaturatedError extends Error {
  readonly code = 'POOL_SATURATED';
  constructor(limit: number) {
    super(`the worker pool queue is full (${limit} tasks waiting)`);
    this.name = 'PoolSaturatedError';
  }
}

type Priority = 'decode' | 'encode';

interface Pending {
  readonly task: EncodeTask | DecodeTask;
  readonly resolve: (value: unknown) => void;
  readonly reject: (reason: unknown) => void;
  readonly queuedAt: number;
}

export interface PoolStats {
  readonly queued: number;
  readonly busy: number;
  readonly workers: number;
}

const WORKER_ENTRY = fileURLToPath(new URL('./segment-worker.mjs', import.meta.url));

/** Default sizing: workers x intra-op threads <= cores (measured: oversubscription costs ~40%). */
export function defaultPoolSize(cores = availableParallelism(), intraOpThreads = 1): { workers: number; intraOpThreads: number } {
  const threads = Math.max(1, Math.min(intraOpThreads, cores));
  return { workers: Math.max(1, Math.floor(cores / threads)), intraOpThreads: threads };
}

export class WorkerPool {
  readonly workers: number;
  readonly intraOpThreads: number;
  private readonly piscina: Piscina;
  private readonly queues: Record<Priority, Pending[]> = { decode: [], encode: [] };
  private readonly maxQueue: number;
  private busy = 0;
  private closed = false;
  private idleWaiters: (() => void)[] = [];
  /** Cumulative milliseconds tasks waited in our queue, for queue-time vs compute-time metrics. */
  queueMs = 0;

  constructor(options: PoolOptions) {
    const sizing = defaultPoolSize(undefined, options.intraOpThreads ?? 1);
    this.intraOpThreads = options.intraOpThreads ?? sizing.intraOpThreads;
    this.workers = options.workers ?? sizing.workers;
    this.maxQueue = options.maxQueue ?? 10_000;
    const init: WorkerInit = { models: options.models, intraOpThreads: this.intraOpThreads };
    this.piscina = new Piscina({
      filename: WORKER_ENTRY,
      minThreads: this.workers,
      maxThreads: this.workers,
      // Workers hold hundreds of MB of sessions: never retire idle ones.
      idleTimeout: Number.POSITIVE_INFINITY,
      workerData: init,
      // Idle workers blocked in Atomics.wait lose async log lines; workers do not log, but keep them responsive.
      atomics: 'disabled',
    });
  }

  /** Resolves when every worker has loaded its sessions (one ping per worker, run concurrently). */
  async ready(): Promise<readonly PingResult[]> {
    const pings = Array.from({ length: this.workers }, () => this.piscina.run({ kind: 'ping' }) as Promise<PingResult>);
    return Promise.all(pings);
  }

  encode(task: EncodeTask): Promise<EncodeResult> {
    return this.submit('encode', task) as Promise<EncodeResult>;
  }

  decode(task: DecodeTask): Promise<DecodeResult> {
    return this.submit('decode', task) as Promise<DecodeResult>;
  }

  stats(): PoolStats {
    return { queued: this.queues.decode.length + this.queues.encode.length, busy: this.busy, workers: this.workers };
  }

  /** True when every worker is busy and work is waiting: front ends stop reading new payloads. */
  saturated(): boolean {
    return this.busy >= this.workers && this.stats().queued > 0;
  }

  /** Stops accepting work, waits for queued and running tasks, then closes the threads. */
  async close(): Promise<void> {
    this.closed = true;
    while (this.busy > 0 || this.stats().queued > 0) await new Promise<void>((r) => this.idleWaiters.push(r));
    // Closing with tasks inside session.run() kills the process; here nothing is running.
    await this.piscina.close();
  }

  private submit(priority: Priority, task: EncodeTask | DecodeTask): Promise<unknown> {
    if (this.closed) return Promise.reject(new Error('the worker pool is closed'));
    if (this.stats().queued >= this.maxQueue) return Promise.reject(new PoolSaturatedError(this.maxQueue));
    return new Promise((resolve, reject) => {
      this.queues[priority].push({ task, resolve, reject, queuedAt: performance.now() });
      this.dispatch();
    });
  }

  private dispatch(): void {
    while (this.busy < this.workers) {
      const next = this.queues.decode.shift() ?? this.queues.encode.shift();
      if (!next) break;
      this.busy++;
      this.queueMs += performance.now() - next.queuedAt;
      this.piscina.run(next.task).then(next.resolve, next.reject).finally(() => {
        this.busy--;
        this.dispatch();
        if (this.busy === 0 && this.stats().queued === 0) {
          for (const w of this.idleWaiters.splice(0)) w();
        }
      });
    }
  }
}
