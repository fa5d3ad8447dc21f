// `precision: int8` end to end on the demo LiteMedSAM: the repository builds the quantised encoder from a
// calibration folder (one small public case keeps this cheap), caches it under its own key beside the fp32
// build (keys per calibration set: test/unit/repository-int8.test.ts), the graph runs on onnxruntime's int8 kernels, and the pipeline's
// masks stay close to the fp32 ones (bench/README.md, "int8", has the figures on all cases). The same for OneSAM,
// whose adapters' convolutions are int8 as well (QLinearConv).
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import * as ort from 'onnxruntime-node';
import { openRepository } from '../../src/models/repository.ts';
import { calibrationFolder, int8Request } from '../../src/pipeline/calibration-set.ts';
import { createSegmenter } from '../../src/pipeline/index.ts';
import { challengeCase } from '../../src/volume/challenge.ts';
import { dice, loadArrays, MODELS_DIR, PUBLIC_CASES } from '../helpers/cases.ts';
import { defaultPipelineConfig } from '../helpers/pipeline-config.ts';

/** The per-object DSC against fp32 this case must keep (measured 0.998 / 0.994 for its two objects, calibrated on itself; bench/README.md "int8"). */
const MIN_DSC = 0.98;
const CASE = '2DBox_US_0006.npz';
const root = mkdtempSync(join(tmpdir(), 'onesam-int8-'));
const cacheDir = join(root, 'cache');
const calibration = join(root, 'calibration');
after(() => rmSync(root, { recursive: true, force: true }));

test('an int8 build is cached under its own key beside fp32 and runs on the integer kernels', async (t) => {
  mkdirSync(calibration);
  symlinkSync(join(PUBLIC_CASES, 'imgs', CASE), join(calibration, CASE));
  const repo = await openRepository(MODELS_DIR, { cacheDir });
  const fp32 = await repo.ensureCompiled('litemedsam-demo');
  assert.equal(fp32.precision, 'fp32');
  const setting = { precision: 'int8', calibration, calibrationMethod: 'percentile' } as const;
  const int8 = await repo.ensureCompiled('litemedsam-demo', undefined, int8Request(setting));
  assert.equal(int8.precision, 'int8');
  assert.equal(int8.cached, false);
  assert.notEqual(int8.cacheKey, fp32.cacheKey);
  assert.match(int8.encoderPath, /[\\/]int8[\\/]/);
  // int8 attention and MLP weights; the convolutions and the downsampling / neck projections stay float.
  const ratio = readFileSync(int8.encoderPath).byteLength / readFileSync(fp32.encoderPath).byteLength;
  t.diagnostic(`int8 / fp32 encoder size ${ratio.toFixed(3)}`);
  assert.ok(ratio < 0.6, `int8 weights (size ratio ${ratio.toFixed(3)})`);
  // Both stay: neither build removes the other.
  assert.equal((await repo.ensureCompiled('litemedsam-demo')).cached, true);
  const again = await repo.ensureCompiled('litemedsam-demo', undefined, int8Request(setting));
  assert.deepEqual([again.cached, again.cacheKey], [true, int8.cacheKey]);
  // onnxruntime runs the attention and MLP matrix products on its integer kernel (the rest stays float by default).
  const session = await ort.InferenceSession.create(int8.encoderPath, { intraOpNumThreads: 1, enableProfiling: true, profileFilePrefix: join(root, 'profile') });
  await session.run({ image: new ort.Tensor('float32', calibrationFolder(calibration).inputs()[0]!, [1, 3, 256, 256]) });
  session.endProfiling();
  await session.release();
  const profile = readdirSync(root).find((f) => f.startsWith('profile'))!;
  const ops = new Set((JSON.parse(readFileSync(join(root, profile), 'utf8')) as { cat: string; args?: { op_name?: string } }[])
    .filter((e) => e.cat === 'Node').map((e) => e.args?.op_name));
  assert.ok(ops.has('MatMulIntegerToFloat'), `MatMulIntegerToFloat in the profile (ops: ${[...ops].join(', ')})`);
});

test(`int8 masks of ${CASE} against fp32: per-object DSC >= ${MIN_DSC}`, async (t) => {
  const base = { cacheDir, models: { litemedsam: 'litemedsam-demo' }, workers: 1, intraOpThreads: 1 };
  const fp32 = await createSegmenter(defaultPipelineConfig(base));
  const int8 = await createSegmenter(defaultPipelineConfig({ ...base, precisions: { litemedsam: { precision: 'int8', calibration, calibrationMethod: 'percentile' } } }));
  try {
    for (const name of [CASE]) {
      const kase = challengeCase(loadArrays('imgs', name), name);
      const req = { requestId: name, image: kase.image, objects: kase.objects, mode: 'litemedsam' } as const;
      const [a, b] = [await fp32.segment(req), await int8.segment(req)];
      for (let label = 1; label <= kase.objects.length; label++) {
        const { dsc } = dice(a.labels, b.labels, label);
        t.diagnostic(`${name} object ${label}: DSC ${dsc.toFixed(4)}`);
        assert.ok(dsc >= MIN_DSC, `${name} object ${label}: DSC ${dsc.toFixed(4)}`);
      }
    }
  } finally {
    await fp32.close();
    await int8.close();
  }
});

test(`OneSAM int8 (its adapters' convolutions on the integer kernel too): masks of ${CASE} against fp32, per-object DSC >= ${MIN_DSC}`, async (t) => {
  const setting = { precision: 'int8', calibration, calibrationMethod: 'percentile' } as const;
  const repo = await openRepository(MODELS_DIR, { cacheDir });
  const int8 = await repo.ensureCompiled('onesam-demo', undefined, int8Request(setting));
  const session = await ort.InferenceSession.create(int8.encoderPath, { intraOpNumThreads: 1, enableProfiling: true, profileFilePrefix: join(root, 'onesam-profile') });
  await session.run({ image: new ort.Tensor('float32', calibrationFolder(calibration).inputs()[0]!, [1, 3, 256, 256]) });
  session.endProfiling();
  await session.release();
  const profile = readdirSync(root).find((f) => f.startsWith('onesam-profile'))!;
  const ops = new Set((JSON.parse(readFileSync(join(root, profile), 'utf8')) as { cat: string; args?: { op_name?: string } }[])
    .filter((e) => e.cat === 'Node').map((e) => e.args?.op_name));
  assert.ok(ops.has('QLinearConv') && ops.has('MatMulIntegerToFloat'), `QLinearConv and MatMulIntegerToFloat in the profile (ops: ${[...ops].join(', ')})`);

  const base = { cacheDir, models: { onesam: 'onesam-demo' }, workers: 1, intraOpThreads: 1 };
  const fp32 = await createSegmenter(defaultPipelineConfig(base));
  const quantised = await createSegmenter(defaultPipelineConfig({ ...base, precisions: { onesam: setting } }));
  try {
    const kase = challengeCase(loadArrays('imgs', CASE), CASE);
    const req = { requestId: CASE, image: kase.image, objects: kase.objects, mode: 'onesam' } as const;
    const [a, b] = [await fp32.segment(req), await quantised.segment(req)];
    for (let label = 1; label <= kase.objects.length; label++) {
      const { dsc } = dice(a.labels, b.labels, label);
      t.diagnostic(`${CASE} object ${label}, OneSAM: DSC ${dsc.toFixed(4)}`);
      assert.ok(dsc >= MIN_DSC, `${CASE} object ${label}, OneSAM: DSC ${dsc.toFixed(4)}`);
    }
  } finally {
    await fp32.close();
    await quantised.close();
  }
});
