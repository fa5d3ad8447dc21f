// The onnxruntime session options the workers open their sessions with: which graph gets the CPU arena.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encoderArena, workerSessionOptions } from '../../src/workers/session-options.ts';

test('a worker holding one network gives its encoder the arena; a second network shares glibc heap', () => {
  assert.equal(encoderArena(1, false), true);
  assert.equal(encoderArena(2, false), false);
  assert.equal(encoderArena(2, true), true, 'the pool may force it for every session');
});

test('the decoder always has the arena, the encoder only when asked; neither has the memory pattern', () => {
  const decoder = workerSessionOptions(1, 'decoder');
  assert.equal(decoder.enableCpuMemArena, true);
  assert.equal(decoder.enableMemPattern, false, 'with the arena its block is a second copy of the peak');
  assert.equal(workerSessionOptions(2, 'encoder').enableCpuMemArena, false);
  assert.equal(workerSessionOptions(2, 'encoder', true).enableCpuMemArena, true);
  assert.equal(workerSessionOptions(2, 'encoder', true).enableMemPattern, false, 'the encoder never plans one block per run');
  assert.equal(workerSessionOptions(2, 'encoder').intraOpNumThreads, 2);
});
