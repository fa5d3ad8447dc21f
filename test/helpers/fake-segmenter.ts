// A Segmenter with the real contract and no networks, for fast server tests. It validates and plans with the real
// pipeline planner (so prompt errors are the real ones), "encodes" each planned slice by waiting `sliceMs`
// (checking the abort signal between slices, as the real pipeline does), and paints each object's prompt region
// with its label: box2d on its slice, box3d over z0..z1, scribble voxels as given; with `threshold`, only the
// voxels of that region whose prepared value (first channel) reaches it, so the labels depend on the pixels and
// their orientation. Pool stats model `workers` slots shared by the running requests.
import { CodedError } from '../../src/errors/coded-error.ts';
import { objectQuality, volumeMl } from '../../src/pipeline/object-quality.ts';
import { planRequest, type DetailedPlan } from '../../src/pipeline/plan.ts';
import { DEFAULT_ROUTING, type RoutingTable } from '../../src/pipeline/router.ts';
import type { EmbeddingCache, NetworkStatus, Segmenter, SegmentOptions, SegmentationPlan } from '../../src/pipeline/segmenter.ts';
import type { SegmentationRequest, SegmentationResult } from '../../src/pipeline/types.ts';
import type { NetworkName } from '../../src/models/network-contract.ts';

/** The predicted IoU the fake reports for every object. */
export const FAKE_PREDICTED_IOU = 0.875;

export interface FakeSegmenterOptions {
  /** Simulated encode time per planned slice. */
  readonly sliceMs?: number;
  readonly workers?: number;
  readonly routing?: RoutingTable;
  /** Thrown by segment() (after planning), to test error mapping. */
  readonly failWith?: () => unknown;
  /** Paint only the prompt's voxels whose prepared value (first channel) is at least this. */
  readonly threshold?: number;
}

export class FakeSegmenter implements Segmenter {
  readonly routing: RoutingTable;
  sliceMs: number;
  failWith: (() => unknown) | undefined;
  readonly workers: number;
  threshold: number | undefined;
  /** segment() calls started, finished normally, and stopped by their signal. */
  started = 0;
  completed = 0;
  aborted = 0;
  /** Requests inside segment() right now, and the most at once. */
  running = 0;
  peakRunning = 0;
  closed = false;
  /** When set, poolStats() reports this instead of the simulated pool. */
  statsOverride: { queued: number; busy: number; workers: number } | undefined;
  /** Requests planned, by plan() or by a segment() given no plan: the server plans each request once. */
  plansMade = 0;
  /** Every cache handed out, to check that the server disposes them. */
  readonly caches: FakeEmbeddingCache[] = [];
  /** Plans made by plan(), with their request, as the real segmenter keeps them for segment(). */
  private readonly plans = new WeakMap<SegmentationPlan, { readonly request: SegmentationRequest; readonly plan: DetailedPlan }>();
  private readonly slotWaiters: (() => void)[] = [];
  private busy = 0;

  constructor(options: FakeSegmenterOptions = {}) {
    this.sliceMs = options.sliceMs ?? 1;
    this.workers = options.workers ?? 2;
    this.routing = options.routing ?? DEFAULT_ROUTING;
    this.failWith = options.failWith;
    this.threshold = options.threshold;
  }

  plan(request: SegmentationRequest): SegmentationPlan {
    return this.planFor(request);
  }

  async segment(request: SegmentationRequest, options: SegmentOptions = {}): Promise<SegmentationResult> {
    const t0 = performance.now();
    let plan: DetailedPlan;
    if (options.plan) {
      const made = this.plans.get(options.plan);
      if (made?.request !== request) throw new Error('SegmentOptions.plan must come from plan() of the same segmenter for the same request');
      plan = made.plan;
    } else {
      plan = this.planFor(request);
    }
    this.started++;
    this.running++;
    this.peakRunning = Math.max(this.peakRunning, this.running);
    try {
      if (this.failWith) throw this.failWith();
      const slices = [...new Set(plan.visits)];
      const total = slices.length * plan.networks.length;
      let done = 0;
      const cache = options.cache instanceof FakeEmbeddingCache ? options.cache : undefined;
      const slicesEncoded: Record<NetworkName, number> = { litemedsam: 0, onesam: 0 };
      const slicesReused: Record<NetworkName, number> = { litemedsam: 0, onesam: 0 };
      for (const network of plan.networks) {
        for (const slice of slices) {
          this.checkAbort(options.signal);
          const reused = cache?.held.has(`${network}:${slice}`) ?? false;
          if (reused) {
            slicesReused[network]++;
          } else {
            await this.encodeSlice(options.signal);
            slicesEncoded[network]++;
            cache?.put(`${network}:${slice}`);
          }
          options.onProgress?.({ kind: 'encoded', network, slice, reused, done: ++done, total });
        }
      }
      const { depth, height, width } = request.image;
      const wide = request.objects.some((o) => o.label > 255);
      const labels = wide ? new Uint16Array(depth * height * width) : new Uint8Array(depth * height * width);
      const { threshold } = this;
      const { data, channels } = request.image;
      const keep = threshold === undefined ? undefined : (voxel: number): boolean => data[voxel * channels]! >= threshold;
      const objects = request.objects.map((o, i) => {
        const voxels = paint(labels, o.prompt, o.label, request.image, keep);
        options.onProgress?.({ kind: 'object-done', label: o.label, done: i + 1, total: request.objects.length });
        const slices = plan.objects[i]!.slices;
        const ml = volumeMl(voxels, request.image.spacing);
        // A fixed, plausible confidence: the fake paints the prompt's box, covering the planned slices.
        return {
          label: o.label, networks: plan.networks, voxels, slices, ...(voxels > 0 ? { covered: slices } : {}),
          predictedIou: { mean: FAKE_PREDICTED_IOU, min: FAKE_PREDICTED_IOU }, ...(ml !== undefined ? { volumeMl: ml } : {}),
          stoppedEarly: false, quality: objectQuality(voxels, FAKE_PREDICTED_IOU),
        };
      });
      this.completed++;
      return {
        labels, objects, slicesEncoded, slicesReused, speedLevel: request.speedLevel ?? 1, slicesInterpolated: skippedSlices(plan),
        stages: { preprocess: 1, encode: total * this.sliceMs, decode: 1, postprocess: 1, assemble: 1, queue: 0 },
        wallMs: performance.now() - t0,
      };
    } catch (err) {
      if (options.signal?.aborted) this.aborted++;
      throw err;
    } finally {
      this.running--;
    }
  }

  openCache(): EmbeddingCache {
    const cache = new FakeEmbeddingCache();
    this.caches.push(cache);
    return cache;
  }

  networks(): readonly NetworkStatus[] {
    return [
      { name: 'litemedsam', model: 'fake-litemedsam', ready: !this.closed },
      { name: 'onesam', model: 'fake-onesam', ready: !this.closed },
    ];
  }

  poolStats(): { queued: number; busy: number; workers: number } {
    return this.statsOverride ?? { queued: this.slotWaiters.length, busy: this.busy, workers: this.workers };
  }

  async close(): Promise<void> {
    this.closed = true;
    while (this.running > 0) await new Promise((r) => setTimeout(r, 5));
  }

  private planFor(request: SegmentationRequest): DetailedPlan {
    const plan = planRequest(request, this.routing);
    this.plansMade++;
    this.plans.set(plan, { request, plan });
    return plan;
  }

  private checkAbort(signal: AbortSignal | undefined): void {
    if (signal?.aborted) throw new CodedError('REQUEST_CANCELLED', 'request cancelled');
  }

  /** One slice on one simulated worker: wait for a free slot, hold it for sliceMs. */
  private async encodeSlice(signal: AbortSignal | undefined): Promise<void> {
    while (this.busy >= this.workers) await new Promise<void>((r) => this.slotWaiters.push(r));
    this.busy++;
    try {
      await new Promise((r) => setTimeout(r, this.sliceMs));
    } finally {
      this.busy--;
      this.slotWaiters.shift()?.();
    }
    this.checkAbort(signal);
  }
}

/** Remembers which (network, slice) pairs were "encoded" with it; 4 MiB each, as a real embedding. */
export class FakeEmbeddingCache implements EmbeddingCache {
  readonly held = new Set<string>();
  disposed = false;

  put(key: string): void {
    if (!this.disposed) this.held.add(key);
  }

  stats(): { slices: Record<NetworkName, number>; bytes: number } {
    const slices: Record<NetworkName, number> = { litemedsam: 0, onesam: 0 };
    for (const key of this.held) slices[key.split(':')[0] as NetworkName]++;
    return { slices, bytes: this.held.size * 4 * 2 ** 20 };
  }

  dispose(): void {
    this.disposed = true;
    this.held.clear();
  }
}

/**
 * The fake's mask for one prompt: what tests expect back. Returns the voxels painted. `keep`, when given, decides
 * per voxel (flat index) whether the region takes it.
 */
export function paint(labels: Uint8Array | Uint16Array, prompt: SegmentationRequest['objects'][number]['prompt'], label: number, dims: { depth: number; height: number; width: number }, keep?: (voxel: number) => boolean): number {
  const plane = dims.height * dims.width;
  let count = 0;
  const rect = (z: number, x0: number, y0: number, x1: number, y1: number): void => {
    for (let y = Math.floor(y0); y < Math.ceil(y1); y++) {
      for (let x = Math.floor(x0); x < Math.ceil(x1); x++) {
        const voxel = z * plane + y * dims.width + x;
        if (keep && !keep(voxel)) continue;
        labels[voxel] = label;
        count++;
      }
    }
  };
  switch (prompt.kind) {
    case 'box2d':
      rect(prompt.z ?? 0, prompt.x0, prompt.y0, prompt.x1, prompt.y1);
      break;
    case 'box3d':
      for (let z = prompt.z0; z <= prompt.z1; z++) rect(z, prompt.x0, prompt.y0, prompt.x1, prompt.y1);
      break;
    case 'scribble':
      for (const v of prompt.voxels) {
        if (keep && !keep(v)) continue;
        labels[v] = label;
        count++;
      }
      break;
  }
  return count;
}

/**
 * The object slices a speed-level plan leaves out of its 3D walks, which the real pipeline interpolates (or walks
 * when a gap's masks disagree): what the fake reports as interpolated, so the server's counters have a known value.
 */
function skippedSlices(plan: DetailedPlan): number {
  let skipped = 0;
  for (const w of plan.work) {
    if (w.kind !== 'box3d') continue;
    const z1 = Math.max(w.zmid, ...w.up);
    const z0 = Math.min(w.zmid, ...w.down);
    skipped += z1 - z0 + 1 - (1 + w.up.length + w.down.length);
  }
  return skipped;
}
