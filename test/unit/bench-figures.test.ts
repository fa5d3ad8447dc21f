// The arithmetic behind `onesam bench`'s figures: pool shapes, best times, necessary work and efficiency.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bestTimes, efficiency, median, necessaryMs, parseShape, poolBusy, poolShapes, shapeName, type NetworkTiming } from '../../src/cli/bench-figures.ts';

test('poolShapes: every workers x threads split within the cores, largest first', () => {
  assert.deepEqual(poolShapes(2).map(shapeName), ['2x1', '1x2', '1x1']);
  assert.deepEqual(poolShapes(1).map(shapeName), ['1x1']);
  const sixteen = poolShapes(16).map(shapeName);
  assert.deepEqual(sixteen.slice(0, 5), ['16x1', '8x2', '4x4', '2x8', '1x16']);
  assert.ok(poolShapes(16).every((s) => s.workers * s.threads <= 16));
  // Not a power of two: all the cores as one worker and one thread per core are still measured.
  assert.ok(poolShapes(6).map(shapeName).includes('6x1') && poolShapes(6).map(shapeName).includes('1x6'));
});

test('parseShape', () => {
  assert.deepEqual(parseShape('2x1'), { workers: 2, threads: 1 });
  assert.equal(parseShape('0x2'), undefined);
  assert.equal(parseShape('2*1'), undefined);
});

const timing = (network: 'litemedsam' | 'onesam', workers: number, enc: number, dec: number): NetworkTiming => ({
  network, shape: { workers, threads: 1 }, encoderSliceMs: enc, encoderLatencyMs: enc * workers, decoderPromptMs: dec, decoderLatencyMs: dec * workers,
});

test('bestTimes takes each network\'s smallest per-slice and per-prompt time over the shapes, separately', () => {
  const best = bestTimes([timing('onesam', 2, 400, 50), timing('onesam', 1, 450, 40), timing('litemedsam', 2, 300, 30)]);
  assert.deepEqual(best, { onesam: { encoderSliceMs: 400, decoderPromptMs: 40 }, litemedsam: { encoderSliceMs: 300, decoderPromptMs: 30 } });
});

test('efficiency: the distinct slices and the prompts at the best times, over the wall time', () => {
  const best = { onesam: { encoderSliceMs: 400, decoderPromptMs: 40 } };
  // The paper CT: 205 distinct slices, 396 prompts (one per slice of each box's walk).
  const work = [{ network: 'onesam' as const, slices: 205, prompts: 396 }];
  assert.equal(necessaryMs(work, best), 205 * 400 + 396 * 40);
  assert.equal(efficiency(necessaryMs(work, best), 200_000), (82_000 + 15_840) / 200_000);
  assert.throws(() => necessaryMs([{ network: 'litemedsam', slices: 1, prompts: 1 }], best), /no timing measured for network litemedsam/);
  assert.throws(() => efficiency(1, 0), /wall time must be positive/);
});

test('median', () => {
  assert.equal(median([3, 1, 2]), 2);
  assert.equal(median([4, 1, 2, 3]), 2.5);
  assert.ok(Number.isNaN(median([])));
});

test('pool busy: worker time in tasks over workers x wall', () => {
  // Two workers, 100 s of wall: 150 s of tasks between them is three quarters busy.
  assert.equal(poolBusy(150_000, 2, 100_000), 0.75);
  assert.equal(poolBusy(0, 1, 5), 0);
  assert.throws(() => poolBusy(1, 0, 5), /workers must be positive/);
  assert.throws(() => poolBusy(1, 2, 0), /must be positive/);
});
