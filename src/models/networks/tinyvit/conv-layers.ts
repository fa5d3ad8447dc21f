// The convolutional parts of TinyViT: LiteMedSAM's 1x1 patch embed, the MBConv blocks of layers.0 and the
// PatchMerging that ends layers 0-2. BatchNorm is folded into every convolution.
import type { GraphBuilder } from '../../onnx/graph.ts';
import { conv2d, gelu, linear, transpose, type ConvWeights } from '../../onnx/ops.ts';
import { patchMergingStride } from './config.ts';
import type { EncoderWeights } from './weights.ts';

export const NCHW_TO_NHWC = [0, 2, 3, 1] as const;
export const NHWC_TO_NCHW = [0, 3, 1, 2] as const;

/** A folded 1x1 convolution applied to channels-last activations: a MatMul on the last axis. */
export function pointwiseLinear(g: GraphBuilder, x: string, w: ConvWeights, name: string): string {
  const [cout, cin] = w.weightShape as [number, number];
  return linear(g, x, w.weight, [cout, cin], w.bias, name);
}

/** LiteMedSAM's patch embed: Conv2d_BN 1x1 (3->32), GELU, Conv2d_BN 1x1 (32->64); no spatial reduction. NCHW. */
export function patchEmbed(g: GraphBuilder, w: EncoderWeights, image: string, inChans: number, dim: number): string {
  const p = 'patch_embed.seq';
  const h = gelu(g, conv2d(g, image, w.convBn(`${p}.0`, inChans, dim / 2, 1), { name: `${p}.0` }), `${p}.1`);
  return conv2d(g, h, w.convBn(`${p}.2`, dim / 2, dim, 1), { name: `${p}.2` });
}

/** MBConv: 1x1 expand + GELU, depthwise 3x3 + GELU, 1x1 project, then GELU after the residual add. NCHW. */
export function mbConv(g: GraphBuilder, w: EncoderWeights, x: string, key: string, dim: number, expandRatio: number): string {
  const hidden = dim * expandRatio;
  let h = gelu(g, conv2d(g, x, w.convBn(`${key}.conv1`, dim, hidden, 1), { name: `${key}.conv1` }));
  h = gelu(g, conv2d(g, h, w.convBn(`${key}.conv2`, hidden, hidden, 3, hidden), { pad: 1, groups: hidden, name: `${key}.conv2` }));
  h = conv2d(g, h, w.convBn(`${key}.conv3`, hidden, dim, 1), { name: `${key}.conv3` });
  return gelu(g, g.op('Add', [h, x], {}, { name: key }), `${key}.act`);
}

/**
 * PatchMerging(dim -> out): 1x1 + GELU, depthwise 3x3 (stride 2, or 1 when widening to 320) + GELU, 1x1.
 * Takes NCHW (after layers.0) or channels-last (B,H,W,C) tokens; returns channels-last (B,H',W',out) tokens.
 * The 1x1 convolutions of channels-last input run as MatMuls, so only the depthwise conv needs NCHW.
 */
export function patchMerging(g: GraphBuilder, w: EncoderWeights, x: string, key: string, dim: number, out: number, layout: 'nchw' | 'nhwc'): string {
  const conv1 = w.convBn(`${key}.conv1`, dim, out, 1);
  // GELU before the transpose lets ORT fold the transpose into its NCHWc reorder of the depthwise conv input.
  let h = layout === 'nchw'
    ? gelu(g, conv2d(g, x, conv1, { name: `${key}.conv1` }))
    : transpose(g, gelu(g, pointwiseLinear(g, x, conv1, `${key}.conv1`)), NHWC_TO_NCHW, key);
  h = conv2d(g, h, w.convBn(`${key}.conv2`, out, out, 3, out), { stride: patchMergingStride(out), pad: 1, groups: out, name: `${key}.conv2` });
  h = transpose(g, gelu(g, h), NCHW_TO_NHWC, key);
  return pointwiseLinear(g, h, w.convBn(`${key}.conv3`, out, out, 1), `${key}.conv3`);
}
