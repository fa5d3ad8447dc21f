// Stalled clients (issue 7, defect 4) against the real server: clients that open a stream and send nothing, send only
// a header, trickle a byte at a time, or never read their responses take no slot a complete request needs. With all
// of them in place a valid request is served at once; each of them ends, once its limit passes, with
// DEADLINE_EXCEEDED and its own code in the `onesam-error-code` trailer, counted in onesam_errors_total; health
// stays SERVING throughout. Before the fix, the 8 stalled calls held all 8 slots (TOO_MANY_REQUESTS) for as long
// as the clients liked.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import * as http2 from 'node:http2';
import { after, before, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { ERROR_CODE_KEY } from '../../src/errors/grpc-status.ts';
import type { SegmentRequest } from '../../src/generated/onesam/v1/SegmentRequest.ts';
import { segmentRemote } from '../../src/client/segment-remote.ts';
import { pipelineSegmenter } from '../../src/main.ts';
import { challengeCase } from '../../src/volume/challenge.ts';
import { modalityFromFileName } from '../../src/pipeline/router.ts';
import { loadSegmentationProto } from '../../src/protocol/proto.ts';
import { loadArrays, MODELS_DIR } from '../helpers/cases.ts';
import { FakeSegmenter } from '../helpers/fake-segmenter.ts';
import { box3d, rawRequest, type VolumeSize } from '../helpers/requests.ts';
import { grpcError, rawSegmentCall, scrape, startTestService, type TestService } from '../helpers/test-service.ts';
import { until } from '../helpers/until.ts';

// Long enough that setting up the stalled clients and serving the valid request fits well inside them on a loaded
// machine, short enough for a test.
const IDLE_MS = 4_000;
const STALL_MS = 4_000;
const TRICKLE_EVERY_MS = 500;

let server: TestService;
const fake = new FakeSegmenter({ sliceMs: 1 });

before(async () => {
  server = await startTestService({
    // maxConcurrentRequests keeps its default of 8 (the number of slots the issue saw taken), uploads their default.
    config: { uploadIdleTimeoutMs: IDLE_MS, uploadMinBytesPerSecond: 1024, responseStallTimeoutMs: STALL_MS },
    createSegmenter: async () => fake,
  });
  await server.service.ready;
});
after(() => server.stop());

const metric = async (key: string): Promise<number> => (await scrape(server.metricsUrl)).get(key) ?? 0;
const errorsTotal = (code: string): Promise<number> => metric(`onesam_errors_total{code="${code}"}`);

/** The call's status, and whether it arrived yet (to check nothing ended before the valid request was served). */
function watch(result: Promise<{ status: grpc.StatusObject }>): { ended: () => boolean; status: Promise<grpc.StatusObject> } {
  let ended = false;
  const status = result.then((r) => {
    ended = true;
    return r.status;
  });
  return { ended: () => ended, status };
}

/**
 * A client that uploads a whole request and then never reads a response, over plain HTTP/2: grpc-js's own client
 * keeps taking messages off the connection into memory when the application does not read, so it cannot stall a
 * server; a paused node:http2 stream sends no WINDOW_UPDATE, as a stuck client in any language does. The labels
 * (24 MiB in 1 MiB messages) are more than the flow-control window and grpc-js's 16-message send buffer hold, so
 * the server's writer blocks on 'drain'.
 */
function nonReadingClient(): { status: Promise<grpc.StatusObject>; ended: () => boolean; startReading(): void; close(): void } {
  const size: VolumeSize = { depth: 24, height: 1024, width: 1024 };
  const { header, payload } = rawRequest({ prompts: [box3d(1, 10, 10, 2, 1000, 1000, 20)] }, size);
  const serialize = loadSegmentationProto().grpcType.onesam.v1.Segmentation.service.Segment.requestSerialize as (m: SegmentRequest) => Buffer;
  const frame = (message: SegmentRequest): Buffer => {
    const body = serialize(message);
    const prefix = Buffer.alloc(5);
    prefix.writeUInt32BE(body.length, 1);
    return Buffer.concat([prefix, body]);
  };
  const session = http2.connect(`http://${server.address}`);
  session.on('error', () => undefined);
  const stream = session.request({
    ':method': 'POST', ':path': '/onesam.v1.Segmentation/Segment', 'content-type': 'application/grpc', te: 'trailers',
  });
  stream.on('error', () => undefined);
  stream.pause();
  let ended = false;
  const status = new Promise<grpc.StatusObject>((resolve) => {
    stream.on('trailers', (trailers) => {
      ended = true;
      resolve({ code: Number(trailers['grpc-status']), details: decodeURIComponent(String(trailers['grpc-message'] ?? '')), metadata: grpc.Metadata.fromHttp2Headers(trailers) });
    });
  });
  void (async () => {
    const messages: SegmentRequest[] = [{ header: { ...header, payloadBytes: payload.length } }];
    for (let offset = 0; offset < payload.length; offset += 1 << 20) messages.push({ chunk: { data: payload.subarray(offset, offset + (1 << 20)) } });
    for (const message of messages) if (!stream.write(frame(message))) await once(stream, 'drain');
    stream.end();
  })();
  return { status, ended: () => ended, startReading: () => stream.resume(), close: () => session.close() };
}

function expectStatus(status: grpc.StatusObject, code: string, who: string): void {
  assert.equal(status.code, grpc.status.DEADLINE_EXCEEDED, `${who}: ${status.details}`);
  assert.deepEqual(status.metadata.get(ERROR_CODE_KEY), [code], `${who}: trailer ${ERROR_CODE_KEY}`);
}

test('eight stalled clients hold no slot a complete request needs, and each ends with its own code once its limit passes', async () => {
  const before: Record<'idle' | 'slow' | 'stalled' | 'tooMany', number> = {
    idle: await errorsTotal('UPLOAD_IDLE_TIMEOUT'),
    slow: await errorsTotal('UPLOAD_TOO_SLOW'),
    stalled: await errorsTotal('RESPONSE_STALLED'),
    tooMany: await errorsTotal('TOO_MANY_REQUESTS'),
  };
  // Whatever happens, no client is left trickling or connected (a forgotten interval would keep the run alive).
  const cleanup: (() => void)[] = [];
  try {
    await stalledClientsScenario(before, cleanup);
  } finally {
    for (const undo of cleanup) undo();
  }
});

async function stalledClientsScenario(before: Record<'idle' | 'slow' | 'stalled' | 'tooMany', number>, cleanup: (() => void)[]): Promise<void> {
  const healthSeen = new Set<string>();
  let probing = true;
  cleanup.push(() => { probing = false; });
  const prober = (async () => {
    while (probing) {
      healthSeen.add(await server.health('').catch((err: Error) => `error: ${err.message}`));
      await new Promise((r) => setTimeout(r, 200));
    }
  })();

  // Two clients that never read: their requests are computed and then block on sending the labels.
  const completedBefore = fake.completed;
  const nonReaders = [nonReadingClient(), nonReadingClient()];
  for (const n of nonReaders) cleanup.push(() => n.close());
  await until(() => fake.completed === completedBefore + 2 && server.service.state.computingRequests === 2, 'both non-readers to be computed and blocked');

  const { header, payload } = rawRequest();
  const declared = { ...header, payloadBytes: payload.length };
  // One client that opens the stream and sends nothing at all, two that send only a header.
  const silent = rawSegmentCall(server.address);
  const headerOnly = [rawSegmentCall(server.address), rawSegmentCall(server.address)];
  for (const c of headerOnly) c.call.write({ header: declared });
  // Three that trickle one byte every 500 ms: never idle, far below the rate floor.
  const tricklers = [rawSegmentCall(server.address), rawSegmentCall(server.address), rawSegmentCall(server.address)];
  for (const c of [silent, ...headerOnly, ...tricklers]) cleanup.push(() => c.close());
  for (const c of tricklers) {
    c.call.write({ header: declared });
    let offset = 0;
    const timer = setInterval(() => c.call.write({ chunk: { data: payload.subarray(offset, ++offset) } }), TRICKLE_EVERY_MS);
    cleanup.push(() => clearInterval(timer));
    void c.result.then(() => clearInterval(timer));
  }
  const uploads = [silent, ...headerOnly, ...tricklers].map((c) => watch(c.result));
  await until(() => server.service.state.uploadingRequests === 6, 'the six stalled uploads to be admitted');
  assert.equal(server.service.state.activeRequests, 8, 'eight stalled calls are admitted');

  // A valid request is served at once, while all eight still hold their slots.
  const served = await server.client().segment(rawRequest({ requestId: 'valid-while-stalled' }));
  assert.equal(served.summary.objects.length, 1);
  assert.equal(served.summary.requestId, 'valid-while-stalled');
  assert.deepEqual([...uploads, ...nonReaders].filter((c) => c.ended()).length, 0, 'no stalled call had ended yet: the request got in beside them');
  assert.equal(await errorsTotal('TOO_MANY_REQUESTS'), before.tooMany, 'nothing was refused');

  // Then each stalled call ends with its own code.
  const [silentStatus, ...rest] = await Promise.all(uploads.map((u) => u.status));
  expectStatus(silentStatus!, 'UPLOAD_IDLE_TIMEOUT', 'the silent client (no header)');
  for (const s of rest.slice(0, 2)) expectStatus(s, 'UPLOAD_IDLE_TIMEOUT', 'a header-only client');
  for (const s of rest.slice(2)) expectStatus(s, 'UPLOAD_TOO_SLOW', 'a trickling client');
  // The non-readers' slots are freed when their stall limit passes, whether or not they ever read again...
  await until(() => server.service.state.activeRequests === 0, 'every slot to be freed');
  assert.equal(await errorsTotal('RESPONSE_STALLED'), before.stalled + 2);
  // ...and once they read, the queued responses drain and the status follows them.
  for (const n of nonReaders) n.startReading();
  for (const n of nonReaders) expectStatus(await n.status, 'RESPONSE_STALLED', 'a non-reading client');

  assert.equal(await errorsTotal('UPLOAD_IDLE_TIMEOUT'), before.idle + 3);
  assert.equal(await errorsTotal('UPLOAD_TOO_SLOW'), before.slow + 3);
  assert.equal(await metric('onesam_admitted_requests{phase="upload"}'), 0);
  assert.equal(await metric('onesam_admitted_requests{phase="compute"}'), 0);
  const failures = server.logs.filter((l) => l.msg === 'segment failed').map((l) => l.code);
  for (const code of ['UPLOAD_IDLE_TIMEOUT', 'UPLOAD_TOO_SLOW', 'RESPONSE_STALLED']) assert.ok(failures.includes(code), `${code} is logged`);

  probing = false;
  await prober;
  assert.deepEqual([...healthSeen], ['SERVING'], 'health said SERVING throughout');
  assert.equal(await server.health(''), 'SERVING');
  // And the server serves as before.
  assert.equal((await server.client().segment(rawRequest())).summary.objects.length, 1);
}

test('full upload slots refuse a newcomer with TOO_MANY_REQUESTS naming maxConcurrentUploads, until the idle limit frees them', async () => {
  const small = await startTestService({
    config: { maxConcurrentRequests: 1, maxConcurrentUploads: 2, uploadIdleTimeoutMs: 1_500, responseStallTimeoutMs: 1_500 },
    createSegmenter: async () => new FakeSegmenter({ sliceMs: 1 }),
  });
  try {
    await small.service.ready;
    const { header, payload } = rawRequest();
    const stalled = [rawSegmentCall(small.address), rawSegmentCall(small.address)];
    for (const c of stalled) c.call.write({ header: { ...header, payloadBytes: payload.length } });
    await until(() => small.service.state.uploadingRequests === 2, 'both stalled uploads to be admitted');
    const err = await small.client().segment(rawRequest()).then(() => assert.fail('expected a refusal'), grpcError);
    assert.equal(err.code, grpc.status.RESOURCE_EXHAUSTED);
    assert.deepEqual(err.metadata.get(ERROR_CODE_KEY), ['TOO_MANY_REQUESTS']);
    assert.match(err.details, /maxConcurrentUploads 2/);
    for (const c of stalled) expectStatus((await c.result).status, 'UPLOAD_IDLE_TIMEOUT', 'a header-only client');
    assert.equal((await small.client().segment(rawRequest())).summary.objects.length, 1, 'served once the stalled uploads were cut');
    for (const c of stalled) c.close();
  } finally {
    await small.stop();
  }
});

test('with the real pipeline, a 2D challenge case is served while eight uploads stall', async () => {
  const real = await startTestService({
    config: { modelsDir: MODELS_DIR, uploadIdleTimeoutMs: 2_000, uploadMinBytesPerSecond: 1024 },
    createSegmenter: pipelineSegmenter,
  });
  const cleanup: (() => void)[] = [];
  try {
    await real.service.ready;
    const { header, payload } = rawRequest();
    const stalled = Array.from({ length: 8 }, () => rawSegmentCall(real.address));
    for (const [i, c] of stalled.entries()) {
      cleanup.push(() => c.close());
      c.call.write({ header: { ...header, payloadBytes: payload.length } });
      // Half of them trickle a byte every 500 ms, half send nothing after the header.
      if (i % 2 === 0) {
        let offset = 0;
        const timer = setInterval(() => c.call.write({ chunk: { data: payload.subarray(offset, ++offset) } }), TRICKLE_EVERY_MS);
        cleanup.push(() => clearInterval(timer));
      }
    }
    await until(() => real.service.state.uploadingRequests === 8, 'the eight stalled uploads to be admitted');
    const name = '2DBox_XRay_0010.npz';
    const kase = challengeCase(loadArrays('imgs', name), name);
    const result = await segmentRemote(real.address, { requestId: 'xray-while-stalled', image: kase.image, objects: kase.objects, mode: 'route', modality: modalityFromFileName(name)! });
    assert.equal(result.objects.length, kase.objects.length);
    assert.ok(result.objects.every((o) => o.voxels > 0), 'every object was segmented');
    for (const c of stalled) assert.equal((await c.result).status.code, grpc.status.DEADLINE_EXCEEDED);
    assert.equal(await real.health(''), 'SERVING');
  } finally {
    for (const undo of cleanup) undo();
    await real.stop();
  }
});
