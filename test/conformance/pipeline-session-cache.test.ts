// Interactive sessions with the demo models: slice embeddings kept in a session cache between requests on the
// same image are reused instead of encoded, give the same masks as a fresh encode, stay inside the embedding
// budget, and are all released when the cache is disposed.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { challengeCase } from '../../src/volume/challenge.ts';
import { createSegmenter, type PipelineSegmenter } from '../../src/pipeline/index.ts';
import type { ImageVolume, ObjectPrompt, ProgressEvent, SegmentationRequest } from '../../src/pipeline/types.ts';
import { loadArrays } from '../helpers/cases.ts';
import { defaultPipelineConfig } from '../helpers/pipeline-config.ts';

const EMBEDDING_BYTES = 4 * 256 * 64 * 64;
let segmenter: PipelineSegmenter;
before(async () => { segmenter = await createSegmenter(defaultPipelineConfig({ workers: 2, intraOpThreads: 1 })); });
after(async () => { await segmenter.close(); });

const ct1 = challengeCase(loadArrays('imgs', '3DBox_CT_0001.npz'), '3DBox_CT_0001.npz');
/** Object 1 of the case, its slice range narrowed to keep the test short. */
const kidney = (z0: number, z1: number, label = 1): ObjectPrompt => ({ label, prompt: { kind: 'box3d', x0: 74, y0: 114, z0, x1: 113, y1: 149, z1 } });
const req = (image: ImageVolume, objects: readonly ObjectPrompt[], mode: SegmentationRequest['mode'] = 'litemedsam'): SegmentationRequest =>
  ({ requestId: 'session', image, objects, mode });

test('a repeated request reuses every slice, a moved box encodes only the new ones, and masks never change', async () => {
  const cache = segmenter.openCache();
  try {
    const request = req(ct1.image, [kidney(10, 13)]);
    const fresh = await segmenter.segment(request);
    const first = await segmenter.segment(request, { cache });
    assert.deepEqual(first.slicesEncoded, { litemedsam: 4, onesam: 0 });
    assert.deepEqual(first.slicesReused, { litemedsam: 0, onesam: 0 });
    assert.deepEqual(cache.stats(), { slices: { litemedsam: 4, onesam: 0 }, bytes: 4 * EMBEDDING_BYTES });
    assert.equal(segmenter.budget.inUse, 4 * EMBEDDING_BYTES, 'the cached slices stay inside the budget');

    const progress: ProgressEvent[] = [];
    const second = await segmenter.segment(request, { cache, onProgress: (e) => progress.push(e) });
    assert.deepEqual(second.slicesEncoded, { litemedsam: 0, onesam: 0 });
    assert.deepEqual(second.slicesReused, first.slicesEncoded);
    assert.deepEqual(second.labels, first.labels);
    assert.deepEqual(second.labels, fresh.labels, 'cached embeddings give the masks of a fresh encode');
    const ready = progress.filter((e) => e.kind === 'encoded');
    assert.deepEqual(ready.map((e) => [e.done, e.total]), [[1, 4], [2, 4], [3, 4], [4, 4]], 'progress counts reused slices');

    // Slices 12..13 were seen before, 14..15 were not.
    const moved = req(ct1.image, [kidney(12, 15)]);
    const third = await segmenter.segment(moved, { cache });
    assert.deepEqual(third.slicesEncoded, { litemedsam: 2, onesam: 0 });
    assert.deepEqual(third.slicesReused, { litemedsam: 2, onesam: 0 });
    assert.deepEqual(third.labels, (await segmenter.segment(moved)).labels);
    assert.deepEqual(cache.stats().slices, { litemedsam: 6, onesam: 0 });

    // Fused: LiteMedSAM's slices come from the cache, OneSAM's (with their HQ intermediate) are encoded, then reused.
    const fused = req(ct1.image, [kidney(12, 13)], 'fuse');
    const fusedFresh = await segmenter.segment(fused);
    const fusedFirst = await segmenter.segment(fused, { cache });
    assert.deepEqual(fusedFirst.slicesEncoded, { litemedsam: 0, onesam: 2 });
    assert.deepEqual(fusedFirst.slicesReused, { litemedsam: 2, onesam: 0 });
    const fusedSecond = await segmenter.segment(fused, { cache });
    assert.deepEqual(fusedSecond.slicesEncoded, { litemedsam: 0, onesam: 0 });
    assert.deepEqual(fusedSecond.slicesReused, { litemedsam: 2, onesam: 2 });
    assert.deepEqual(fusedFirst.labels, fusedFresh.labels);
    assert.deepEqual(fusedSecond.labels, fusedFresh.labels);
  } finally {
    cache.dispose();
  }
  assert.deepEqual(cache.stats(), { slices: { litemedsam: 0, onesam: 0 }, bytes: 0 });
  assert.equal(segmenter.budget.inUse, 0, 'disposing the cache released every embedding');
});

test('two concurrent requests on one cache both complete and leave one copy of each slice', async () => {
  const cache = segmenter.openCache();
  try {
    const request = req(ct1.image, [kidney(16, 19)]);
    const [a, b] = await Promise.all([segmenter.segment(request, { cache }), segmenter.segment(request, { cache })]);
    assert.deepEqual(a!.labels, b!.labels);
    for (const r of [a!, b!]) assert.equal(r.slicesEncoded.litemedsam + r.slicesReused.litemedsam, 4);
    assert.deepEqual(cache.stats(), { slices: { litemedsam: 4, onesam: 0 }, bytes: 4 * EMBEDDING_BYTES });
    assert.equal(segmenter.budget.inUse, 4 * EMBEDDING_BYTES, 'duplicate encodes were released, not cached twice');
  } finally {
    cache.dispose();
  }
  assert.equal(segmenter.budget.inUse, 0);
});

test('under a budget of three embeddings the session cache gives way to the walks and masks stay the same', async () => {
  const limit = 3 * EMBEDDING_BYTES;
  const long = req(ct1.image, [kidney(10, 15)]);
  const short = req(ct1.image, [kidney(20, 21)]);
  const [longExpected, shortExpected] = [await segmenter.segment(long), await segmenter.segment(short)];
  const tight = await createSegmenter(defaultPipelineConfig({ workers: 2, intraOpThreads: 1, embeddingBudgetBytes: limit }));
  try {
    const cache = tight.openCache();
    const first = await tight.segment(long, { cache });
    assert.deepEqual(first.labels, longExpected.labels);
    assert.equal(tight.budget.inUse, limit, 'the cache kept what the budget allows');
    // The walks need the memory the cache holds: it is evicted (slices met later are simply encoded again).
    const again = await tight.segment(long, { cache });
    assert.deepEqual(again.labels, longExpected.labels);
    assert.ok(again.slicesEncoded.litemedsam + again.slicesReused.litemedsam >= 6);
    // A short request fits beside its own cached slices: the second time nothing is encoded.
    const shortFirst = await tight.segment(short, { cache });
    const shortAgain = await tight.segment(short, { cache });
    assert.deepEqual(shortFirst.slicesEncoded, { litemedsam: 2, onesam: 0 });
    assert.deepEqual(shortAgain.slicesEncoded, { litemedsam: 0, onesam: 0 });
    assert.deepEqual(shortAgain.slicesReused, { litemedsam: 2, onesam: 0 });
    assert.deepEqual(shortFirst.labels, shortExpected.labels);
    assert.deepEqual(shortAgain.labels, shortExpected.labels);
    assert.ok(tight.budget.peak <= limit, `peak ${tight.budget.peak}`);
    cache.dispose();
    assert.equal(tight.budget.inUse, 0);
  } finally {
    await tight.close();
  }
});
