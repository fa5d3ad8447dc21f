// Every limit and every kind of malformed input, over gRPC against the real server (fake Segmenter): the status
// code, the stable error code and field path in the trailers, the message; and the server stays up throughout.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { CodedError } from '../../src/errors/coded-error.ts';
import { ERROR_CODE_KEY, ERROR_FIELD_KEY } from '../../src/errors/grpc-status.ts';
import { writeNpz } from '../../src/volume/npz.ts';
import { FakeSegmenter } from '../helpers/fake-segmenter.ts';
import { box2d, box3d, rawRequest, SMALL_3D, volumeBytes } from '../helpers/requests.ts';
import { grpcError, rawSegmentCall, scrape, startTestService, type TestService } from '../helpers/test-service.ts';
import type { SegmentInput } from '../../src/client/client.ts';

const MAX_PAYLOAD = 64 * 1024;
let server: TestService;
const fake = new FakeSegmenter({ sliceMs: 1 });

before(async () => {
  server = await startTestService({ config: { maxPayloadBytes: MAX_PAYLOAD, maxMessageBytes: 128 * 1024 }, createSegmenter: async () => fake });
  await server.service.ready;
});
after(() => server.stop());

interface Expected {
  readonly status: grpc.status;
  readonly code: string;
  readonly field?: string;
  readonly message?: RegExp;
}

async function expectFailure(input: SegmentInput, expected: Expected): Promise<void> {
  const err = await server.client().segment(input).then(() => assert.fail('expected the call to fail'), grpcError);
  checkError(err, expected);
}

function checkError(err: grpc.ServiceError | grpc.StatusObject, expected: Expected): void {
  assert.equal(err.code, expected.status, `status ${grpc.status[err.code]}: ${err.details}`);
  assert.deepEqual(err.metadata?.get(ERROR_CODE_KEY), [expected.code], err.details);
  if (expected.field) {
    assert.deepEqual(err.metadata?.get(ERROR_FIELD_KEY), [expected.field]);
    assert.ok(err.details.startsWith(`${expected.field}: `), err.details);
  }
  if (expected.message) assert.match(err.details, expected.message);
}

const INVALID = grpc.status.INVALID_ARGUMENT;
const EXHAUSTED = grpc.status.RESOURCE_EXHAUSTED;

test('header: missing format, raw description, dtype and payload size name their field', async () => {
  await expectFailure(rawRequest({ format: 'PAYLOAD_FORMAT_UNSPECIFIED' }), { status: INVALID, code: 'HEADER_INVALID', field: 'header.format' });
  await expectFailure(rawRequest({ raw: null }), { status: INVALID, code: 'HEADER_INVALID', field: 'header.raw' });
  await expectFailure(rawRequest({ raw: { shape: [6, 40, 48] } }), { status: INVALID, code: 'HEADER_INVALID', field: 'header.raw.dtype' });
  const empty = rawRequest();
  await expectFailure({ header: empty.header, payload: new Uint8Array(0) }, { status: INVALID, code: 'HEADER_INVALID', field: 'header.payload_bytes' });
});

test('header: unknown modality, network value, output format and bad request id', async () => {
  await expectFailure(rawRequest({ modality: 'Sonar' }), { status: INVALID, code: 'HEADER_INVALID', field: 'header.modality', message: /unknown modality "Sonar"/ });
  await expectFailure(rawRequest({ network: 9 as never }), { status: INVALID, code: 'HEADER_INVALID', field: 'header.network' });
  await expectFailure(rawRequest({ output: { format: 7 as never } }), { status: INVALID, code: 'HEADER_INVALID', field: 'header.output.format' });
  await expectFailure(rawRequest({ requestId: 'has spaces' }), { status: INVALID, code: 'HEADER_INVALID', field: 'header.request_id' });
});

test('payload larger than the configured maximum is refused before any chunk is read', async () => {
  const size = { depth: 40, height: 40, width: 48 };
  await expectFailure(rawRequest({ raw: { shape: [40, 40, 48], dtype: 'VOXEL_TYPE_UINT8' } }, size), {
    status: EXHAUSTED, code: 'PAYLOAD_LIMIT_EXCEEDED', field: 'header.payload_bytes', message: /76800 bytes exceed this server's limit of 65536/,
  });
});

test('chunks beyond the declared size: RESOURCE_EXHAUSTED; fewer than declared: INVALID_ARGUMENT', async () => {
  // An npz header does not describe its size (a raw header does, and a disagreeing one is refused before the upload).
  const { payload } = rawRequest();
  const header = { format: 'PAYLOAD_FORMAT_NPZ' as const };
  const over = rawSegmentCall(server.address);
  over.call.write({ header: { ...header, payloadBytes: payload.length - 10 } });
  over.call.write({ chunk: { data: payload } });
  over.call.end();
  checkError((await over.result).status, { status: EXHAUSTED, code: 'PAYLOAD_EXCEEDS_DECLARED', field: 'chunk' });
  over.close();

  const under = rawSegmentCall(server.address);
  under.call.write({ header: { ...header, payloadBytes: payload.length + 10 } });
  under.call.write({ chunk: { data: payload } });
  under.call.end();
  checkError((await under.result).status, { status: INVALID, code: 'PAYLOAD_INCOMPLETE', message: /after 11520 of the 11530 bytes/ });
  under.close();
});

test('a raw header whose shape disagrees with payload_bytes is refused before any chunk is sent', async () => {
  const { header, payload } = rawRequest();
  const liar = rawSegmentCall(server.address);
  // The header alone, and the stream left open: the refusal cannot have waited for the payload.
  liar.call.write({ header: { ...header, payloadBytes: payload.length - 1 } });
  const { status } = await liar.result;
  checkError(status, { status: INVALID, code: 'PAYLOAD_SIZE_MISMATCH', field: 'payload', message: /needs 11520/ });
  liar.call.end();
  liar.close();
});

test('stream order: no header, a chunk first, a second header, an empty message', async () => {
  const { header, payload } = rawRequest();
  const cases: { send: (call: ReturnType<typeof rawSegmentCall>['call']) => void; message: RegExp }[] = [
    { send: () => undefined, message: /ended before a header/ },
    { send: (c) => c.write({ chunk: { data: payload.subarray(0, 10) } }), message: /first message must be a header/ },
    { send: (c) => { c.write({ header: { ...header, payloadBytes: payload.length } }); c.write({ header: { ...header, payloadBytes: payload.length } }); }, message: /second header/ },
    { send: (c) => { c.write({ header: { ...header, payloadBytes: payload.length } }); c.write({}); }, message: /neither a header nor a chunk/ },
  ];
  for (const { send, message } of cases) {
    const raw = rawSegmentCall(server.address);
    send(raw.call);
    raw.call.end();
    checkError((await raw.result).status, { status: INVALID, code: 'STREAM_INVALID', message });
    raw.close();
  }
});

test('a message above the receive limit is refused with RESOURCE_EXHAUSTED', async () => {
  const raw = rawSegmentCall(server.address);
  raw.call.write({ header: { format: 'PAYLOAD_FORMAT_NPZ', payloadBytes: 60_000 } });
  raw.call.write({ chunk: { data: new Uint8Array(200 * 1024) } });
  raw.call.end();
  const { status } = await raw.result;
  checkError(status, { status: EXHAUSTED, code: 'MESSAGE_TOO_LARGE' });
  raw.close();
});

test('payload that does not match its description: size mismatch, bad shape, unreadable npz and NIfTI', async () => {
  const wrongSize = rawRequest();
  await expectFailure({ header: wrongSize.header, payload: wrongSize.payload.subarray(1) }, { status: INVALID, code: 'PAYLOAD_SIZE_MISMATCH' });
  await expectFailure(rawRequest({ raw: { shape: [6, 0, 48], dtype: 'VOXEL_TYPE_UINT8' } }), { status: INVALID, code: 'PAYLOAD_FORMAT', field: 'header.raw.shape[1]' });
  await expectFailure({ header: { format: 'PAYLOAD_FORMAT_NPZ' }, payload: new Uint8Array(100).fill(3) }, { status: INVALID, code: 'PAYLOAD_FORMAT', field: 'payload' });
  const nifti = await server.client().segment({ header: { format: 'PAYLOAD_FORMAT_NIFTI' }, payload: new Uint8Array(400).fill(1) }).then(() => assert.fail('expected a failure'), grpcError);
  assert.equal(nifti.code, INVALID);
});

test('intensity preparation parameters are checked', async () => {
  await expectFailure(rawRequest({ intensity: { ctWindow: { width: 0 } } }), { status: INVALID, code: 'INTENSITY_INVALID', field: 'header.intensity.width' });
  await expectFailure(rawRequest({ intensity: { percentile: { low: 60, high: 40 } } }), { status: INVALID, code: 'INTENSITY_INVALID', field: 'header.intensity.low' });
});

test('prompts: missing kind, box outside the image, non-finite numbers, bad label, bad 2D slice, no prompts', async () => {
  await expectFailure(rawRequest({ prompts: [{ label: 1 }] }), { status: INVALID, code: 'PROMPT_INVALID', field: 'header.prompts[0]' });
  await expectFailure(rawRequest({ prompts: [box3d(1, 4, 5, 1, 20, 22, 4), box3d(2, 4, 5, 1, 60, 22, 4)] }), {
    status: INVALID, code: 'PROMPT_INVALID', field: 'header.prompts[1].box3d', message: /extends past the image \(width 48, height 40\)/,
  });
  await expectFailure(rawRequest({ prompts: [box2d(1, Number.NaN, 1, 5, 5, 0)] }), { status: INVALID, code: 'PROMPT_INVALID', field: 'header.prompts[0].box2d.x_min' });
  await expectFailure(rawRequest({ prompts: [box2d(0, 1, 1, 5, 5, 0)] }), { status: INVALID, code: 'PROMPT_INVALID', field: 'header.prompts[0].label' });
  await expectFailure(rawRequest({ prompts: [box2d(1, 1, 1, 5, 5)] }), { status: INVALID, code: 'PROMPT_INVALID', field: 'header.prompts[0].box2d.z' });
  await expectFailure(rawRequest({ prompts: [box3d(1, 4, 5, 3, 20, 22, 3)] }), { status: INVALID, code: 'PROMPT_INVALID', field: 'header.prompts[0].box3d', message: /z_min 3 must be less than z_max 3/ });
  await expectFailure(rawRequest({ prompts: [] }), { status: INVALID, code: 'PROMPT_INVALID', field: 'header.prompts', message: /no prompts/ });
});

test('scribble strokes: points outside the image and strokes across slices name the point', async () => {
  const point = (x: number, y: number, z: number) => ({ x, y, z });
  await expectFailure(rawRequest({ prompts: [{ label: 1, scribble: { strokes: [{ points: [point(1, 1, 0), point(48, 1, 0)] }] } }] }), {
    status: INVALID, code: 'PROMPT_INVALID', field: 'header.prompts[0].scribble.strokes[0].points[1].x',
  });
  await expectFailure(rawRequest({ prompts: [{ label: 1, scribble: { strokes: [{ points: [point(1, 1, 0)] }, { points: [point(1, 1, 0), point(2, 2, 1)] }] } }] }), {
    status: INVALID, code: 'PROMPT_INVALID', field: 'header.prompts[0].scribble.strokes[1].points[1].z',
  });
  await expectFailure(rawRequest({ prompts: [{ label: 1, scribble: { strokes: [] } }] }), { status: INVALID, code: 'PROMPT_INVALID', field: 'header.prompts[0].scribble.strokes' });
});

test('npz-borne prompts that do not fit the image point into the npz', async () => {
  const { depth, height, width } = SMALL_3D;
  const npz = writeNpz(new Map([
    ['imgs', { dtype: 'uint8' as const, shape: [depth, height, width], data: volumeBytes(SMALL_3D) }],
    ['boxes', { dtype: 'int64' as const, shape: [1, 6], data: BigInt64Array.from([4n, 5n, 1n, 99n, 22n, 4n]) }],
  ]));
  await expectFailure({ header: { format: 'PAYLOAD_FORMAT_NPZ' }, payload: npz }, { status: INVALID, code: 'PROMPT_INVALID', field: 'npz.boxes[0].box3d' });
});

test('pipeline failures keep their status; an unexpected error is INTERNAL with a generic message', async () => {
  const cases: [() => unknown, Expected][] = [
    [() => new CodedError('MEMORY_BUDGET_EXCEEDED', 'needs 3 GiB of embeddings, the budget is 1 GiB'), { status: EXHAUSTED, code: 'MEMORY_BUDGET_EXCEEDED', message: /budget is 1 GiB/ }],
    [() => new CodedError('QUEUE_FULL', 'the worker queue is full; retry later'), { status: EXHAUSTED, code: 'QUEUE_FULL', message: /^the worker queue is full; retry later$/ }],
    [() => Object.assign(new Error('the worker pool queue is full (8 tasks waiting)'), { code: 'POOL_SATURATED' }), { status: EXHAUSTED, code: 'POOL_SATURATED' }],
    [() => new CodedError('NETWORK_UNAVAILABLE', 'onesam is not loaded'), { status: grpc.status.UNAVAILABLE, code: 'NETWORK_UNAVAILABLE' }],
    [() => new CodedError('LABELS_INVALID', 'do not fit', 'labels'), { status: INVALID, code: 'LABELS_INVALID' }],
    [() => new TypeError("Cannot read properties of undefined (reading 'secretInternalField')"), { status: grpc.status.INTERNAL, code: 'INTERNAL', message: /^internal error \(request [0-9a-f-]{36}\)/ }],
  ];
  let lastInternal = '';
  try {
    for (const [error, expected] of cases) {
      fake.failWith = error;
      const err = await server.client().segment(rawRequest({ requestId: 'internal-1' })).then(() => assert.fail('expected a failure'), grpcError);
      checkError(err, expected);
      assert.doesNotMatch(err.details, /secretInternalField|TypeError/);
      if (expected.code === 'INTERNAL') lastInternal = err.details;
    }
  } finally {
    fake.failWith = undefined;
  }
  // The details of the unexpected error are in the log, at error level, under the server's request id that the
  // message named; the error's class and stack are there, the text it quoted is not (it may quote the client's input).
  const serverId = /request ([0-9a-f-]{36})/.exec(lastInternal)![1];
  const line = server.logs.find((l) => l['level'] === 'error' && l['requestId'] === serverId);
  assert.ok(line, 'an error line for the request');
  assert.match(JSON.stringify(line['error']), /TypeError/);
  assert.doesNotMatch(JSON.stringify(line), /secretInternalField/);
});

test('after all of this the server is still SERVING and answers a good request', async () => {
  assert.equal(await server.health(''), 'SERVING');
  const outcome = await server.client().segment(rawRequest());
  assert.equal(outcome.summary.objects[0]!.label, 1);
  const samples = await scrape(server.metricsUrl);
  assert.ok((samples.get('onesam_errors_total{code="HEADER_INVALID"}') ?? 0) >= 4);
  assert.ok((samples.get('onesam_errors_total{code="PROMPT_INVALID"}') ?? 0) >= 7);
  assert.equal(samples.get('onesam_inflight_requests'), 0);
});
