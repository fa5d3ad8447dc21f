// The prompt encoder + mask decoder graphs (LiteMedSAM's SAM decoder, OneSAM's SAM-HQ decoder) against the
// reference PyTorch outputs. The golden image embeddings (and HQ interm features) are the decoder inputs, so
// these tests do not depend on the image encoder.
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as ort from 'onnxruntime-node';
import { goldenTensor, maxAbsDiff, weightsOf } from '../helpers/golden.ts';
import { CheckpointError } from '../../src/models/checkpoint/errors.ts';
import { PROMPT_DECODER_IO as IO } from '../../src/models/network-contract.ts';
import {
  boxesToPointPrompts, buildPromptDecoder, buildPromptDecoderWithProbes, imagePositionalEncoding, POINT_LABEL,
  PROMPT_DECODER_PROBES as PROBES,
} from '../../src/models/networks/prompt-decoder.ts';

const LOGITS_TOLERANCE = 2e-2;
const IOU_TOLERANCE = 1e-3;
const DENSE_TOLERANCE = 2e-3;
const DENSE_PE_TOLERANCE = 1e-4;
/** Sparse embeddings are a few float32 ops on the prompt: boxes as corner points must agree to float noise. */
const SPARSE_TOLERANCE = 1e-5;
const MASK_SIZE = 256 * 256;


interface Prompts {
  readonly batch: number;
  readonly points: number;
  readonly coords: Float32Array;
  readonly labels: Float32Array;
  /** (B,1,256,256) and (B); absent: no mask prompt. */
  readonly mask?: { readonly input: Float32Array; readonly has: Float32Array };
}

function boxPrompts(boxes256: Float32Array): Prompts {
  const p = boxesToPointPrompts(boxes256);
  return { batch: boxes256.length / 4, points: p.pointsPerPrompt, coords: p.coords, labels: p.labels };
}

type Outputs = ort.InferenceSession.OnnxValueMapType;

for (const [model, hq] of [['litemedsam', false], ['onesam', true]] as const) {
  describe(`${model} prompt decoder (hq ${hq})`, () => {
    let session: ort.InferenceSession;
    before(async () => {
      session = await ort.InferenceSession.create(buildPromptDecoderWithProbes(weightsOf(model), { hq }), { graphOptimizationLevel: 'all' });
    });

    /** Decodes `prompts` against the golden embedding (and interm) of `imageCase`. */
    async function decode(imageCase: string, prompts: Prompts): Promise<Outputs> {
      const { batch, points } = prompts;
      const feeds: Record<string, ort.Tensor> = {
        [IO.imageEmbeddings]: new ort.Tensor('float32', goldenTensor(`${model}.${imageCase}.embedding`), [1, 256, 64, 64]),
        [IO.pointCoords]: new ort.Tensor('float32', prompts.coords, [batch, points, 2]),
        [IO.pointLabels]: new ort.Tensor('float32', prompts.labels, [batch, points]),
        [IO.maskInput]: new ort.Tensor('float32', prompts.mask?.input ?? new Float32Array(batch * MASK_SIZE), [batch, 1, 256, 256]),
        [IO.hasMaskInput]: new ort.Tensor('float32', prompts.mask?.has ?? new Float32Array(batch), [batch]),
      };
      if (hq) feeds[IO.intermEmbeddings] = new ort.Tensor('float32', goldenTensor(`${model}.${imageCase}.interm`), [1, 64, 64, 160]);
      const out = await session.run(feeds);
      assert.deepEqual(out[IO.lowResLogits]!.dims, [batch, 1, 256, 256]);
      assert.deepEqual(out[IO.iouPredictions]!.dims, [batch, 1]);
      return out;
    }

    function assertMatches(out: Outputs, index: number, goldenCase: string, goldenIndex = 0, checkIou = true): void {
      const logits = goldenTensor(`${model}.${goldenCase}.low_res_logits`);
      const d = maxAbsDiff(out[IO.lowResLogits]!.data as Float32Array, index, logits.subarray(goldenIndex * MASK_SIZE, (goldenIndex + 1) * MASK_SIZE));
      assert.ok(d <= LOGITS_TOLERANCE, `${model}.${goldenCase}[${goldenIndex}] low_res_logits max |diff| ${d}`);
      if (!checkIou) return;
      const iou = goldenTensor(`${model}.${goldenCase}.iou`);
      const di = maxAbsDiff(out[IO.iouPredictions]!.data as Float32Array, index, iou.subarray(goldenIndex, goldenIndex + 1));
      assert.ok(di <= IOU_TOLERANCE, `${model}.${goldenCase}[${goldenIndex}] iou max |diff| ${di}`);
    }

    function assertSparse(out: Outputs, goldenCase: string): void {
      const d = maxAbsDiff(out[PROBES.sparseEmbeddings]!.data as Float32Array, 0, goldenTensor(`${model}.${goldenCase}.sparse`));
      assert.ok(d <= SPARSE_TOLERANCE, `${model}.${goldenCase}.sparse max |diff| ${d}`);
    }

    for (const c of ['case0', 'case1']) {
      it(`${c}: a box as two corner points (labels 2, 3) gives the reference box embedding, logits and IoU`, async () => {
        const out = await decode(c, boxPrompts(goldenTensor(`${model}.${c}.box`)));
        assertSparse(out, c);
        assertMatches(out, 0, c);
      });
    }

    it('multibox: three boxes decoded in one batched call match the reference per box', async () => {
      const out = await decode('case0', boxPrompts(goldenTensor(`${model}.multibox.boxes`)));
      for (let b = 0; b < 3; b++) assertMatches(out, b, 'multibox', b);
    });

    it('points: labels 1, 1, 0 plus the explicit padding point give the reference sparse embedding and logits', async () => {
      const coords = goldenTensor(`${model}.points.coords`);
      const labels = goldenTensor(`${model}.points.labels`);
      // SAM appends a (0,0) point labelled -1 when no box is given; the graph expects the caller to do so.
      const prompts: Prompts = {
        batch: 1, points: labels.length + 1,
        coords: Float32Array.from([...coords, 0, 0]),
        labels: Float32Array.from([...labels, POINT_LABEL.padding]),
      };
      const out = await decode('case0', prompts);
      assertSparse(out, 'points');
      // The reference stored no IoU for this case.
      assertMatches(out, 0, 'points', 0, false);
    });

    it('maskprompt: a mask-only prompt (no points: P = 0) gives the reference dense embedding, logits and IoU', async () => {
      const out = await decode('maskprompt', {
        batch: 1, points: 0, coords: new Float32Array(0), labels: new Float32Array(0),
        mask: { input: goldenTensor(`${model}.maskprompt.mask_input`), has: Float32Array.of(1) },
      });
      const d = maxAbsDiff(out[PROBES.denseEmbeddings]!.data as Float32Array, 0, goldenTensor(`${model}.maskprompt.dense`));
      assert.ok(d <= DENSE_TOLERANCE, `${model}.maskprompt.dense max |diff| ${d}`);
      assertMatches(out, 0, 'maskprompt');
    });

    it('has_mask_input selects per prompt: 0 ignores mask_input and uses no_mask_embed', async () => {
      const mask = goldenTensor(`${model}.maskprompt.mask_input`);
      const input = new Float32Array(2 * MASK_SIZE);
      input.set(mask, 0);
      input.set(mask, MASK_SIZE);
      const out = await decode('maskprompt', {
        batch: 2, points: 0, coords: new Float32Array(0), labels: new Float32Array(0), mask: { input, has: Float32Array.of(0, 1) },
      });
      const noMask = weightsOf(model).get('prompt_encoder.no_mask_embed.weight')!.data;
      const dense = out[PROBES.denseEmbeddings]!.data as Float32Array;
      for (let c = 0; c < 256; c++) {
        const plane = dense.subarray(c * 4096, (c + 1) * 4096);
        assert.ok(plane.every((v) => v === noMask[c]), `prompt 0 dense channel ${c} is no_mask_embed`);
      }
      assertMatches(out, 1, 'maskprompt');
    });

    it(`the graph's inputs are exactly those of the ${hq ? 'HQ' : 'SAM'} decoder`, async () => {
      const plain = await ort.InferenceSession.create(buildPromptDecoder(weightsOf(model), { hq }));
      const expected = [IO.imageEmbeddings, ...(hq ? [IO.intermEmbeddings] : []), IO.pointCoords, IO.pointLabels, IO.maskInput, IO.hasMaskInput];
      assert.deepEqual(plain.inputNames, expected);
      assert.deepEqual(plain.outputNames, [IO.lowResLogits, IO.iouPredictions]);
      await plain.release();
    });
  });
}

describe('prompt constants and helpers', () => {
  it('the dense positional encoding (get_dense_pe) matches the reference', () => {
    const d = maxAbsDiff(imagePositionalEncoding(weightsOf('litemedsam')), 0, goldenTensor('litemedsam.case0.dense_pe'));
    assert.ok(d <= DENSE_PE_TOLERANCE, `dense_pe max |diff| ${d}`);
  });

  it('boxesToPointPrompts turns (B,4) boxes into corner points labelled 2 and 3', () => {
    const p = boxesToPointPrompts(Float32Array.of(1, 2, 30, 40, 5, 6, 70, 80));
    assert.deepEqual([...p.coords], [1, 2, 30, 40, 5, 6, 70, 80]);
    assert.deepEqual([...p.labels], [2, 3, 2, 3]);
    assert.equal(p.pointsPerPrompt, 2);
    assert.throws(() => boxesToPointPrompts(new Float32Array(6)), /multiple of 4/);
  });
});

describe('decoder checkpoint problems', () => {
  it('a missing decoder weight throws CHECKPOINT_ARCH_MISMATCH naming the key', () => {
    const missing = 'mask_decoder.transformer.layers.1.cross_attn_image_to_token.v_proj.weight';
    const weights = new Map(weightsOf('litemedsam'));
    weights.delete(missing);
    assert.throws(() => buildPromptDecoder(weights, { hq: false }),
      (e: unknown) => e instanceof CheckpointError && e.code === 'CHECKPOINT_ARCH_MISMATCH' && e.message.includes(missing));
  });

  it('asking for the HQ decoder on a checkpoint without it names the first HQ key', () => {
    assert.throws(() => buildPromptDecoder(weightsOf('litemedsam'), { hq: true }),
      (e: unknown) => e instanceof CheckpointError && e.message.includes('mask_decoder.hf_token.weight'));
  });

  it('a misshapen weight throws naming the key and both shapes', () => {
    const key = 'mask_decoder.output_upscaling.0.weight';
    const weights = new Map(weightsOf('litemedsam'));
    weights.set(key, { ...weights.get(key)!, shape: [64, 256, 2, 2] });
    assert.throws(() => buildPromptDecoder(weights, { hq: false }),
      (e: unknown) => e instanceof CheckpointError && e.message.includes(key) && e.message.includes('[64,256,2,2]') && e.message.includes('[256,64,2,2]'));
  });
});
