// The TinyViT image encoder graphs (LiteMedSAM, and OneSAM with adapters) against the reference PyTorch outputs.
// Each network's graph is built once and run once on a batch of the three golden images, which also checks
// that windows and adapters of different batch items never mix.
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as ort from 'onnxruntime-node';
import { goldenTensor, maxAbsDiff, weightsOf } from '../helpers/golden.ts';
import { CheckpointError } from '../../src/models/checkpoint/errors.ts';
import { IMAGE_ENCODER_IO } from '../../src/models/network-contract.ts';
import { buildImageEncoder, buildImageEncoderWithStages } from '../../src/models/networks/image-encoder.ts';

const TOLERANCE = 2e-3;
const CASES = ['case0', 'case1', 'maskprompt'] as const;
const IMAGE_SIZE = 3 * 256 * 256;


async function encodeBatch(model: string, graph: Uint8Array, cases: readonly string[]): Promise<ort.InferenceSession.OnnxValueMapType> {
  // 'all' is what the service runs with: it rewrites convolutions to NCHWc and fuses GELU/attention kernels.
  const session = await ort.InferenceSession.create(graph, { graphOptimizationLevel: 'all' });
  const images = new Float32Array(cases.length * IMAGE_SIZE);
  cases.forEach((c, i) => images.set(goldenTensor(`${model}.${c}.image`), i * IMAGE_SIZE));
  const out = await session.run({ [IMAGE_ENCODER_IO.input]: new ort.Tensor('float32', images, [cases.length, 3, 256, 256]) });
  await session.release();
  return out;
}

for (const [model, adapter] of [['litemedsam', false], ['onesam', true]] as const) {
  describe(`${model} image encoder (adapter ${adapter})`, () => {
    let out: ort.InferenceSession.OnnxValueMapType;
    before(async () => {
      out = await encodeBatch(model, buildImageEncoder(weightsOf(model), { adapter }), CASES);
    });

    it('emits (N,256,64,64) embeddings and (N,64,64,160) channels-last interm features', () => {
      assert.deepEqual(out[IMAGE_ENCODER_IO.embeddings]!.dims, [CASES.length, 256, 64, 64]);
      assert.deepEqual(out[IMAGE_ENCODER_IO.interm]!.dims, [CASES.length, 64, 64, 160]);
    });

    CASES.forEach((c, i) => {
      it(`${c}: embedding matches the reference within ${TOLERANCE}`, () => {
        const d = maxAbsDiff(out[IMAGE_ENCODER_IO.embeddings]!.data as Float32Array, i, goldenTensor(`${model}.${c}.embedding`));
        assert.ok(d <= TOLERANCE, `${model}.${c}.embedding max |diff| ${d}`);
      });
      if (model === 'onesam') {
        it(`${c}: interm (layers.1 output) matches the reference within ${TOLERANCE}`, () => {
          const d = maxAbsDiff(out[IMAGE_ENCODER_IO.interm]!.data as Float32Array, i, goldenTensor(`${model}.${c}.interm`));
          assert.ok(d <= TOLERANCE, `${model}.${c}.interm max |diff| ${d}`);
        });
      }
    });
  });
}

describe('litemedsam stage outputs', () => {
  it('layers.0..2 (each after PatchMerging) match the fp16 reference activations', async () => {
    const out = await encodeBatch('litemedsam', buildImageEncoderWithStages(weightsOf('litemedsam'), { adapter: false }), ['case0']);
    for (const layer of ['layer0', 'layer1', 'layer2']) {
      const ref = goldenTensor(`litemedsam.case0.${layer}`);
      const got = out[layer]!.data as Float32Array;
      assert.equal(got.length, ref.length, `${layer} size`);
      // The reference stored these in fp16: allow one fp16 ulp relative to the value, plus a small absolute slack.
      let worst = 0;
      for (let i = 0; i < ref.length; i++) worst = Math.max(worst, Math.abs(got[i]! - ref[i]!) / (1e-4 + Math.abs(ref[i]!) * 2 ** -10));
      assert.ok(worst <= 1, `${layer}: worst diff is ${worst.toFixed(2)}x the fp16 tolerance`);
    }
  });
});

describe('checkpoint problems', () => {
  it('a missing weight throws CHECKPOINT_ARCH_MISMATCH naming the key', () => {
    const missing = 'image_encoder.layers.2.blocks.3.attn.qkv.weight';
    const weights = new Map(weightsOf('litemedsam'));
    weights.delete(missing);
    assert.throws(() => buildImageEncoder(weights, { adapter: false }),
      (e: unknown) => e instanceof CheckpointError && e.code === 'CHECKPOINT_ARCH_MISMATCH' && e.message.includes(missing));
  });

  it('asking for adapters on a checkpoint without them names the first adapter key', () => {
    assert.throws(() => buildImageEncoder(weightsOf('litemedsam'), { adapter: true }),
      (e: unknown) => e instanceof CheckpointError && /image_encoder\.layers\.1\.blocks\.0\.Adapter\./.test(e.message));
  });

  it('a misshapen weight throws naming the key and both shapes', () => {
    const key = 'image_encoder.neck.2.weight';
    const weights = new Map(weightsOf('litemedsam'));
    const t = weights.get(key)!;
    weights.set(key, { ...t, shape: [256, 256, 9] });
    assert.throws(() => buildImageEncoder(weights, { adapter: false }),
      (e: unknown) => e instanceof CheckpointError && e.message.includes(key) && e.message.includes('[256,256,9]') && e.message.includes('[256,256,3,3]'));
  });
});
