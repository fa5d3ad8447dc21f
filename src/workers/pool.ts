// The worker pool: piscina threads that each hold ORT sessions for every network (a lazy pool, the command line's:
// for the networks its tasks have needed so far), fed by a two-level priority
// queue in the main thread. Decodes go before encodes, so walks keep moving and release embeddings; prefetch
// encodes fill the remaining capacity. Tasks are handed to piscina only when a thread is free, so piscina's own
// queue stays empty and our queue depth is the real backlog (exported as a metric).
//
// Thread faults (docs/errors.md, "Worker faults"). A thread that dies mid-task fails only the tasks it was running,
// with WORKER_FAILED; piscina starts a replacement, which loads its sessions before it takes work, and our busy
// count is released with the failed task, so the queue drains onto the other threads and then onto the new one.
// A task that fails inside a live thread comes back as the coded error the worker packed (INFERENCE_FAILED, ...).
// Every piscina 'error' event is handled here: unhandled, it aborts the process. A thread whose sessions cannot be
// loaded does not crash: it says so (WorkerLoaded), ready() rejects with the reason, and a replacement that cannot
// load puts the whole pool in `failed` (events.failed), since it can no longer reach its size.
import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import { CodedError } from '../errors/coded-error.ts';
import type { NetworkName } from '../models/network-contract.ts';
import { unpackError } from './error-transport.ts';
import {
  WORKER_LOADED,
  type DecodeResult, type DecodeTask, type EncodeResult, type EncodeTask, type PingResult, type WorkerInit, type WorkerLoaded,
  type WorkerModelPaths, type WorkerReply, type WorkerTask,
} from './protocol.ts';

export interface PoolOptions {
  readonly models: Readonly<Partial<Record<NetworkName, WorkerModelPaths>>>;
  /** Worker threads (the `workers` setting; its default is src/config's). */
  readonly workers: number;
  /** onnxruntime intra-op threads per worker (`intraOpThreads`). */
  readonly intraOpThreads: number;
  /** Tasks waiting in the main-thread queue beyond which submissions fail with POOL_SATURATED (`queueLimit`). */
  readonly queueLimit: number;
  /** What happens to the threads, for logs and metrics. */
  readonly events?: PoolEvents;
  /** Test only: a WorkerFaultSwitch's buffer (protocol.ts). */
  readonly faultSwitch?: SharedArrayBuffer;
  /**
   * Lazy threads (the command line): `models` is empty at start; provide() names a network's files once they are
   * compiled, and each thread opens a network's sessions in the first task that needs it (WorkerInit.lazy).
   */
  readonly lazy?: boolean;
  /** onnxruntime's CPU memory arena in every session (WorkerInit.cpuMemArena); off unless set. */
  readonly cpuMemArena?: boolean;
}

export interface PoolEvents {
  /** A thread loaded its sessions: at start, or as the replacement of a lost one (`recoveryMs` since the loss). */
  workerLoaded?(event: { readonly threadId: number; readonly loadMs: number; readonly replacement: boolean; readonly recoveryMs?: number }): void;
  /** A thread that had loaded its sessions died; piscina starts a replacement. */
  workerLost?(event: { readonly threadId: number }): void;
  /**
   * A task failed: inside a live thread (onnxruntime failed a run: INFERENCE_FAILED, ...), or with its thread
   * (WORKER_FAILED; `error` is piscina's account of the thread's end). The request's own log line has only the code.
   */
  taskFailed?(event: { readonly code: string; readonly error: Error }): void;
  /** piscina reported an error no task was waiting for (a thread failing outside a task, or at start-up). */
  threadError?(error: Error): void;
  /** The pool cannot serve any more: a thread it needs cannot load its sessions or cannot start. */
  failed?(reason: string): void;
}

function poolSaturated(limit: number): CodedError {
  return new CodedError('POOL_SATURATED', `the worker pool queue is full (${limit} tasks waiting)`);
}

/** The thread running one of this request's tasks died (the cause says how); the task did not complete. */
function workerFailed(cause: unknown): CodedError {
  return new CodedError('WORKER_FAILED', 'a worker thread failed while running part of this request; it is being replaced, retry the request', undefined, { cause });
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
  /** Threads alive with their sessions loaded: `workers` once started, less while a lost one is being replaced. */
  readonly ready: number;
}

const WORKER_ENTRY = fileURLToPath(new URL('./segment-worker.mjs', import.meta.url));

/** How long close() waits for threads still loading their sessions (terminating one inside a run kills the process). */
const LOAD_WAIT_MS = 120_000;
const LOAD_POLL_MS = 50;

function isWorkerLoaded(message: unknown): message is WorkerLoaded {
  return typeof message === 'object' && message !== null && (message as { kind?: unknown }).kind === WORKER_LOADED;
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export class WorkerPool {
  readonly workers: number;
  readonly intraOpThreads: number;
  private readonly piscina: Piscina;
  private readonly events: PoolEvents;
  private readonly queues: Record<Priority, Pending[]> = { decode: [], encode: [] };
  private readonly queueLimit: number;
  private busy = 0;
  private closed = false;
  /** Set once close() terminates the threads: their 'workerDestroy' events are not losses. */
  private terminating = false;
  private idleWaiters: (() => void)[] = [];
  /** Threads alive with sessions loaded; ids of threads that reported a failed load. */
  private readonly loadedThreads = new Set<number>();
  private readonly failedThreads = new Set<number>();
  private started = false;
  /**
   * WorkerLoaded messages received: the first `workers` come from the threads started with the pool, later ones
   * from replacements. (Counted, not timed against ready(): a thread's message and its ping answer travel on
   * different ports, so their order is not fixed.)
   */
  private loadsSeen = 0;
  /** When the earliest loss not yet made good happened (performance.now()), for the recovery time. */
  private lostAt: number | undefined;
  private failure: string | undefined;
  /** Cumulative milliseconds tasks waited in our queue, for queue-time vs compute-time metrics. */
  queueMs = 0;
  /** Lazy pools: the files of each network provided so far, sent with every task that runs it. */
  private readonly lazyModels: Partial<Record<NetworkName, WorkerModelPaths>> | undefined;

  constructor(options: PoolOptions) {
    this.intraOpThreads = options.intraOpThreads;
    this.workers = options.workers;
    this.queueLimit = options.queueLimit;
    this.events = options.events ?? {};
    this.lazyModels = options.lazy ? { ...options.models } : undefined;
    const init: WorkerInit = {
      models: options.lazy ? {} : options.models,
      intraOpThreads: this.intraOpThreads,
      ...(options.lazy ? { lazy: true } : {}),
      ...(options.cpuMemArena ? { cpuMemArena: true } : {}),
      ...(options.faultSwitch ? { faultSwitch: options.faultSwitch } : {}),
    };
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
    this.piscina.on('message', (message: unknown) => {
      if (isWorkerLoaded(message)) this.onWorkerLoaded(message);
    });
    // piscina announces a removal before it drops the thread from its list: look once it has.
    this.piscina.on('workerDestroy', () => setImmediate(() => this.onThreadRemoved()));
    this.piscina.on('error', (error: unknown) => this.onPoolError(error instanceof Error ? error : new Error(String(error))));
  }

  /**
   * Resolves when every worker has loaded its sessions (one ping per worker, run concurrently). Rejects with
   * NETWORK_UNAVAILABLE, the message carrying onnxruntime's (or the thread's) own reasons, once every ping has settled, so that no thread is still inside a
   * warm-up run when the caller closes the pool.
   */
  async ready(): Promise<readonly PingResult[]> {
    const pings = await Promise.allSettled(Array.from({ length: this.workers }, () => this.piscina.run({ kind: 'ping' } satisfies WorkerTask) as Promise<WorkerReply<PingResult>>));
    const results: PingResult[] = [];
    const failures: string[] = [];
    for (const ping of pings) {
      if (ping.status === 'rejected') failures.push(`a worker thread failed to start: ${describe(ping.reason)}`);
      else if (!ping.value.ok) failures.push(unpackError(ping.value.error).message);
      else results.push(ping.value.value);
    }
    if (failures.length > 0) {
      const reason = [...new Set(failures)].join('; ');
      this.failure ??= reason;
      throw new CodedError('NETWORK_UNAVAILABLE', reason);
    }
    this.started = true;
    return results;
  }

  encode(task: EncodeTask): Promise<EncodeResult> {
    return this.submit('encode', task) as Promise<EncodeResult>;
  }

  decode(task: DecodeTask): Promise<DecodeResult> {
    return this.submit('decode', task) as Promise<DecodeResult>;
  }

  /** Lazy pools: the compiled files of a network, which the threads open when a task first runs it. */
  provide(network: NetworkName, paths: WorkerModelPaths): void {
    if (!this.lazyModels) throw new Error('provide() is for lazy pools; this pool loaded its networks at start');
    this.lazyModels[network] = paths;
  }

  stats(): PoolStats {
    return { queued: this.queues.decode.length + this.queues.encode.length, busy: this.busy, workers: this.workers, ready: this.loadedThreads.size };
  }

  /** Why the pool cannot serve, once it cannot; undefined while it can. */
  get failureReason(): string | undefined {
    return this.failure;
  }

  /** True when every worker is busy and work is waiting: front ends stop reading new payloads. */
  saturated(): boolean {
    return this.busy >= this.workers && this.stats().queued > 0;
  }

  /** Stops accepting work, waits for queued and running tasks and for threads still loading, then closes the threads. */
  async close(): Promise<void> {
    this.closed = true;
    while (this.busy > 0 || this.stats().queued > 0) await new Promise<void>((r) => this.idleWaiters.push(r));
    // Closing with a thread inside session.run() kills the process: no task runs now, but a replacement thread
    // may still be in its warm-up runs.
    await this.threadsSettled();
    this.terminating = true;
    await this.piscina.close();
  }

  private submit(priority: Priority, task: EncodeTask | DecodeTask): Promise<unknown> {
    if (this.closed) return Promise.reject(new Error('the worker pool is closed'));
    if (this.failure !== undefined) return Promise.reject(this.unavailable());
    if (this.stats().queued >= this.queueLimit) return Promise.reject(poolSaturated(this.queueLimit));
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
      (this.piscina.run(this.withLoads(next.task)) as Promise<WorkerReply<unknown>>).then(
        (reply) => {
          if (reply.ok) return next.resolve(reply.value);
          const error = unpackError(reply.error);
          this.events.taskFailed?.({ code: reply.error.code ?? 'INTERNAL', error });
          return next.reject(error);
        },
        // Our tasks never throw in the worker (they answer a WorkerReply): a rejection means the thread is gone.
        (cause: unknown) => {
          this.events.taskFailed?.({ code: 'WORKER_FAILED', error: cause instanceof Error ? cause : new Error(String(cause)) });
          next.reject(workerFailed(cause));
        },
      ).finally(() => {
        this.busy--;
        this.dispatch();
        if (this.busy === 0 && this.stats().queued === 0) {
          for (const w of this.idleWaiters.splice(0)) w();
        }
      });
    }
  }

  /** Lazy pools: the task with the files of the networks it runs, for a thread that has not opened them yet. */
  private withLoads(task: EncodeTask | DecodeTask): EncodeTask | DecodeTask {
    const models = this.lazyModels;
    if (!models) return task;
    const networks = task.kind === 'encode' ? [task.network] : task.embeddings.map((e) => e.network);
    return { ...task, load: Object.fromEntries(networks.flatMap((n) => (models[n] ? [[n, models[n]]] : []))) };
  }

  private onWorkerLoaded(message: WorkerLoaded): void {
    const replacement = ++this.loadsSeen > this.workers;
    if (message.error !== undefined) {
      this.failedThreads.add(message.threadId);
      // A first thread's failure is ready()'s to report; a replacement that cannot load leaves the pool short for
      // good (the graphs changed under a running server).
      if (replacement) this.fail(`a replacement worker thread could not load the networks: ${message.error}`);
      return;
    }
    this.loadedThreads.add(message.threadId);
    let recoveryMs: number | undefined;
    if (this.lostAt !== undefined && this.loadedThreads.size >= this.workers) {
      recoveryMs = performance.now() - this.lostAt;
      this.lostAt = undefined;
    }
    this.events.workerLoaded?.({ threadId: message.threadId, loadMs: message.loadMs, replacement, ...(recoveryMs !== undefined ? { recoveryMs } : {}) });
  }

  /** piscina removed a thread: if one that had loaded its sessions is gone, it died (or close() is terminating it). */
  private onThreadRemoved(): void {
    if (this.terminating) return;
    // A thread that has exited no longer reports its id; compare against those still alive.
    const alive = new Set(this.piscina.threads.map((t) => t.threadId));
    for (const id of [...this.loadedThreads]) {
      if (alive.has(id)) continue;
      this.loadedThreads.delete(id);
      this.lostAt ??= performance.now();
      this.events.workerLost?.({ threadId: id });
    }
  }

  private onPoolError(error: Error): void {
    if (this.terminating) return;
    this.events.threadError?.(error);
    // piscina replaces a lost thread at once unless threads fail while starting; then it stops replacing them.
    if (this.started && this.piscina.threads.length < this.workers) this.fail(`a worker thread failed and could not be replaced: ${error.message}`);
  }

  private fail(reason: string): void {
    if (this.failure !== undefined) return;
    this.failure = reason;
    const error = this.unavailable();
    for (const pending of [...this.queues.decode.splice(0), ...this.queues.encode.splice(0)]) pending.reject(error);
    this.events.failed?.(reason);
    if (this.busy === 0) for (const w of this.idleWaiters.splice(0)) w();
  }

  private unavailable(): CodedError {
    return new CodedError('NETWORK_UNAVAILABLE', 'the networks are unavailable on this server (its worker threads failed); see the server log');
  }

  /** Resolves once no thread is still loading its sessions (every live thread has reported WorkerLoaded). */
  private async threadsSettled(): Promise<void> {
    const deadline = performance.now() + LOAD_WAIT_MS;
    const loading = (): boolean => this.piscina.threads.some((t) => !this.loadedThreads.has(t.threadId) && !this.failedThreads.has(t.threadId));
    while (loading() && performance.now() < deadline) await new Promise((r) => setTimeout(r, LOAD_POLL_MS));
  }
}
