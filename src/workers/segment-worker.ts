// The worker thread: holds onnxruntime sessions for every configured network and runs encode / decode tasks.
// Rules (see ../shared/docs/node-stack-notes.md): sessions are created once per worker, at module load (the server)
// or by the first task that needs the network (lazy workers, the command line), and kept; session.run() is
// never interrupted; tensors handed to ORT are backed by ordinary ArrayBuffers (ORT rejects shared memory), so
// shared embeddings are copied into per-worker scratch buffers first.
//
// Faults: a worker whose sessions fail to load (a graph ORT cannot parse, a missing file) does not throw from its
// module, which piscina would turn into an unhandled pool 'error' (the process aborted, on every restart); it
// reports the failure to the pool (WorkerLoaded) and answers every task with it. Every task answers a WorkerReply,
// so a failing run keeps its stable code across the thread boundary (error-transport.ts).
import { parentPort, threadId, workerData } from 'node:worker_threads';
import * as ort from 'onnxruntime-node';
import { performance } from 'node:perf_hooks';
import { IMAGE_ENCODER_IO as ENC, NETWORKS, PROMPT_DECODER_IO as DEC, type NetworkContract, type NetworkName } from '../models/network-contract.ts';
import { CodedError } from '../errors/coded-error.ts';
import { preprocessSliceInto } from './preprocess.ts';
import { encoderArena, workerSessionOptions } from './session-options.ts';
import { logitsToMasks } from './postprocess.ts';
import { MODEL_SIDE } from '../imaging/index.ts';
import { isErrorCode } from '../errors/registry.ts';
import { packError } from './error-transport.ts';
import {
  WORKER_LOADED, takeInjectedFault,
  type DecodePrompts, type DecodeResult, type DecodeTask, type EncodeResult, type EncodeTask, type NetworkLoads, type PingResult, type WorkerInit,
  type WorkerLoaded, type WorkerModelPaths, type WorkerReply, type WorkerTask,
} from './protocol.ts';

interface NetworkSessions {
  readonly encoder: ort.InferenceSession;
  readonly decoder: ort.InferenceSession;
  /** Tensor shapes and whether the decoder takes interm_embeddings. */
  readonly contract: NetworkContract;
}

const init = workerData as WorkerInit;

const sessions = new Map<NetworkName, NetworkSessions>();

// Per-worker scratch: ORT input buffers reused across tasks (fixed shapes, so no allocation churn), one per input
// and size, so networks of the same shapes share them.
const scratchBuffers = new Map<string, Float32Array>();

function scratch(input: 'image' | 'embeddings' | 'interm', shape: readonly number[]): Float32Array {
  const floats = shape.reduce((a, b) => a * b, 1);
  const key = `${input}:${floats}`;
  let buffer = scratchBuffers.get(key);
  if (!buffer) {
    buffer = new Float32Array(floats);
    scratchBuffers.set(key, buffer);
  }
  return buffer;
}

/** Opens one network's encoder and decoder sessions (the encoder released again when the decoder fails). */
async function openNetwork(name: NetworkName, paths: WorkerModelPaths): Promise<NetworkSessions> {
  // Eager workers know every network they will hold; a lazy one gives the arena to the first network it opens.
  const networks = init.lazy ? sessions.size + 1 : Object.keys(init.models).length;
  const arena = encoderArena(networks, init.cpuMemArena === true);
  const encoder = await ort.InferenceSession.create(paths.encoderPath, workerSessionOptions(init.intraOpThreads, 'encoder', arena));
  let decoder: ort.InferenceSession;
  try {
    decoder = await ort.InferenceSession.create(paths.decoderPath, workerSessionOptions(init.intraOpThreads, 'decoder', init.cpuMemArena === true));
  } catch (err) {
    await encoder.release();
    throw err;
  }
  return { encoder, decoder, contract: NETWORKS[name] };
}

async function loadSessions(): Promise<void> {
  for (const [name, paths] of Object.entries(init.models) as [NetworkName, WorkerModelPaths][]) {
    sessions.set(name, await openNetwork(name, paths));
  }
  for (const net of sessions.values()) await warmUp(net);
}

/**
 * Lazy workers: why a network's sessions could not be opened in this thread. Kept, so the following tasks of a
 * batch fail at once with the same reason instead of trying the same files again.
 */
const lazyFailures = new Map<NetworkName, string>();

/**
 * Lazy workers: opens, inside the task that first needs them, the sessions of the networks the task runs. No
 * warm-up run: for a command that encodes a few slices, the first real run pays the slow first run once, where a
 * warm-up would pay it and then the real run. A failure becomes the task's NETWORK_UNAVAILABLE, never a throw
 * outside a task (piscina would turn that into an 'error' event).
 */
async function ensureOpen(networks: readonly NetworkName[], loads: NetworkLoads | undefined): Promise<void> {
  if (!init.lazy) return;
  for (const name of networks) {
    if (sessions.has(name)) continue;
    const failed = lazyFailures.get(name);
    const paths = loads?.[name];
    if (failed === undefined && paths !== undefined) {
      try {
        sessions.set(name, await openNetwork(name, paths));
        continue;
      } catch (err) {
        lazyFailures.set(name, err instanceof Error ? err.message : String(err));
      }
    }
    throw new CodedError('NETWORK_UNAVAILABLE', `a worker thread could not load the ${name} network: ${lazyFailures.get(name) ?? 'no model files given'}`);
  }
}

/**
 * The first run of a fresh session is 2-3x slower (kernel selection, arena growth). Pay it at load, before the
 * worker reports ready, not on a client's first slice.
 */
async function warmUp(net: NetworkSessions): Promise<void> {
  const frame = net.contract.frameSize;
  const image = net.contract.imageShape;
  const enc = await net.encoder.run({ [ENC.input]: new ort.Tensor('float32', scratch('image', image), image) });
  const feeds: Record<string, ort.Tensor> = {
    [DEC.imageEmbeddings]: enc[ENC.embeddings]!,
    [DEC.pointCoords]: new ort.Tensor('float32', new Float32Array(4), [1, 2, 2]),
    [DEC.pointLabels]: new ort.Tensor('float32', Float32Array.of(2, 3), [1, 2]),
    [DEC.maskInput]: new ort.Tensor('float32', new Float32Array(frame * frame), [1, 1, frame, frame]),
    [DEC.hasMaskInput]: new ort.Tensor('float32', new Float32Array(1), [1]),
  };
  if (net.contract.needsInterm) feeds[DEC.intermEmbeddings] = enc[ENC.interm]!;
  const dec = await net.decoder.run(feeds);
  for (const t of [...Object.values(enc), ...Object.values(dec)]) t.dispose();
}

const loadStarted = performance.now();
/** Why this worker has no sessions; set once at load, never cleared (the pool stops sending work here). */
let loadError: string | undefined;
try {
  if (!init.lazy) await loadSessions();
} catch (err) {
  loadError = err instanceof Error ? err.message : String(err);
  for (const net of sessions.values()) await Promise.allSettled([net.encoder.release(), net.decoder.release()]);
  sessions.clear();
}
const loaded: WorkerLoaded = { kind: WORKER_LOADED, threadId, loadMs: performance.now() - loadStarted, ...(loadError !== undefined ? { error: loadError } : {}) };
parentPort?.postMessage(loaded);

function network(name: NetworkName): NetworkSessions {
  const s = sessions.get(name);
  if (!s) throw new Error(`network ${name} is not loaded in this worker`);
  return s;
}

const isCancelled = (flag?: Int32Array): boolean => flag !== undefined && Atomics.load(flag, 0) !== 0;

async function encode(task: EncodeTask): Promise<EncodeResult> {
  if (isCancelled(task.cancel)) return { cancelled: true, preprocessMs: 0, encodeMs: 0 };
  const t0 = performance.now();
  const net = network(task.network);
  const shape = net.contract.imageShape;
  const image = scratch('image', shape);
  preprocessSliceInto(task.slice, image);
  const t1 = performance.now();
  const fetches = task.interm ? [ENC.embeddings, ENC.interm] : [ENC.embeddings];
  const out = await net.encoder.run({ [ENC.input]: new ort.Tensor('float32', image, shape) }, fetches);
  new Float32Array(task.embedding).set(out[ENC.embeddings]!.data as Float32Array);
  if (task.interm) new Float32Array(task.interm).set(out[ENC.interm]!.data as Float32Array);
  for (const t of Object.values(out)) t.dispose();
  return { cancelled: false, preprocessMs: t1 - t0, encodeMs: performance.now() - t1 };
}

/** Prompts in the batch: boxes are 4 coordinates each, masks one frame (frameSize squared) each. */
function promptCount(prompts: DecodePrompts, frame: number): number {
  return prompts.kind === 'boxes' ? prompts.boxes256.length / 4 : prompts.masks256.length / (frame * frame);
}

/** The decoder's prompt inputs for prompt `index` of the task alone (B = 1). */
function promptFeeds(task: DecodeTask, index: number, frame: number): Record<string, ort.Tensor> {
  if (task.prompts.kind === 'boxes') {
    return {
      [DEC.pointCoords]: new ort.Tensor('float32', task.prompts.boxes256.slice(index * 4, index * 4 + 4), [1, 2, 2]),
      [DEC.pointLabels]: new ort.Tensor('float32', Float32Array.of(2, 3), [1, 2]),
      [DEC.maskInput]: new ort.Tensor('float32', new Float32Array(frame * frame), [1, 1, frame, frame]),
      [DEC.hasMaskInput]: new ort.Tensor('float32', new Float32Array(1), [1]),
    };
  }
  return {
    [DEC.pointCoords]: new ort.Tensor('float32', new Float32Array(0), [1, 0, 2]),
    [DEC.pointLabels]: new ort.Tensor('float32', new Float32Array(0), [1, 0]),
    [DEC.maskInput]: new ort.Tensor('float32', Float32Array.from(task.prompts.masks256.subarray(index * frame * frame, (index + 1) * frame * frame)), [1, 1, frame, frame]),
    [DEC.hasMaskInput]: new ort.Tensor('float32', Float32Array.of(1), [1]),
  };
}

async function decode(task: DecodeTask): Promise<DecodeResult> {
  if (isCancelled(task.cancel)) return { cancelled: true, masks: new Uint8Array(0), nextBoxes: [], iou: new Float32Array(0), decodeMs: 0, postprocessMs: 0 };
  const nets = task.embeddings.map((entry) => network(entry.network));
  // Every network decodes in the same model frame (the prompts were scaled to it once).
  const batch = promptCount(task.prompts, nets[0]?.contract.frameSize ?? 0);
  const t0 = performance.now();
  const logits: Float32Array[] = [];
  const ious: Float32Array[] = [];
  for (const [i, entry] of task.embeddings.entries()) {
    const net = nets[i]!;
    const c = net.contract;
    const embeddings = scratch('embeddings', c.embeddingShape);
    embeddings.set(new Float32Array(entry.embedding));
    const image: Record<string, ort.Tensor> = { [DEC.imageEmbeddings]: new ort.Tensor('float32', embeddings, c.embeddingShape) };
    if (c.needsInterm) {
      if (!entry.interm) throw new Error(`network ${entry.network} needs ${DEC.intermEmbeddings}`);
      const interm = scratch('interm', c.intermShape);
      interm.set(new Float32Array(entry.interm));
      image[DEC.intermEmbeddings] = new ort.Tensor('float32', interm, c.intermShape);
    }
    // One run per prompt: a batched run's (B,32,256,256) activations are B x 8 MiB, and from B = 2 on they (or
    // the memory pattern's block holding them) pass glibc's 32 MiB mmap threshold and are first-touched afresh
    // every run. With the decoder's arena (session-options.ts), measured 8 boxes 2423 -> 318 ms CPU for
    // LiteMedSAM, 7824 -> 933 ms for OneSAM (bench/decoder-faults.ts, bench/README.md "encoder-profile"). Each
    // prompt's output does not depend on the others in the batch.
    const netLogits = new Float32Array(batch * MODEL_SIDE * MODEL_SIDE);
    const netIou = new Float32Array(batch);
    for (let p = 0; p < batch; p++) {
      const out = await net.decoder.run({ ...image, ...promptFeeds(task, p, c.frameSize) }, [DEC.lowResLogits, DEC.iouPredictions]);
      netLogits.set(out[DEC.lowResLogits]!.data as Float32Array, p * MODEL_SIDE * MODEL_SIDE);
      netIou[p] = (out[DEC.iouPredictions]!.data as Float32Array)[0]!;
      for (const t of Object.values(out)) t.dispose();
    }
    logits.push(netLogits);
    ious.push(netIou);
  }
  const t1 = performance.now();
  const { masks, nextBoxes } = logitsToMasks(logits, batch, task);
  return { cancelled: false, masks, nextBoxes, iou: meanPerPrompt(ious, batch), decodeMs: t1 - t0, postprocessMs: performance.now() - t1 };
}

/**
 * Each prompt's predicted IoU (mask token 0's score); for `fuse`, the networks' predictions averaged, as their
 * probabilities are. The decoder computes it anyway: fetching it costs a (B,1) copy.
 */
function meanPerPrompt(perNetwork: readonly Float32Array[], batch: number): Float32Array {
  const out = new Float32Array(batch);
  for (let b = 0; b < batch; b++) {
    let sum = 0;
    for (const iou of perNetwork) sum += iou[b]!;
    out[b] = sum / perNetwork.length;
  }
  return out;
}

export default async function run(task: WorkerTask): Promise<WorkerReply<EncodeResult | DecodeResult | PingResult>> {
  try {
    if (loadError !== undefined) throw new CodedError('NETWORK_UNAVAILABLE', `a worker thread could not load the networks: ${loadError}`);
    switch (task.kind) {
      case 'encode':
        await ensureOpen([task.network], task.load);
        await injectFault();
        return { ok: true, value: await encode(task) };
      case 'decode':
        await ensureOpen(task.embeddings.map((e) => e.network), task.load);
        await injectFault();
        return { ok: true, value: await decode(task) };
      case 'ping':
        return { ok: true, value: { networks: [...sessions.keys()], threadId } };
    }
  } catch (err) {
    return { ok: false, error: packError(asCoded(err, task.kind)) };
  }
}

/**
 * Errors with a stable code keep it; anything else thrown while running a task (onnxruntime refusing or failing a
 * run, a bug in pre/post-processing) becomes INFERENCE_FAILED. The client reads only the generic message; what
 * actually failed travels in the stack, which the server logs.
 */
function asCoded(err: unknown, kind: WorkerTask['kind']): unknown {
  if (typeof err === 'object' && err !== null && isErrorCode((err as { code?: unknown }).code)) return err;
  const coded = new CodedError('INFERENCE_FAILED', `the ${kind} step failed in a worker; details are in the server log`);
  coded.stack = `${coded.name}: ${coded.message}\ncaused by: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`;
  return coded;
}

/**
 * Test hook (WorkerInit.faultSwitch, which only in-process code can set; never configuration or the wire): the
 * next encode or decode task fails the way the switch was armed.
 */
async function injectFault(): Promise<void> {
  switch (takeInjectedFault(init.faultSwitch)) {
    case undefined:
      return;
    case 'exit':
      // The thread ends with this task unanswered, as after a fatal error inside a native addon.
      process.exit(70);
      break;
    case 'crash':
      // An uncaught exception outside the task's promise chain kills the thread; the task never settles.
      setImmediate(() => { throw new Error('injected worker crash (test hook)'); });
      await new Promise<never>(() => undefined);
      break;
    case 'ort-error': {
      // A genuine onnxruntime run error: an input of the wrong rank.
      const net = sessions.values().next().value!;
      const image = net.contract.imageShape;
      await net.encoder.run({ [ENC.input]: new ort.Tensor('float32', scratch('image', image), image.slice(1)) });
      break;
    }
  }
}
