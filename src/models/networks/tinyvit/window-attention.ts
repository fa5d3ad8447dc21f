// TinyViT's windowed multi-head self-attention with a learned relative position bias (spec 5.3), on
// channels-last activations (B,H,W,C). The graph pads, partitions into windows, attends, and reverses.
import type { GraphBuilder } from '../../onnx/graph.ts';
import { applyLayerNorm, applyLinear, bands, layerNormWeights, linearWeights, reshape, sliceAxis, transpose } from '../../onnx/ops.ts';
import { LAYER_NORM_EPS } from './config.ts';
import type { EncoderWeights } from './weights.ts';

/** TinyViT's key_dim (= value dim, attn_ratio 1): dim/heads is 32 in every stage of this configuration. */
const HEAD_DIM = 32;
export interface WindowGeometry {
  readonly dim: number;
  readonly heads: number;
  /** Window side. */
  readonly ws: number;
  /** Side of the (square) feature map. */
  readonly res: number;
}

/**
 * Expands `attention_biases` (heads, ws*ws) into the constant (heads, N, N) bias, N = ws*ws, with
 * idx[n1][n2] = |r1-r2|*ws + |c1-c2| for window tokens n = r*ws + c (the table TinyViT builds by insertion order).
 */
export function relativePositionBias(biases: Float32Array, heads: number, ws: number): Float32Array {
  const n = ws * ws;
  const out = new Float32Array(heads * n * n);
  for (let h = 0; h < heads; h++) {
    for (let n1 = 0; n1 < n; n1++) {
      const r1 = Math.floor(n1 / ws), c1 = n1 % ws;
      for (let n2 = 0; n2 < n; n2++) {
        const r2 = Math.floor(n2 / ws), c2 = n2 % ws;
        out[(h * n + n1) * n + n2] = biases[h * n + Math.abs(r1 - r2) * ws + Math.abs(c1 - c2)]!;
      }
    }
  }
  return out;
}

/**
 * Rearranges PyTorch's qkv Linear (3C, C), whose outputs are per-head interleaved (head h owns rows
 * [h*96, h*96+96) as q|k|v), into the (C, 3C) input-major [Q heads | K heads | V heads] layout that
 * com.microsoft.Attention expects. Pure reindexing: head h's q is still rows h*96..h*96+31.
 */
export function packedQkvForAttention(weight: Float32Array, bias: Float32Array, dim: number, heads: number): { weight: Float32Array; bias: Float32Array } {
  const w = new Float32Array(dim * 3 * dim);
  const b = new Float32Array(3 * dim);
  for (let h = 0; h < heads; h++) {
    for (let part = 0; part < 3; part++) {
      for (let d = 0; d < HEAD_DIM; d++) {
        const src = h * 3 * HEAD_DIM + part * HEAD_DIM + d;
        const dst = part * dim + h * HEAD_DIM + d;
        b[dst] = bias[src]!;
        for (let i = 0; i < dim; i++) w[i * 3 * dim + dst] = weight[src * dim + i]!;
      }
    }
  }
  return { weight: w, bias: b };
}

/**
 * Attention(x) of one TinyViTBlock, for x channels-last (B,res,res,dim); returns the same shape (before the residual).
 * Zero padding to a multiple of ws happens before the LayerNorm and the padded tokens take part in attention
 * unmasked, exactly as the reference does; they are cropped afterwards.
 */
export function windowAttention(g: GraphBuilder, w: EncoderWeights, x: string, key: string, geo: WindowGeometry): string {
  const { dim, heads, ws, res } = geo;
  if (dim !== heads * HEAD_DIM) throw new Error(`${key}: dim ${dim} with ${heads} heads does not give head_dim ${HEAD_DIM}`);
  const pad = (ws - (res % ws)) % ws;
  const padded = res + pad;
  const nWin = padded / ws;
  const tokens = ws * ws;

  let paddedX = x;
  if (pad > 0) paddedX = g.op('Pad', [x, g.i64([0, 0, 0, 0, 0, pad, pad, 0])], {}, { name: `${key}.pad` });

  const norm = layerNormWeights(g, w.f32(`${key}.norm.weight`, [dim]), w.f32(`${key}.norm.bias`, [dim]), LAYER_NORM_EPS, `${key}.norm`);
  const qkv = packedQkvForAttention(w.f32(`${key}.qkv.weight`, [3 * dim, dim]), w.f32(`${key}.qkv.bias`, [3 * dim]), dim, heads);
  const qkvWeight = g.f32(`${key}.qkv.weight`, qkv.weight, [dim, 3 * dim]);
  const qkvBias = g.f32(`${key}.qkv.bias`, qkv.bias, [3 * dim]);
  const bias = g.f32(`${key}.ab`, relativePositionBias(w.f32(`${key}.attention_biases`, [heads, tokens]), heads, ws), [1, heads, tokens, tokens]);
  const proj = linearWeights(g, w.f32(`${key}.proj.weight`, [dim, dim]), [dim, dim], w.f32(`${key}.proj.bias`, [dim]), `${key}.proj`);

  // Windows attend independently: bands of window rows keep the Attention node's packed q|k|v buffer (3*dim per
  // token) small (ops.ts, bands). Each band is partitioned, attended and reversed on its own.
  const windowBands = bands(nWin, ws * padded * 3 * dim * 4);
  const parts = windowBands.map(({ from, to }) => {
    const bandRows = to - from;
    let h = windowBands.length === 1 ? paddedX : sliceAxis(g, paddedX, 1, from * ws, to * ws, `${key}.band`);
    // (B,rows,Wp,C) -> (B,nH,ws,nW,ws,C) -> (B,nH,nW,ws,ws,C) -> (B*nH*nW, ws*ws, C); window index hIdx*nW + wIdx.
    h = reshape(g, h, [0, bandRows, ws, nWin, ws, dim], `${key}.partition`);
    h = transpose(g, h, [0, 1, 3, 2, 4, 5], `${key}.partition`);
    h = reshape(g, h, [-1, tokens, dim], `${key}.partition`);
    h = applyLayerNorm(g, h, norm);
    h = g.op('Attention', [h, qkvWeight, qkvBias, '', '', bias],
      { num_heads: heads, scale: { float: 1 / Math.sqrt(HEAD_DIM) } }, { domain: 'com.microsoft', name: key });
    h = applyLinear(g, h, proj);
    h = reshape(g, h, [-1, bandRows, nWin, ws, ws, dim], `${key}.reverse`);
    h = transpose(g, h, [0, 1, 3, 2, 4, 5], `${key}.reverse`);
    return reshape(g, h, [0, bandRows * ws, padded, dim], `${key}.reverse`);
  });
  let h = parts.length === 1 ? parts[0]! : g.op('Concat', parts, { axis: 1 }, { name: `${key}.reverse` });
  if (pad > 0) h = g.op('Slice', [h, g.i64([0, 0]), g.i64([res, res]), g.i64([1, 2])], {}, { name: `${key}.crop` });
  return h;
}
