// Model and worker faults against a real server with the real pipeline (issue 7, defect 2 and worker faults):
// - a cached graph damaged in place is caught by its SHA-256, rebuilt once, and the server serves;
// - networks that cannot load (corrupt weights; graphs onnxruntime cannot parse, even after the rebuild) leave the
//   server up and NOT_SERVING, with the reason in ListModels, the log and the metrics; nothing aborts the process;
// - a worker thread that exits or dies mid-task fails only the request that had work on it (WORKER_FAILED), the
//   thread is replaced and the next request is served; an onnxruntime run error fails its request with
//   INFERENCE_FAILED and the thread stays.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { cp, mkdtemp, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { ERROR_CODE_KEY } from '../../src/errors/grpc-status.ts';
import { pipelineSegmenter, pipelineSegmenterWith } from '../../src/main.ts';
import { openRepository, type GraphCompiler } from '../../src/models/repository.ts';
import { WorkerFaultSwitch, type WorkerFault } from '../../src/workers/protocol.ts';
import { MODELS_DIR } from '../helpers/cases.ts';
import { box2d, rawRequest } from '../helpers/requests.ts';
import { grpcError, scrape, startTestService, type HealthPackage, type TestService } from '../helpers/test-service.ts';
import { loadSegmentationProto } from '../../src/protocol/proto.ts';

const TWO_D = { depth: 1, height: 40, width: 48 };
const request2d = (id: string): ReturnType<typeof rawRequest> => rawRequest({ requestId: id, prompts: [box2d(1, 4, 5, 30, 30, 0)] }, TWO_D);

let scratch: string;
before(async () => { scratch = await mkdtemp(join(tmpdir(), 'onesam-faults-')); });
after(async () => { await rm(scratch, { recursive: true, force: true }); });

/** Flips the first `bytes` bytes of a file: same size, other content (what a bad block or a stray write does). */
async function damage(path: string, bytes = 4096): Promise<void> {
  const data = await readFile(path);
  for (let i = 0; i < Math.min(bytes, data.byteLength); i++) data[i] = data[i]! ^ 0xa5;
  await writeFile(path, data);
}

async function waitFor<T>(what: string, probe: () => T | undefined | Promise<T | undefined>, timeoutMs = 180_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function logLine(server: TestService, msg: string, from = 0): Record<string, unknown> | undefined {
  return server.logs.slice(from).find((l) => l['msg'] === msg);
}

describe('a real server with a damaged graph cache and injectable worker faults (2 workers)', () => {
  const faults = new WorkerFaultSwitch();
  let server: TestService;

  before(async () => {
    const cacheDir = join(scratch, 'cache');
    // A cache as a previous start left it, then the first 4 KiB of a graph overwritten (same size).
    const repo = await openRepository(MODELS_DIR, { cacheDir });
    const lite = await repo.ensureCompiled('litemedsam-demo');
    await repo.ensureCompiled('onesam-demo');
    await damage(lite.encoderPath);
    server = await startTestService({
      config: { modelsDir: MODELS_DIR, cacheDir, workers: 2, intraOpThreads: 1 },
      createSegmenter: pipelineSegmenterWith({ faultSwitch: faults.buffer }),
    });
    await server.service.ready;
  });
  after(() => server?.stop());

  test('the damaged graph is found by its SHA-256, rebuilt once (warn), and the server serves', async () => {
    const repaired = server.logs.filter((l) => l['msg'] === 'cached graphs failed their check; rebuilt from the weights');
    assert.equal(repaired.length, 1);
    assert.equal(repaired[0]!['level'], 'warn');
    assert.equal(repaired[0]!['model'], 'litemedsam-demo');
    assert.equal(repaired[0]!['reason'], 'encoder.onnx does not match its recorded SHA-256');
    assert.ok(server.logs.some((l) => l['msg'] === 'graphs verified in the cache' && l['model'] === 'onesam-demo'));
    assert.equal(await server.health(''), 'SERVING');
    const metrics = await scrape(server.metricsUrl);
    assert.equal(metrics.get('onesam_graph_cache_repairs_total'), 1);
    assert.equal(metrics.get('onesam_models_ready'), 1);
    assert.equal(metrics.get('onesam_pool_workers_ready'), 2);
    const ok = await server.client().segment(request2d('after-repair'));
    assert.equal(ok.summary.objects.length, 1);
  });

  for (const fault of ['exit', 'crash'] as const satisfies readonly WorkerFault[]) {
    test(`a worker thread that ${fault === 'exit' ? 'exits' : 'dies of an uncaught exception'} mid-task fails only its request (WORKER_FAILED); the thread is replaced and the next request served`, async () => {
      const fromLine = server.logs.length;
      const before = await scrape(server.metricsUrl);
      const lostBefore = before.get('onesam_worker_failures_total{kind="thread_lost"}') ?? 0;
      faults.arm(fault);
      const started = performance.now();
      // Two requests at once on two workers: the fault takes the first task, whichever request it belongs to.
      const outcomes = await Promise.allSettled([server.client().segment(request2d(`${fault}-a`)), server.client().segment(request2d(`${fault}-b`))]);
      const failedAt = performance.now();
      assert.equal(faults.armed, false, 'the fault fired');
      const failed = outcomes.filter((o) => o.status === 'rejected').map((o) => grpcError((o as PromiseRejectedResult).reason));
      assert.equal(failed.length, 1, `exactly one request failed: ${outcomes.map((o) => o.status).join(', ')}`);
      assert.equal(failed[0]!.code, grpc.status.UNAVAILABLE);
      assert.deepEqual(failed[0]!.metadata.get(ERROR_CODE_KEY), ['WORKER_FAILED']);
      const served = outcomes.find((o) => o.status === 'fulfilled') as PromiseFulfilledResult<Awaited<ReturnType<ReturnType<TestService['client']>['segment']>>>;
      assert.equal(served.value.summary.objects.length, 1);

      // The replacement loads its sessions; the pool is back at full size.
      const loaded = await waitFor('the replacement thread', () => logLine(server, 'replacement worker thread loaded', fromLine));
      assert.equal(typeof loaded['recoveryMs'], 'number');
      const after = await scrape(server.metricsUrl);
      assert.equal(after.get('onesam_worker_failures_total{kind="thread_lost"}'), lostBefore + 1);
      assert.equal(after.get('onesam_pool_workers_ready'), 2);
      assert.equal(after.get('onesam_pool_workers'), 2);
      assert.equal(after.get('onesam_pool_queue_depth'), 0);
      assert.equal(after.get('onesam_models_ready'), 1);
      assert.equal(await server.health(''), 'SERVING');
      // Both threads serve again: two more requests at once.
      const next = await Promise.all([server.client().segment(request2d(`${fault}-c`)), server.client().segment(request2d(`${fault}-d`))]);
      assert.ok(next.every((r) => r.summary.objects.length === 1));
      assert.ok(server.logs.slice(fromLine).some((l) => l['msg'] === 'a worker thread died; piscina is replacing it'));
      // Not an assertion on time (a loaded CI machine): reported for the record.
      console.log(`# ${fault}: both requests settled after ${Math.round(failedAt - started)} ms; pool whole ${Math.round(loaded['recoveryMs'] as number)} ms after the loss`);
    });
  }

  test('an onnxruntime run error fails only its request with INFERENCE_FAILED; the thread stays and the next request is served', async () => {
    const fromLine = server.logs.length;
    const before = await scrape(server.metricsUrl);
    faults.arm('ort-error');
    const err = await server.client().segment(request2d('ort-error')).then(() => assert.fail('expected INTERNAL'), grpcError);
    assert.equal(err.code, grpc.status.INTERNAL);
    assert.deepEqual(err.metadata.get(ERROR_CODE_KEY), ['INFERENCE_FAILED']);
    assert.doesNotMatch(err.details, /rank|dimension|onnx/i, 'onnxruntime\'s message stays in the server log');
    const logged = server.logs.slice(fromLine).find((l) => (l['err'] as { stack?: string } | undefined)?.stack?.includes('caused by:'));
    assert.ok(logged, 'the log has the onnxruntime error behind INFERENCE_FAILED');
    const after = await scrape(server.metricsUrl);
    assert.equal(after.get('onesam_worker_failures_total{kind="task_failed"}'), (before.get('onesam_worker_failures_total{kind="task_failed"}') ?? 0) + 1);
    assert.equal(after.get('onesam_worker_failures_total{kind="thread_lost"}'), before.get('onesam_worker_failures_total{kind="thread_lost"}'));
    assert.equal(after.get('onesam_pool_workers_ready'), 2);
    assert.equal((await server.client().segment(request2d('after-ort-error'))).summary.objects.length, 1);
  });
});

describe('networks that cannot load: the server stays up NOT_SERVING with the reason', () => {
  test('corrupt weights: NOT_SERVING, liveness SERVING, ListModels says why, Segment UNAVAILABLE, metrics', async () => {
    const models = join(scratch, 'corrupt-weights');
    await cp(MODELS_DIR, models, { recursive: true, filter: (src) => !src.includes('.cache') });
    await truncate(join(models, 'litemedsam-demo', 'litemedsam_demo.safetensors'), 1000);
    const server = await startTestService({ config: { modelsDir: models, cacheDir: join(scratch, 'cache-corrupt'), workers: 1 }, createSegmenter: pipelineSegmenter });
    try {
      await assert.rejects(server.service.ready);
      assert.equal(server.service.state.phase, 'failed');
      assert.equal(await server.health(''), 'NOT_SERVING');
      assert.equal(await server.health('onesam.v1.Segmentation'), 'NOT_SERVING');
      assert.equal(await server.health('liveness'), 'SERVING');
      const listed = await server.client().listModels();
      for (const m of listed.models) {
        assert.equal(m.ready, false);
        assert.match(m.message, /^failed to load: .*litemedsam_demo\.safetensors/);
      }
      const err = await server.client().segment(request2d('refused')).then(() => assert.fail('expected UNAVAILABLE'), grpcError);
      assert.equal(err.code, grpc.status.UNAVAILABLE);
      assert.deepEqual(err.metadata.get(ERROR_CODE_KEY), ['NETWORK_UNAVAILABLE']);
      const metrics = await scrape(server.metricsUrl);
      assert.equal(metrics.get('onesam_models_ready'), 0);
      assert.equal(metrics.get('onesam_model_load_failures_total'), 1);
      const fatal = server.logs.find((l) => l['level'] === 'fatal');
      assert.match(String(fatal?.['msg']), /the networks failed to load; NOT_SERVING until restarted/);
      // Still up a while later.
      await new Promise((r) => setTimeout(r, 500));
      assert.equal(await server.health('liveness'), 'SERVING');
    } finally {
      await server.stop();
    }
  });

  test('graphs onnxruntime cannot parse, still bad after the one rebuild: no abort, NOT_SERVING, ListModels gives onnxruntime\'s reason', async () => {
    const cacheDir = join(scratch, 'cache-unparsable');
    let builds = 0;
    // Stands in for a builder whose output onnxruntime rejects: valid checksums, bytes that are no ONNX model.
    const compiler: GraphCompiler = {
      version: 'unparsable-1',
      compile: () => {
        builds++;
        return { encoder: new Uint8Array(4096).fill(0x5a), decoder: new Uint8Array(4096).fill(0x5b) };
      },
    };
    const repo = await openRepository(MODELS_DIR, { cacheDir, compiler });
    const lite = await repo.ensureCompiled('litemedsam-demo');
    await damage(lite.encoderPath, 16);
    const server = await startTestService({
      config: { modelsDir: MODELS_DIR, cacheDir, workers: 2 },
      createSegmenter: pipelineSegmenterWith({ compiler }),
    });
    try {
      await assert.rejects(server.service.ready, /a worker thread could not load the networks: .*encoder\.onnx/);
      // litemedsam: built once before, rebuilt once now; onesam: built once. Never a rebuild loop.
      assert.equal(builds, 3);
      assert.equal(server.logs.filter((l) => l['msg'] === 'cached graphs failed their check; rebuilt from the weights').length, 1);
      assert.equal(await server.health(''), 'NOT_SERVING');
      const listed = await server.client().listModels();
      assert.ok(listed.models.every((m) => !m.ready && /^failed to load: a worker thread could not load the networks: .*encoder\.onnx/.test(m.message)), JSON.stringify(listed.models));
      // piscina reports thread errors asynchronously; the process (this test runner) must still be here after them.
      await new Promise((r) => setTimeout(r, 1_000));
      assert.equal(await server.health('liveness'), 'SERVING');
      assert.ok(!server.logs.some((l) => l['msg'] === 'worker thread error'), 'no thread died');
    } finally {
      await server.stop();
    }
  });
});

test('`onesam serve` whose networks cannot load stays up NOT_SERVING (no exit 1, no abort); SIGTERM still exits 0', async () => {
  const models = join(scratch, 'serve-corrupt');
  await cp(MODELS_DIR, models, { recursive: true, filter: (src) => !src.includes('.cache') });
  await truncate(join(models, 'litemedsam-demo', 'litemedsam_demo.safetensors'), 1000);
  const root = fileURLToPath(new URL('../..', import.meta.url));
  const env = { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '', ONESAM_CACHE_DIR: join(scratch, 'serve-cache') };
  const child = spawn(process.execPath, [join(root, 'bin', 'onesam.mjs'), 'serve', '--models', models, '--host', '127.0.0.1', '--port', '0', '--metrics-port', '0', '--workers', '1'],
    { cwd: root, env, stdio: ['ignore', 'pipe', 'inherit'] });
  let exitCode: number | null | undefined;
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => { exitCode = code; resolve(code); }));
  const lines: Record<string, unknown>[] = [];
  createInterface({ input: child.stdout }).on('line', (line) => lines.push(JSON.parse(line) as Record<string, unknown>));
  try {
    const fatal = await waitFor('the load failure', () => lines.find((l) => l['level'] === 'fatal') ?? (exitCode !== undefined ? { exited: exitCode } : undefined), 120_000);
    assert.match(String(fatal['msg']), /the networks failed to load; NOT_SERVING until restarted/, JSON.stringify(fatal));
    const listening = lines.find((l) => l['msg'] === 'listening')!;
    // The old server drained and exited 1 here; give it the time it took (it was gone within a second).
    await new Promise((r) => setTimeout(r, 2_000));
    assert.equal(exitCode, undefined, 'the process is still running');
    const Health = (loadSegmentationProto().grpcType as unknown as HealthPackage).grpc.health.v1.Health;
    const health = new Health(`127.0.0.1:${String(listening['grpcPort'])}`, grpc.credentials.createInsecure());
    const check = (service: string): Promise<string> => new Promise((resolve, reject) =>
      health.check({ service }, { deadline: Date.now() + 5_000 }, (err, res) => (err ? reject(err) : resolve(res!.status))));
    assert.equal(await check(''), 'NOT_SERVING');
    assert.equal(await check('liveness'), 'SERVING');
    health.close();
    const metrics = await (await fetch(`http://127.0.0.1:${String(listening['metricsPort'])}/metrics`)).text();
    assert.match(metrics, /^onesam_models_ready 0$/m);
    assert.match(metrics, /^onesam_model_load_failures_total 1$/m);
    child.kill('SIGTERM');
    assert.equal(await exited, 0);
  } finally {
    child.kill('SIGKILL');
  }
});
