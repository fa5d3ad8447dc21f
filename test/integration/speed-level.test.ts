// Speed levels end to end. Over gRPC (fake segmenter): the server's speedLevel setting applies when the header
// leaves speed_level unset, the header's wins, and the summary reports the level. On a public CT with the demo
// networks: levels 2 and 4 against the exact walk (level 1), per object Dice above the bar bench/README.md reports
// ("speed-level"), gaps whose masks disagree walked exactly, the computed slices and the interpolated ones counted;
// level 4 with refinement off interpolates every gap, as a segmenter whose speedLevelGaps setting is interpolate
// does. One session cache serves the first four runs, so the slices level 1 encoded are reused.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ERROR_CODE_KEY, ERROR_FIELD_KEY } from '../../src/errors/grpc-status.ts';
import { challengeCase } from '../../src/volume/challenge.ts';
import { createSegmenter, type PipelineSegmenter } from '../../src/pipeline/index.ts';
import { modalityFromFileName } from '../../src/pipeline/router.ts';
import type { SegmentationResult } from '../../src/pipeline/types.ts';
import { dice, loadArrays } from '../helpers/cases.ts';
import { FakeSegmenter } from '../helpers/fake-segmenter.ts';
import { defaultPipelineConfig } from '../helpers/pipeline-config.ts';
import { box3d, rawRequest } from '../helpers/requests.ts';
import { grpcError, scrape, startTestService, type TestService } from '../helpers/test-service.ts';

describe('speed_level over gRPC', () => {
  let server: TestService;
  before(async () => {
    server = await startTestService({ config: { speedLevel: 3 }, createSegmenter: async () => new FakeSegmenter({ sliceMs: 1 }) });
    await server.service.ready;
  });
  after(() => server.stop());

  test('unset takes the speedLevel setting, the header wins, both are counted, a level above 8 is HEADER_INVALID', async () => {
    const get = (s: Map<string, number>, key: string): number => s.get(key) ?? 0;
    const before = await scrape(server.metricsUrl);
    const atSetting = (await server.client().segment(rawRequest({ modality: 'CT', prompts: [box3d(1, 4, 5, 0, 20, 22, 5)] }))).summary;
    assert.equal(atSetting.speedLevel, 3);
    assert.equal((await server.client().segment(rawRequest({ modality: 'CT', speedLevel: 1 }))).summary.speedLevel, 1);
    // The counters: one request at each level, the interpolated slices as the summary reported them.
    const after = await scrape(server.metricsUrl);
    assert.ok(atSetting.slicesInterpolated > 0, 'the level-3 walk skipped slices');
    assert.equal(get(after, 'onesam_slices_interpolated_total') - get(before, 'onesam_slices_interpolated_total'), atSetting.slicesInterpolated);
    for (const level of ['1', '3']) {
      const key = `onesam_speed_level_requests_total{level="${level}"}`;
      assert.equal(get(after, key) - get(before, key), 1, key);
    }
    await assert.rejects(server.client().segment(rawRequest({ modality: 'CT', speedLevel: 9 })), (err: unknown) => {
      const e = grpcError(err);
      assert.equal(e.code, 3);
      assert.deepEqual([e.metadata.get(ERROR_CODE_KEY), e.metadata.get(ERROR_FIELD_KEY)], [['HEADER_INVALID'], ['header.speed_level']]);
      assert.match(e.details, /header\.speed_level: must be an integer from 1 \(every slice, exact\) to 8, got 9/);
      return true;
    });
  });
});

/**
 * Lowest per-object Dice against level 1 on this case: issue 11's target. Measured 0.979 at levels 2 and 4 with gap
 * refinement (9 of the 11 slices computed at both), 0.960 and 0.912 interpolating every gap (bench/README.md,
 * "speed-level").
 */
const MIN_DICE = { 2: 0.97, 4: 0.97 } as const;
const CASE = '3DBox_CT_0003.npz'; // 17 slices, one box over slices 5..15 (zmid 10)

describe(`speed levels on ${CASE} with the demo networks`, () => {
  let segmenter: PipelineSegmenter;
  before(async () => {
    // The CT routes to OneSAM: loading only that network keeps the file cheap.
    segmenter = await createSegmenter(defaultPipelineConfig({ workers: 1, models: { onesam: 'onesam-demo' } }));
  });
  after(() => segmenter?.close());

  test('levels 2 and 4 against the exact walk', async () => {
    const kase = challengeCase(loadArrays('imgs', CASE), CASE);
    const modality = modalityFromFileName(CASE)!;
    const cache = segmenter.openCache();
    const run = (speedLevel: number, gapAgreement?: number): Promise<SegmentationResult> => segmenter.segment(
      { requestId: CASE, image: kase.image, objects: kase.objects, mode: 'route', modality, speedLevel },
      { cache, ...(gapAgreement !== undefined ? { gapAgreement } : {}) });
    const exact = await run(1);
    assert.deepEqual([exact.speedLevel, exact.slicesInterpolated], [1, 0]);
    assert.equal(exact.slicesEncoded.onesam, 11);
    // Level 2: 10, then 12 14 15 up and 8 6 5 down; level 4: 10, 12 15 and 8 5. All were encoded by level 1, and so
    // were the slices of any gap walked exactly because its two masks disagreed: a slice is computed or
    // interpolated, never both.
    for (const [level, computed] of [[2, 7], [4, 5]] as const) {
      const fast = await run(level);
      assert.equal(fast.speedLevel, level);
      assert.equal(fast.slicesEncoded.onesam, 0);
      assert.ok(fast.slicesReused.onesam >= computed, `level ${level}: ${fast.slicesReused.onesam} slices computed, fewer than the ${computed} planned`);
      assert.equal(fast.slicesInterpolated + fast.slicesReused.onesam, 11);
      for (const o of kase.objects) {
        const { dsc } = dice(exact.labels, fast.labels, o.label);
        assert.ok(dsc >= MIN_DICE[level], `level ${level}, object ${o.label}: Dice ${dsc.toFixed(4)} against level 1, below ${MIN_DICE[level]}`);
      }
      // Gaps refined: more slices computed than planned (the box's ends shrink faster than interpolation guesses).
      assert.ok(fast.slicesReused.onesam > computed, `level ${level}: no gap walked exactly`);
      // Nothing outside the box's slices, as at level 1.
      const plane = kase.image.height * kase.image.width;
      assert.ok(fast.labels.subarray(0, 5 * plane).every((v) => v === 0) && fast.labels.subarray(16 * plane).every((v) => v === 0));
    }
    // Refinement off (gapAgreement below 0): exactly the planned slices, every other one interpolated.
    const guessed = await run(4, -1);
    assert.deepEqual([guessed.slicesReused.onesam, guessed.slicesInterpolated], [5, 6]);
    cache.dispose();
  });

  test('the speedLevelGaps setting: interpolate runs the plain walk (no gap refined, no far slice decoded twice)', async () => {
    const kase = challengeCase(loadArrays('imgs', CASE), CASE);
    const request = { requestId: CASE, image: kase.image, objects: kase.objects, mode: 'route' as const, modality: modalityFromFileName(CASE)!, speedLevel: 4 };
    const plainWalk = await segmenter.segment(request, { gapAgreement: -1, gapRedecodes: 0 });
    const refined = await segmenter.segment(request);
    const interpolating = await createSegmenter(defaultPipelineConfig({ workers: 1, models: { onesam: 'onesam-demo' }, speedLevelGaps: 'interpolate' }));
    try {
      const plain = await interpolating.segment(request);
      assert.deepEqual([plain.slicesEncoded.onesam, plain.slicesInterpolated], [5, 6]);
      assert.deepEqual(plain.labels, plainWalk.labels);
      // The default (refine) walks this case's disagreeing gaps exactly: more computed, other masks.
      assert.ok(refined.slicesEncoded.onesam > 5, `refine computed ${refined.slicesEncoded.onesam} slices`);
      assert.notDeepEqual(plain.labels, refined.labels);
    } finally {
      await interpolating.close();
    }
  });
});
