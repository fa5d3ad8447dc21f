// The mask decoder's output side (spec 5.6, 5.7): 4x upscaling of image tokens, the hypernetwork and IoU MLPs,
// and the HQ decoder's extra feature paths.
//
// Every ConvTranspose2d here has kernel 2 and stride 2, so output pixels never overlap: each is a MatMul of its
// source pixel's channels. On channels-last tokens that MatMul yields the 2x2 sub-pixels side by side, and the
// pixel-wise LayerNorm2d/GELU that follow do not care where a pixel sits. The SAM decoder therefore keeps them
// "blocked" (pixel order i, j, a, b, c, d for row 4i+2a+c, column 4j+2b+d) and reorders only the one-channel
// logits. The HQ decoder's 3x3 convs need image order: there the sub-pixels are placed after each ConvT, where the
// moved runs are long (a single rank-8 reorder of the finished features measured several times slower).
import type { GraphBuilder } from '../../onnx/graph.ts';
import { conv2d, gelu, layerNorm, linear, relu, reshape, transpose } from '../../onnx/ops.ts';
import { EMBED_DIM, GRID, LAYER_NORM_2D_EPS, LOGITS_SIZE, UPSCALED_DIM } from './config.ts';
import type { DecoderWeights } from './weights.ts';

const D = 'mask_decoder.';

/** ConvTranspose2d(cin->cout, k2, s2) on tokens (B,N,cin): (B,N,4*cout), sub-pixel s = a*2+b major, channel minor. */
function subPixelConvTranspose(g: GraphBuilder, w: DecoderWeights, x: string, key: string, cin: number, cout: number): string {
  const weight = w.f32(`${key}.weight`, [cin, cout, 2, 2]);
  const bias = w.f32(`${key}.bias`, [cout]);
  const matrix = new Float32Array(cin * 4 * cout);
  const tiledBias = new Float32Array(4 * cout);
  for (let s = 0; s < 4; s++) {
    // s = a*2 + b: the sub-pixel at row offset a, column offset b (weight[c][o][a][b]).
    for (let o = 0; o < cout; o++) {
      tiledBias[s * cout + o] = bias[o]!;
      for (let c = 0; c < cin; c++) matrix[c * 4 * cout + s * cout + o] = weight[(c * cout + o) * 4 + s]!;
    }
  }
  const y = g.op('MatMul', [x, g.f32(`${key}.as_matmul`, matrix, [cin, 4 * cout])], {}, { name: key });
  return g.op('Add', [y, g.f32(`${key}.bias_x4`, tiledBias, [4 * cout])], {}, { name: key });
}

/**
 * Places the sub-pixels: (B, side*side, 4*c) from subPixelConvTranspose on a row-major side x side grid becomes
 * row-major tokens (B, 4*side*side, c) of the 2side x 2side grid. The moved runs are 2*c floats long, so this
 * is a cheap transpose, unlike reordering the finished 4x features in one go.
 */
function depthToSpace(g: GraphBuilder, x: string, side: number, c: number, name: string): string {
  const h = transpose(g, reshape(g, x, [0, side, side, 2, 2, c], name), [0, 1, 3, 2, 4, 5], name);
  return reshape(g, h, [0, 4 * side * side, c], name);
}

/** Where upscale4x leaves its pixels: in image order, or blocked (see the file comment). */
export type UpscaledLayout = 'tokens' | 'blocked';

/**
 * The Sequential(ConvT k2s2, LayerNorm2d, GELU, ConvT k2s2[, GELU]) shared by output_upscaling, embedding_encoder
 * and compress_vit_feat, on row-major tokens (B,GRID*GRID,cin). Returns (B,16*GRID*GRID,UPSCALED_DIM): row-major
 * tokens of the 4x grid ('tokens'), or blocked pixels ('blocked', for callers that only weigh the channels).
 */
export function upscale4x(g: GraphBuilder, w: DecoderWeights, x: string, module: string, cin: number, mid: number, finalGelu: boolean, layout: UpscaledLayout): string {
  const key = `${D}${module}`;
  const place = (y: string, side: number, c: number, name: string): string =>
    layout === 'tokens' ? depthToSpace(g, y, side, c, name) : reshape(g, y, [0, -1, c], name);
  let h = place(subPixelConvTranspose(g, w, x, `${key}.0`, cin, mid), GRID, mid, `${key}.0`);
  const n = w.norm(`${key}.1`, mid);
  h = gelu(g, layerNorm(g, h, n.weight, n.bias, LAYER_NORM_2D_EPS, `${key}.1`));
  h = place(subPixelConvTranspose(g, w, h, `${key}.3`, mid, UPSCALED_DIM), 2 * GRID, UPSCALED_DIM, `${key}.3`);
  return finalGelu ? gelu(g, h, `${key}.4`) : h;
}

/** Blocked one-channel logits (B,16*GRID*GRID,1) to (B,1,256,256): axes (B,i,j,a,b,c,d) -> (B,i,a,c,j,b,d). */
export function blockedLogitsToImage(g: GraphBuilder, x: string, name: string): string {
  const h = transpose(g, reshape(g, x, [0, GRID, GRID, 2, 2, 2, 2], name), [0, 1, 3, 5, 2, 4, 6], name);
  return reshape(g, h, [0, 1, LOGITS_SIZE, LOGITS_SIZE], name);
}

/** Row-major tokens (N, side*side, C) to NCHW (N,C,side,side). */
export function tokensToNchw(g: GraphBuilder, x: string, side: number, c: number, name: string): string {
  return transpose(g, reshape(g, x, [0, side, side, c], name), [0, 3, 1, 2], name);
}

/**
 * SAM's MLP (3 Linear layers, ReLU between, none after) on (B,1,256). `keepOutputs` keeps only the first rows of
 * the last layer: outputs the decoder discards (multimask off) are not computed at all.
 */
export function tokenMlp(g: GraphBuilder, w: DecoderWeights, x: string, module: string, out: number, keepOutputs = out): string {
  const key = `${D}${module}.layers`;
  let h = x;
  for (let i = 0; i < 2; i++) {
    const l = w.linear(`${key}.${i}`, EMBED_DIM, EMBED_DIM);
    h = relu(g, linear(g, h, l.weight, [EMBED_DIM, EMBED_DIM], l.bias, `${key}.${i}`));
  }
  // Weights are (out, in) row-major, so the first rows are a prefix of the array.
  const last = w.linear(`${key}.2`, out, EMBED_DIM);
  return linear(g, h, last.weight.subarray(0, keepOutputs * EMBED_DIM), [keepOutputs, EMBED_DIM], last.bias.subarray(0, keepOutputs), `${key}.2`);
}

/**
 * HQ embedding_maskfeature: Conv3x3(32->64) -> LayerNorm2d -> GELU -> Conv3x3(64->32) on row-major tokens
 * (B,256*256,32); returns NCHW (B,32,256,256). The LayerNorm runs channels-last with the GELU before the
 * transpose back, so ORT folds both transposes into the reorders around its blocked (NCHWc) convolutions.
 */
export function maskFeature(g: GraphBuilder, w: DecoderWeights, tokens: string): string {
  const key = `${D}embedding_maskfeature`;
  const mid = 2 * UPSCALED_DIM;
  const k0 = [mid, UPSCALED_DIM, 3, 3];
  const x = tokensToNchw(g, tokens, LOGITS_SIZE, UPSCALED_DIM, `${key}.0`);
  let h = conv2d(g, x, { weight: w.f32(`${key}.0.weight`, k0), weightShape: k0, bias: w.f32(`${key}.0.bias`, [mid]) }, { pad: 1, name: `${key}.0` });
  const n = w.norm(`${key}.1`, mid);
  h = gelu(g, layerNorm(g, transpose(g, h, [0, 2, 3, 1], `${key}.1`), n.weight, n.bias, LAYER_NORM_2D_EPS, `${key}.1`), `${key}.2`);
  h = transpose(g, h, [0, 3, 1, 2], `${key}.2`);
  const k3 = [UPSCALED_DIM, mid, 3, 3];
  return conv2d(g, h, { weight: w.f32(`${key}.3.weight`, k3), weightShape: k3, bias: w.f32(`${key}.3.bias`, [UPSCALED_DIM]) }, { pad: 1, name: `${key}.3` });
}
