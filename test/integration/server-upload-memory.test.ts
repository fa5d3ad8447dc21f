// The upload memory budget against the real server (issue 7 hardening): every upload in flight reserves its declared
// payload_bytes in uploadMemoryBytes from its header until its raw payload is gone. With a 1 MiB budget, two 600 KiB
// uploads do not fit together: the second is refused at once with RESOURCE_EXHAUSTED and UPLOAD_MEMORY_EXHAUSTED in
// the trailer, counted in onesam_errors_total, while the first is served; and onesam_upload_reserved_bytes is back at
// 0 after a served upload, a cancelled one, one that timed out idle, one whose decode failed and one interrupted by
// a drain. Before the budget, both uploads were accepted whatever their sum (16 x 512 MiB at the defaults).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import type { SegmentInput } from '../../src/client/client.ts';
import { ERROR_CODE_KEY } from '../../src/errors/grpc-status.ts';
import { FakeSegmenter } from '../helpers/fake-segmenter.ts';
import { rawRequest, type VolumeSize } from '../helpers/requests.ts';
import { rawSegmentCall, scrape, startTestService, type TestService } from '../helpers/test-service.ts';
import { until } from '../helpers/until.ts';

const BUDGET = 1024 * 1024;
/** 600 KiB of uint8 voxels: one fits the budget, two do not. */
const SIZE: VolumeSize = { depth: 10, height: 240, width: 256 };
const PAYLOAD_BYTES = SIZE.depth * SIZE.height * SIZE.width;
// Long enough that a partial upload outlives the steps around it on a loaded machine; the idle test waits it out.
const IDLE_MS = 5_000;
const CHUNK = 64 * 1024;

let server: TestService;
const fake = new FakeSegmenter({ sliceMs: 1 });

before(async () => {
  server = await startTestService({
    // The rate floor is off so that a partial upload ends only by its idle limit, its cancel or its completion.
    config: { uploadMemoryBytes: BUDGET, maxPayloadBytes: BUDGET, uploadIdleTimeoutMs: IDLE_MS, uploadMinBytesPerSecond: 0 },
    createSegmenter: async () => fake,
  });
  await server.service.ready;
});
after(() => server.stop());

const metric = async (key: string): Promise<number> => (await scrape(server.metricsUrl)).get(key) ?? 0;
const reserved = (): Promise<number> => metric('onesam_upload_reserved_bytes');
const errorsTotal = (code: string): Promise<number> => metric(`onesam_errors_total{code="${code}"}`);

/** A Segment stream whose payload is sent when the test says: `send(upTo)` sends chunks up to that byte. */
function startUpload(target: TestService, input: SegmentInput) {
  const raw = rawSegmentCall(target.address, { deadline: Date.now() + 60_000 });
  raw.call.write({ header: { ...input.header, payloadBytes: input.payload.length } });
  let sent = 0;
  const send = (upTo: number): void => {
    while (sent < upTo) {
      const end = Math.min(upTo, sent + CHUNK);
      raw.call.write({ chunk: { data: input.payload.subarray(sent, end) } });
      sent = end;
    }
  };
  return { ...raw, send, finish: () => { send(input.payload.length); raw.call.end(); } };
}

function expectCode(status: grpc.StatusObject, grpcCode: grpc.status, code: string, who: string): void {
  assert.equal(status.code, grpcCode, `${who}: ${grpc.status[status.code]} "${status.details}"`);
  assert.deepEqual(status.metadata.get(ERROR_CODE_KEY), [code], `${who}: trailer ${ERROR_CODE_KEY}`);
}

test('the budget gauge reports the setting, and nothing is reserved at rest', async () => {
  assert.equal(await metric('onesam_upload_budget_bytes'), BUDGET);
  assert.equal(await reserved(), 0);
});

test('two uploads that together exceed the budget: the second is refused with UPLOAD_MEMORY_EXHAUSTED, the first is served, then 0 is reserved', async () => {
  const refusedBefore = await errorsTotal('UPLOAD_MEMORY_EXHAUSTED');
  const first = startUpload(server, rawRequest({ requestId: 'first' }, SIZE));
  const second = startUpload(server, rawRequest({ requestId: 'second' }, SIZE));
  try {
    // The first holds its declared size from its header on, with only part of its payload sent.
    first.send(PAYLOAD_BYTES / 2);
    await until(async () => (await reserved()) === PAYLOAD_BYTES, 'the first upload to reserve its declared size');

    second.finish();
    const refused = await second.result;
    expectCode(refused.status, grpc.status.RESOURCE_EXHAUSTED, 'UPLOAD_MEMORY_EXHAUSTED', 'second upload');
    assert.match(refused.status.details, /uploadMemoryBytes/);
    assert.equal(refused.status.metadata.get('onesam-request-id')[0], 'second');
    assert.equal(refused.messages.length, 0, 'nothing accepted');
    assert.equal(await errorsTotal('UPLOAD_MEMORY_EXHAUSTED'), refusedBefore + 1);
    // The refusal took nothing and gave nothing back.
    assert.equal(await reserved(), PAYLOAD_BYTES);

    first.finish();
    const served = await first.result;
    assert.equal(served.status.code, grpc.status.OK, `first upload: ${served.status.details}`);
    assert.ok(served.messages.some((m) => m.summary), 'the first got its summary');
    assert.equal(await reserved(), 0, 'the budget is back to 0 once the first was decoded');

    // With the first gone the same upload fits again.
    const again = startUpload(server, rawRequest({ requestId: 'again' }, SIZE));
    again.finish();
    assert.equal((await again.result).status.code, grpc.status.OK);
    again.close();
    assert.equal(await reserved(), 0);
  } finally {
    first.close();
    second.close();
  }
});

test('a cancelled upload gives its reservation back', async () => {
  const upload = startUpload(server, rawRequest({ requestId: 'cancelled' }, SIZE));
  try {
    upload.send(CHUNK);
    await until(async () => (await reserved()) === PAYLOAD_BYTES, 'the upload to reserve its declared size');
    upload.call.cancel();
    await until(async () => (await reserved()) === 0 && server.service.state.activeRequests === 0, 'the cancelled upload to give its bytes back');
  } finally {
    upload.close();
  }
});

test('an upload that times out idle gives its reservation back', async () => {
  const upload = startUpload(server, rawRequest({ requestId: 'idle' }, SIZE));
  try {
    upload.send(CHUNK);
    await until(async () => (await reserved()) === PAYLOAD_BYTES, 'the upload to reserve its declared size');
    const { status } = await upload.result;
    expectCode(status, grpc.status.DEADLINE_EXCEEDED, 'UPLOAD_IDLE_TIMEOUT', 'idle upload');
    // Released before the status was sent.
    assert.equal(await reserved(), 0);
  } finally {
    upload.close();
  }
});

test('an upload whose decode fails gives its reservation back', async () => {
  // 600 KiB that are no zip archive: read in full, then refused by the decoder on the codec thread.
  const upload = startUpload(server, { header: { requestId: 'undecodable', format: 'PAYLOAD_FORMAT_NPZ' }, payload: new Uint8Array(PAYLOAD_BYTES).fill(3) });
  try {
    upload.finish();
    const { status } = await upload.result;
    expectCode(status, grpc.status.INVALID_ARGUMENT, 'PAYLOAD_FORMAT', 'undecodable upload');
    assert.equal(await reserved(), 0);
  } finally {
    upload.close();
  }
});

test('an upload interrupted by the drain gives its reservation back', async () => {
  const draining = await startTestService({ config: { uploadMemoryBytes: BUDGET, maxPayloadBytes: BUDGET, shutdownGraceMs: 300 }, createSegmenter: async () => new FakeSegmenter() });
  await draining.service.ready;
  const upload = startUpload(draining, rawRequest({ requestId: 'drained' }, SIZE));
  try {
    upload.send(CHUNK);
    await until(() => draining.service.state.uploadMemory.reservedBytes === PAYLOAD_BYTES, 'the upload to reserve its declared size');
    const { forced } = await draining.service.shutdown();
    assert.equal(forced, true);
    expectCode((await upload.result).status, grpc.status.UNAVAILABLE, 'SHUTDOWN_INTERRUPTED', 'drained upload');
    assert.equal(draining.service.state.uploadMemory.reservedBytes, 0);
  } finally {
    upload.close();
    await draining.stop();
  }
});
