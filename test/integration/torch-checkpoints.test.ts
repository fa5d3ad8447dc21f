// The front door (issue 8): checkpoints written by real PyTorch (test/fixtures/torch, made by make-checkpoints.py
// with Debian's torch 1.13 from the demo weights: a plain state dict of LiteMedSAM, a training checkpoint of OneSAM)
// are imported under new names with `onesam import`, and the one documented step, the `models` setting, makes
// `onesam segment` and `onesam serve` use them: the masks are exactly the demo models'. ListModels reports what
// each network runs and where it came from; a server given one network routes every modality to it.
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { SegmentationClient } from '../../src/client/client.ts';
import { RemoteError, segmentRemote } from '../../src/client/segment-remote.ts';
import { challengeCase } from '../../src/volume/challenge.ts';
import { createSegmenter } from '../../src/pipeline/index.ts';
import { modalityFromFileName } from '../../src/pipeline/router.ts';
import type { EnsembleMode, SegmentationRequest, SegmentationResult } from '../../src/pipeline/types.ts';
import { readNpz } from '../../src/volume/npz.ts';
import { loadArrays, PUBLIC_CASES } from '../helpers/cases.ts';
import { defaultPipelineConfig } from '../helpers/pipeline-config.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const BIN = join(ROOT, 'bin', 'onesam.mjs');
const FIXTURES = join(ROOT, 'test', 'fixtures', 'torch');
const LM_PTH = join(FIXTURES, 'litemedsam_state_dict.pth');
const ONE_PTH = join(FIXTURES, 'onesam_training_checkpoint.pth');
const run = promisify(execFile);

// Routed to OneSAM (X-ray) and to LiteMedSAM (ultrasound, the smallest public case).
const CASE_ONESAM = '2DBox_XRay_0010.npz';
const CASE_LITE = '2DBox_US_0006.npz';
const MODELS_ENV = '{"litemedsam":"lm-torch","onesam":"one-torch"}';

const work = mkdtempSync(join(tmpdir(), 'onesam-torch-'));
const repo = join(work, 'repo');
// Only what the commands need: an ONESAM_* variable of the developer's shell must not change the test.
const BASE_ENV = { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '' };

function caseRequest(name: string, mode: EnsembleMode = 'route'): SegmentationRequest {
  const kase = challengeCase(loadArrays('imgs', name), name);
  const modality = modalityFromFileName(name);
  return { requestId: name, image: kase.image, objects: kase.objects, mode, ...(modality ? { modality } : {}) };
}

const sha256 = (path: string): string => createHash('sha256').update(readFileSync(path)).digest('hex');
const sameBytes = (a: ArrayBufferView, b: ArrayBufferView): boolean =>
  Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));

/** The demo models' results, in-process: what the imported torch checkpoints must reproduce exactly. */
const demo = new Map<string, SegmentationResult>();

before(async () => {
  for (const [pth, arch, name] of [[LM_PTH, 'litemedsam', 'lm-torch'], [ONE_PTH, 'onesam', 'one-torch']] as const) {
    const { stdout } = await run(process.execPath, [BIN, 'import', pth, '--arch', arch, '--out', join(repo, name)], { env: BASE_ENV, timeout: 300_000 });
    // The command names the one step left: the models setting.
    assert.match(stdout, new RegExp(`ONESAM_MODELS='\\{"${arch}":"${name}"\\}'`));
  }
  const segmenter = await createSegmenter(defaultPipelineConfig({ workers: 1 }));
  try {
    for (const name of [CASE_ONESAM, CASE_LITE]) demo.set(name, await segmenter.segment(caseRequest(name)));
    demo.set(`${CASE_LITE}:onesam`, await segmenter.segment(caseRequest(CASE_LITE, 'onesam')));
  } finally {
    await segmenter.close();
  }
  assert.deepEqual(demo.get(CASE_ONESAM)!.objects.map((o) => o.networks), [['onesam'], ['onesam'], ['onesam']]);
  assert.deepEqual(demo.get(CASE_LITE)!.objects.map((o) => o.networks), [['litemedsam'], ['litemedsam']]);
});

test('onesam segment with ONESAM_MODELS_DIR and ONESAM_MODELS: the torch-written checkpoints give exactly the demo masks', async () => {
  for (const name of [CASE_ONESAM, CASE_LITE]) {
    const out = join(work, `cli-${name}`);
    const { stdout } = await run(process.execPath, [BIN, 'segment', join(PUBLIC_CASES, 'imgs', name), '-o', out, '--json', '--workers', '1'], {
      env: { ...BASE_ENV, ONESAM_MODELS_DIR: repo, ONESAM_MODELS: MODELS_ENV }, timeout: 300_000,
    });
    const segs = readNpz(new Uint8Array(readFileSync(out)), out).get('segs')!;
    const expected = demo.get(name)!;
    assert.ok(sameBytes(segs.data as Uint8Array, expected.labels), `${name}: identical label volume`);
    const summary = JSON.parse(stdout) as { objects: { voxels: number; predictedIouMean: number; predictedIouMin: number; quality: string }[] };
    assert.deepEqual(summary.objects.map((o) => [o.voxels, o.predictedIouMean, o.predictedIouMin]),
      expected.objects.map((o) => [o.voxels, o.predictedIou.mean, o.predictedIou.min]), `${name}: same voxels and predicted IoU`);
  }
});

test('a models setting naming a model of the other architecture stops onesam segment with exit 78, the field named', async () => {
  const failed = await run(process.execPath, [BIN, 'segment', join(PUBLIC_CASES, 'imgs', CASE_LITE), '-o', join(work, 'never.npz')], {
    env: { ...BASE_ENV, ONESAM_MODELS_DIR: repo, ONESAM_MODELS: '{"litemedsam":"one-torch"}' }, timeout: 120_000,
  }).then(() => assert.fail('expected a failure'), (e: { code: number; stderr: string }) => e);
  assert.equal(failed.code, 78);
  assert.match(failed.stderr, /config\.models\.litemedsam \(ONESAM_MODELS\): model one-torch is a onesam network, not litemedsam/);
});

interface ServeProcess {
  readonly child: ChildProcess;
  readonly address: string;
  stop(): Promise<number | null>;
}

/** `onesam serve` on free ports; resolves once it logged "serving" (the networks are loaded). */
async function serve(args: string[], env: Record<string, string>): Promise<ServeProcess> {
  const child = spawn(process.execPath, [BIN, 'serve', '--host', '127.0.0.1', '--port', '0', '--metrics-port', '0', '--workers', '1', ...args], {
    cwd: ROOT, env: { ...BASE_ENV, ...env }, stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  let port: number | undefined;
  const serving = new Promise<void>((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const entry = JSON.parse(line) as Record<string, unknown>;
      if (entry['msg'] === 'listening') port = entry['grpcPort'] as number;
      if (entry['msg'] === 'serving') resolve();
    });
    void exited.then((code) => reject(new Error(`onesam serve exited ${code} before serving`)));
  });
  await serving;
  return {
    child,
    address: `127.0.0.1:${port}`,
    async stop() {
      child.kill('SIGTERM');
      return exited;
    },
  };
}

const servers: ServeProcess[] = [];
after(async () => {
  for (const s of servers) s.child.kill('SIGKILL');
});

test('onesam serve with ONESAM_MODELS: ListModels describes the imported models; Segment gives exactly the demo masks', async () => {
  const server = await serve([], { ONESAM_MODELS_DIR: repo, ONESAM_MODELS: MODELS_ENV });
  servers.push(server);
  const client = new SegmentationClient(server.address);
  try {
    const listed = await client.listModels(Date.now() + 30_000);
    const byNetwork = new Map(listed.models.map((m) => [m.network, m]));
    const lm = byNetwork.get('NETWORK_LITEMEDSAM')!;
    const one = byNetwork.get('NETWORK_ONESAM')!;
    assert.equal(lm.model, 'lm-torch');
    assert.equal(one.model, 'one-torch');
    assert.ok(lm.ready && one.ready);
    assert.deepEqual({ ...lm.details, modalities: [...lm.details!.modalities] }, {
      architecture: 'litemedsam', precision: 'fp32', weightsSha256: sha256(join(repo, 'lm-torch', 'weights.safetensors')),
      parameters: 9_791_300, source: 'litemedsam_state_dict.pth', sourceSha256: sha256(LM_PTH),
      description: 'litemedsam network imported from litemedsam_state_dict.pth', license: '', modalities: ['MR', 'US', 'Endoscopy', 'Fundus'],
    });
    assert.equal(one.details!.architecture, 'onesam');
    assert.equal(one.details!.parameters, 20_218_308);
    assert.equal(one.details!.source, 'onesam_training_checkpoint.pth');
    assert.equal(one.details!.sourceSha256, sha256(ONE_PTH));
    assert.equal(one.details!.weightsSha256, sha256(join(repo, 'one-torch', 'weights.safetensors')));
  } finally {
    client.close();
  }
  for (const name of [CASE_ONESAM, CASE_LITE]) {
    const remote = await segmentRemote(server.address, caseRequest(name));
    const expected = demo.get(name)!;
    assert.ok(sameBytes(remote.labels, expected.labels), `${name}: identical label volume over gRPC`);
    assert.deepEqual(remote.objects, expected.objects, `${name}: identical per-object summary (IoU, quality, slices)`);
  }
  assert.equal(await server.stop(), 0);
});

test('one network only (--network-models onesam=NAME): ROUTE sends every modality to it, forcing the other is NETWORK_NOT_SERVED', async () => {
  const server = await serve(['--models', repo, '--network-models', 'onesam=one-torch'], {});
  servers.push(server);
  const client = new SegmentationClient(server.address);
  try {
    const listed = await client.listModels(Date.now() + 30_000);
    assert.deepEqual(listed.models.map((m) => [m.network, m.model, m.ready]), [['NETWORK_ONESAM', 'one-torch', true]]);
    assert.ok(listed.routing.length > 0 && listed.routing.every((r) => r.network === 'NETWORK_ONESAM'), 'every modality routes to OneSAM');
    assert.equal(listed.fallback, 'NETWORK_ONESAM');
  } finally {
    client.close();
  }
  // Ultrasound routes to LiteMedSAM on a two-network server; here OneSAM segments it, as forcing ONESAM would.
  const routed = await segmentRemote(server.address, caseRequest(CASE_LITE));
  const expected = demo.get(`${CASE_LITE}:onesam`)!;
  assert.deepEqual(routed.objects.map((o) => o.networks), [['onesam'], ['onesam']]);
  assert.ok(sameBytes(routed.labels, expected.labels), 'identical to the demo OneSAM masks');
  for (const mode of ['litemedsam', 'fuse'] as const) {
    await assert.rejects(segmentRemote(server.address, caseRequest(CASE_LITE, mode)), (e: unknown) => e instanceof RemoteError && e.code === 'NETWORK_NOT_SERVED');
  }
  assert.equal(await server.stop(), 0);
});
