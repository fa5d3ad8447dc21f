// The per-object confidence fields end to end through the real server (issue 8), with a fake Segmenter: the
// Summary carries them, the `segment done` log line carries the model's confidence but no volumes or voxel counts,
// and the metrics count objects by quality and observe their predicted IoU per network.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { FAKE_PREDICTED_IOU, FakeSegmenter } from '../helpers/fake-segmenter.ts';
import { box3d, rawRequest } from '../helpers/requests.ts';
import { scrape, startTestService, type TestService } from '../helpers/test-service.ts';

let server: TestService;
const fake = new FakeSegmenter({ sliceMs: 1 });

before(async () => {
  server = await startTestService({ createSegmenter: async () => fake });
  await server.service.ready;
});
after(() => server.stop());

test('Summary objects: predicted IoU, mL from the spacing, covered slices, stopped_early and the quality hint', async () => {
  const input = rawRequest({ modality: 'CT', prompts: [box3d(1, 4, 5, 1, 20, 22, 4), box3d(2, 25, 10, 0, 40, 30, 2)] });
  const spaced = { ...input, header: { ...input.header, raw: { ...input.header.raw!, spacing: [2.5, 0.8, 0.8] } } };
  const { summary } = await server.client().segment(spaced);
  assert.deepEqual(summary.objects.map((o) => ({
    label: o.label, voxels: o.voxels, covered: [o.coveredSliceFirst, o.coveredSliceLast], iou: [o.predictedIouMean, o.predictedIouMin],
    ml: o.volumeMl, stoppedEarly: o.stoppedEarly, quality: o.quality,
  })), [
    { label: 1, voxels: 16 * 17 * 4, covered: [1, 4], iou: [FAKE_PREDICTED_IOU, FAKE_PREDICTED_IOU], ml: (16 * 17 * 4 * 2.5 * 0.8 * 0.8) / 1000, stoppedEarly: false, quality: 'OBJECT_QUALITY_OK' },
    { label: 2, voxels: 15 * 20 * 3, covered: [0, 2], iou: [FAKE_PREDICTED_IOU, FAKE_PREDICTED_IOU], ml: (15 * 20 * 3 * 2.5 * 0.8 * 0.8) / 1000, stoppedEarly: false, quality: 'OBJECT_QUALITY_OK' },
  ]);
  // Without spacing the volume is unset, not 0.
  const { summary: plain } = await server.client().segment(input);
  assert.equal(plain.objects[0]!.volumeMl, undefined);

  const done = server.logs.filter((l) => l['msg'] === 'segment done').at(-1)!;
  assert.deepEqual(done['objectQuality'], [
    { quality: 'ok', iouMean: FAKE_PREDICTED_IOU, iouMin: FAKE_PREDICTED_IOU, stoppedEarly: false },
    { quality: 'ok', iouMean: FAKE_PREDICTED_IOU, iouMin: FAKE_PREDICTED_IOU, stoppedEarly: false },
  ]);
  assert.deepEqual(done['qualityCounts'], { ok: 2 });
  assert.doesNotMatch(JSON.stringify(done), /volumeMl|voxels/, 'no anatomy in the log line');

  const metrics = await scrape(server.metricsUrl);
  assert.equal(metrics.get('onesam_objects_total{quality="ok"}'), 4);
  assert.equal(metrics.get('onesam_object_predicted_iou_count{network="onesam"}'), 4);
  assert.equal(metrics.get('onesam_object_predicted_iou_bucket{le="0.85",network="onesam"}'), 0);
  assert.equal(metrics.get('onesam_object_predicted_iou_bucket{le="0.9",network="onesam"}'), 4);
});

test('a request with many objects logs the first 16 one by one and counts them all', async () => {
  const prompts = Array.from({ length: 20 }, (_, i) => box3d(i + 1, 1 + i, 1, 0, 3 + i, 4, 1));
  await server.client().segment(rawRequest({ modality: 'CT', prompts }));
  const done = server.logs.filter((l) => l['msg'] === 'segment done').at(-1)!;
  assert.equal((done['objectQuality'] as unknown[]).length, 16);
  assert.deepEqual(done['qualityCounts'], { ok: 20 });
});
