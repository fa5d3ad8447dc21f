import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CodedError } from '../../src/errors/coded-error.ts';
import { ByteBudget } from '../../src/pipeline/byte-budget.ts';

test('acquire waits for releases in FIFO order', async () => {
  const b = new ByteBudget(10);
  await b.acquire(6);
  const order: number[] = [];
  const p1 = b.acquire(6).then(() => order.push(1));
  const p2 = b.acquire(2).then(() => order.push(2));
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(order, []);
  b.release(6);
  await Promise.all([p1, p2]);
  assert.deepEqual(order, [1, 2]);
  assert.equal(b.inUse, 8);
});

test('prefetch never jumps the queue and respects headroom', async () => {
  const b = new ByteBudget(10);
  assert.equal(b.tryAcquire(5, 5), true);
  assert.equal(b.tryAcquire(1, 5), false);
  assert.equal(b.inUse, 5);
});

test('blocked acquisitions evict idle cached data, the caller\'s own first', async () => {
  const b = new ByteBudget(10);
  await b.acquire(8);
  const calls: string[] = [];
  const other = { evict: (n: number) => { calls.push(`other:${n}`); return 0; } };
  const own = { evict: (n: number) => { calls.push(`own:${n}`); b.release(4); return 4; } };
  b.register(other);
  b.register(own);
  await b.acquire(6, undefined, own);
  assert.deepEqual(calls, ['own:4']);
  assert.equal(b.inUse, 10);
});

test('a request larger than the whole budget fails clearly; cancellation rejects waiters', async () => {
  const b = new ByteBudget(10);
  await assert.rejects(b.acquire(11), (e: unknown) => e instanceof CodedError && e.code === 'MEMORY_BUDGET_EXCEEDED');
  await b.acquire(10);
  const ac = new AbortController();
  const p = b.acquire(5, ac.signal);
  ac.abort();
  await assert.rejects(p, (e: unknown) => e instanceof CodedError && e.code === 'REQUEST_CANCELLED');
});
