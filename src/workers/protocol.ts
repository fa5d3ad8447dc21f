// Everything that crosses the worker-thread boundary, typed in one place.
// Embeddings live in SharedArrayBuffers owned by the main thread's EmbeddingStore: a worker writes an encoder
// output into one and reads it back for decoding, so 4 MiB tensors are never structured-cloned. Their sizes, and
// which networks have interm embeddings at all, are the network contract's (src/models/network-contract.ts).
import type { NetworkName } from '../models/network-contract.ts';
import type { PackedError } from './error-transport.ts';

/** Model files a worker opens, per network. */
export interface WorkerModelPaths {
  readonly encoderPath: string;
  readonly decoderPath: string;
}

export interface WorkerInit {
  readonly models: Readonly<Partial<Record<NetworkName, WorkerModelPaths>>>;
  readonly intraOpThreads: number;
  /**
   * Lazy workers (the command line) open no session at start and run no warm-up: a network's sessions are created
   * by the first task that needs it, from the paths the task carries (NetworkLoads), and kept. The server's workers
   * load `models` before they report ready, so readiness means every network can run.
   */
  readonly lazy?: boolean;
  /**
   * onnxruntime's CPU memory arena in every session: for the command line's one-worker jobs, whose first and only
   * runs it makes 2-3x faster (bench/README.md). Without it the decoders have it and the encoders of a worker that
   * holds one network (session-options.ts, `encoderArena`).
   */
  readonly cpuMemArena?: boolean;
  /** Test only: a WorkerFaultSwitch's memory (see below); absent in the service. */
  readonly faultSwitch?: SharedArrayBuffer;
}

/** Every task's answer: its result, or what it threw, packed so the error's class and code survive cloning. */
export type WorkerReply<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: PackedError };

/** `kind` of the message a worker posts once, when its sessions are loaded (or failed to load). */
export const WORKER_LOADED = 'onesam-worker-loaded';

/** Posted by every worker thread at the end of its load, before it takes tasks; piscina relays it as 'message'. */
export interface WorkerLoaded {
  readonly kind: typeof WORKER_LOADED;
  readonly threadId: number;
  readonly loadMs: number;
  /** Why the sessions could not be created (or warmed up); the worker then answers every task with it. */
  readonly error?: string;
}

/**
 * Test-only fault injection. The test holds a WorkerFaultSwitch and hands its buffer to the pool (WorkerInit);
 * arming it makes the next encode or decode task, on whichever worker takes it, fail in the chosen way: the thread
 * exits mid-task (`exit`), dies of an uncaught exception (`crash`), or onnxruntime rejects a run (`ort-error`).
 * Only in-process code can create one: no setting, environment variable or request field reaches it.
 */
export const WORKER_FAULTS = ['exit', 'crash', 'ort-error'] as const;
export type WorkerFault = (typeof WORKER_FAULTS)[number];

export class WorkerFaultSwitch {
  readonly buffer = new SharedArrayBuffer(4);
  private readonly slot = new Int32Array(this.buffer);

  arm(fault: WorkerFault): void {
    Atomics.store(this.slot, 0, WORKER_FAULTS.indexOf(fault) + 1);
  }

  /** Whether the armed fault is still waiting for a task. */
  get armed(): boolean {
    return Atomics.load(this.slot, 0) !== 0;
  }
}

/** In the worker: claims the armed fault, if any (exactly one task takes it). */
export function takeInjectedFault(buffer: SharedArrayBuffer | undefined): WorkerFault | undefined {
  if (!buffer) return undefined;
  const code = Atomics.exchange(new Int32Array(buffer), 0, 0);
  return code > 0 ? WORKER_FAULTS[code - 1] : undefined;
}

/**
 * Per-request cancellation flag, checked by a worker before it starts a task: work queued for a cancelled
 * request is skipped instead of run. A task already inside session.run() always finishes (aborting it would
 * kill the process).
 */
export type CancelFlag = Int32Array;

export interface SliceImage {
  readonly height: number;
  readonly width: number;
  readonly channels: 1 | 3;
  /** height * width * channels bytes (a copy of one slice, never a view of the whole volume). */
  readonly pixels: Uint8Array;
}

/** For lazy workers: the model files of the networks a task runs, in case this thread has not opened them yet. */
export type NetworkLoads = Readonly<Partial<Record<NetworkName, WorkerModelPaths>>>;

export interface EncodeTask {
  readonly kind: 'encode';
  readonly network: NetworkName;
  readonly slice: SliceImage;
  /** Receives image_embeddings (the network's embeddingFloats). */
  readonly embedding: SharedArrayBuffer;
  /** Receives interm_embeddings (the network's intermFloats); only for networks whose decoder needs them. */
  readonly interm?: SharedArrayBuffer;
  readonly cancel?: CancelFlag;
  readonly load?: NetworkLoads;
}

export interface EncodeResult {
  readonly cancelled: boolean;
  readonly preprocessMs: number;
  readonly encodeMs: number;
}

export interface NetworkEmbedding {
  readonly network: NetworkName;
  readonly embedding: SharedArrayBuffer;
  readonly interm?: SharedArrayBuffer;
}

/** Prompts decoded together against one slice: B boxes in 256-space, or B dense masks (256x256, 0/1). */
export type DecodePrompts =
  | { readonly kind: 'boxes'; readonly boxes256: Float32Array }
  | { readonly kind: 'masks'; readonly masks256: Float32Array };

export interface DecodeTask {
  readonly kind: 'decode';
  /** One entry, or two for `fuse` (probabilities averaged). */
  readonly embeddings: readonly NetworkEmbedding[];
  readonly prompts: DecodePrompts;
  /** Original slice size and the resized size before padding. */
  readonly height: number;
  readonly width: number;
  readonly newh: number;
  readonly neww: number;
  /**
   * When set, also compute each prompt's next-slice box (the 3D walk): the mask is multiplied by this label value
   * before the INTER_AREA resize, as the reference resizes its label-valued uint8 mask.
   */
  readonly propagateLabels?: readonly number[];
  readonly cancel?: CancelFlag;
  readonly load?: NetworkLoads;
}

export interface DecodeResult {
  readonly cancelled: boolean;
  /** B * height * width, 0/1. */
  readonly masks: Uint8Array;
  /** Per prompt: [x0, y0, x1, y1] in 256-space for the next slice, or null when the resized mask is empty. */
  readonly nextBoxes: readonly (readonly [number, number, number, number] | null)[];
  /** Per prompt: the decoder's predicted IoU of its mask (fuse: averaged over the networks). */
  readonly iou: Float32Array;
  readonly decodeMs: number;
  readonly postprocessMs: number;
}

export interface PingTask { readonly kind: 'ping' }
export interface PingResult { readonly networks: readonly NetworkName[]; readonly threadId: number }

export type WorkerTask = EncodeTask | DecodeTask | PingTask;
