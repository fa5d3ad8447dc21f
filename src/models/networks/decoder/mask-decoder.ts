// SAM's MaskDecoder and OneSAM's MaskDecoderHQ (spec 5.6, 5.7) with multimask_output=False: only mask token 0
// (plus, for HQ, the HQ token with hq_token_only=False) and IoU 0 are computed.
import type { GraphBuilder } from '../../onnx/graph.ts';
import { reshape, transpose } from '../../onnx/ops.ts';
import { EMBED_DIM, GRID, LOGITS_SIZE, MASK_TOKENS, UPSCALED_DIM, VIT_DIM } from './config.ts';
import { blockedLogitsToImage, maskFeature, tokenMlp, tokensToNchw, upscale4x } from './mask-heads.ts';
import { twoWayTransformer } from './two-way-transformer.ts';
import type { DecoderWeights } from './weights.ts';

const D = 'mask_decoder.';

export interface MaskDecoderInputs {
  /** Raw image embedding as tokens (1, GRID*GRID, 256), shared by every prompt of the batch. */
  readonly image: string;
  /** HQ only: TinyViT layers.1 output, channels-last (1, GRID, GRID, VIT_DIM). */
  readonly interm?: string;
  /** (B,P,256) sparse prompt embeddings. */
  readonly sparse: string;
  /** (B, GRID*GRID, 256) dense prompt embeddings as tokens. */
  readonly dense: string;
  /** (1, GRID*GRID, 256) dense positional encoding as tokens. */
  readonly imagePe: string;
  /** int64 [B]. */
  readonly batch: string;
}

export interface MaskDecoderOutputs {
  /** (B,1,256,256) */
  readonly logits: string;
  /** (B,1) */
  readonly iou: string;
}

function token(g: GraphBuilder, queries: string, index: number): string {
  return g.op('Slice', [queries, g.i64([index]), g.i64([index + 1]), g.i64([1])], {}, { name: `${D}token${index}` });
}

/** Output tokens [iou, mask 0..3(, hf)] expanded to the batch, followed by the sparse prompt tokens. */
function promptTokens(g: GraphBuilder, w: DecoderWeights, sparse: string, batch: string, hq: boolean): string {
  const fixed = [w.f32(`${D}iou_token.weight`, [1, EMBED_DIM]), w.f32(`${D}mask_tokens.weight`, [MASK_TOKENS, EMBED_DIM])];
  if (hq) fixed.push(w.f32(`${D}hf_token.weight`, [1, EMBED_DIM]));
  const count = fixed.reduce((n, t) => n + t.length / EMBED_DIM, 0);
  const table = new Float32Array(count * EMBED_DIM);
  fixed.reduce((offset, t) => (table.set(t, offset), offset + t.length), 0);
  const shape = g.op('Concat', [batch, g.i64([count, EMBED_DIM])], { axis: 0 }, { name: `${D}tokens` });
  const expanded = g.op('Expand', [g.f32(`${D}output_tokens`, table, [1, count, EMBED_DIM]), shape], {}, { name: `${D}tokens` });
  return g.op('Concat', [expanded, sparse], { axis: 1 }, { name: `${D}tokens` });
}

export function maskDecoder(g: GraphBuilder, w: DecoderWeights, inputs: MaskDecoderInputs, hq: boolean): MaskDecoderOutputs {
  const tokens = promptTokens(g, w, inputs.sparse, inputs.batch, hq);
  // repeat_interleave of the one image embedding: the broadcasting Add makes it (B,4096,256).
  const src = g.op('Add', [inputs.image, inputs.dense], {}, { name: `${D}src` });
  const { queries, keys } = twoWayTransformer(g, w, tokens, src, inputs.imagePe);

  const iouHead = tokenMlp(g, w, token(g, queries, 0), 'iou_prediction_head', MASK_TOKENS, 1);
  const iou = g.op('Squeeze', [iouHead, g.i64([2])], {}, { name: `${D}iou` });
  const hyper0 = tokenMlp(g, w, token(g, queries, 1), 'output_hypernetworks_mlps.0', UPSCALED_DIM);
  const hyper0Column = transpose(g, hyper0, [0, 2, 1], `${D}mask0`);

  if (!hq) {
    // Weigh the blocked features first, then reorder only the one-channel result.
    const upscaled = upscale4x(g, w, keys, 'output_upscaling', EMBED_DIM, EMBED_DIM / 4, true, 'blocked');
    const blocked = g.op('MatMul', [upscaled, hyper0Column], {}, { name: `${D}mask0` });
    return { logits: blockedLogitsToImage(g, blocked, `${D}mask0`), iou };
  }

  if (!inputs.interm) throw new Error('the HQ mask decoder needs the interm_embeddings input');
  const pixels = LOGITS_SIZE * LOGITS_SIZE;
  const upSam = upscale4x(g, w, keys, 'output_upscaling', EMBED_DIM, EMBED_DIM / 4, true, 'tokens');
  // hq_features depend on the image only: computed once at batch 1 and broadcast over the prompts.
  const vit = reshape(g, inputs.interm, [1, GRID * GRID, VIT_DIM], `${D}compress_vit_feat`);
  const hqFeatures = g.op('Add', [
    upscale4x(g, w, inputs.image, 'embedding_encoder', EMBED_DIM, EMBED_DIM / 4, false, 'tokens'),
    upscale4x(g, w, vit, 'compress_vit_feat', VIT_DIM, EMBED_DIM, false, 'tokens'),
  ], {}, { name: `${D}hq_features` });
  const upHq = g.op('Add', [
    maskFeature(g, w, upSam),
    tokensToNchw(g, hqFeatures, LOGITS_SIZE, UPSCALED_DIM, `${D}hq_features`),
  ], {}, { name: `${D}upscaled_hq` });

  const hyperHq = tokenMlp(g, w, token(g, queries, 1 + MASK_TOKENS), 'hf_mlp', UPSCALED_DIM);
  const maskSam = reshape(g, g.op('MatMul', [upSam, hyper0Column], {}, { name: `${D}mask0` }), [0, 1, pixels], `${D}mask0`);
  const maskHq = g.op('MatMul', [hyperHq, reshape(g, upHq, [0, UPSCALED_DIM, pixels], `${D}mask_hq`)], {}, { name: `${D}mask_hq` });
  // hq_token_only=False: the SAM token-0 logits plus the HQ token logits.
  const logits = g.op('Add', [maskSam, maskHq], {}, { name: `${D}logits` });
  return { logits: reshape(g, logits, [0, 1, LOGITS_SIZE, LOGITS_SIZE], `${D}logits`), iou };
}
