// Layer helpers on top of GraphBuilder: the PyTorch modules the networks are made of, in ONNX terms.
// Each helper takes the builder, the input value name and the weights it needs, and returns the output name.
import type { GraphBuilder } from './graph.ts';

export interface ConvWeights {
  /** (out, in/groups, kH, kW) */
  readonly weight: Float32Array;
  readonly weightShape: readonly number[];
  readonly bias?: Float32Array;
}

export interface BatchNormWeights {
  readonly weight: Float32Array;
  readonly bias: Float32Array;
  readonly runningMean: Float32Array;
  readonly runningVar: Float32Array;
  readonly eps: number;
}

/** Folds eval-mode BatchNorm into the preceding convolution: w' = w*g/sqrt(v+e), b' = b0*g/sqrt(v+e) + beta - m*g/sqrt(v+e). */
export function foldBatchNorm(conv: ConvWeights, bn: BatchNormWeights): ConvWeights {
  const out = conv.weightShape[0]!;
  const perOut = conv.weight.length / out;
  const weight = new Float32Array(conv.weight.length);
  const bias = new Float32Array(out);
  for (let o = 0; o < out; o++) {
    // float64 here, rounded once to float32, keeps the fold within 1 ulp of PyTorch's fused weights.
    const s = bn.weight[o]! / Math.sqrt(bn.runningVar[o]! + bn.eps);
    for (let i = 0; i < perOut; i++) weight[o * perOut + i] = conv.weight[o * perOut + i]! * s;
    const b0 = conv.bias ? conv.bias[o]! : 0;
    bias[o] = (b0 - bn.runningMean[o]!) * s + bn.bias[o]!;
  }
  return { weight, weightShape: conv.weightShape, bias };
}

export interface ConvOptions {
  stride?: number;
  pad?: number;
  groups?: number;
  name?: string;
}

export function conv2d(g: GraphBuilder, x: string, w: ConvWeights, opts: ConvOptions = {}): string {
  const name = opts.name ?? 'conv';
  const [, , kh, kw] = w.weightShape as [number, number, number, number];
  const inputs = [g.f32(`${name}.weight`, w.weight, w.weightShape)];
  if (w.bias) inputs.push(g.f32(`${name}.bias`, w.bias, [w.weightShape[0]!]));
  const pad = opts.pad ?? 0;
  return g.op('Conv', [x, ...inputs], {
    kernel_shape: [kh, kw],
    strides: [opts.stride ?? 1, opts.stride ?? 1],
    pads: [pad, pad, pad, pad],
    group: opts.groups ?? 1,
  }, { name });
}

/** PyTorch ConvTranspose2d; weight layout (in, out/groups, kH, kW). */
export function convTranspose2d(g: GraphBuilder, x: string, w: ConvWeights, opts: ConvOptions = {}): string {
  const name = opts.name ?? 'convT';
  const [, outC, kh, kw] = w.weightShape as [number, number, number, number];
  const inputs = [g.f32(`${name}.weight`, w.weight, w.weightShape)];
  if (w.bias) inputs.push(g.f32(`${name}.bias`, w.bias, [outC * (opts.groups ?? 1)]));
  const pad = opts.pad ?? 0;
  return g.op('ConvTranspose', [x, ...inputs], {
    kernel_shape: [kh, kw],
    strides: [opts.stride ?? 1, opts.stride ?? 1],
    pads: [pad, pad, pad, pad],
    group: opts.groups ?? 1,
  }, { name });
}

/** nn.Linear on the last axis: y = x W^T + b, with W stored (out, in) as in PyTorch. */
export function linear(g: GraphBuilder, x: string, weight: Float32Array, shape: readonly [number, number], bias?: Float32Array, name = 'linear'): string {
  const [out, inp] = shape;
  const wt = new Float32Array(out * inp);
  for (let o = 0; o < out; o++) for (let i = 0; i < inp; i++) wt[i * out + o] = weight[o * inp + i]!;
  const y = g.op('MatMul', [x, g.f32(`${name}.weightT`, wt, [inp, out])], {}, { name });
  return bias ? g.op('Add', [y, g.f32(`${name}.bias`, bias, [out])], {}, { name }) : y;
}

/** nn.LayerNorm over the last axis. */
export function layerNorm(g: GraphBuilder, x: string, weight: Float32Array, bias: Float32Array, eps: number, name = 'ln'): string {
  return g.op('LayerNormalization', [x, g.f32(`${name}.weight`, weight, [weight.length]), g.f32(`${name}.bias`, bias, [bias.length])], {
    axis: -1,
    epsilon: { float: eps },
  }, { name });
}

/** SAM's LayerNorm2d: normalise NCHW over C (biased variance), then per-channel affine. */
export function layerNorm2d(g: GraphBuilder, x: string, weight: Float32Array, bias: Float32Array, eps: number, name = 'ln2d'): string {
  const nhwc = g.op('Transpose', [x], { perm: [0, 2, 3, 1] }, { name });
  const y = layerNorm(g, nhwc, weight, bias, eps, name);
  return g.op('Transpose', [y], { perm: [0, 3, 1, 2] }, { name });
}

/** Exact (erf) GELU, as nn.GELU() default. */
export function gelu(g: GraphBuilder, x: string, name = 'gelu'): string {
  return g.op('Gelu', [x], { approximate: 'none' }, { name });
}

export function relu(g: GraphBuilder, x: string, name = 'relu'): string {
  return g.op('Relu', [x], {}, { name });
}

export function reshape(g: GraphBuilder, x: string, shape: readonly number[], name = 'reshape'): string {
  return g.op('Reshape', [x, g.i64(shape)], {}, { name });
}

export function transpose(g: GraphBuilder, x: string, perm: readonly number[], name = 'transpose'): string {
  return g.op('Transpose', [x], { perm: [...perm] }, { name });
}
