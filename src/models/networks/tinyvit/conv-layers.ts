// The convolutional parts of TinyViT after the full-resolution stage (that one, patch embed, MBConv blocks and its
// PatchMerging, is in stem-strips.ts): the PatchMerging that ends layers 1 and 2. BatchNorm is folded into every
// convolution.
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

/**
 * PatchMerging(dim -> out): 1x1 + GELU, depthwise 3x3 (stride 2, or 1 when widening to 320) + GELU, 1x1.
 * Takes channels-last (B,H,W,C) tokens; returns channels-last (B,H',W',out) tokens. The 1x1 convolutions run
 * as MatMuls, so only the depthwise conv needs NCHW.
 */
export function patchMerging(g: GraphBuilder, w: EncoderWeights, x: string, key: string, dim: number, out: number): string {
  const conv1 = w.convBn(`${key}.conv1`, dim, out, 1);
  // GELU before the transpose lets ORT fold the transpose into its NCHWc reorder of the depthwise conv input.
  let h = transpose(g, gelu(g, pointwiseLinear(g, x, conv1, `${key}.conv1`)), NHWC_TO_NCHW, key);
  h = conv2d(g, h, w.convBn(`${key}.conv2`, out, out, 3, out), { stride: patchMergingStride(out), pad: 1, groups: out, name: `${key}.conv2` });
  h = transpose(g, gelu(g, h), NCHW_TO_NHWC, key);
  return pointwiseLinear(g, h, w.convBn(`${key}.conv3`, out, out, 1), `${key}.conv3`);
}
