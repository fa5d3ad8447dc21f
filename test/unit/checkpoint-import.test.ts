// `onesam import`: a .pth or .safetensors checkpoint into a repository folder (weights + manifest + cached graphs),
// and the one-line errors and exit codes of the command.
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { importCheckpoint, run } from '../../src/cli/import.ts';
import { readSafetensors } from '../../src/models/checkpoint/safetensors.ts';
import type { CheckpointTensor, StateDict } from '../../src/models/checkpoint/tensor.ts';
import { parseManifest } from '../../src/models/manifest.ts';
import { openRepository, type GraphCompiler } from '../../src/models/repository.ts';
import { stateDictToPth } from '../helpers/pickle-writer.ts';

const WEIGHTS = new URL('../../../shared/reference/weights/', import.meta.url);
let lite: Map<string, CheckpointTensor>;
let dir: string;
let litePth: string;
let onesamFile: string;

const compiler: GraphCompiler = {
  version: 'fake',
  compile: (arch, weights) => ({ encoder: new TextEncoder().encode(`${arch}:${weights.size}`), decoder: new Uint8Array([1, 2, 3]) }),
};

before(async () => {
  lite = readSafetensors(await readFile(new URL('litemedsam_demo.safetensors', WEIGHTS)));
  dir = await mkdtemp(join(tmpdir(), 'onesam-import-'));
  litePth = join(dir, 'lite_medsam.pth');
  await writeFile(litePth, stateDictToPth(lite, { floatStorage: 'F32', wrapper: 'model' }));
  onesamFile = new URL('onesam_demo.safetensors', WEIGHTS).pathname;
});
after(async () => { await rm(dir, { recursive: true, force: true }); });

/** Runs the command with stdout/stderr captured. */
async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await run(args, { stdout: { write: (s: string) => out.push(s) }, stderr: { write: (s: string) => err.push(s) } });
  return { code, stdout: out.join(''), stderr: err.join('') };
}

test('a float32 .pth training checkpoint is imported as fp32 safetensors with a manifest and cached graphs', async () => {
  const out = join(dir, 'models', 'lite');
  const r = await importCheckpoint({ checkpoint: litePth, arch: 'litemedsam', out, modalities: ['MR', 'US'], compiler });
  assert.equal(r.tensors, 435);
  // 27 Conv2d_BN layers, each with an int64 num_batches_tracked.
  assert.deepEqual(r.storedDtypes, { F32: 408, I64: 27 });
  const manifest = parseManifest(await readFile(join(out, 'manifest.json'), 'utf8'));
  assert.deepEqual({ ...manifest }, {
    name: 'lite', architecture: 'litemedsam', weights: 'weights.safetensors', modalities: ['MR', 'US'],
    precision: 'fp32', description: 'litemedsam network imported from lite_medsam.pth',
  });
  const stored = readSafetensors(await readFile(join(out, 'weights.safetensors')));
  for (const [key, t] of lite) {
    const s = stored.get(key)!;
    assert.equal(s.dtype, t.dtype === 'F16' ? 'F32' : t.dtype, key);
    assert.deepEqual(s.data, t.data, key);
  }
  assert.equal(await readFile(r.compiled.encoderPath, 'utf8'), 'litemedsam:435');
  assert.ok(r.compiled.encoderPath.startsWith(join(out, '.cache')));
  // The server finds it ready: same cache key, nothing rebuilt.
  const again = await (await openRepository(join(dir, 'models'), { compiler })).ensureCompiled('lite');
  assert.equal(again.cached, true);
});

test('an fp16 safetensors checkpoint keeps fp16; --name and a cache dir are honoured', async () => {
  const out = join(dir, 'models', 'one');
  const cacheDir = join(dir, 'cache');
  await importCheckpoint({ checkpoint: onesamFile, arch: 'onesam', out, name: 'onesam-x', compiler, cacheDir });
  const manifest = parseManifest(await readFile(join(out, 'manifest.json'), 'utf8'));
  assert.equal(manifest.name, 'onesam-x');
  assert.deepEqual(manifest.modalities, ['CT', 'PET', 'XRay', 'Dermoscopy', 'Microscopy']);
  const stored = readSafetensors(await readFile(join(out, 'weights.safetensors')));
  assert.equal(stored.size, 520);
  assert.equal(stored.get('mask_decoder.hf_token.weight')!.dtype, 'F16');
  const served = await (await openRepository(join(dir, 'models'), { compiler, cacheDir })).ensureCompiled('onesam-x');
  assert.equal(served.cached, true);
  assert.deepEqual(await readdir(join(cacheDir, 'onesam-x')), [served.cacheKey]);
});

test('the graphs are compiled from the weights as stored, without reading the file back: what a re-read would parse', async () => {
  for (const [checkpoint, arch] of [[litePth, 'litemedsam'], [onesamFile, 'onesam']] as const) {
    const compiledFrom: StateDict[] = [];
    const capturing: GraphCompiler = { version: 'capture', compile: (a, weights) => (compiledFrom.push(weights), compiler.compile(a, weights)) };
    const out = join(dir, 'models', `held-${arch}`);
    const r = await importCheckpoint({ checkpoint, arch, out, compiler: capturing });
    assert.equal(compiledFrom.length, 1);
    const reread = readSafetensors(await readFile(r.weightsPath));
    assert.deepEqual([...compiledFrom[0]!.keys()], [...reread.keys()], arch);
    for (const [key, t] of reread) {
      const held = compiledFrom[0]!.get(key)!;
      assert.deepEqual({ dtype: held.dtype, shape: [...held.shape] }, { dtype: t.dtype, shape: t.shape }, key);
      assert.deepEqual(held.data, t.data, key);
    }
  }
});

test('the wrong architecture exits 1 with one line listing the unexpected keys, and writes nothing', async () => {
  const out = join(dir, 'models', 'wrong');
  const r = await cli([onesamFile, '--arch', 'litemedsam', '--out', out]);
  assert.equal(r.code, 1);
  assert.equal(r.stderr.split('\n').filter(Boolean).length, 1);
  assert.match(r.stderr, /^onesam import: .*onesam_demo\.safetensors does not match the litemedsam architecture .*85 unexpected keys: .*it matches the onesam architecture instead\n$/);
  await assert.rejects(stat(out));
});

test('truncated and non-checkpoint files exit 1 with a one-line reason', async () => {
  const cut = join(dir, 'cut.pth');
  await writeFile(cut, (await readFile(litePth)).subarray(0, 5000));
  const r1 = await cli([cut, '--arch', 'litemedsam', '--out', join(dir, 'models', 'cut')]);
  assert.equal(r1.code, 1);
  assert.match(r1.stderr, /^onesam import: .*cut\.pth: zip archive has no end-of-central-directory record: the file is truncated \(5000 bytes\)\n$/);

  const junk = join(dir, 'notes.txt');
  await writeFile(junk, 'these are not weights');
  const r2 = await cli([junk, '--arch', 'onesam', '--out', join(dir, 'models', 'junk')]);
  assert.equal(r2.code, 1);
  assert.match(r2.stderr, /^onesam import: .*notes\.txt: not a safetensors file or a PyTorch zip checkpoint/);

  const r3 = await cli([join(dir, 'missing.pth'), '--arch', 'onesam', '--out', join(dir, 'models', 'm')]);
  assert.equal(r3.code, 1);
  assert.match(r3.stderr, /missing\.pth: cannot read checkpoint: no such file\n$/);
});

test('usage errors exit 2', async () => {
  const cases: [string[], RegExp][] = [
    [[litePth, '--out', 'x'], /--arch is required/],
    [[litePth, '--arch', 'sam', '--out', 'x'], /--arch must be litemedsam or onesam, got "sam"/],
    [[litePth, '--arch', 'onesam'], /--out is required/],
    [['--arch', 'onesam', '--out', 'x'], /missing <checkpoint>/],
    [[litePth, '--arch', 'onesam', '--out', 'x', '--modalities', ','], /--modalities needs at least one modality/],
    [[litePth, '--arch', 'onesam', '--out', 'x', '--bogus'], /Unknown option '--bogus'/],
  ];
  for (const [args, message] of cases) {
    const r = await cli(args);
    assert.equal(r.code, 2, args.join(' '));
    assert.match(r.stderr, message);
  }
  assert.equal((await cli(['--help'])).code, 0);
});

test('an existing model folder is only replaced with --force', async () => {
  const out = join(dir, 'models', 'twice');
  await importCheckpoint({ checkpoint: litePth, arch: 'litemedsam', out, compiler });
  await assert.rejects(importCheckpoint({ checkpoint: litePth, arch: 'litemedsam', out, compiler }), /already holds a model .*--force/);
  const r = await importCheckpoint({ checkpoint: litePth, arch: 'litemedsam', out, compiler, force: true, modalities: ['Fundus'] });
  assert.deepEqual(r.manifest.modalities, ['Fundus']);
});
