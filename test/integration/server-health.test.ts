// Health, reflection, authentication, TLS and shutdown over gRPC (fake Segmenter): SERVING only once models are
// loaded, NOT_SERVING while draining, liveness separate; tokens and client certificates enforced.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { ERROR_CODE_KEY } from '../../src/errors/grpc-status.ts';
import { FakeSegmenter } from '../helpers/fake-segmenter.ts';
import { rawRequest } from '../helpers/requests.ts';
import { grpcError, scrape, startTestService, type HealthPackage } from '../helpers/test-service.ts';
import { loadSegmentationProto } from '../../src/protocol/proto.ts';
import { makeTestPki } from '../helpers/tls.ts';

test('while the models load: NOT_SERVING, Segment UNAVAILABLE, ListModels not ready; then SERVING', async () => {
  let finishLoading: (s: FakeSegmenter) => void = () => undefined;
  const loading = new Promise<FakeSegmenter>((resolve) => { finishLoading = resolve; });
  const server = await startTestService({ createSegmenter: () => loading });
  try {
    assert.equal(await server.health(''), 'NOT_SERVING');
    assert.equal(await server.health('onesam.v1.Segmentation'), 'NOT_SERVING');
    assert.equal(await server.health('liveness'), 'SERVING');
    const err = await server.client().segment(rawRequest()).then(() => assert.fail('expected UNAVAILABLE'), grpcError);
    assert.equal(err.code, grpc.status.UNAVAILABLE);
    assert.deepEqual(err.metadata.get(ERROR_CODE_KEY), ['MODELS_LOADING']);
    const models = await server.client().listModels();
    assert.deepEqual(models.models.map((m) => [m.network, m.ready, m.message]), [['NETWORK_LITEMEDSAM', false, 'loading'], ['NETWORK_ONESAM', false, 'loading']]);
    assert.equal(models.routing.length, 11);

    finishLoading(new FakeSegmenter());
    await server.service.ready;
    assert.equal(await server.health(''), 'SERVING');
    assert.equal(await server.health('onesam.v1.Segmentation'), 'SERVING');
    assert.equal((await server.client().segment(rawRequest())).summary.objects.length, 1);
  } finally {
    await server.stop();
  }
});

test('while the models load, ListModels reports the networks of the models setting, not the demo defaults', async () => {
  let finishLoading: (s: FakeSegmenter) => void = () => undefined;
  const loading = new Promise<FakeSegmenter>((resolve) => { finishLoading = resolve; });
  const server = await startTestService({ config: { models: { onesam: 'one-x' } }, createSegmenter: () => loading });
  try {
    const models = await server.client().listModels();
    assert.deepEqual(models.models.map((m) => [m.network, m.model, m.ready]), [['NETWORK_ONESAM', 'one-x', false]]);
  } finally {
    finishLoading(new FakeSegmenter());
    await server.stop();
  }
});

test('models that fail to load leave the server NOT_SERVING and Segment UNAVAILABLE', async () => {
  const server = await startTestService({ createSegmenter: async () => { throw new Error('manifest.json: bad checksum'); } });
  try {
    await assert.rejects(server.service.ready, /bad checksum/);
    assert.equal(await server.health(''), 'NOT_SERVING');
    const err = await server.client().segment(rawRequest()).then(() => assert.fail('expected UNAVAILABLE'), grpcError);
    assert.equal(err.code, grpc.status.UNAVAILABLE);
    assert.ok(server.logs.some((l) => l['level'] === 'fatal' && /failed to load/.test(String(l['msg']))));
  } finally {
    await server.stop();
  }
});

test('shutdown: health goes SERVING -> NOT_SERVING, in-flight requests finish, new ones are refused, the pool closes', async () => {
  const fake = new FakeSegmenter({ sliceMs: 60 });
  const server = await startTestService({ createSegmenter: async () => fake });
  await server.service.ready;
  const Health = (loadSegmentationProto().grpcType as unknown as HealthPackage).grpc.health.v1.Health;
  const watcher = new Health(server.address, grpc.credentials.createInsecure());
  const statuses: string[] = [];
  const watch = watcher.watch({ service: '' });
  watch.on('data', (m: { status: string }) => statuses.push(m.status));
  watch.on('error', () => undefined);
  try {
    while (statuses.length === 0) await new Promise((r) => setTimeout(r, 5));
    assert.deepEqual(statuses, ['SERVING']);
    const inFlight = server.client().segment(rawRequest());
    while (fake.running === 0) await new Promise((r) => setTimeout(r, 5));

    const stopping = server.service.shutdown();
    while (statuses.length < 2) await new Promise((r) => setTimeout(r, 5));
    assert.deepEqual(statuses, ['SERVING', 'NOT_SERVING']);
    assert.equal(server.service.state.phase, 'draining');
    const refused = await server.client().segment(rawRequest()).then(() => assert.fail('expected a refusal'), grpcError);
    assert.equal(refused.code, grpc.status.UNAVAILABLE);

    const outcome = await inFlight;
    assert.equal(outcome.summary.objects.length, 1, 'the in-flight request finished');
    const { forced } = await stopping;
    assert.equal(forced, false);
    assert.equal(fake.closed, true);
    assert.equal(server.service.state.phase, 'stopped');
  } finally {
    watcher.close();
    await server.stop();
  }
});

test('shutdown after the grace period ends what is left (UNAVAILABLE) and still closes the pool cleanly', async () => {
  const fake = new FakeSegmenter({ sliceMs: 400 });
  const server = await startTestService({ config: { shutdownGraceMs: 150 }, createSegmenter: async () => fake });
  await server.service.ready;
  const inFlight = server.client().segment(rawRequest()).then(() => 'ok', (e: grpc.ServiceError) => e.code);
  while (fake.running === 0) await new Promise((r) => setTimeout(r, 5));
  const { forced } = await server.service.shutdown();
  assert.equal(forced, true);
  assert.equal(await inFlight, grpc.status.UNAVAILABLE);
  assert.equal(fake.aborted, 1, 'the pipeline was stopped, not left running');
  assert.equal(fake.running, 0, 'nothing ran when the pool closed');
  assert.equal(fake.closed, true);
  await server.stop();
});

test('reflection lists the Segmentation and health services, and itself', async () => {
  const server = await startTestService({ createSegmenter: async () => new FakeSegmenter() });
  const reflectionDir = join(dirname(createRequire(import.meta.url).resolve('@grpc/reflection')), '..', 'proto');
  const definition = loadSync('grpc/reflection/v1/reflection.proto', { includeDirs: [reflectionDir] });
  const Reflection = (grpc.loadPackageDefinition(definition) as unknown as { grpc: { reflection: { v1: { ServerReflection: new (a: string, c: grpc.ChannelCredentials) => grpc.Client & { serverReflectionInfo(): grpc.ClientDuplexStream<unknown, { listServicesResponse?: { service: { name: string }[] } }> } } } } }).grpc.reflection.v1.ServerReflection;
  const client = new Reflection(server.address, grpc.credentials.createInsecure());
  try {
    const call = client.serverReflectionInfo();
    const response = new Promise<{ listServicesResponse?: { service: { name: string }[] } }>((resolve, reject) => {
      call.on('data', resolve);
      call.on('error', reject);
    });
    call.write({ listServices: '' });
    const names = (await response).listServicesResponse!.service.map((s) => s.name);
    call.end();
    assert.ok(names.includes('onesam.v1.Segmentation'), names.join(', '));
    assert.ok(names.includes('grpc.health.v1.Health'), names.join(', '));
    // grpcurl and other tools look for the reflection service in this list; grpc-go and grpc-java list it.
    assert.ok(names.includes('grpc.reflection.v1.ServerReflection'), names.join(', '));
  } finally {
    client.close();
    await server.stop();
  }
});

test('bearer token: required on Segment and ListModels, compared exactly, health exempt', async () => {
  const server = await startTestService({ config: { authToken: 'correct-horse-battery' }, createSegmenter: async () => new FakeSegmenter() });
  await server.service.ready;
  try {
    for (const token of [undefined, 'wrong-token', 'correct-horse-batter', 'correct-horse-battery-staple']) {
      const client = server.client(token === undefined ? {} : { token });
      const err = await client.segment(rawRequest()).then(() => assert.fail('expected UNAUTHENTICATED'), grpcError);
      assert.equal(err.code, grpc.status.UNAUTHENTICATED, String(token));
      assert.deepEqual(err.metadata.get(ERROR_CODE_KEY), ['UNAUTHENTICATED']);
      assert.equal((await client.listModels().then(() => assert.fail('expected UNAUTHENTICATED'), grpcError)).code, grpc.status.UNAUTHENTICATED);
    }
    assert.equal(await server.health(''), 'SERVING');
    const ok = server.client({ token: 'correct-horse-battery' });
    assert.equal((await ok.segment(rawRequest())).summary.objects.length, 1);
    assert.equal((await ok.listModels()).models.length, 2);
    assert.doesNotMatch(server.logText(), /correct-horse/);
    assert.equal((await scrape(server.metricsUrl)).get('onesam_errors_total{code="UNAUTHENTICATED"}'), 8);
  } finally {
    await server.stop();
  }
});

test('TLS with client certificate verification (mTLS)', async () => {
  const pki = makeTestPki();
  const server = await startTestService({
    config: { tls: { cert: pki.serverCert, key: pki.serverKey, clientCa: pki.caCert } },
    createSegmenter: async () => new FakeSegmenter(),
  });
  await server.service.ready;
  try {
    const mtls = server.client({ tls: { ca: pki.read(pki.caCert), cert: pki.read(pki.clientCert), key: pki.read(pki.clientKey) } });
    assert.equal((await mtls.segment(rawRequest())).summary.objects.length, 1);

    const deadline = (): number => Date.now() + 3_000;
    const noCert = server.client({ tls: { ca: pki.read(pki.caCert) } });
    assert.equal((await noCert.listModels(deadline()).then(() => assert.fail('expected a refusal'), grpcError)).code, grpc.status.UNAVAILABLE);
    const plaintext = server.client();
    assert.equal((await plaintext.listModels(deadline()).then(() => assert.fail('expected a refusal'), grpcError)).code, grpc.status.UNAVAILABLE);
    const untrusted = server.client({ tls: { ca: pki.read(pki.otherCaCert), cert: pki.read(pki.clientCert), key: pki.read(pki.clientKey) } });
    assert.equal((await untrusted.listModels(deadline()).then(() => assert.fail('expected a refusal'), grpcError)).code, grpc.status.UNAVAILABLE);
  } finally {
    await server.stop();
  }
});

test('`onesam segment --server` speaks TLS with --tls-ca, and mTLS with --tls-cert/--tls-key', async () => {
  const pki = makeTestPki();
  const server = await startTestService({
    config: { tls: { cert: pki.serverCert, key: pki.serverKey, clientCa: pki.caCert } },
    createSegmenter: async () => new FakeSegmenter(),
  });
  await server.service.ready;
  const bin = fileURLToPath(new URL('../../bin/onesam.mjs', import.meta.url));
  const input = fileURLToPath(new URL('../../../shared/reference/cases/public/imgs/2DBox_US_0006.npz', import.meta.url));
  const out = join(mkdtempSync(join(tmpdir(), 'onesam-tls-cli-')), 'out.npz');
  const cli = (...extra: string[]) => promisify(execFile)(process.execPath, [bin, 'segment', input, '-o', out, '--server', server.address, ...extra]);
  try {
    await cli('--tls-ca', pki.caCert, '--tls-cert', pki.clientCert, '--tls-key', pki.clientKey);
    assert.ok(readFileSync(out).length > 0);
    const refused = await cli('--tls-ca', pki.caCert).then(() => assert.fail('expected a refusal without a client certificate'), (e: { code: number; stderr: string }) => e);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /UNAVAILABLE|handshake|certificate|connect/i);
  } finally {
    await server.stop();
  }
});
