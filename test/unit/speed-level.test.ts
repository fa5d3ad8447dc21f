// Speed levels of the 3D box walk: which slices a walk computes at level N, level 1 as the exact walk, and the
// level's checks where it enters (the speedLevel setting, RequestHeader.speed_level).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, loadConfig } from '../../src/config/index.ts';
import { pipelineConfig } from '../../src/config/pipeline-config.ts';
import { CodedError } from '../../src/errors/coded-error.ts';
import type { RequestHeader__Output } from '../../src/generated/onesam/v1/RequestHeader.ts';
import { planRequest } from '../../src/pipeline/plan.ts';
import { DEFAULT_ROUTING } from '../../src/pipeline/router.ts';
import { DEFAULT_GAP_MODE, GAP_AGREEMENT, GAP_REDECODES, gapSettings, MAX_SPEED_LEVEL, masksDisagree, speedLevelProblem, walkSlices } from '../../src/pipeline/speed-level.ts';
import type { ObjectPrompt, SegmentationRequest } from '../../src/pipeline/types.ts';
import { parseHeader } from '../../src/server/request-header.ts';

const volume = (depth: number) => ({ depth, height: 40, width: 50, channels: 1 as const, data: new Uint8Array(depth * 40 * 50) });
const box3d = (z0: number, z1: number, label = 1): ObjectPrompt => ({ label, prompt: { kind: 'box3d', x0: 5, y0: 5, x1: 20, y1: 30, z0, z1 } });
const request = (objects: ObjectPrompt[], speedLevel?: number): SegmentationRequest => ({
  requestId: 't', image: volume(40), objects, mode: 'route', modality: 'CT', ...(speedLevel !== undefined ? { speedLevel } : {}),
});

/** A 10 x 10 mask holding the pixels of rows y0..y1-1 and columns x0..x1-1. */
const rect = (x0: number, y0: number, x1: number, y1: number): Uint8Array => {
  const m = new Uint8Array(100);
  for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) m[y * 10 + x] = 1;
  return m;
};

describe('masksDisagree', () => {
  it('takes empty against non-empty as disagreement at any threshold, two empty masks as agreement', () => {
    assert.equal(masksDisagree(rect(0, 0, 0, 0), rect(2, 2, 3, 3), 0), true);
    assert.equal(masksDisagree(rect(2, 2, 3, 3), new Uint8Array(100), 0), true);
    assert.equal(masksDisagree(new Uint8Array(100), new Uint8Array(100), 1), false);
  });

  it('compares Dice with the threshold: area change and shift both lower it', () => {
    // 5x4 against 5x5 overlapping in 5x4: Dice 40 / 45 = 0.889.
    assert.equal(masksDisagree(rect(0, 0, 5, 4), rect(0, 0, 5, 5), 0.88), false);
    assert.equal(masksDisagree(rect(0, 0, 5, 4), rect(0, 0, 5, 5), 0.9), true);
    // Same area, moved off itself: Dice 0.
    assert.equal(masksDisagree(rect(0, 0, 3, 3), rect(5, 5, 8, 8), GAP_AGREEMENT), true);
    assert.equal(masksDisagree(rect(0, 0, 3, 3), rect(0, 0, 3, 3), 1), false);
    // Mask values are 0/non-0 (the decoder paints label values).
    assert.equal(masksDisagree(rect(0, 0, 3, 3).map((v) => v * 7), rect(0, 0, 3, 3), 1), false);
  });

  it('never disagrees below 0 (interpolation only), and refuses masks of different sizes', () => {
    assert.equal(masksDisagree(rect(0, 0, 0, 0), rect(2, 2, 3, 3), -1), false);
    assert.throws(() => masksDisagree(new Uint8Array(4), new Uint8Array(5), GAP_AGREEMENT), RangeError);
  });
});

describe('walkSlices', () => {
  it('takes every slice at level 1, in walk order', () => {
    assert.deepEqual(walkSlices(5, 9, 1), [6, 7, 8, 9]);
    assert.deepEqual(walkSlices(5, 2, 1), [4, 3, 2]);
  });

  it('takes the multiples of N and always the end slice', () => {
    assert.deepEqual(walkSlices(5, 14, 3), [6, 9, 12, 14]);
    assert.deepEqual(walkSlices(5, 0, 3), [3, 0]);
    assert.deepEqual(walkSlices(5, 1, 4), [4, 1]);
    assert.deepEqual(walkSlices(5, 6, 4), [6]);
  });

  it('is empty when the walk has nowhere to go', () => {
    assert.deepEqual(walkSlices(3, 3, 2), []);
  });
});

describe('planRequest at a speed level', () => {
  it('plans the exact walk without a level and at level 1', () => {
    for (const plan of [planRequest(request([box3d(3, 12)]), DEFAULT_ROUTING), planRequest(request([box3d(3, 12)], 1), DEFAULT_ROUTING)]) {
      const w = plan.work[0]!;
      assert.ok(w.kind === 'box3d');
      assert.deepEqual([w.zmid, w.up, w.down], [7, [8, 9, 10, 11, 12], [6, 5, 4, 3]]);
      assert.equal(plan.slicesToEncode.onesam, 10);
    }
  });

  it('computes the middle slice, the end slices and the multiples of N; objects share them', () => {
    const plan = planRequest(request([box3d(3, 20), box3d(9, 30, 2)], 4), DEFAULT_ROUTING);
    const [a, b] = plan.work;
    assert.ok(a?.kind === 'box3d' && b?.kind === 'box3d');
    assert.deepEqual([a.zmid, a.up, a.down], [11, [12, 16, 20], [8, 4, 3]]);
    assert.deepEqual([b.zmid, b.up, b.down], [19, [20, 24, 28, 30], [16, 12, 9]]);
    // 3 4 8 11 12 16 20 and 9 12 16 19 20 24 28 30: 12 distinct of the 28 slices 3..30.
    assert.equal(plan.slicesToEncode.onesam, 12);
    assert.deepEqual(plan.objects.map((o) => o.slices), [[3, 20], [9, 30]]);
  });

  it('leaves 2D boxes alone', () => {
    const plan = planRequest({ ...request([{ label: 1, prompt: { kind: 'box2d', x0: 1, y0: 1, x1: 9, y1: 9, z: 4 } }], 3) }, DEFAULT_ROUTING);
    assert.deepEqual(plan.visits, [4]);
  });

  it('refuses a level outside 1..8 from a caller in-process', () => {
    assert.throws(() => planRequest(request([box3d(3, 12)], 0), DEFAULT_ROUTING), /speedLevel must be an integer from 1 \(every slice, exact\) to 8, got 0/);
    assert.throws(() => planRequest(request([box3d(3, 12)], 2.5), DEFAULT_ROUTING), RangeError);
  });
});

describe('where the level enters', () => {
  it('speedLevelProblem accepts 1..8 only', () => {
    assert.equal(MAX_SPEED_LEVEL, 8);
    for (const ok of [1, 4, 8]) assert.equal(speedLevelProblem(ok), undefined);
    for (const bad of [0, 9, -1, 1.5, Number.NaN]) assert.ok(speedLevelProblem(bad));
  });

  it('the speedLevel setting defaults to 1 and is checked once, naming its source', () => {
    assert.equal(loadConfig({ env: {} }).config.speedLevel, 1);
    assert.equal(loadConfig({ env: { ONESAM_SPEED_LEVEL: '3' } }).config.speedLevel, 3);
    assert.equal(loadConfig({ env: {}, flags: { 'speed-level': '2' } }).config.speedLevel, 2);
    assert.throws(() => loadConfig({ env: { ONESAM_SPEED_LEVEL: '9' } }), (err: unknown) => err instanceof ConfigError && /speedLevel/.test(err.message));
  });

  it('the speedLevelGaps setting: refine by default, interpolate on request, anything else refused naming it', () => {
    assert.equal(loadConfig({ env: {} }).config.speedLevelGaps, 'refine');
    assert.equal(loadConfig({ env: { ONESAM_SPEED_LEVEL_GAPS: 'interpolate' } }).config.speedLevelGaps, 'interpolate');
    assert.equal(loadConfig({ env: {}, flags: { 'speed-level-gaps': 'interpolate' } }).config.speedLevelGaps, 'interpolate');
    assert.equal(pipelineConfig(loadConfig({ env: { ONESAM_SPEED_LEVEL_GAPS: 'interpolate' } }).config).speedLevelGaps, 'interpolate');
    assert.throws(() => loadConfig({ env: { ONESAM_SPEED_LEVEL_GAPS: 'skip' } }),
      (err: unknown) => err instanceof ConfigError && /speedLevelGaps/.test(err.message) && /must be one of refine, interpolate, got "skip"/.test(err.message));
  });

  it('gapSettings: refine is GAP_AGREEMENT with GAP_REDECODES, interpolate refines and re-decodes nothing', () => {
    assert.deepEqual(gapSettings('refine'), { gapAgreement: GAP_AGREEMENT, gapRedecodes: GAP_REDECODES });
    assert.deepEqual(gapSettings('interpolate'), { gapAgreement: -1, gapRedecodes: 0 });
    assert.equal(DEFAULT_GAP_MODE, 'refine');
  });

  const header = (speedLevel: number): RequestHeader__Output => ({
    requestId: 'r', modality: '', format: 'PAYLOAD_FORMAT_NPZ', raw: null, intensity: null, payloadBytes: 10, prompts: [],
    network: 'ENSEMBLE_MODE_UNSPECIFIED', output: null, sessionId: '', keepSession: false, pacs: null, store: null, speedLevel,
  });
  const parse = (h: RequestHeader__Output) => parseHeader(h, { maxPayloadBytes: 1 << 20 }, () => 'generated');

  it('RequestHeader.speed_level: unset leaves it to the server, 1..8 pass, others are HEADER_INVALID', () => {
    assert.equal(parse(header(0)).speedLevel, undefined);
    assert.equal(parse(header(3)).speedLevel, 3);
    assert.throws(() => parse(header(9)), (err: unknown) => {
      assert.ok(err instanceof CodedError);
      assert.deepEqual([err.code, err.field], ['HEADER_INVALID', 'header.speed_level']);
      assert.equal(err.message, "header.speed_level: must be an integer from 1 (every slice, exact) to 8, got 9 (0 or unset: the server's setting)");
      return true;
    });
  });
});
