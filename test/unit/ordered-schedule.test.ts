// The shared schedule with an ordered store (walk-schedule.ts, EmbeddingStore): the real executePlan over a
// simulated pool on a virtual clock (test/helpers/virtual-pool.ts, encode 800 ms, decode 60 ms), so the paper CT
// runs in a fraction of a second. Checks that the walks follow the planned order, that the labels are the same as
// under the round-robin and reference schedules, and that cancellation, failures and small budgets still end.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { executePlan } from '../../src/pipeline/execute.ts';
import { planRequest, walkVisits } from '../../src/pipeline/plan.ts';
import { DEFAULT_ROUTING } from '../../src/pipeline/router.ts';
import { ByteBudget } from '../../src/pipeline/byte-budget.ts';
import type { SegmentOptions } from '../../src/pipeline/segmenter.ts';
import type { SegmentationRequest } from '../../src/pipeline/types.ts';
import type { DecodeResult, DecodeTask, EncodeTask } from '../../src/workers/protocol.ts';
import { NETWORKS } from '../../src/models/network-contract.ts';
import { PAPER_CT } from '../../src/cli/bench-volumes.ts';
import { CodedError } from '../../src/errors/coded-error.ts';
import { SessionEmbeddingCache } from '../../src/pipeline/embedding-cache.ts';
import { virtualPool, type VirtualPoolOptions } from '../helpers/virtual-pool.ts';

const MiB = 1024 * 1024;
const SIDE = 16;

/** A volume whose slice z carries z in its first two pixels, with one 3D box per z-range. */
function request(zRanges: readonly (readonly [number, number])[], depth: number, extra: Partial<SegmentationRequest> = {}): SegmentationRequest {
  const plane = SIDE * SIDE;
  const data = new Uint8Array(depth * plane);
  for (let z = 0; z < depth; z++) {
    data[z * plane] = z & 255;
    data[z * plane + 1] = z >> 8;
  }
  return {
    requestId: 'ordered', mode: 'onesam', modality: 'CT',
    image: { depth, height: SIDE, width: SIDE, channels: 1, data },
    objects: zRanges.map(([z0, z1], i) => ({ label: i + 1, prompt: { kind: 'box3d', x0: 2 + (i % 3), y0: 3, x1: 12, y1: 13 - (i % 4), z0, z1 } })),
    ...extra,
  };
}

const sliceOf = (t: EncodeTask): number => t.slice.pixels[0]! + 256 * t.slice.pixels[1]!;

/**
 * Encodes write the slice index into the embedding; decodes paint the prompt box, shrunk or grown with the slice,
 * and hand on a box that depends on the slice and the prompt: a walk's masks depend on every prompt before them, so
 * any change of prompt would show in the labels.
 */
const chained: Pick<VirtualPoolOptions, 'onEncode' | 'decode'> = {
  onEncode: (t) => { new Float32Array(t.embedding)[0] = sliceOf(t); },
  decode: (t: DecodeTask): DecodeResult => {
    const z = new Float32Array(t.embeddings[0]!.embedding)[0]!;
    const boxes = t.prompts.kind === 'boxes' ? t.prompts.boxes256 : new Float32Array(4);
    const b = boxes.length / 4;
    const masks = new Uint8Array(b * t.height * t.width);
    const nextBoxes: [number, number, number, number][] = [];
    for (let i = 0; i < b; i++) {
      const scale = t.width / 256;
      const grow = (z % 5) - 2;
      const x0 = Math.max(0, Math.floor(boxes[i * 4]! * scale) - grow);
      const x1 = Math.min(t.width, Math.ceil(boxes[i * 4 + 2]! * scale) + grow);
      const y0 = Math.max(0, Math.floor(boxes[i * 4 + 1]! * scale));
      const y1 = Math.min(t.height, Math.ceil(boxes[i * 4 + 3]! * scale) + (z % 3));
      for (let y = y0; y < y1; y++) masks.fill(1, i * t.height * t.width + y * t.width + x0, i * t.height * t.width + y * t.width + Math.max(x0, x1));
      const shift = ((z * 7) % 9) - 4;
      const clamp = (v: number): number => Math.min(256, Math.max(0, v));
      nextBoxes.push([clamp(boxes[i * 4]! + shift), clamp(boxes[i * 4 + 1]!), clamp(boxes[i * 4 + 2]! + shift + 8), clamp(boxes[i * 4 + 3]! + 4)]);
    }
    return { cancelled: false, masks, iou: new Float32Array(b).fill(0.8), decodeMs: 60, postprocessMs: 0, nextBoxes };
  },
};

async function run(r: SegmentationRequest, options: SegmentOptions & { budgetMiB?: number; budget?: ByteBudget; workers?: number; pool?: Partial<VirtualPoolOptions> } = {}) {
  const encoded: number[] = [];
  const extra = options.pool ?? {};
  const vp = virtualPool({
    workers: options.workers ?? 2, encodeMs: 800, decodeMs: 60, ...chained, ...extra,
    onEncode: (t) => { encoded.push(sliceOf(t)); chained.onEncode!(t); extra.onEncode?.(t); },
  });
  const budget = options.budget ?? new ByteBudget((options.budgetMiB ?? 1024) * MiB);
  const plan = planRequest(r, DEFAULT_ROUTING);
  const { value, ms } = await vp.run(() => executePlan({ pool: vp.pool, budget }, r, plan, options));
  // Every reservation, spare buffers' included, is given back when the request ends (a session cache keeps its own).
  if (!options.budget) assert.equal(budget.inUse, 0, 'the request left no bytes reserved');
  return { result: value, ms, encoded, plan, peakSlices: budget.peak / NETWORKS.onesam.sliceBytes, maxEncodesInPool: vp.maxEncodesInPool() };
}

const ct = (): SegmentationRequest => request(PAPER_CT.zRanges, PAPER_CT.depth);

test('paper CT: encodes follow the planned order, each slice once, far fewer held, no slower', async () => {
  const shared = await run(ct());
  assert.equal(shared.plan.ordered, true);
  assert.deepEqual(shared.encoded, [...new Set(shared.plan.prefetchOrder)]);
  assert.equal(shared.encoded.length, 205);
  const roundRobin = await run(ct(), { schedule: 'round-robin' });
  assert.equal(roundRobin.encoded.length, 205);
  assert.ok(shared.peakSlices <= 50, `${shared.peakSlices} slices held at once (45 when written)`);
  assert.ok(roundRobin.peakSlices >= 90, `round-robin held ${roundRobin.peakSlices}`);
  assert.ok(shared.ms <= roundRobin.ms * 1.03, `makespan ${shared.ms} ms against round-robin ${roundRobin.ms} ms`);
  // Only the prefetcher encodes: one slice per worker and two waiting; round-robin walks each encode their next slice.
  assert.equal(shared.maxEncodesInPool, 2 + 2);
  assert.ok(roundRobin.maxEncodesInPool > 6, `round-robin: ${roundRobin.maxEncodesInPool}`);
});

test('same labels under the shared, round-robin and reference schedules, at speed levels 1 and 2', async () => {
  // Overlapping boxes in both directions, on a small volume.
  const zRanges = [[4, 30], [10, 22], [18, 40], [0, 12], [25, 39]] as const;
  for (const speedLevel of [1, 2]) {
    const r = request(zRanges, 42, { speedLevel });
    const shared = await run(r);
    assert.equal(shared.plan.ordered, true);
    for (const schedule of ['round-robin', 'reference'] as const) {
      const other = await run(r, { schedule });
      assert.deepEqual(shared.result.labels, other.result.labels, `speed level ${speedLevel}, ${schedule}`);
      assert.deepEqual(shared.result.objects.map((o) => o.voxels), other.result.objects.map((o) => o.voxels));
    }
    assert.ok(shared.result.objects.every((o) => o.voxels > 0));
    // Speed level 2 both interpolates gaps and walks some exactly (the masks change from slice to slice).
    if (speedLevel === 2) assert.ok(shared.result.slicesInterpolated > 0 && shared.encoded.length > new Set(shared.plan.visits).size, `${shared.result.slicesInterpolated} interpolated, ${shared.encoded.length} encoded`);
  }
});

test('requests with a 2D box, or too large to order, keep the round-robin order, ungated', () => {
  const r = request([[4, 30], [10, 22]], 32);
  const withBox2d: SegmentationRequest = { ...r, objects: [...r.objects, { label: 3, prompt: { kind: 'box2d', x0: 1, y0: 1, x1: 5, y1: 5, z: 3 } }] };
  assert.equal(planRequest(r, DEFAULT_ROUTING).ordered, true);
  assert.equal(planRequest(withBox2d, DEFAULT_ROUTING).ordered, false);
  // Past 8,000 walk x slice pairs the order is not computed (planning is synchronous): 80 walks over 200 slices.
  const many = request(Array.from({ length: 40 }, (_, i) => [i, 160 + i] as const), 200);
  const plan = planRequest(many, DEFAULT_ROUTING);
  assert.equal(plan.ordered, false);
  assert.deepEqual(plan.prefetchOrder, walkVisits(plan.work).prefetchOrder);
});

test('cancelling mid-walk ends the request with REQUEST_CANCELLED', async () => {
  const controller = new AbortController();
  let encodes = 0;
  await assert.rejects(
    run(ct(), { signal: controller.signal, pool: { onEncode: () => { if (++encodes === 40) controller.abort(); } } }),
    (e: unknown) => e instanceof CodedError && e.code === 'REQUEST_CANCELLED',
  );
});

test('a failed encode reaches the caller, and the walks waiting for their turn stop', async () => {
  const failure = new CodedError('WORKER_FAILED', 'worker thread exited');
  await assert.rejects(
    run(ct(), { pool: { onEncode: (t) => { if (sliceOf(t) === 100) throw failure; } } }),
    (e: unknown) => e === failure,
  );
});

test('small embedding budgets and more workers still finish, with re-encodes where memory runs short', async () => {
  for (const [budgetMiB, workers] of [[100, 2], [60, 2], [20, 1], [60, 4]] as const) {
    const { encoded, peakSlices } = await run(ct(), { budgetMiB, workers });
    assert.ok(encoded.length >= 205, `${budgetMiB} MiB, ${workers} workers`);
    assert.ok(peakSlices * NETWORKS.onesam.sliceBytes <= budgetMiB * MiB);
  }
});

test('fuse mode: both networks encoded once per slice, in the planned order', async () => {
  const r: SegmentationRequest = { ...request([[4, 30], [10, 22], [18, 40]], 42), mode: 'fuse' };
  const { encoded, plan } = await run(r);
  assert.equal(plan.networks.length, 2);
  assert.equal(encoded.length, 2 * new Set(plan.visits).size);
  assert.deepEqual(encoded, [...new Set(plan.prefetchOrder)].flatMap((z) => [z, z]));
});

test('a session: the second request takes cached slices without waiting for their turn and encodes only the rest', async () => {
  const budget = new ByteBudget(1024 * MiB);
  const cache = new SessionEmbeddingCache(budget);
  const first = await run(request([[4, 30], [10, 22]], 60), { budget, cache });
  assert.equal(first.encoded.length, 27);
  // Slices 4..30 are cached; the second request also needs 31..50.
  const second = await run(request([[20, 50], [12, 26]], 60), { budget, cache });
  assert.equal(second.plan.ordered, true);
  assert.deepEqual([...second.encoded].sort((a, b) => a - b), Array.from({ length: 20 }, (_, i) => 31 + i));
  assert.equal(second.result.slicesReused.onesam, 50 - 12 + 1 - 20);
  const alone = await run(request([[20, 50], [12, 26]], 60), { schedule: 'round-robin' });
  assert.deepEqual(second.result.labels, alone.result.labels);
  cache.dispose();
});

test('2D boxes on different slices are still encoded at once: a one-task queue overflows with POOL_SATURATED', async () => {
  // The premise of test/conformance/pipeline-behaviour.test.ts's full-queue test, without the networks.
  const r = request([], 30);
  const objects = [3, 11, 21].map((z, i) => ({ label: i + 1, prompt: { kind: 'box2d' as const, x0: 1, y0: 1, x1: 9, y1: 9, z } }));
  await assert.rejects(
    run({ ...r, objects }, { workers: 1, pool: { queueLimit: 1 } }),
    (e: unknown) => e instanceof CodedError && e.code === 'POOL_SATURATED',
  );
});

test('two requests on one tight budget: both finish with their own labels, nothing stays reserved', async () => {
  const zRanges = [[4, 30], [10, 22], [18, 40], [0, 12], [25, 39]] as const;
  const alone = await run(request(zRanges, 42));
  const budget = new ByteBudget(16 * NETWORKS.onesam.sliceBytes);
  const vp = virtualPool({ workers: 2, encodeMs: 800, decodeMs: 60, ...chained });
  const both = [request(zRanges, 42), request(zRanges, 42)];
  const { value } = await vp.run(() => Promise.all(both.map((r) => executePlan({ pool: vp.pool, budget }, r, planRequest(r, DEFAULT_ROUTING), {}))));
  for (const result of value) assert.deepEqual(result.labels, alone.result.labels);
  const encoded = value.reduce((sum, r) => sum + r.slicesEncoded.onesam, 0);
  assert.ok(encoded > 2 * alone.encoded.length, `${encoded} encodes: the budget was tight enough to evict`);
  assert.ok(budget.peak <= budget.limit);
  assert.equal(budget.inUse, 0, 'every reservation, spares included, given back');
});
