// SAM's TwoWayTransformer (spec 5.6): prompt tokens and image tokens attend to each other in both directions.
// Tokens are channels-last throughout: queries (B,T,256), keys (B,4096,256), so every Linear is a MatMul.
import type { GraphBuilder } from '../../onnx/graph.ts';
import { layerNorm, linear, relu, reshape, transpose } from '../../onnx/ops.ts';
import { ATTENTION_DOWNSAMPLE, EMBED_DIM, HEADS, LAYER_NORM_EPS, MLP_DIM, TRANSFORMER_DEPTH } from './config.ts';
import type { DecoderWeights } from './weights.ts';

const T = 'mask_decoder.transformer.';

function project(g: GraphBuilder, w: DecoderWeights, x: string, key: string, out: number, inp: number): string {
  const l = w.linear(key, out, inp);
  return linear(g, x, l.weight, [out, inp], l.bias, key);
}

/**
 * SAM's Attention with `downsample` r: q/k/v projected to 256/r channels, split into HEADS contiguous slices,
 * softmax(q k^T / sqrt(c)) v per head, recombined and projected back to 256.
 */
function attention(g: GraphBuilder, w: DecoderWeights, key: string, q: string, k: string, v: string, downsample: number): string {
  const inner = EMBED_DIM / downsample;
  const headDim = inner / HEADS;
  const split = (x: string, perm: number[], part: string): string =>
    transpose(g, reshape(g, x, [0, -1, HEADS, headDim], `${key}.${part}`), perm, `${key}.${part}`);
  const qh = split(project(g, w, q, `${key}.q_proj`, inner, EMBED_DIM), [0, 2, 1, 3], 'q');
  const kh = split(project(g, w, k, `${key}.k_proj`, inner, EMBED_DIM), [0, 2, 3, 1], 'k');
  const vh = split(project(g, w, v, `${key}.v_proj`, inner, EMBED_DIM), [0, 2, 1, 3], 'v');
  // Divide after the product, as the reference does, rather than folding the scale into q_proj.
  const scores = g.op('Div', [g.op('MatMul', [qh, kh], {}, { name: key }), g.scalar(Math.sqrt(headDim))], {}, { name: key });
  const heads = g.op('MatMul', [g.op('Softmax', [scores], { axis: -1 }, { name: key }), vh], {}, { name: key });
  const merged = reshape(g, transpose(g, heads, [0, 2, 1, 3], key), [0, -1, inner], key);
  const o = w.linear(`${key}.out_proj`, EMBED_DIM, inner);
  return linear(g, merged, o.weight, [EMBED_DIM, inner], o.bias, `${key}.out_proj`);
}

function norm(g: GraphBuilder, w: DecoderWeights, x: string, key: string): string {
  const n = w.norm(key, EMBED_DIM);
  return layerNorm(g, x, n.weight, n.bias, LAYER_NORM_EPS, key);
}

const add = (g: GraphBuilder, a: string, b: string, name: string): string => g.op('Add', [a, b], {}, { name });

export interface TransformerValues {
  /** (B,T,256) prompt tokens after the final token-to-image attention. */
  readonly queries: string;
  /** (B,4096,256) image tokens after the last image-to-token attention. */
  readonly keys: string;
}

/**
 * Runs the transformer. `tokens` (B,T,256) are both the initial queries and their positional encoding (query_pe);
 * `image` (B,4096,256) the initial keys; `imagePe` (1,4096,256) the key_pe, broadcast over the batch.
 */
export function twoWayTransformer(g: GraphBuilder, w: DecoderWeights, tokens: string, image: string, imagePe: string): TransformerValues {
  let queries = tokens;
  let keys = image;
  for (let i = 0; i < TRANSFORMER_DEPTH; i++) {
    const key = `${T}layers.${i}`;
    // Layer 0 skips the query PE and its self-attention output replaces the queries (no residual).
    if (i === 0) {
      queries = attention(g, w, `${key}.self_attn`, queries, queries, queries, 1);
    } else {
      const q = add(g, queries, tokens, key);
      queries = add(g, queries, attention(g, w, `${key}.self_attn`, q, q, queries, 1), key);
    }
    queries = norm(g, w, queries, `${key}.norm1`);

    let q = add(g, queries, tokens, key);
    let k = add(g, keys, imagePe, key);
    queries = norm(g, w, add(g, queries, attention(g, w, `${key}.cross_attn_token_to_image`, q, k, keys, ATTENTION_DOWNSAMPLE), key), `${key}.norm2`);

    const hidden = relu(g, project(g, w, queries, `${key}.mlp.lin1`, MLP_DIM, EMBED_DIM));
    queries = norm(g, w, add(g, queries, project(g, w, hidden, `${key}.mlp.lin2`, EMBED_DIM, MLP_DIM), key), `${key}.norm3`);

    // Image tokens attend to the prompt tokens: the image side is the query here.
    q = add(g, queries, tokens, key);
    k = add(g, keys, imagePe, key);
    keys = norm(g, w, add(g, keys, attention(g, w, `${key}.cross_attn_image_to_token`, k, q, queries, ATTENTION_DOWNSAMPLE), key), `${key}.norm4`);
  }
  const q = add(g, queries, tokens, `${T}final`);
  const k = add(g, keys, imagePe, `${T}final`);
  queries = add(g, queries, attention(g, w, `${T}final_attn_token_to_image`, q, k, keys, ATTENTION_DOWNSAMPLE), `${T}final`);
  return { queries: norm(g, w, queries, `${T}norm_final_attn`), keys };
}
