// Two-phase admission of Segment calls (src/server/service-state.ts): upload slots and compute slots are counted
// apart, a call is refused on arrival when either kind is all taken, and a call whose upload is complete waits for
// a compute slot in arrival order, handing it on when it gives up.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CodedError } from '../../src/errors/coded-error.ts';
import { DEFAULT_ROUTING } from '../../src/pipeline/router.ts';
import { ServiceHealth } from '../../src/server/health.ts';
import { ServiceState } from '../../src/server/service-state.ts';
import { FakeSegmenter } from '../helpers/fake-segmenter.ts';

function serving(maxConcurrentRequests: number, maxConcurrentUploads: number): ServiceState {
  const state = new ServiceState(new ServiceHealth(), DEFAULT_ROUTING, { maxConcurrentRequests, maxConcurrentUploads });
  state.attach(new FakeSegmenter());
  return state;
}

const refusal = (state: ServiceState): string => {
  try {
    state.admit();
    return 'admitted';
  } catch (err) {
    assert.ok(err instanceof CodedError);
    return `${err.code}: ${err.message}`;
  }
};

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

test('uploads fill only the upload slots; a full upload phase refuses with TOO_MANY_REQUESTS naming maxConcurrentUploads', async () => {
  const state = serving(1, 2);
  const a = state.admit();
  const b = state.admit();
  assert.equal(state.uploadingRequests, 2);
  assert.equal(state.computingRequests, 0);
  assert.match(refusal(state), /^TOO_MANY_REQUESTS: .*maxConcurrentUploads 2/);
  await a.compute(new AbortController().signal);
  assert.deepEqual([state.uploadingRequests, state.computingRequests], [1, 1]);
  // The compute slot is taken: a newcomer is told before it uploads anything.
  assert.match(refusal(state), /^TOO_MANY_REQUESTS: .*maxConcurrentRequests 1/);
  a.release();
  b.release();
  assert.equal(state.activeRequests, 0);
});

test('a complete upload waits for a compute slot in arrival order and keeps its upload slot meanwhile', async () => {
  const state = serving(1, 3);
  const running = state.admit();
  const first = state.admit();
  const second = state.admit();
  await running.compute(new AbortController().signal);
  const order: string[] = [];
  const firstTurn = first.compute(new AbortController().signal).then(() => order.push('first'));
  const secondTurn = second.compute(new AbortController().signal).then(() => order.push('second'));
  await tick();
  assert.deepEqual(order, []);
  assert.deepEqual([state.uploadingRequests, state.computingRequests], [2, 1]);
  running.release();
  await firstTurn;
  assert.deepEqual(order, ['first']);
  assert.deepEqual([state.uploadingRequests, state.computingRequests], [1, 1], 'the slot went to the waiter, not to nobody');
  first.release();
  await secondTurn;
  second.release();
  assert.deepEqual([state.activeRequests, state.uploadingRequests, state.computingRequests], [0, 0, 0]);
});

test('a waiter that gives up (cancel, deadline, stall) leaves the queue and frees its upload slot', async () => {
  const state = serving(1, 3);
  const running = state.admit();
  const quitter = state.admit();
  const patient = state.admit();
  await running.compute(new AbortController().signal);
  const controller = new AbortController();
  const quit = quitter.compute(controller.signal);
  const patientTurn = patient.compute(new AbortController().signal);
  controller.abort(new CodedError('REQUEST_CANCELLED', 'gone'));
  await assert.rejects(quit, (err: CodedError) => err.code === 'REQUEST_CANCELLED');
  quitter.release();
  assert.equal(state.uploadingRequests, 1);
  running.release();
  await patientTurn;
  assert.deepEqual([state.uploadingRequests, state.computingRequests], [0, 1]);
  patient.release();
  assert.equal(state.activeRequests, 0);
});

test('a slot granted to a waiter that aborted in the same tick is handed on, not lost', async () => {
  const state = serving(1, 3);
  const running = state.admit();
  const quitter = state.admit();
  const patient = state.admit();
  await running.compute(new AbortController().signal);
  const controller = new AbortController();
  const quit = quitter.compute(controller.signal);
  const patientTurn = patient.compute(new AbortController().signal);
  running.release(); // grants the slot to the quitter...
  controller.abort(new CodedError('REQUEST_CANCELLED', 'gone')); // ...which aborts before its continuation runs
  await assert.rejects(quit);
  quitter.release();
  await patientTurn;
  assert.deepEqual([state.uploadingRequests, state.computingRequests], [0, 1]);
  patient.release();
  assert.deepEqual([state.activeRequests, state.computingRequests], [0, 0]);
});

test('idle() waits for calls in both phases', async () => {
  const state = serving(1, 2);
  const uploading = state.admit();
  let idle = false;
  const done = state.idle().then(() => { idle = true; });
  await tick();
  assert.equal(idle, false);
  uploading.release();
  await done;
  assert.equal(idle, true);
});
