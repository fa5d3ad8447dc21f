// Builds SAM's prompt encoder + mask decoder (LiteMedSAM, spec 5.5/5.6) or the SAM-HQ mask decoder (OneSAM, 5.7)
// as ONE ONNX graph per network. A call decodes B prompts against one image embedding; every constant (dense
// positional encoding, output tokens, label embeddings) is computed here at build time.
import type { StateDict } from '../checkpoint/tensor.ts';
import { PROMPT_DECODER_IO } from '../network-contract.ts';
import { GraphBuilder } from '../onnx/graph.ts';
import { reshape, transpose } from '../onnx/ops.ts';
import { EMBED_DIM, GRID, INPUT_SIZE, LOGITS_SIZE, VIT_DIM } from './decoder/config.ts';
import { maskDecoder } from './decoder/mask-decoder.ts';
import { densePositionalEncoding, densePositionalTokens, densePromptTokens, gaussianMatrix, sparsePromptEmbedding } from './decoder/prompt-encoder.ts';
import { DecoderWeights } from './decoder/weights.ts';

export { boxesToPointPrompts, POINT_LABEL, type PointPrompts } from './decoder/point-prompts.ts';

export interface PromptDecoderOptions {
  /** true for the OneSAM checkpoint: MaskDecoderHQ, with the extra `interm_embeddings` input. */
  hq: boolean;
}

/** Extra outputs of buildPromptDecoderWithProbes, for comparing the prompt encoder with the reference. */
export const PROMPT_DECODER_PROBES = {
  /** (B,P,256) */
  sparseEmbeddings: 'sparse_embeddings',
  /** (B,256,64,64) */
  denseEmbeddings: 'dense_embeddings',
} as const;

function build(weights: StateDict, opts: PromptDecoderOptions, probes: boolean): Uint8Array {
  const io = PROMPT_DECODER_IO;
  const w = new DecoderWeights(weights);
  const g = new GraphBuilder(opts.hq ? 'onesam_prompt_decoder' : 'litemedsam_prompt_decoder');
  const embeddings = g.input(io.imageEmbeddings, [1, EMBED_DIM, GRID, GRID]);
  const interm = opts.hq ? g.input(io.intermEmbeddings, [1, GRID, GRID, VIT_DIM]) : undefined;
  const coords = g.input(io.pointCoords, ['B', 'P', 2]);
  const labels = g.input(io.pointLabels, ['B', 'P']);
  const maskInput = g.input(io.maskInput, ['B', 1, INPUT_SIZE, INPUT_SIZE]);
  const hasMaskInput = g.input(io.hasMaskInput, ['B']);

  const sparse = sparsePromptEmbedding(g, w, coords, labels);
  const dense = densePromptTokens(g, w, maskInput, hasMaskInput);
  const image = reshape(g, transpose(g, embeddings, [0, 2, 3, 1], 'image_tokens'), [1, GRID * GRID, EMBED_DIM], 'image_tokens');
  const imagePe = g.f32('dense_pe', densePositionalTokens(gaussianMatrix(w)), [1, GRID * GRID, EMBED_DIM]);
  const batch = g.op('Shape', [labels], { start: 0, end: 1 }, { name: 'batch' });

  const out = maskDecoder(g, w, { image, ...(interm ? { interm } : {}), sparse, dense, imagePe, batch }, opts.hq);
  g.output(out.logits, io.lowResLogits, ['B', 1, LOGITS_SIZE, LOGITS_SIZE]);
  g.output(out.iou, io.iouPredictions, ['B', 1]);
  if (probes) {
    g.output(sparse, PROMPT_DECODER_PROBES.sparseEmbeddings, ['B', 'P', EMBED_DIM]);
    const denseNchw = transpose(g, reshape(g, dense, [0, GRID, GRID, EMBED_DIM], 'dense_probe'), [0, 3, 1, 2], 'dense_probe');
    g.output(denseNchw, PROMPT_DECODER_PROBES.denseEmbeddings, ['B', EMBED_DIM, GRID, GRID]);
  }
  return g.toBytes({ network: opts.hq ? 'sam_hq_mask_decoder' : 'sam_mask_decoder', hq: String(opts.hq) });
}

/**
 * Builds the decoder graph. Inputs (B prompts decoded together against one image):
 * - `image_embeddings` float32 (1,256,64,64); `interm_embeddings` (1,64,64,160) channels-last, hq graph only;
 * - `point_coords` (B,P,2) as (x,y) in 256-space and `point_labels` (B,P) with POINT_LABEL values: 1 foreground,
 *   0 background, -1 padding, 2/3 a box's corners (see boxesToPointPrompts). P may be 0 (mask-only prompt).
 *   Points without a box need an explicit padding point (0,0) labelled -1 appended, as SAM's prompt encoder adds
 *   one itself when no box is given; prompts with a box have no padding point;
 * - `mask_input` (B,1,256,256) and `has_mask_input` (B): 1 uses mask_downscaling(mask_input) as the dense prompt,
 *   0 uses no_mask_embed (then mask_input is ignored; zeros will do).
 * Outputs `low_res_logits` (B,1,256,256) (mask token 0; for hq plus the HQ-token logits) and `iou_predictions` (B,1).
 * A missing or misshapen weight throws CHECKPOINT_ARCH_MISMATCH naming the key.
 */
export function buildPromptDecoder(weights: StateDict, opts: PromptDecoderOptions): Uint8Array {
  return build(weights, opts, false);
}

/** The same graph with the PROMPT_DECODER_PROBES outputs added (sparse and dense prompt embeddings). */
export function buildPromptDecoderWithProbes(weights: StateDict, opts: PromptDecoderOptions): Uint8Array {
  return build(weights, opts, true);
}

/** The constant image positional encoding (get_dense_pe) the graph uses, (256,64,64) channel-major. */
export function imagePositionalEncoding(weights: StateDict): Float32Array {
  return densePositionalEncoding(gaussianMatrix(new DecoderWeights(weights)));
}
