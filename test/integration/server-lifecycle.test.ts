// Cancellation, deadlines, admission and flow control over gRPC (fake Segmenter with slow slices): a cancelled or
// timed-out request stops its pipeline work between slices and frees its slot for the next request.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { ERROR_CODE_KEY } from '../../src/errors/grpc-status.ts';
import { FakeSegmenter } from '../helpers/fake-segmenter.ts';
import { box3d, rawRequest } from '../helpers/requests.ts';
import { grpcError, rawSegmentCall, scrape, startTestService, type TestService } from '../helpers/test-service.ts';
import { until } from '../helpers/until.ts';

let server: TestService;
const fake = new FakeSegmenter({ sliceMs: 40 });

before(async () => {
  server = await startTestService({ config: { maxConcurrentRequests: 1 }, createSegmenter: async () => fake });
  await server.service.ready;
});
after(() => server.stop());

const metric = async (key: string): Promise<number> => (await scrape(server.metricsUrl)).get(key) ?? 0;
const CANCELLED_TOTAL = 'onesam_requests_cancelled_total{method="Segment"}';

test('a request admitted beyond maxConcurrentRequests is refused with RESOURCE_EXHAUSTED', async () => {
  const first = server.client().segment(rawRequest());
  await until(() => fake.running === 1, 'the first request to start');
  const err = await server.client().segment(rawRequest()).then(() => assert.fail('expected a refusal'), grpcError);
  assert.equal(err.code, grpc.status.RESOURCE_EXHAUSTED);
  assert.deepEqual(err.metadata.get(ERROR_CODE_KEY), ['TOO_MANY_REQUESTS']);
  await first;
});

test('client cancellation aborts the pipeline between slices and frees the server', async () => {
  const cancelsBefore = await metric(CANCELLED_TOTAL);
  const abortedBefore = fake.aborted;
  const completedBefore = fake.completed;
  const controller = new AbortController();
  const call = server.client().segment(rawRequest(), { signal: controller.signal, onProgress: () => controller.abort() });
  const err = await call.then(() => assert.fail('expected a cancellation'), grpcError);
  assert.equal(err.code, grpc.status.CANCELLED);
  await until(() => server.service.state.activeRequests === 0, 'the slot to be released');
  assert.equal(fake.aborted, abortedBefore + 1, 'the segmenter saw the abort');
  assert.equal(fake.completed, completedBefore, 'the cancelled request did not run to the end');
  assert.equal(fake.running, 0);
  assert.equal(await metric(CANCELLED_TOTAL), cancelsBefore + 1);
  // The server takes the next request (maxConcurrentRequests is 1).
  const next = await server.client().segment(rawRequest());
  assert.equal(next.summary.objects.length, 1);
  assert.equal(await metric(CANCELLED_TOTAL), cancelsBefore + 1, 'a normal finish is not counted as a cancel');
});

test('an exceeded deadline stops the work, answers DEADLINE_EXCEEDED and frees the server', async () => {
  const cancelsBefore = await metric(CANCELLED_TOTAL);
  const deadlinesBefore = await metric('onesam_errors_total{code="DEADLINE_EXCEEDED"}');
  const abortedBefore = fake.aborted;
  const startedBefore = fake.started;
  // Six slices of 400 ms against a 1 s deadline: the deadline falls inside the pipeline work even when a loaded CI
  // machine takes several hundred ms to upload and admit the request (a 100 ms deadline once expired before that).
  fake.sliceMs = 400;
  try {
    const request = rawRequest({ prompts: [box3d(1, 4, 5, 0, 20, 22, 5)] });
    const err = await server.client().segment(request, { deadline: Date.now() + 1_000 }).then(() => assert.fail('expected a timeout'), grpcError);
    assert.equal(err.code, grpc.status.DEADLINE_EXCEEDED);
    await until(() => server.service.state.activeRequests === 0, 'the slot to be released');
  } finally {
    fake.sliceMs = 40;
  }
  assert.equal(fake.started, startedBefore + 1, 'the request reached the pipeline before its deadline');
  assert.equal(fake.aborted, abortedBefore + 1, 'the pipeline saw the deadline');
  assert.equal(await metric('onesam_errors_total{code="DEADLINE_EXCEEDED"}'), deadlinesBefore + 1);
  assert.equal(await metric(CANCELLED_TOTAL), cancelsBefore, 'a deadline is not a client cancel');
  assert.equal((await server.client().segment(rawRequest())).summary.objects.length, 1);
});

test('cancelling during the upload releases the request before any pipeline work', async () => {
  const startedBefore = fake.started;
  const { header, payload } = rawRequest();
  const raw = rawSegmentCall(server.address);
  raw.call.write({ header: { ...header, payloadBytes: payload.length } });
  raw.call.write({ chunk: { data: payload.subarray(0, 100) } });
  await until(() => server.service.state.activeRequests === 1, 'the request to be admitted');
  raw.call.cancel();
  await raw.result;
  raw.close();
  await until(() => server.service.state.activeRequests === 0, 'the slot to be released');
  assert.equal(fake.started, startedBefore);
  assert.equal(await server.health(''), 'SERVING');
});

test('reading pauses while the worker pool is saturated and resumes when it frees up', async () => {
  fake.statsOverride = { queued: 4, busy: 2, workers: 2 };
  let accepted = false;
  const call = server.client().segment(rawRequest(), { onAccepted: () => { accepted = true; } });
  await until(() => server.service.state.activeRequests === 1, 'the request to be admitted');
  await new Promise((r) => setTimeout(r, 250));
  assert.equal(accepted, false, 'no acceptance while the payload is not read');
  assert.equal(fake.started, fake.completed + fake.aborted, 'nothing reached the pipeline');
  fake.statsOverride = undefined;
  const outcome = await call;
  assert.ok(accepted);
  assert.equal(outcome.summary.objects.length, 1);
});
