// The pools recognise a full piscina queue by checking its bound before they submit (QUEUE_FULL, by code), never by
// reading piscina's message text. The check must refuse no later than piscina itself would.
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { Piscina } from 'piscina';
import { mapError } from '../../src/errors/grpc-status.ts';
import { piscinaQueueFull } from '../../src/workers/piscina-queue.ts';

const CODEC_WORKER = fileURLToPath(new URL('../../src/workers/codec-worker.mjs', import.meta.url));

test('an unbounded piscina queue, what both pools use, is never full', () => {
  assert.equal(piscinaQueueFull({ queueSize: 1_000_000, options: { maxQueue: Number.POSITIVE_INFINITY } as Piscina['options'] }), undefined);
});

test('a bounded queue is refused with QUEUE_FULL exactly when piscina would refuse the task', async () => {
  const piscina = new Piscina({ filename: CODEC_WORKER, minThreads: 1, maxThreads: 1, maxQueue: 2, idleTimeout: Number.POSITIVE_INFINITY, atomics: 'disabled' });
  try {
    await piscina.run({ kind: 'ping' });
    // Submitted in one tick, so none completes in between: one runs, two wait, the rest meet piscina's bound.
    const verdicts: boolean[] = [];
    const runs: Promise<boolean>[] = [];
    for (let i = 0; i < 5; i++) {
      verdicts.push(piscinaQueueFull(piscina) !== undefined);
      runs.push(piscina.run({ kind: 'ping' }).then(() => false, () => true));
    }
    const refusedByPiscina = await Promise.all(runs);
    assert.deepEqual(verdicts, [false, false, false, true, true]);
    assert.deepEqual(verdicts, refusedByPiscina);
    const mapped = mapError(piscinaQueueFull({ queueSize: 2, options: piscina.options }));
    assert.deepEqual([mapped.code, mapped.details], ['QUEUE_FULL', 'the worker queue is full; retry later']);
  } finally {
    await piscina.close();
  }
});
