// The retry policy (src/pacs/retry.ts) without a network or real waits: which failures are retried, how many
// attempts, the exponential bound with full jitter, Retry-After as a floor, the cap, and abort.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AttemptFailure, isTransientStatus, MAX_RETRY_DELAY_MS, parseRetryAfter, RetriesSpent, retryDelayMs, withRetries } from '../../src/pacs/retry.ts';

test('transient statuses: 429 and the 5xx a restart or a proxy gives; never 4xx', () => {
  assert.deepEqual([400, 401, 403, 404, 408, 409, 413, 415, 429, 500, 501, 502, 503, 504].filter(isTransientStatus), [429, 500, 502, 503, 504]);
});

test('delays: full jitter under a doubling bound, Retry-After as a floor, everything capped', () => {
  const policy = { retries: 5, delayMs: 500 };
  assert.deepEqual([1, 2, 3, 4].map((n) => retryDelayMs(n, policy, undefined, () => 0.999999)), [499, 999, 1999, 3999]);
  assert.deepEqual([1, 2, 3].map((n) => retryDelayMs(n, policy, undefined, () => 0)), [0, 0, 0]);
  assert.equal(retryDelayMs(1, policy, 2_000, () => 0.5), 2_000);
  assert.equal(retryDelayMs(3, policy, 10, () => 0.5), 1_000);
  assert.equal(retryDelayMs(30, policy, undefined, () => 0.999999), MAX_RETRY_DELAY_MS - 1);
  assert.equal(retryDelayMs(1, policy, 3_600_000, () => 0), MAX_RETRY_DELAY_MS);
  assert.equal(parseRetryAfter('7'), 7_000);
  assert.equal(parseRetryAfter(new Date(Date.UTC(2030, 0, 1, 0, 0, 5)).toUTCString(), Date.UTC(2030, 0, 1)), 5_000);
  assert.equal(parseRetryAfter('soon'), undefined);
  assert.equal(parseRetryAfter(undefined), undefined);
});

test('retries transient failures up to the policy, then gives the last cause and the attempt count', async () => {
  const waits: number[] = [];
  const hooks = { random: () => 0.5, sleep: async (ms: number) => { waits.push(ms); } };
  let calls = 0;
  const ok = await withRetries(async (n) => {
    calls++;
    if (n < 3) throw new AttemptFailure(true, new Error(`503 #${n}`), n === 2 ? 4_000 : undefined);
    return 'stored';
  }, { retries: 2, delayMs: 1_000 }, undefined, hooks);
  assert.deepEqual(ok, { value: 'stored', attempts: 3 });
  assert.deepEqual(waits, [500, 4_000]);
  assert.equal(calls, 3);

  const retried: string[] = [];
  await assert.rejects(withRetries(async (n) => { throw new AttemptFailure(true, new Error(`refused #${n}`)); }, { retries: 1, delayMs: 10 }, undefined, {
    ...hooks, onRetry: (n, reason, ms) => retried.push(`${n}:${reason.message}:${ms}`),
  }), (e) => e instanceof RetriesSpent && e.attempts === 2 && e.cause.message === 'refused #2');
  assert.deepEqual(retried, ['1:refused #1:5']);
});

test('final failures and other errors are not retried; an abort stops the waits', async () => {
  let calls = 0;
  await assert.rejects(withRetries(async () => { calls++; throw new AttemptFailure(false, new Error('401')); }, { retries: 5, delayMs: 1 }, undefined),
    (e) => e instanceof RetriesSpent && e.attempts === 1);
  await assert.rejects(withRetries(async () => { calls++; throw new TypeError('bug'); }, { retries: 5, delayMs: 1 }, undefined), TypeError);
  assert.equal(calls, 2);
  const abort = new AbortController();
  const started = performance.now();
  const run = withRetries(async () => { throw new AttemptFailure(true, new Error('503')); }, { retries: 3, delayMs: 60_000 }, abort.signal, { random: () => 0.99 });
  setTimeout(() => abort.abort(new Error('cancelled')), 20);
  await assert.rejects(run, /cancelled/);
  assert.ok(performance.now() - started < 5_000);
});
