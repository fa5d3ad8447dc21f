// Request messages grpc-js cannot hand to a handler, sent as raw bytes by a client with an identity serializer:
// bytes that are not a protobuf of the method's request type (as the first Segment message, after the header,
// after the last chunk; as the request of ListModels and CloseSession), and messages above the receive limit.
// Each ends with its stable code in the trailer (MESSAGE_UNDECODABLE -> INVALID_ARGUMENT, MESSAGE_TOO_LARGE ->
// RESOURCE_EXHAUSTED), is logged and counted in onesam_errors_total, never as a client cancel, and the server
// serves the next request. (Before the message guard: INTERNAL "Error deserializing request" or a bare
// RESOURCE_EXHAUSTED, no trailer, no log line, counted in onesam_requests_cancelled_total.)
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { ERROR_CODE_KEY } from '../../src/errors/grpc-status.ts';
import { loadSegmentationProto } from '../../src/protocol/proto.ts';
import { FakeSegmenter } from '../helpers/fake-segmenter.ts';
import { rawRequest } from '../helpers/requests.ts';
import { scrape, startTestService, type TestService } from '../helpers/test-service.ts';

const MAX_MESSAGE = 64 * 1024;
const SERVICE = '/onesam.v1.Segmentation';
let server: TestService;
let raw: grpc.Client;
const fake = new FakeSegmenter({ sliceMs: 1 });
const Segmentation = loadSegmentationProto().grpcType.onesam.v1.Segmentation.service;

before(async () => {
  server = await startTestService({ config: { maxMessageBytes: MAX_MESSAGE }, createSegmenter: async () => fake });
  await server.service.ready;
  raw = new grpc.Client(server.address, grpc.credentials.createInsecure());
});
after(async () => {
  raw.close();
  await server.stop();
});

const bytes = (b: Buffer): Buffer => b;

/** A varint tag longer than 10 bytes, then noise: no protobuf message decodes it (checked below). */
const GARBAGE = Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x5a, 0x13]);
/** A length-delimited field 1 (SegmentRequest.header) claiming 32 bytes where 1 follows. */
const TRUNCATED = Buffer.from([0x0a, 0x20, 0x01]);
/** Above the receive limit; its content never gets looked at. */
const OVERSIZED = Buffer.alloc(MAX_MESSAGE + 1024, 0x41);

/** Sends `messages` (raw bytes) on a Segment stream, then half-closes; resolves with the final status. */
function segmentRaw(messages: readonly Buffer[]): Promise<grpc.StatusObject> {
  const call = raw.makeBidiStreamRequest(`${SERVICE}/Segment`, bytes, bytes, new grpc.Metadata(), {});
  call.on('data', () => undefined);
  call.on('error', () => undefined);
  const status = new Promise<grpc.StatusObject>((resolve) => call.on('status', resolve));
  for (const message of messages) call.write(message);
  call.end();
  return status;
}

function unaryRaw(method: 'ListModels' | 'CloseSession', message: Buffer): Promise<grpc.ServiceError> {
  return new Promise((resolve, reject) => {
    raw.makeUnaryRequest(`${SERVICE}/${method}`, bytes, bytes, message, new grpc.Metadata(), {}, (err) => (err ? resolve(err) : reject(new Error(`${method} answered OK`))));
  });
}

function header(): Buffer {
  const { header: h, payload } = rawRequest();
  return Segmentation.Segment.requestSerialize({ header: { ...h, payloadBytes: payload.length } });
}

function chunk(): Buffer {
  return Segmentation.Segment.requestSerialize({ chunk: { data: rawRequest().payload } });
}

function expectStatus(status: grpc.StatusObject, code: grpc.status, errorCode: string, what: string): void {
  assert.equal(status.code, code, `${what}: ${grpc.status[status.code]} "${status.details}"`);
  assert.deepEqual(status.metadata?.get(ERROR_CODE_KEY), [errorCode], what);
}

const metric = async (key: string): Promise<number> => (await scrape(server.metricsUrl)).get(key) ?? 0;
const until = async (condition: () => boolean, what: string): Promise<void> => {
  const end = Date.now() + 10_000;
  while (!condition()) {
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
};

test('the test bytes really are undecodable', () => {
  assert.throws(() => Segmentation.Segment.requestDeserialize(GARBAGE));
  assert.throws(() => Segmentation.Segment.requestDeserialize(TRUNCATED));
  assert.throws(() => Segmentation.ListModels.requestDeserialize(GARBAGE));
  assert.throws(() => Segmentation.CloseSession.requestDeserialize(GARBAGE));
});

test('an undecodable Segment message ends the call with INVALID_ARGUMENT MESSAGE_UNDECODABLE wherever it comes', async () => {
  const errorsBefore = await metric('onesam_errors_total{code="MESSAGE_UNDECODABLE"}');
  const cancelsBefore = await metric('onesam_requests_cancelled_total{method="Segment"}');
  const startedBefore = fake.started;
  const cases: [string, Buffer[]][] = [
    ['first message', [GARBAGE]],
    ['truncated first message', [TRUNCATED]],
    ['after the header', [header(), GARBAGE]],
    ['after the last chunk', [header(), chunk(), GARBAGE]],
  ];
  for (const [what, messages] of cases) expectStatus(await segmentRaw(messages), grpc.status.INVALID_ARGUMENT, 'MESSAGE_UNDECODABLE', what);
  assert.equal(fake.started, startedBefore, 'no refused request reached the pipeline');
  await until(() => server.service.state.activeRequests === 0, 'the slots to be released');
  assert.equal(await metric('onesam_errors_total{code="MESSAGE_UNDECODABLE"}'), errorsBefore + cases.length);
  assert.equal(await metric('onesam_requests_cancelled_total{method="Segment"}'), cancelsBefore, 'not counted as client cancels');
  const refused = server.logs.filter((l) => l['msg'] === 'request message refused' && l['code'] === 'MESSAGE_UNDECODABLE' && l['method'] === 'Segment');
  assert.equal(refused.length, cases.length);
  assert.ok(!server.logs.some((l) => /cancelled by the client/.test(String(l['msg']))), 'not logged as a client cancel');
  // The well-formed request right after is served.
  assert.equal((await server.client().segment(rawRequest())).summary.objects.length, 1);
});

test('an undecodable ListModels or CloseSession request ends with INVALID_ARGUMENT MESSAGE_UNDECODABLE', async () => {
  const errorsBefore = await metric('onesam_errors_total{code="MESSAGE_UNDECODABLE"}');
  for (const method of ['ListModels', 'CloseSession'] as const) {
    expectStatus(await unaryRaw(method, GARBAGE), grpc.status.INVALID_ARGUMENT, 'MESSAGE_UNDECODABLE', method);
    assert.ok(server.logs.some((l) => l['msg'] === 'request message refused' && l['method'] === method), `${method} refusal logged`);
  }
  assert.equal(await metric('onesam_errors_total{code="MESSAGE_UNDECODABLE"}'), errorsBefore + 2);
  assert.equal((await server.client().listModels()).models.length, 2);
});

test('a message above maxMessageBytes ends the call with RESOURCE_EXHAUSTED MESSAGE_TOO_LARGE on every method', async () => {
  const errorsBefore = await metric('onesam_errors_total{code="MESSAGE_TOO_LARGE"}');
  const cancelsBefore = await metric('onesam_requests_cancelled_total{method="Segment"}');
  const bigChunk = Segmentation.Segment.requestSerialize({ chunk: { data: OVERSIZED } });
  expectStatus(await segmentRaw([OVERSIZED]), grpc.status.RESOURCE_EXHAUSTED, 'MESSAGE_TOO_LARGE', 'Segment first message');
  expectStatus(await segmentRaw([header(), bigChunk]), grpc.status.RESOURCE_EXHAUSTED, 'MESSAGE_TOO_LARGE', 'Segment chunk');
  expectStatus(await unaryRaw('ListModels', OVERSIZED), grpc.status.RESOURCE_EXHAUSTED, 'MESSAGE_TOO_LARGE', 'ListModels');
  expectStatus(await unaryRaw('CloseSession', OVERSIZED), grpc.status.RESOURCE_EXHAUSTED, 'MESSAGE_TOO_LARGE', 'CloseSession');
  await until(() => server.service.state.activeRequests === 0, 'the slots to be released');
  assert.equal(await metric('onesam_errors_total{code="MESSAGE_TOO_LARGE"}'), errorsBefore + 4);
  assert.equal(await metric('onesam_requests_cancelled_total{method="Segment"}'), cancelsBefore, 'not counted as client cancels');
  assert.equal(server.logs.filter((l) => l['msg'] === 'request message refused' && l['code'] === 'MESSAGE_TOO_LARGE').length, 4);
  assert.equal((await server.client().segment(rawRequest())).summary.objects.length, 1);
});

test('behind the bearer-token interceptor the guard still ends the call itself (no client cancel counted)', async () => {
  const guarded = await startTestService({ config: { maxMessageBytes: MAX_MESSAGE, authToken: 'guard-token' }, createSegmenter: async () => new FakeSegmenter() });
  await guarded.service.ready;
  const client = new grpc.Client(guarded.address, grpc.credentials.createInsecure());
  try {
    const metadata = new grpc.Metadata();
    metadata.set('authorization', 'Bearer guard-token');
    const call = client.makeBidiStreamRequest(`${SERVICE}/Segment`, bytes, bytes, metadata, {});
    call.on('data', () => undefined);
    call.on('error', () => undefined);
    const status = new Promise<grpc.StatusObject>((resolve) => call.on('status', resolve));
    call.write(header());
    call.write(GARBAGE);
    call.end();
    expectStatus(await status, grpc.status.INVALID_ARGUMENT, 'MESSAGE_UNDECODABLE', 'authorized Segment');
    await until(() => guarded.service.state.activeRequests === 0, 'the slot to be released');
    const samples = await scrape(guarded.metricsUrl);
    assert.equal(samples.get('onesam_errors_total{code="MESSAGE_UNDECODABLE"}'), 1);
    assert.equal(samples.get('onesam_requests_cancelled_total{method="Segment"}') ?? 0, 0);
  } finally {
    client.close();
    await guarded.stop();
  }
});
