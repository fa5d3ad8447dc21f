// Pipeline behaviour with the demo models: shared encoding across overlapping objects, a tight memory budget,
// cancellation, the fuse ensemble, scribbles in 2D and 3D, and uint16 labels.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { CodedError } from '../../src/errors/coded-error.ts';
import { challengeCase } from '../../src/volume/challenge.ts';
import { createSegmenter, type PipelineSegmenter } from '../../src/pipeline/index.ts';
import { mapError } from '../../src/errors/grpc-status.ts';
import { status as GrpcStatus } from '@grpc/grpc-js';
import type { ImageVolume, ObjectPrompt, SegmentationRequest } from '../../src/pipeline/types.ts';
import { dice, loadArrays } from '../helpers/cases.ts';
import { defaultPipelineConfig } from '../helpers/pipeline-config.ts';

const EMBEDDING_BYTES = 4 * 256 * 64 * 64;
let segmenter: PipelineSegmenter;
before(async () => { segmenter = await createSegmenter(defaultPipelineConfig({ workers: 2, intraOpThreads: 1 })); });
after(async () => { await segmenter.close(); });

const ct1 = challengeCase(loadArrays('imgs', '3DBox_CT_0001.npz'), '3DBox_CT_0001.npz');
const us4 = challengeCase(loadArrays('imgs', '2DBox_US_0004.npz'), '2DBox_US_0004.npz');
const box3d = (x0: number, y0: number, z0: number, x1: number, y1: number, z1: number, label: number): ObjectPrompt =>
  ({ label, prompt: { kind: 'box3d', x0, y0, z0, x1, y1, z1 } });
const req = (image: ImageVolume, objects: readonly ObjectPrompt[], mode: SegmentationRequest['mode'] = 'litemedsam'): SegmentationRequest =>
  ({ requestId: 'test', image, objects, mode });

test('overlapping objects share slices: encodes equal the distinct (network, slice) pairs', async () => {
  const objects = [box3d(74, 114, 2, 113, 149, 10, 1), box3d(120, 86, 6, 172, 139, 14, 2), box3d(100, 100, 12, 150, 140, 13, 3), box3d(60, 60, 20, 90, 90, 22, 4)];
  const request = req(ct1.image, objects);
  const plan = segmenter.plan(request);
  // 2..14 and 20..22: 13 + 3 distinct slices; the walks visit 9 + 9 + 2 + 3 = 23 slices.
  assert.deepEqual(plan.slicesToEncode, { litemedsam: 16, onesam: 0 });
  const result = await segmenter.segment(request);
  assert.deepEqual(result.slicesEncoded, { litemedsam: 16, onesam: 0 });
  // Fuse encodes every distinct slice once per network: the last two objects cover 12..13 and 20..22 (the first
  // two are left out only to keep this test short: 32 more encodes say nothing new).
  const fused = await segmenter.segment(req(ct1.image, objects.slice(2), 'fuse'));
  assert.deepEqual(fused.slicesEncoded, { litemedsam: 5, onesam: 5 });
  assert.equal(segmenter.budget.inUse, 0, 'every embedding released after the requests');
});

test('a budget of three embeddings still gives the reference masks, never holding more than the budget', async () => {
  const tight = await createSegmenter(defaultPipelineConfig({ workers: 2, intraOpThreads: 1, embeddingBudgetBytes: 3 * EMBEDDING_BYTES }));
  try {
    const result = await tight.segment(req(ct1.image, ct1.objects));
    const reference = loadArrays('segs_litemedsam', '3DBox_CT_0001.npz').get('segs')!.data as Uint8Array;
    for (const label of [1, 2]) assert.ok(dice(result.labels, reference, label).dsc >= 0.99, `object ${label}`);
    assert.ok(tight.budget.peak <= 3 * EMBEDDING_BYTES, `peak ${tight.budget.peak}`);
    assert.equal(tight.budget.inUse, 0);
  } finally {
    await tight.close();
  }
});

test('a full worker queue fails the request with POOL_SATURATED (RESOURCE_EXHAUSTED) and the pool keeps serving', async () => {
  // One worker, at most one task waiting: 2D boxes on three different slices are encoded at once, which needs more.
  // (3D box walks no longer encode on their own: they wait for their slice's turn in the planned order,
  // src/pipeline/walk-schedule.ts, and only the prefetcher submits encodes, so what overflows is no longer theirs.)
  const small = await createSegmenter(defaultPipelineConfig({ workers: 1, intraOpThreads: 1, queueLimit: 1 }));
  try {
    const box2d = (x0: number, y0: number, x1: number, y1: number, z: number, label: number): ObjectPrompt =>
      ({ label, prompt: { kind: 'box2d', x0, y0, x1, y1, z } });
    const objects = [box2d(74, 114, 113, 149, 3, 1), box2d(120, 86, 172, 139, 11, 2), box2d(60, 60, 90, 90, 21, 3)];
    const err: unknown = await small.segment(req(ct1.image, objects)).then(() => assert.fail('expected the queue to overflow'), (e: unknown) => e);
    const mapped = mapError(err);
    assert.equal(mapped.code, 'POOL_SATURATED');
    assert.equal(mapped.status, GrpcStatus.RESOURCE_EXHAUSTED);
    assert.match(mapped.details, /queue is full \(1 tasks waiting\)/);
    assert.equal(small.budget.inUse, 0, 'the failed request released its embeddings');
    const ok = await small.segment(req(us4.image, us4.objects));
    assert.ok(ok.objects.every((o) => o.voxels > 0), 'the next request is served');
  } finally {
    await small.close();
  }
});

test('fuse under a budget of two fused slices and four walks completes with the unconstrained masks', async () => {
  const objects = [box3d(74, 114, 2, 113, 149, 6, 1), box3d(120, 86, 4, 172, 139, 8, 2)];
  const expected = await segmenter.segment(req(ct1.image, objects, 'fuse'));
  const fusedSlice = 4 * (256 * 64 * 64) * 2 + 4 * (64 * 64 * 160);
  const tight = await createSegmenter(defaultPipelineConfig({ workers: 2, intraOpThreads: 1, embeddingBudgetBytes: 2 * fusedSlice }));
  try {
    const result = await tight.segment(req(ct1.image, objects, 'fuse'));
    assert.deepEqual(result.labels, expected.labels);
    assert.ok(tight.budget.peak <= 2 * fusedSlice);
    assert.equal(tight.budget.inUse, 0);
  } finally {
    await tight.close();
  }
});

test('cancellation stops a request between slices and leaves the pool serving', async () => {
  const controller = new AbortController();
  let encoded = 0;
  const running = segmenter.segment(req(ct1.image, ct1.objects), {
    signal: controller.signal,
    onProgress: (e) => { if (e.kind === 'encoded' && ++encoded === 2) controller.abort(); },
  });
  await assert.rejects(running, (e: unknown) => e instanceof CodedError && e.code === 'REQUEST_CANCELLED');
  assert.ok(encoded < 20, `stopped early (${encoded} of 20 slices encoded)`);
  // Queued tasks of the cancelled request drain; the next request runs normally.
  const next = await segmenter.segment(req(us4.image, us4.objects));
  assert.equal(next.objects.length, 2);
  assert.equal(segmenter.budget.inUse, 0);
  assert.equal(segmenter.poolStats().queued, 0);
});

test('fuse averages probabilities: where both networks agree, the fused mask agrees too', async () => {
  const [a, b, f] = await Promise.all((['litemedsam', 'onesam', 'fuse'] as const).map((mode) => segmenter.segment(req(us4.image, us4.objects, mode))));
  let agree = 0;
  for (let i = 0; i < f!.labels.length; i++) {
    if (a!.labels[i] === b!.labels[i]) {
      agree++;
      assert.equal(f!.labels[i], a!.labels[i], `voxel ${i}`);
    }
  }
  assert.ok(agree > 0.9 * f!.labels.length);
  assert.deepEqual(f!.objects[0]!.networks, ['litemedsam', 'onesam']);
});

/** Thick scribbles drawn inside each ground-truth object of a slice: a 5-pixel band through its centre row. */
function scribblesFromTruth(truth: ArrayLike<number>, plane: number, width: number, z: number, labels: readonly number[]): ObjectPrompt[] {
  return labels.map((label) => {
    const rows = new Map<number, number[]>();
    for (let i = 0; i < plane; i++) if (truth[z * plane + i] === label) {
      const y = Math.floor(i / width);
      if (!rows.has(y)) rows.set(y, []);
      rows.get(y)!.push(i);
    }
    const ys = [...rows.keys()].sort((p, q) => p - q);
    const mid = ys[Math.floor(ys.length / 2)]!;
    const voxels = ys.filter((y) => Math.abs(y - mid) <= 2).flatMap((y) => rows.get(y)!).map((i) => z * plane + i);
    return { label: label * 10, prompt: { kind: 'scribble', voxels: Uint32Array.from(voxels) } } as ObjectPrompt;
  });
}

test('2D scribbles become dense mask prompts, written with their label values', async () => {
  const truth = loadArrays('gts', '2DBox_US_0004.npz').get('gts')!.data as Uint8Array;
  const { height, width } = us4.image;
  const objects = scribblesFromTruth(truth, height * width, width, 0, [1, 2]);
  const result = await segmenter.segment(req(us4.image, objects));
  assert.deepEqual(result.slicesEncoded, { litemedsam: 1, onesam: 0 });
  const values = new Set(result.labels);
  for (const v of values) assert.ok([0, 10, 20].includes(v), `unexpected label ${v}`);
  for (const o of result.objects) assert.ok(o.voxels > 0, `scribble ${o.label} segmented something`);
});

test('a 3D scribble on one slice propagates up and down until the mask vanishes', async () => {
  const name = '3DBox_CT_0003.npz';
  const kase = challengeCase(loadArrays('imgs', name), name);
  const truth = loadArrays('gts', name).get('gts')!.data as Uint8Array;
  const { height, width, depth } = kase.image;
  const objects = scribblesFromTruth(truth, height * width, width, 10, [1]);
  const result = await segmenter.segment(req(kase.image, objects));
  const plane = height * width;
  const slicesWithMask = Array.from({ length: depth }, (_, z) => result.labels.subarray(z * plane, (z + 1) * plane).some((v) => v === 10));
  assert.ok(slicesWithMask[10], 'the scribbled slice is segmented');
  assert.ok(slicesWithMask[9] && slicesWithMask[11], 'the object propagated to both neighbours');
  const [first, last] = result.objects[0]!.slices;
  assert.ok(first < 10 && last > 10, `visited slices ${first}..${last} reported beyond the scribbled one`);
  const encoded = result.slicesEncoded.litemedsam;
  const segmented = slicesWithMask.filter(Boolean).length;
  // Each walk encodes at most one slice past the last one that still had a mask.
  assert.ok(encoded <= segmented + 2, `${encoded} slices encoded for ${segmented} segmented`);
});

test('labels above 255 are written as uint16, each object keeping its value', async () => {
  // Two objects are enough: the label type follows the largest label value, not the object count (the count
  // limit has its own tests), and each object costs a full-size decode on the 2D image. The reference's two boxes
  // of this case, relabelled.
  const labels = [256, 65535];
  const objects: ObjectPrompt[] = us4.objects.map((o, i) => ({ label: labels[i]!, prompt: o.prompt }));
  const result = await segmenter.segment(req(us4.image, objects));
  assert.ok(result.labels instanceof Uint16Array);
  assert.deepEqual(result.objects.map((o) => o.label), labels);
  const present = new Set(result.labels);
  for (const label of labels) assert.ok(present.has(label), `label ${label} is in the output`);
});
