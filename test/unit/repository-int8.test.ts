// The repository's int8 builds with a fake compiler: their own cache folder and key beside the fp32 build, a new
// key (and a rebuild) for another calibration fingerprint or method, the fp32 build kept throughout.
import assert from 'node:assert/strict';
import { copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { openRepository, type GraphCompiler, type Int8Request } from '../../src/models/repository.ts';

const LITE = new URL('../../../shared/reference/weights/litemedsam_demo.safetensors', import.meta.url);
let root = '';
after(async () => { await rm(root, { recursive: true, force: true }); });

test('int8 builds: own folder and key, rebuilt per calibration fingerprint and method, fp32 kept', async () => {
  root = await mkdtemp(join(tmpdir(), 'onesam-repo-int8-'));
  await mkdir(join(root, 'lite'));
  await writeFile(join(root, 'lite', 'manifest.json'), JSON.stringify({ name: 'lite', architecture: 'litemedsam', weights: 'w.safetensors', modalities: ['MR'], precision: 'fp32', description: 'test' }));
  await copyFile(LITE, join(root, 'lite', 'w.safetensors'));
  const calls: string[] = [];
  const compiler: GraphCompiler = {
    version: 'fake-1',
    compile(_arch, _weights, int8?: Int8Request) {
      const what = int8 ? `int8 ${int8.method} ${int8.calibration.fingerprint}` : 'fp32';
      calls.push(what);
      return Promise.resolve({ encoder: new TextEncoder().encode(`encoder ${what}`), decoder: new TextEncoder().encode('decoder') });
    },
  };
  const repo = await openRepository(root, { compiler });
  const int8 = (fingerprint: string, method: Int8Request['method'] = 'minmax'): Int8Request =>
    ({ precision: 'int8', method, calibration: { fingerprint, inputs: () => [] } });
  const fp32 = await repo.ensureCompiled('lite');
  const a = await repo.ensureCompiled('lite', undefined, int8('set-a'));
  assert.deepEqual([fp32.precision, a.precision, a.cached], ['fp32', 'int8', false]);
  assert.notEqual(a.cacheKey, fp32.cacheKey);
  assert.match(a.encoderPath, /lite[\\/]\.cache[\\/]int8[\\/][0-9a-f]{24}[\\/]encoder\.onnx$/);
  assert.equal((await repo.ensureCompiled('lite', undefined, int8('set-a'))).cached, true);
  const b = await repo.ensureCompiled('lite', undefined, int8('set-b'));
  const c = await repo.ensureCompiled('lite', undefined, int8('set-b', 'percentile'));
  assert.equal(new Set([a.cacheKey, b.cacheKey, c.cacheKey]).size, 3);
  assert.deepEqual([b.cached, c.cached], [false, false]);
  // The fp32 build survives every int8 build (stale int8 builds are dropped inside the int8 folder only).
  assert.equal((await repo.ensureCompiled('lite')).cached, true);
  assert.deepEqual(calls, ['fp32', 'int8 minmax set-a', 'int8 minmax set-b', 'int8 percentile set-b']);
});
