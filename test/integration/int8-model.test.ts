// `precision: int8` end to end on the demo LiteMedSAM: the repository builds the quantised encoder from a
// calibration folder (one small public case keeps this cheap), caches it under its own key beside the fp32
// build (keys per calibration set: test/unit/repository-int8.test.ts), the graph runs on onnxruntime's int8 kernels, and the pipeline's
// masks stay close to the fp32 ones (bench/README.md, "int8", has the figures on all cases). The same for OneSAM,
// whose adapters' convolutions are int8 as well (QLinearConv).
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test, type TestContext } from 'node:test';
import * as ort from 'onnxruntime-node';
import type { NetworkName } from '../../src/models/network-contract.ts';
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
const SETTING = { precision: 'int8', calibration, calibrationMethod: 'percentile' } as const;
after(() => rmSync(root, { recursive: true, force: true }));

test('an int8 build is cached under its own key beside fp32 and runs on the integer kernels', async (t) => {
  mkdirSync(calibration);
  symlinkSync(join(PUBLIC_CASES, 'imgs', CASE), join(calibration, CASE));
  const repo = await openRepository(MODELS_DIR, { cacheDir });
  const fp32 = await repo.ensureCompiled('litemedsam-demo');
  assert.equal(fp32.precision, 'fp32');
  const int8 = await repo.ensureCompiled('litemedsam-demo', undefined, int8Request(SETTING));
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
  const again = await repo.ensureCompiled('litemedsam-demo', undefined, int8Request(SETTING));
  assert.deepEqual([again.cached, again.cacheKey], [true, int8.cacheKey]);
  // onnxruntime runs the attention and MLP matrix products on its integer kernel (the rest stays float by default).
  const ops = await profiledOps(int8.encoderPath, 'litemedsam-profile');
  assert.ok(ops.has('MatMulIntegerToFloat'), `MatMulIntegerToFloat in the profile (ops: ${[...ops].join(', ')})`);
});

test(`int8 masks of ${CASE} against fp32: per-object DSC >= ${MIN_DSC}`, (t) => masksAgainstFp32('litemedsam', 'litemedsam-demo', t));

test(`OneSAM int8 (its adapters' convolutions on the integer kernel too): masks of ${CASE} against fp32, per-object DSC >= ${MIN_DSC}`, async (t) => {
  const repo = await openRepository(MODELS_DIR, { cacheDir });
  const int8 = await repo.ensureCompiled('onesam-demo', undefined, int8Request(SETTING));
  const ops = await profiledOps(int8.encoderPath, 'onesam-profile');
  assert.ok(ops.has('QLinearConv') && ops.has('MatMulIntegerToFloat'), `QLinearConv and MatMulIntegerToFloat in the profile (ops: ${[...ops].join(', ')})`);
  await masksAgainstFp32('onesam', 'onesam-demo', t);
});

/** The operators onnxruntime's profiler saw in one run of an encoder graph on the calibration case. */
async function profiledOps(encoderPath: string, prefix: string): Promise<Set<string | undefined>> {
  const session = await ort.InferenceSession.create(encoderPath, { intraOpNumThreads: 1, enableProfiling: true, profileFilePrefix: join(root, prefix) });
  await session.run({ image: new ort.Tensor('float32', calibrationFolder(calibration).inputs()[0]!, [1, 3, 256, 256]) });
  session.endProfiling();
  await session.release();
  const profile = readdirSync(root).find((f) => f.startsWith(prefix))!;
  return new Set((JSON.parse(readFileSync(join(root, profile), 'utf8')) as { cat: string; args?: { op_name?: string } }[])
    .filter((e) => e.cat === 'Node').map((e) => e.args?.op_name));
}

/** CASE segmented by one network in fp32 and in int8: every object's DSC between the two at least MIN_DSC. */
async function masksAgainstFp32(network: NetworkName, model: string, t: TestContext): Promise<void> {
  const base = { cacheDir, models: { [network]: model }, workers: 1, intraOpThreads: 1 };
  const fp32 = await createSegmenter(defaultPipelineConfig(base));
  const int8 = await createSegmenter(defaultPipelineConfig({ ...base, precisions: { [network]: SETTING } }));
  try {
    const kase = challengeCase(loadArrays('imgs', CASE), CASE);
    const req = { requestId: CASE, image: kase.image, objects: kase.objects, mode: network } as const;
    const [a, b] = [await fp32.segment(req), await int8.segment(req)];
    for (let label = 1; label <= kase.objects.length; label++) {
      const { dsc } = dice(a.labels, b.labels, label);
      t.diagnostic(`${CASE} object ${label}, ${network}: DSC ${dsc.toFixed(4)}`);
      assert.ok(dsc >= MIN_DSC, `${CASE} object ${label}, ${network}: DSC ${dsc.toFixed(4)}`);
    }
  } finally {
    await fp32.close();
    await int8.close();
  }
}
