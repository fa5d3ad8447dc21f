// The upload memory budget (src/server/upload-budget.ts) and its place in admission (service-state.ts): declared
// payload sizes are summed against uploadMemoryBytes, one that does not fit is refused at once with
// UPLOAD_MEMORY_EXHAUSTED and leaves the sum as it was, releases are idempotent, and an admission's release() gives
// back a reservation its call never released itself. The setting: 1 GiB by default, following maxPayloadBytes when
// that is larger, and refused below maxPayloadBytes naming the field.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadConfig } from '../../src/config/load.ts';
import { CodedError } from '../../src/errors/coded-error.ts';
import { mapError, statusName } from '../../src/errors/grpc-status.ts';
import { DEFAULT_ROUTING } from '../../src/pipeline/router.ts';
import { ServiceHealth } from '../../src/server/health.ts';
import { ServiceState } from '../../src/server/service-state.ts';
import { UploadMemoryBudget } from '../../src/server/upload-budget.ts';
import { FakeSegmenter } from '../helpers/fake-segmenter.ts';

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;

function refusal(fn: () => unknown): CodedError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof CodedError, `not a CodedError: ${String(err)}`);
    return err;
  }
  assert.fail('expected a refusal');
}

test('reservations sum the declared sizes; one that does not fit is refused with UPLOAD_MEMORY_EXHAUSTED and changes nothing', () => {
  const budget = new UploadMemoryBudget(10 * MiB);
  const a = budget.reserve(6 * MiB);
  const b = budget.reserve(4 * MiB); // an exact fit is accepted
  assert.deepEqual([budget.reservedBytes, budget.reservations], [10 * MiB, 2]);
  const err = refusal(() => budget.reserve(1));
  assert.equal(err.code, 'UPLOAD_MEMORY_EXHAUSTED');
  assert.match(err.message, /hold 10485760 of the 10485760 bytes of upload memory \(uploadMemoryBytes\) and this one declares 1/);
  assert.deepEqual([budget.reservedBytes, budget.reservations], [10 * MiB, 2]);
  // The one place that maps codes: RESOURCE_EXHAUSTED, the capacity status clients retry with backoff.
  assert.equal(statusName(mapError(err).status), 'RESOURCE_EXHAUSTED');
  a.release();
  a.release(); // idempotent: several exit paths may release
  assert.deepEqual([budget.reservedBytes, budget.reservations], [4 * MiB, 1]);
  const c = budget.reserve(6 * MiB);
  b.release();
  c.release();
  assert.deepEqual([budget.reservedBytes, budget.reservations], [0, 0]);
});

test('a budget larger than any one payload still refuses the sum: two uploads that together exceed it', () => {
  const budget = new UploadMemoryBudget(1 * MiB);
  const first = budget.reserve(600 * 1024);
  assert.equal(refusal(() => budget.reserve(600 * 1024)).code, 'UPLOAD_MEMORY_EXHAUSTED');
  first.release();
  budget.reserve(600 * 1024).release();
  assert.equal(budget.reservedBytes, 0);
});

function serving(uploadMemoryBytes?: number): ServiceState {
  const state = new ServiceState(new ServiceHealth(), DEFAULT_ROUTING, { maxConcurrentRequests: 2, maxConcurrentUploads: 4, ...(uploadMemoryBytes !== undefined ? { uploadMemoryBytes } : {}) });
  state.attach(new FakeSegmenter());
  return state;
}

test('admission: a call\'s reservation counts in the server-wide budget, and release() gives it back on any path', async () => {
  const state = serving(8 * MiB);
  assert.equal(state.uploadMemory.limitBytes, 8 * MiB);
  // Released by the call itself (the payload was decoded), then release() at the end is a no-op for the budget.
  const decoded = state.admit();
  decoded.reserveUpload(5 * MiB).release();
  assert.equal(state.uploadMemory.reservedBytes, 0);
  decoded.release();
  // Never released by the call (a path that forgot, or a drain that interrupted it): release() frees it.
  const interrupted = state.admit();
  interrupted.reserveUpload(5 * MiB);
  const refused = state.admit();
  assert.equal(refusal(() => refused.reserveUpload(4 * MiB)).code, 'UPLOAD_MEMORY_EXHAUSTED');
  assert.equal(state.uploadMemory.reservedBytes, 5 * MiB);
  refused.release();
  assert.equal(state.uploadMemory.reservedBytes, 5 * MiB);
  interrupted.release();
  assert.deepEqual([state.uploadMemory.reservedBytes, state.uploadMemory.reservations, state.activeRequests], [0, 0, 0]);
  // While waiting for a compute slot the payload is still in memory: the reservation stays.
  const [c1, c2, waiting] = [state.admit(), state.admit(), state.admit()];
  await c1.compute(new AbortController().signal);
  await c2.compute(new AbortController().signal);
  waiting.reserveUpload(3 * MiB);
  const abort = new AbortController();
  const turn = waiting.compute(abort.signal);
  assert.equal(state.uploadMemory.reservedBytes, 3 * MiB);
  abort.abort(new Error('cancelled'));
  await assert.rejects(turn);
  waiting.release();
  c1.release();
  c2.release();
  assert.deepEqual([state.uploadMemory.reservedBytes, state.activeRequests], [0, 0]);
});

test('admission without uploadMemoryBytes has no byte budget (each payload is bounded by maxPayloadBytes alone)', () => {
  const state = serving();
  const a = state.admit();
  a.reserveUpload(100 * GiB);
  assert.equal(state.uploadMemory.reservedBytes, 100 * GiB);
  a.release();
  assert.equal(state.uploadMemory.reservedBytes, 0);
});

test('uploadMemoryBytes: 1 GiB by default, read from ONESAM_UPLOAD_MEMORY_BYTES, at least maxPayloadBytes', () => {
  assert.equal(loadConfig({ env: {}, cores: 2 }).config.uploadMemoryBytes, GiB);
  assert.equal(loadConfig({ env: { ONESAM_UPLOAD_MEMORY_BYTES: '768MiB' }, cores: 2 }).config.uploadMemoryBytes, 768 * MiB);
  // Not set: it follows a maxPayloadBytes above the default, so the largest payload can still be accepted.
  assert.equal(loadConfig({ env: { ONESAM_MAX_PAYLOAD_BYTES: '2GiB' }, cores: 2 }).config.uploadMemoryBytes, 2 * GiB);
  assert.equal(loadConfig({ env: { ONESAM_MAX_PAYLOAD_BYTES: '64MiB' }, cores: 2 }).config.uploadMemoryBytes, GiB);
  // Set below maxPayloadBytes: such a payload could never be accepted, so the server does not start.
  assert.throws(() => loadConfig({ env: { ONESAM_UPLOAD_MEMORY_BYTES: '256MiB' }, cores: 2 }),
    /^ConfigError: config\.uploadMemoryBytes \(ONESAM_UPLOAD_MEMORY_BYTES\): must be at least maxPayloadBytes \(536870912, default\)/);
  assert.throws(() => loadConfig({ env: { ONESAM_UPLOAD_MEMORY_BYTES: '1GiB', ONESAM_MAX_PAYLOAD_BYTES: '2GiB' }, cores: 2 }),
    /config\.uploadMemoryBytes \(ONESAM_UPLOAD_MEMORY_BYTES\): must be at least maxPayloadBytes \(2147483648, ONESAM_MAX_PAYLOAD_BYTES\)/);
  assert.throws(() => loadConfig({ env: { ONESAM_UPLOAD_MEMORY_BYTES: 'plenty' }, cores: 2 }), /config\.uploadMemoryBytes \(ONESAM_UPLOAD_MEMORY_BYTES\)/);
});

test('a reservation that grows as its payload streams in (a PACS series): growth must fit, shrinking always does, release gives back what is held', () => {
  const budget = new UploadMemoryBudget(100);
  const other = budget.reserve(30);
  const series = budget.reserve(0);
  series.resize(50);
  assert.deepEqual([series.bytes, budget.reservedBytes], [50, 80]);
  const err = refusal(() => series.resize(71));
  assert.equal(err.code, 'UPLOAD_MEMORY_EXHAUSTED');
  assert.match(err.message, /the uploads in flight hold 30 of the 100 bytes of upload memory \(uploadMemoryBytes\) and this one has grown to 71; retry later/);
  assert.deepEqual([series.bytes, budget.reservedBytes], [50, 80]);
  series.resize(70);
  // A retried retrieve starts again from its first instance.
  series.resize(10);
  assert.deepEqual([series.bytes, budget.reservedBytes], [10, 40]);
  series.release();
  series.release();
  other.release();
  assert.deepEqual([budget.reservedBytes, budget.reservations], [0, 0]);
  assert.throws(() => series.resize(1), /released/);
});
