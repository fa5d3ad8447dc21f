// The model repository: manifest validation, model states, and the compiled-graph cache (keyed by the weights'
// SHA-256 and the builder version) exercised with a fake graph compiler.
import assert from 'node:assert/strict';
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, beforeEach, test } from 'node:test';
import type { NetworkName } from '../../src/models/network-contract.ts';
import { CheckpointError } from '../../src/models/checkpoint/errors.ts';
import type { StateDict } from '../../src/models/checkpoint/tensor.ts';
import { ModelRepositoryError, validateManifest } from '../../src/models/manifest.ts';
import { openRepository, type GraphCompiler } from '../../src/models/repository.ts';

const LITE = new URL('../../../shared/reference/weights/litemedsam_demo.safetensors', import.meta.url);
const MODELS = new URL('../../models/', import.meta.url);
let root: string;
let repoDir: string;

before(async () => { root = await mkdtemp(join(tmpdir(), 'onesam-repo-')); });
after(async () => { await rm(root, { recursive: true, force: true }); });
let counter = 0;
beforeEach(async () => {
  repoDir = join(root, `r${counter++}`);
  await mkdir(repoDir, { recursive: true });
});

const MANIFEST = {
  name: 'lite',
  architecture: 'litemedsam',
  weights: 'w.safetensors',
  modalities: ['MR', 'US'],
  precision: 'fp32',
  description: 'test model',
};

async function addModel(folder: string, manifest: object | string = MANIFEST, weights: URL | null = LITE): Promise<string> {
  const dir = join(repoDir, folder);
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'manifest.json'), typeof manifest === 'string' ? manifest : JSON.stringify(manifest));
  if (weights) await copyFile(weights, join(dir, (manifest as { weights?: string }).weights ?? 'w.safetensors'));
  return dir;
}

/** A compiler whose "graphs" record what they were built from, counting its calls. */
function fakeCompiler(version = 'fake-1'): GraphCompiler & { calls: { arch: NetworkName; keys: number }[] } {
  const calls: { arch: NetworkName; keys: number }[] = [];
  return {
    version,
    calls,
    compile(arch: NetworkName, weights: StateDict) {
      calls.push({ arch, keys: weights.size });
      const first = weights.get('mask_decoder.iou_token.weight')!.data[0]!;
      return {
        encoder: new TextEncoder().encode(`encoder ${arch} ${weights.size} ${first}`),
        decoder: new TextEncoder().encode(`decoder ${arch} ${version}`),
      };
    },
  };
}

// --- manifest validation ---

const invalidManifests: [string, object, string, RegExp][] = [
  ['missing name', { ...MANIFEST, name: undefined }, 'name', /m\.json: name is required/],
  ['bad name', { ...MANIFEST, name: 'a b' }, 'name', /name "a b" must be 1-64 letters/],
  ['unknown architecture', { ...MANIFEST, architecture: 'sam-vit-h' }, 'architecture', /architecture "sam-vit-h" must be one of litemedsam, onesam/],
  ['weights outside the folder', { ...MANIFEST, weights: '../other/w.safetensors' }, 'weights', /weights "..\/other\/w.safetensors" must be a file name inside the model folder/],
  ['weights not a string', { ...MANIFEST, weights: 3 }, 'weights', /weights must be a non-empty string/],
  ['empty modalities', { ...MANIFEST, modalities: [] }, 'modalities', /modalities must be a non-empty array of strings/],
  ['modality not a string', { ...MANIFEST, modalities: ['CT', 4] }, 'modalities[1]', /modalities\[1\] must be a non-empty string/],
  ['duplicate modality', { ...MANIFEST, modalities: ['CT', 'ct'] }, 'modalities[1]', /modalities\[1\] "ct" is listed twice/],
  ['fp16 precision', { ...MANIFEST, precision: 'fp16' }, 'precision', /precision "fp16" must be one of fp32/],
  ['missing description', { ...MANIFEST, description: undefined }, 'description', /description is required/],
  ['license not a string', { ...MANIFEST, license: ['MIT'] }, 'license', /license must be a string/],
  ['unknown field', { ...MANIFEST, weight: 'x' }, 'weight', /weight is not a manifest field \(fields: name, architecture, weights/],
];

for (const [what, raw, field, message] of invalidManifests) {
  test(`manifest: ${what} is rejected naming ${field}`, () => {
    const clean = JSON.parse(JSON.stringify(raw)) as object;
    assert.throws(() => validateManifest(clean, 'm.json'), (e: unknown) =>
      e instanceof ModelRepositoryError && e.code === 'MANIFEST_INVALID' && e.field === field && message.test(e.message));
  });
}

test('manifest: a valid one is returned frozen with optional fields kept', () => {
  const m = validateManifest({ ...MANIFEST, license: 'CC-BY-4.0', notes: 'n' });
  assert.equal(m.architecture, 'litemedsam');
  assert.equal(m.license, 'CC-BY-4.0');
  assert.ok(Object.isFrozen(m) && Object.isFrozen(m.modalities));
});

// --- listing ---

test('openRepository lists models with their state; broken ones carry the reason', async () => {
  await addModel('good');
  await addModel('bad-json', '{"name": ', null);
  await addModel('bad-field', { ...MANIFEST, name: 'other', architecture: 'vit' }, null);
  await addModel('no-weights', { ...MANIFEST, name: 'ghost', weights: 'missing.safetensors' }, null);
  await mkdir(join(repoDir, 'not-a-model'));
  await mkdir(join(repoDir, '.hidden'));
  const repo = await openRepository(repoDir, { compiler: fakeCompiler() });
  const byName = new Map(repo.list().map((m) => [m.name, m]));
  assert.deepEqual([...byName.keys()].sort(), ['bad-field', 'bad-json', 'ghost', 'lite']);
  assert.deepEqual(byName.get('lite'), { name: 'lite', dir: join(repoDir, 'good'), architecture: 'litemedsam', modalities: ['MR', 'US'], state: 'available' });
  assert.equal(byName.get('bad-json')!.state, 'error');
  assert.match(byName.get('bad-json')!.message!, /bad-json\/manifest\.json: not valid JSON/);
  assert.match(byName.get('bad-field')!.message!, /architecture "vit" must be one of/);
  assert.match(byName.get('ghost')!.message!, /weights file missing\.safetensors does not exist/);
  await assert.rejects(repo.ensureCompiled('ghost'), (e: unknown) => e instanceof ModelRepositoryError && e.code === 'MODEL_UNAVAILABLE' && /model ghost: .*does not exist/.test(e.message));
  await assert.rejects(repo.ensureCompiled('nobody'), (e: unknown) => e instanceof ModelRepositoryError && e.code === 'MODEL_NOT_FOUND' && /no model named nobody .*\(models: .*lite/.test(e.message));
});

test('two folders claiming one name are both unusable', async () => {
  await addModel('a');
  await addModel('b');
  const repo = await openRepository(repoDir, { compiler: fakeCompiler() });
  assert.ok(repo.list().every((m) => m.state === 'error' && /model name lite is used by both/.test(m.message!)));
  await assert.rejects(repo.ensureCompiled('lite'), /used by both/);
});

test('a missing repository folder is REPOSITORY_NOT_FOUND', async () => {
  await assert.rejects(openRepository(join(repoDir, 'absent')), (e: unknown) => e instanceof ModelRepositoryError && e.code === 'REPOSITORY_NOT_FOUND');
});

test('the embedded demo repository holds both demo models, available', async () => {
  const repo = await openRepository(MODELS.pathname);
  const lite = repo.get('litemedsam-demo');
  const one = repo.get('onesam-demo');
  assert.equal(lite?.state, 'available', lite?.message);
  assert.equal(one?.state, 'available', one?.message);
  assert.equal(lite!.architecture, 'litemedsam');
  assert.equal(one!.architecture, 'onesam');
  assert.deepEqual(lite!.modalities, ['MR', 'US', 'Endoscopy', 'Fundus']);
  assert.deepEqual(one!.modalities, ['CT', 'PET', 'XRay', 'Dermoscopy', 'Microscopy']);
});

// --- compiled-graph cache ---

test('graphs are built once, then served from the cache, across repository instances', async () => {
  const dir = await addModel('lite');
  const compiler = fakeCompiler();
  const first = await (await openRepository(repoDir, { compiler })).ensureCompiled('lite');
  assert.equal(first.cached, false);
  assert.deepEqual(compiler.calls, [{ arch: 'litemedsam', keys: 435 }]);
  assert.ok(first.encoderPath.startsWith(join(dir, '.cache', first.cacheKey)));
  assert.match(await readFile(first.encoderPath, 'utf8'), /^encoder litemedsam 435 /);
  assert.equal(await readFile(first.decoderPath, 'utf8'), 'decoder litemedsam fake-1');
  assert.ok(first.timings.readMs > 0 && first.timings.buildMs > 0);
  assert.equal(first.manifest.name, 'lite');

  const second = await (await openRepository(repoDir, { compiler })).ensureCompiled('lite');
  assert.equal(second.cached, true);
  assert.equal(second.timings.buildMs, 0);
  assert.equal(second.encoderPath, first.encoderPath);
  assert.equal(compiler.calls.length, 1);
});

test('changing the weights rebuilds the graphs and removes the stale build', async () => {
  const dir = await addModel('lite');
  const compiler = fakeCompiler();
  const repo = await openRepository(repoDir, { compiler });
  const before = await repo.ensureCompiled('lite');
  const encoderBefore = await readFile(before.encoderPath, 'utf8');

  // Rewrite one value of mask_decoder.iou_token.weight (fp16) in place: same size, different content.
  const weightsPath = join(dir, 'w.safetensors');
  const bytes = await readFile(weightsPath);
  const headerLen = Number(bytes.readBigUInt64LE(0));
  const header = JSON.parse(bytes.subarray(8, 8 + headerLen).toString()) as Record<string, { data_offsets: [number, number] }>;
  const at = 8 + headerLen + header['mask_decoder.iou_token.weight']!.data_offsets[0];
  bytes.writeUInt16LE(0x3c00, at); // 1.0 in half precision
  await writeFile(weightsPath, bytes);

  const after = await repo.ensureCompiled('lite');
  assert.equal(after.cached, false);
  assert.notEqual(after.cacheKey, before.cacheKey);
  assert.equal(compiler.calls.length, 2);
  assert.match(await readFile(after.encoderPath, 'utf8'), / 1$/);
  assert.notEqual(await readFile(after.encoderPath, 'utf8'), encoderBefore);
  assert.deepEqual(await readdir(join(dir, '.cache')), [after.cacheKey]);
});

test('a new builder version rebuilds; an incomplete cache entry is rebuilt', async () => {
  const dir = await addModel('lite');
  const v1 = fakeCompiler('v1');
  const a = await (await openRepository(repoDir, { compiler: v1 })).ensureCompiled('lite');
  const v2 = fakeCompiler('v2');
  const b = await (await openRepository(repoDir, { compiler: v2 })).ensureCompiled('lite');
  assert.notEqual(a.cacheKey, b.cacheKey);
  assert.equal(v2.calls.length, 1);
  assert.equal(await readFile(b.decoderPath, 'utf8'), 'decoder litemedsam v2');

  await rm(b.encoderPath);
  const c = await (await openRepository(repoDir, { compiler: v2 })).ensureCompiled('lite');
  assert.equal(c.cached, false);
  assert.equal(v2.calls.length, 2);
  assert.ok((await stat(c.encoderPath)).size > 0);
  assert.deepEqual(await readdir(join(dir, '.cache')), [c.cacheKey]);
});

// --- cache integrity: every load checks the graphs' recorded SHA-256, not just their sizes ---

/** Overwrites the start of a file with other bytes of the same length: the size stays, the content does not. */
async function damage(path: string, bytes = 4096): Promise<void> {
  const data = await readFile(path);
  const n = Math.min(bytes, data.byteLength);
  for (let i = 0; i < n; i++) data[i] = (data[i]! ^ 0x5a) & 0xff;
  await writeFile(path, data);
}

test('a cached graph damaged in place (same size) is detected by its SHA-256 and rebuilt once', async () => {
  await addModel('lite');
  const compiler = fakeCompiler();
  const built = await (await openRepository(repoDir, { compiler })).ensureCompiled('lite');
  const record = JSON.parse(await readFile(join(built.encoderPath, '..', 'build.json'), 'utf8')) as Record<string, unknown>;
  assert.match(String(record['encoderSha256']), /^[0-9a-f]{64}$/);
  assert.match(String(record['decoderSha256']), /^[0-9a-f]{64}$/);
  const good = await readFile(built.encoderPath);
  await damage(built.encoderPath);
  assert.equal((await stat(built.encoderPath)).size, good.byteLength);

  const repaired = await (await openRepository(repoDir, { compiler })).ensureCompiled('lite');
  assert.equal(repaired.cached, false);
  assert.equal(repaired.repaired, 'encoder.onnx does not match its recorded SHA-256');
  assert.equal(compiler.calls.length, 2);
  assert.ok((await readFile(repaired.encoderPath)).equals(good), 'the rebuilt graph is the original one');

  // Once repaired, the next start uses the cache again and reports nothing.
  const next = await (await openRepository(repoDir, { compiler })).ensureCompiled('lite');
  assert.equal(next.cached, true);
  assert.equal(next.repaired, undefined);
  assert.equal(compiler.calls.length, 2);
  assert.ok(next.timings.verifyMs >= 0);
});

test('unverifiable or unreadable cache entries are rebuilt, each with its reason', async () => {
  await addModel('lite');
  const compiler = fakeCompiler();
  const open = async (): Promise<Awaited<ReturnType<Awaited<ReturnType<typeof openRepository>>['ensureCompiled']>>> =>
    (await openRepository(repoDir, { compiler })).ensureCompiled('lite');
  const first = await open();
  const keyDir = join(first.encoderPath, '..');
  const recordPath = join(keyDir, 'build.json');

  // A record written before graph checksums existed cannot vouch for its graphs.
  const record = JSON.parse(await readFile(recordPath, 'utf8')) as Record<string, unknown>;
  delete record['encoderSha256'];
  delete record['decoderSha256'];
  await writeFile(recordPath, JSON.stringify(record));
  assert.equal((await open()).repaired, 'build.json has no graph checksums (written by an older version)');

  await writeFile(recordPath, '{"name": "lite", "arch');
  assert.equal((await open()).repaired, 'build.json is not valid JSON');

  await damage(first.decoderPath, 4);
  assert.equal((await open()).repaired, 'decoder.onnx does not match its recorded SHA-256');

  // Unreadable: a folder where the graph should be (EISDIR), as a stand-in for an I/O error.
  await rm(first.encoderPath);
  await mkdir(first.encoderPath);
  assert.match((await open()).repaired ?? '', /^encoder\.onnx cannot be read: .*EISDIR/);

  const truncated = await readFile(first.encoderPath);
  await writeFile(first.encoderPath, truncated.subarray(0, truncated.byteLength - 1));
  assert.match((await open()).repaired ?? '', /^encoder\.onnx has \d+ bytes, build\.json recorded \d+$/);

  assert.equal(compiler.calls.length, 6);
  const last = await open();
  assert.equal(last.cached, true);
  assert.equal(last.repaired, undefined);
});

test('a configured cacheDir holds the graphs under <cacheDir>/<name>', async () => {
  const dir = await addModel('lite');
  const cacheDir = join(repoDir, '..', `cache-${counter}`);
  const r = await (await openRepository(repoDir, { compiler: fakeCompiler(), cacheDir })).ensureCompiled('lite');
  assert.ok(r.encoderPath.startsWith(join(cacheDir, 'lite', r.cacheKey)));
  await assert.rejects(stat(join(dir, '.cache')));
});

test('concurrent ensureCompiled calls share one build', async () => {
  await addModel('lite');
  const compiler = fakeCompiler();
  const repo = await openRepository(repoDir, { compiler });
  const [a, b] = await Promise.all([repo.ensureCompiled('lite'), repo.ensureCompiled('lite')]);
  assert.equal(compiler.calls.length, 1);
  assert.equal(a.encoderPath, b.encoderPath);
});

test('weights of the wrong architecture are refused before compiling; the model shows the error until fixed', async () => {
  const dir = await addModel('lite', { ...MANIFEST, architecture: 'onesam' });
  const compiler = fakeCompiler();
  const repo = await openRepository(repoDir, { compiler });
  await assert.rejects(repo.ensureCompiled('lite'), (e: unknown) =>
    e instanceof CheckpointError && e.code === 'CHECKPOINT_ARCH_MISMATCH' && /w\.safetensors does not match the onesam architecture.*85 missing keys/.test(e.message));
  assert.equal(compiler.calls.length, 0);
  assert.equal(repo.get('lite')!.state, 'error');
  assert.match(repo.get('lite')!.message!, /85 missing keys/);

  await writeFile(join(dir, 'manifest.json'), JSON.stringify(MANIFEST));
  const fixed = await openRepository(repoDir, { compiler });
  await fixed.ensureCompiled('lite');
  assert.equal(fixed.get('lite')!.state, 'available');
});

test('corrupt weights and failing builders give coded errors', async () => {
  const dir = await addModel('lite');
  const weights = join(dir, 'w.safetensors');
  const good = await readFile(weights);
  await writeFile(weights, good.subarray(0, 1000));
  const repo = await openRepository(repoDir, { compiler: fakeCompiler() });
  await assert.rejects(repo.ensureCompiled('lite'), (e: unknown) => e instanceof CheckpointError && e.code === 'CHECKPOINT_TRUNCATED');
  assert.equal(repo.get('lite')!.state, 'error');

  await writeFile(weights, good);
  const broken: GraphCompiler = { version: 'x', compile: () => { throw new TypeError('boom'); } };
  const repo2 = await openRepository(repoDir, { compiler: broken });
  await assert.rejects(repo2.ensureCompiled('lite'), (e: unknown) =>
    e instanceof ModelRepositoryError && e.code === 'COMPILE_FAILED' && e.message === 'model lite: building the ONNX graphs failed: boom');
  // Now it works again with a working compiler, and the state recovers.
  await repo.ensureCompiled('lite');
  assert.equal(repo.get('lite')!.state, 'available');
});

test('the default compiler fingerprints the graph builders\' sources', async () => {
  const { builderVersion } = await import('../../src/models/compile.ts');
  const v = await builderVersion();
  assert.match(v, /^v\d+\+[0-9a-f]{16}$/);
  assert.equal(await builderVersion(), v);
});

test('the embedded demo models compile with the real builders into a cache dir, then load from it', async () => {
  const cacheDir = join(root, 'demo-cache');
  const repo = await openRepository(MODELS.pathname, { cacheDir });
  const built = await repo.ensureCompiled('litemedsam-demo');
  assert.equal(built.cached, false);
  // An ONNX ModelProto starts with field 1 (ir_version, varint): tag byte 0x08.
  const head = (await readFile(built.encoderPath)).subarray(0, 1);
  assert.equal(head[0], 0x08);
  assert.ok((await stat(built.decoderPath)).size > 1_000_000);
  const again = await (await openRepository(MODELS.pathname, { cacheDir })).ensureCompiled('litemedsam-demo');
  assert.equal(again.cached, true);
  assert.equal(again.encoderPath, built.encoderPath);
});
