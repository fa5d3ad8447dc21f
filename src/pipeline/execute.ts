// Runs a planned request: the walks of every object over a shared, budgeted embedding store, and the label
// assembly. Objects and both directions of a 3D walk run concurrently; within a walk slices are sequential,
// because each slice's box comes from the previous slice's mask.
import { CodedError } from '../errors/coded-error.ts';
import type { WorkerPool } from '../workers/pool.ts';
import type { DecodePrompts, DecodeResult, SliceImage } from '../workers/protocol.ts';
import type { ByteBudget } from './byte-budget.ts';
import { sessionCacheFor } from './embedding-cache.ts';
import { EmbeddingStore } from './embedding-store.ts';
import { scribbleMask256, resizedSize, scaleBoxTo256 } from './geometry.ts';
import { interpolateShapes } from '../imaging/shape-interpolation.ts';
import { LabelAssembler } from './labels.ts';
import { IouStats, objectQuality, volumeMl } from './object-quality.ts';
import { walkVisits, type DetailedPlan, type ObjectWork } from './plan.ts';
import type { SegmentOptions } from './segmenter.ts';
import { sliceKey } from './slice-key.ts';
import { DEFAULT_GAP_MODE, EXACT_SPEED_LEVEL, gapSettings, masksDisagree } from './speed-level.ts';
import { networkRecord, type NetworkName } from '../models/network-contract.ts';
import type { ProgressEvent, SegmentationRequest, SegmentationResult, StageTimes } from './types.ts';

type Box256 = readonly [number, number, number, number];

/** Boxes per decode task sent to a worker (one message; the worker runs the decoder once per box, see segment-worker.ts). */
const DECODE_BATCH = 8;

export interface ExecuteContext {
  readonly pool: WorkerPool;
  readonly budget: ByteBudget;
}

class RequestRun {
  readonly stages: StageTimes = { preprocess: 0, encode: 0, decode: 0, postprocess: 0, assemble: 0, queue: 0 };
  store: EmbeddingStore;
  /** Slices encoded and reused by the stores already disposed (the reference schedule opens one per object). */
  private readonly counted = { encoded: networkRecord(() => 0), reused: networkRecord(() => 0) };
  private readonly totalSlices: number;
  readonly labels: LabelAssembler;
  readonly cancel = new Int32Array(new SharedArrayBuffer(4));
  readonly abort = new AbortController();
  private objectsDone = 0;
  private slicesDone = 0;
  readonly size: { height: number; width: number; newh: number; neww: number };

  constructor(
    private readonly ctx: ExecuteContext,
    private readonly request: SegmentationRequest,
    private readonly plan: DetailedPlan,
    private readonly options: SegmentOptions,
  ) {
    const { image } = request;
    this.size = { height: image.height, width: image.width, ...resizedSize(image.height, image.width) };
    this.labels = new LabelAssembler(image.depth, image.height, image.width, request.objects.map((o) => o.label));
    this.totalSlices = plan.networks.length * new Set(plan.visits).size;
    const ordered = (options.schedule ?? 'shared') === 'shared' && plan.ordered;
    this.store = this.openStore(plan.visits, ordered ? plan.prefetchOrder : walkVisits(plan.work).prefetchOrder, ordered);
  }

  /** An embedding store for these planned visits (all the plan's, or one object's in the reference schedule). */
  private openStore(visits: readonly number[], prefetchOrder: readonly number[], ordered: boolean): EmbeddingStore {
    const { ctx, plan, options } = this;
    const cache = sessionCacheFor(options.cache, ctx.budget);
    cache?.checkImage(this.request.image);
    const store = new EmbeddingStore({
      pool: ctx.pool,
      budget: ctx.budget,
      sliceImage: (z) => this.sliceImage(z),
      cancel: this.cancel,
      signal: this.abort.signal,
      stages: this.stages,
      // Counts slices ready, adopted from the session cache or encoded. Scribble walks may encode past the planned
      // range: the total grows with them rather than being exceeded.
      onEncoded: (network, slice, reused) => this.emit({ kind: 'encoded', network, slice, reused, done: ++this.slicesDone, total: Math.max(this.totalSlices, this.slicesDone) }),
      ...(cache ? { cache } : {}),
    });
    const uses = plan.networks.flatMap((n) => visits.map((z) => sliceKey(n, z)));
    const order = prefetchOrder.flatMap((z) => plan.networks.map((n) => sliceKey(n, z)));
    store.plan(uses, order, ordered);
    return store;
  }

  /** Disposes the current store and opens one for the next object's visits only (the reference schedule). */
  restartStore(work: readonly ObjectWork[]): void {
    this.store.dispose();
    for (const n of this.plan.networks) {
      this.counted.encoded[n] += this.store.encoded[n];
      this.counted.reused[n] += this.store.reused[n];
    }
    const { visits, prefetchOrder } = walkVisits(work);
    this.store = this.openStore(visits, prefetchOrder, false);
  }

  /** Slices encoded (or reused) over the whole request, by every store it opened. */
  counts(): { encoded: Record<NetworkName, number>; reused: Record<NetworkName, number> } {
    const sum = (a: Record<NetworkName, number>, b: Readonly<Record<NetworkName, number>>) => networkRecord((n) => a[n] + b[n]);
    return { encoded: sum(this.counted.encoded, this.store.encoded), reused: sum(this.counted.reused, this.store.reused) };
  }

  private emit(event: ProgressEvent): void {
    try {
      this.options.onProgress?.(event);
    } catch {
      // A failing progress listener must not break the segmentation.
    }
  }

  private sliceImage(z: number): SliceImage {
    const { image } = this.request;
    const bytes = image.height * image.width * image.channels;
    // slice() copies just this slice: a subarray view would clone the whole volume into the worker.
    return { height: image.height, width: image.width, channels: image.channels, pixels: image.data.slice(z * bytes, (z + 1) * bytes) };
  }

  checkCancelled(): void {
    if (this.abort.signal.aborted) throw new CodedError('REQUEST_CANCELLED', 'request cancelled');
  }

  /** Decodes prompts on slice z with every network of the plan (fused when two), pinning embeddings meanwhile. */
  async decodeSlice(z: number, prompts: DecodePrompts, propagateLabels?: readonly number[]): Promise<DecodeResult> {
    this.checkCancelled();
    const embeddings = await this.store.acquireSlice(this.plan.networks, z);
    try {
      this.checkCancelled();
      const submitted = performance.now();
      const result = await this.ctx.pool.decode({
        kind: 'decode', embeddings, prompts, ...this.size, cancel: this.cancel,
        ...(propagateLabels ? { propagateLabels } : {}),
      });
      if (result.cancelled) throw new CodedError('REQUEST_CANCELLED', 'request cancelled');
      this.stages.decode += result.decodeMs;
      this.stages.postprocess += result.postprocessMs;
      this.stages.queue += Math.max(0, performance.now() - submitted - result.decodeMs - result.postprocessMs);
      return result;
    } finally {
      for (const network of this.plan.networks) this.store.release(network, z);
    }
  }

  /** Slices each object's walks actually visited (scribble walks may go past the planned range). */
  readonly visited = new Map<number, [number, number]>();
  /** Per object ordinal: the decoder's predicted IoU on every slice decoded for it. */
  readonly ious = new Map<number, IouStats>();
  /** Object ordinals one of whose walks ended on an empty mask before the volume's edge. */
  readonly stoppedEarly = new Set<number>();

  record(ordinal: number, z: number, result: DecodeResult, index: number): void {
    const t0 = performance.now();
    const masks = result.masks;
    let iou = this.ious.get(ordinal);
    if (!iou) this.ious.set(ordinal, (iou = new IouStats()));
    iou.add(result.iou[index] ?? Number.NaN);
    const range = this.visited.get(ordinal);
    if (!range) this.visited.set(ordinal, [z, z]);
    else this.visited.set(ordinal, [Math.min(range[0], z), Math.max(range[1], z)]);
    const plane = this.size.height * this.size.width;
    this.labels.paint(ordinal, z, masks.subarray(index * plane, (index + 1) * plane));
    this.stages.assemble += performance.now() - t0;
  }

  /** Object slices filled by interpolation (speed levels). */
  slicesInterpolated = 0;

  private maskOf(result: DecodeResult, index: number): Uint8Array {
    const plane = this.size.height * this.size.width;
    return result.masks.subarray(index * plane, (index + 1) * plane);
  }

  /** Paints the slices strictly between two computed slices of an object's walk with their interpolated shapes. */
  private interpolate(ordinal: number, za: number, maskA: Uint8Array, zb: number, maskB: Uint8Array): void {
    const t0 = performance.now();
    const between: number[] = [];
    for (let z = Math.min(za, zb) + 1; z < Math.max(za, zb); z++) between.push(z);
    const shapes = interpolateShapes(maskA, maskB, this.size.height, this.size.width, between.map((z) => (z - za) / (zb - za)));
    between.forEach((z, i) => this.labels.paint(ordinal, z, shapes[i]!));
    this.slicesInterpolated += between.length;
    this.stages.assemble += performance.now() - t0;
  }

  objectDone(label: number): void {
    this.emit({ kind: 'object-done', label, done: ++this.objectsDone, total: this.plan.work.length });
  }

  // --- walks -------------------------------------------------------------------------------------------

  /** 2D boxes on one slice, decoded in batches against its single embedding. */
  async runBoxes2D(z: number, objects: readonly Extract<ObjectWork, { kind: 'box2d' }>[]): Promise<void> {
    for (let i = 0; i < objects.length; i += DECODE_BATCH) {
      const chunk = objects.slice(i, i + DECODE_BATCH);
      const boxes256 = new Float32Array(chunk.length * 4);
      chunk.forEach((o, j) => boxes256.set(this.box256(o.box), j * 4));
      const result = await this.decodeSlice(z, { kind: 'boxes', boxes256 });
      chunk.forEach((o, j) => { this.record(o.ordinal, z, result, j); this.objectDone(o.label); });
    }
  }

  private box256(box: { x0: number; y0: number; x1: number; y1: number }): Box256 {
    return scaleBoxTo256(box, this.size.height, this.size.width);
  }

  /**
   * The LiteMedSAM 3D walk (bowang-lab head 2a5a055): the middle slice with the scaled 3D box, then upward and
   * downward, each slice prompted with the box of the previous slice's mask (INTER_AREA-resized, label-valued,
   * +-3 px), falling back to the scaled 3D box when that mask is empty. Never stops early.
   */
  async runBox3D(work: Extract<ObjectWork, { kind: 'box3d' }>): Promise<void> {
    const fallback = this.box256(work.box);
    const label = [Math.min(work.ordinal, 255)];
    const first = await this.decodeSlice(work.zmid, { kind: 'boxes', boxes256: Float32Array.from(fallback) }, label);
    this.record(work.ordinal, work.zmid, first, 0);
    // At a speed level above 1 the planned slices skip some (plan.ts): the previous *computed* slice's mask prompts
    // the next, as the neighbour's does in the exact walk, and the skipped slices get the interpolated shape.
    // Where the two computed masks disagree (masksDisagree) the gap is walked exactly instead: every slice between
    // prompted from its predecessor, then the far slice decoded again from its new predecessor. When the near
    // slice's mask was level 1's, the gap's masks and the far slice's are level 1's too.
    // The segmenter passes its speedLevelGaps mode's settings; a caller of executePlan that passes none gets the default mode's.
    const defaults = gapSettings(DEFAULT_GAP_MODE);
    const agreement = this.options.gapAgreement ?? defaults.gapAgreement;
    const redecodes = this.options.gapRedecodes ?? defaults.gapRedecodes;
    const walk = async (slices: readonly number[]): Promise<void> => {
      let prev = first.nextBoxes[0] ?? null;
      let prevZ = work.zmid;
      let prevMask = this.maskOf(first, 0);
      for (const z of slices) {
        const gap = Math.abs(z - prevZ) > 1;
        // The far slice may be decoded twice: keep its embedding past the first decode.
        if (gap) for (const n of this.plan.networks) this.store.addUse(n, z);
        let r = await this.decodeSlice(z, { kind: 'boxes', boxes256: Float32Array.from(prev ?? fallback) }, label);
        // The far slice again, prompted with its own mask's box (GAP_REDECODES); an empty mask has no box to give.
        for (let k = 0; gap && k < redecodes && r.nextBoxes[0]; k++) {
          for (const n of this.plan.networks) this.store.addUse(n, z);
          r = await this.decodeSlice(z, { kind: 'boxes', boxes256: Float32Array.from(r.nextBoxes[0]) }, label);
        }
        if (gap && masksDisagree(prevMask, this.maskOf(r, 0), agreement)) {
          const step = z > prevZ ? 1 : -1;
          for (let between = prevZ + step; between !== z; between += step) {
            // Not planned: encoded on demand and freed after this decode, as a scribble walk's slices past its range.
            const rb = await this.decodeSlice(between, { kind: 'boxes', boxes256: Float32Array.from(prev ?? fallback) }, label);
            this.record(work.ordinal, between, rb, 0);
            prev = rb.nextBoxes[0] ?? null;
          }
          r = await this.decodeSlice(z, { kind: 'boxes', boxes256: Float32Array.from(prev ?? fallback) }, label);
        } else {
          if (gap) for (const n of this.plan.networks) this.store.skip(n, z);
          if (gap) this.interpolate(work.ordinal, prevZ, prevMask, z, this.maskOf(r, 0));
        }
        this.record(work.ordinal, z, r, 0);
        prev = r.nextBoxes[0] ?? null;
        prevZ = z;
        prevMask = this.maskOf(r, 0);
      }
    };
    await this.settleAll([walk(work.up), walk(work.down)]);
    this.objectDone(work.label);
  }

  /**
   * Scribbles (dense mask prompts, LiteMedSAMScribble). A scribbled slice is prompted with its scribble; the
   * object then propagates like a 3D box walk: upward through the scribbled range and beyond, downward from
   * the lowest scribbled slice, each unscribbled slice prompted with the previous mask's box. Outside the
   * scribbled range a walk stops at the first empty mask; inside it, an empty mask skips to the next scribble.
   */
  async runScribble(work: Extract<ObjectWork, { kind: 'scribble' }>): Promise<void> {
    const depth = this.request.image.depth;
    const label = [Math.min(work.ordinal, 255)];
    const promptFor = (z: number, prev: Box256 | null): DecodePrompts | null => {
      const px = work.slices.get(z);
      if (px) return { kind: 'masks', masks256: scribbleMask256(px, this.size) };
      return prev ? { kind: 'boxes', boxes256: Float32Array.from(prev) } : null;
    };
    const first = await this.decodeSlice(work.zlo, promptFor(work.zlo, null)!, label);
    this.record(work.ordinal, work.zlo, first, 0);
    const up = async (): Promise<void> => {
      let prev = first.nextBoxes[0] ?? null;
      for (let z = work.zlo + 1; z < depth; z++) {
        const prompt = promptFor(z, prev);
        if (!prompt) {
          if (z > work.zhi) {
            this.stoppedEarly.add(work.ordinal);
            break;
          }
          for (const n of this.plan.networks) this.store.skip(n, z);
          continue;
        }
        const r = await this.decodeSlice(z, prompt, label);
        this.record(work.ordinal, z, r, 0);
        prev = r.nextBoxes[0] ?? null;
      }
    };
    const down = async (): Promise<void> => {
      let prev = first.nextBoxes[0] ?? null;
      let z = work.zlo - 1;
      for (; z >= 0 && prev; z--) {
        const r = await this.decodeSlice(z, { kind: 'boxes', boxes256: Float32Array.from(prev) }, label);
        this.record(work.ordinal, z, r, 0);
        prev = r.nextBoxes[0] ?? null;
      }
      if (z >= 0) this.stoppedEarly.add(work.ordinal);
    };
    await this.settleAll([up(), down()]);
    this.objectDone(work.label);
  }

  /**
   * Waits for all walks; on the first failure stops the others (cooperatively) and rethrows the cause. The walks
   * stopped that way fail with REQUEST_CANCELLED, possibly before the cause itself settles (it may wait for its own
   * sibling walk), so the cause is the first failure that is not a cancellation: a full worker queue must reach the
   * client as RESOURCE_EXHAUSTED, not as a cancel it never asked for.
   */
  async settleAll(walks: Promise<void>[]): Promise<void> {
    const failures: unknown[] = [];
    await Promise.allSettled(walks.map((w) => w.catch((e: unknown) => { failures.push(e); this.abort.abort(); throw e; })));
    if (failures.length > 0) throw failures.find((e) => !isCancellation(e)) ?? failures[0];
  }
}

function isCancellation(error: unknown): boolean {
  return error instanceof CodedError && error.code === 'REQUEST_CANCELLED';
}

/**
 * The request's units of work: each 3D box and each scribble alone, the 2D boxes of one slice together (decoded in
 * batches against its one embedding).
 */
function workUnits(work: readonly ObjectWork[]): ObjectWork[][] {
  const units: ObjectWork[][] = [];
  const boxes2d = new Map<number, ObjectWork[]>();
  for (const w of work) {
    if (w.kind !== 'box2d') units.push([w]);
    else {
      let list = boxes2d.get(w.z);
      if (!list) boxes2d.set(w.z, (list = []));
      list.push(w);
    }
  }
  return [...units, ...boxes2d.values()];
}

function runUnit(run: RequestRun, unit: readonly ObjectWork[]): Promise<void> {
  const first = unit[0]!;
  switch (first.kind) {
    case 'box3d': return run.runBox3D(first);
    case 'scribble': return run.runScribble(first);
    case 'box2d': return run.runBoxes2D(first.z, unit as Extract<ObjectWork, { kind: 'box2d' }>[]);
  }
}

export async function executePlan(ctx: ExecuteContext, request: SegmentationRequest, plan: DetailedPlan, options: SegmentOptions = {}): Promise<SegmentationResult> {
  const t0 = performance.now();
  const run = new RequestRun(ctx, request, plan, options);
  const onAbort = (): void => {
    Atomics.store(run.cancel, 0, 1);
    run.abort.abort();
  };
  if (options.signal?.aborted) onAbort();
  options.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    run.checkCancelled();
    const units = workUnits(plan.work);
    if (options.schedule === 'reference') {
      for (const unit of units) {
        run.restartStore(unit);
        run.store.pump();
        await run.settleAll([runUnit(run, unit)]);
      }
    } else {
      run.store.pump();
      await run.settleAll(units.map((unit) => runUnit(run, unit)));
    }
    if (options.signal?.aborted) throw new CodedError('REQUEST_CANCELLED', 'request cancelled');
    const t1 = performance.now();
    const assembled = run.labels.finish();
    run.stages.assemble += performance.now() - t1;
    const spacing = request.image.spacing;
    return {
      labels: assembled.labels,
      objects: plan.work.map((w, i) => {
        const voxels = assembled.voxelsPerOrdinal[w.ordinal] ?? 0;
        const first = assembled.firstSlice[w.ordinal] ?? -1;
        const predictedIou = (run.ious.get(w.ordinal) ?? new IouStats()).summary;
        const ml = volumeMl(voxels, spacing);
        return {
          label: w.label,
          networks: plan.networks,
          voxels,
          slices: run.visited.get(w.ordinal) ?? plan.objects[i]!.slices,
          ...(first >= 0 ? { covered: [first, assembled.lastSlice[w.ordinal]!] as const } : {}),
          predictedIou,
          ...(ml !== undefined ? { volumeMl: ml } : {}),
          stoppedEarly: run.stoppedEarly.has(w.ordinal),
          quality: objectQuality(voxels, predictedIou.mean),
        };
      }),
      slicesEncoded: run.counts().encoded,
      slicesReused: run.counts().reused,
      speedLevel: request.speedLevel ?? EXACT_SPEED_LEVEL,
      slicesInterpolated: run.slicesInterpolated,
      stages: run.stages,
      wallMs: performance.now() - t0,
    };
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
    run.store.dispose();
  }
}
