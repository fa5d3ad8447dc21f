// The SIGTERM drain against a real server (fake Segmenter with slow slices): from the moment it begins, health
// answers NOT_SERVING on a connection opened before AND on a new one (liveness stays SERVING), new Segment calls get
// UNAVAILABLE SHUTTING_DOWN, and a request still running when the grace period ends gets UNAVAILABLE
// SHUTDOWN_INTERRUPTED as a status with its trailer, logged and counted as an error (not as a client cancel); its
// pipeline stops between slices and has settled when shutdown resolves. (Before: the listener closed and GOAWAY went
// out at once, so health checks failed to connect, and the request was cut with RST_STREAM.)
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { ERROR_CODE_KEY } from '../../src/errors/grpc-status.ts';
import { loadSegmentationProto } from '../../src/protocol/proto.ts';
import { FakeSegmenter } from '../helpers/fake-segmenter.ts';
import { box3d, rawRequest } from '../helpers/requests.ts';
import { grpcError, rawSegmentCall, startTestService, type HealthPackage, type TestService } from '../helpers/test-service.ts';
import { until } from '../helpers/until.ts';

/** A health client with its own channel (its own connection), checked once so that the connection is open. */
function healthClient(server: TestService): { check(service?: string): Promise<string>; close(): void } {
  const Health = (loadSegmentationProto().grpcType as unknown as HealthPackage).grpc.health.v1.Health;
  const client = new Health(server.address, grpc.credentials.createInsecure());
  return {
    check: (service = '') => new Promise((resolve, reject) => {
      client.check({ service }, { deadline: Date.now() + 5_000 }, (err, res) => (err ? reject(err) : resolve(res!.status)));
    }),
    close: () => client.close(),
  };
}

async function counter(server: TestService, name: 'errors' | 'cancelled', label: string): Promise<number> {
  const metric = name === 'errors' ? server.service.metrics.errors : server.service.metrics.cancelled;
  const key = name === 'errors' ? 'code' : 'method';
  return (await metric.get()).values.find((v) => v.labels[key as never] === label)?.value ?? 0;
}

test('drain: NOT_SERVING on old and new connections, new calls SHUTTING_DOWN, a request past the grace SHUTDOWN_INTERRUPTED', async () => {
  // 12 slices of 500 ms: the request runs well past the 3 s grace period, which leaves the checks below ample time
  // inside it on a loaded machine.
  const fake = new FakeSegmenter({ sliceMs: 500, workers: 1 });
  const server = await startTestService({ config: { shutdownGraceMs: 3_000 }, createSegmenter: async () => fake });
  await server.service.ready;
  const early = healthClient(server);
  let late: ReturnType<typeof healthClient> | undefined;
  try {
    assert.equal(await early.check(), 'SERVING', 'the early connection is open');
    const long = server.client().segment(rawRequest({ prompts: [box3d(1, 4, 5, 0, 20, 22, 5)] }), {})
      .then(() => assert.fail('expected the request to be interrupted'), grpcError);
    await until(() => fake.running === 1, 'the long request to reach the pipeline');

    const stopping = server.service.shutdown();
    await until(() => server.service.state.phase === 'draining', 'the drain to begin');
    assert.equal(await early.check(''), 'NOT_SERVING', 'health on a connection opened before the drain');
    assert.equal(await early.check('onesam.v1.Segmentation'), 'NOT_SERVING');
    late = healthClient(server);
    assert.equal(await late.check(''), 'NOT_SERVING', 'health on a connection opened during the drain');
    assert.equal(await late.check('liveness'), 'SERVING', 'liveness stays SERVING while draining');
    const refused = await server.client().segment(rawRequest()).then(() => assert.fail('expected a refusal'), grpcError);
    assert.equal(refused.code, grpc.status.UNAVAILABLE, refused.details);
    assert.deepEqual(refused.metadata.get(ERROR_CODE_KEY), ['SHUTTING_DOWN']);
    assert.equal(fake.running, 1, 'the long request is still running inside the grace period');

    const interrupted = await long;
    assert.equal(interrupted.code, grpc.status.UNAVAILABLE, `${grpc.status[interrupted.code]} "${interrupted.details}"`);
    assert.deepEqual(interrupted.metadata.get(ERROR_CODE_KEY), ['SHUTDOWN_INTERRUPTED']);
    const { forced } = await stopping;
    assert.equal(forced, true);
    assert.equal(fake.aborted, 1, 'the pipeline was stopped between slices');
    assert.equal(fake.running, 0, 'and had settled when shutdown resolved');
    assert.equal(fake.closed, true);
    assert.equal(server.service.state.phase, 'stopped');

    assert.equal(await counter(server, 'errors', 'SHUTDOWN_INTERRUPTED'), 1);
    assert.equal(await counter(server, 'errors', 'SHUTTING_DOWN'), 1);
    assert.equal(await counter(server, 'cancelled', 'Segment'), 0, 'not counted as a client cancel');
    const line = server.logs.find((l) => l['code'] === 'SHUTDOWN_INTERRUPTED');
    assert.equal(line?.['msg'], 'segment failed');
    assert.equal(line?.['level'], 'warn');
    assert.ok(!server.logs.some((l) => /cancelled by the client/.test(String(l['msg']))));
  } finally {
    early.close();
    late?.close();
    await server.stop();
  }
});

test('drain: a request still uploading when the grace ends gets SHUTDOWN_INTERRUPTED too', async () => {
  const fake = new FakeSegmenter({ sliceMs: 1 });
  const server = await startTestService({ config: { shutdownGraceMs: 300 }, createSegmenter: async () => fake });
  await server.service.ready;
  const { header, payload } = rawRequest();
  const upload = rawSegmentCall(server.address);
  try {
    upload.call.write({ header: { ...header, payloadBytes: payload.length } });
    upload.call.write({ chunk: { data: payload.subarray(0, 100) } });
    await until(() => server.service.state.activeRequests === 1, 'the upload to be admitted');
    const { forced } = await server.service.shutdown();
    assert.equal(forced, true);
    const { status } = await upload.result;
    assert.equal(status.code, grpc.status.UNAVAILABLE, `${grpc.status[status.code]} "${status.details}"`);
    assert.deepEqual(status.metadata.get(ERROR_CODE_KEY), ['SHUTDOWN_INTERRUPTED']);
    assert.equal(fake.started, 0);
  } finally {
    upload.close();
    await server.stop();
  }
});

test('drain with nothing running: shutdown resolves without waiting for the grace period', async () => {
  const server = await startTestService({ config: { shutdownGraceMs: 60_000 }, createSegmenter: async () => new FakeSegmenter() });
  await server.service.ready;
  const early = healthClient(server);
  try {
    assert.equal(await early.check(), 'SERVING');
    const started = Date.now();
    const { forced } = await server.service.shutdown();
    assert.equal(forced, false);
    // The health connection above stays open until the flush bound (1 s); far below the 60 s grace.
    assert.ok(Date.now() - started < 20_000, `took ${Date.now() - started} ms`);
  } finally {
    early.close();
    await server.stop();
  }
});
