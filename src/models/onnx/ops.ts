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

/**
 * ConvTranspose2d with kernel 4, stride 2, padding 1 and no bias (OneSAM's adapter up-sampling), as four 2x2
 * convolutions, one per output phase (row parity, column parity), interleaved by DepthToSpace. ORT's CPU
 * ConvTranspose is a GEMM plus col2im at a few GFLOP/s; its Conv runs the same products at 10-20x that.
 * Output row 2m takes x[m-1]*w[3] + x[m]*w[1], row 2m+1 takes x[m]*w[2] + x[m+1]*w[0] (likewise for columns),
 * so each phase is a 2x2 correlation padded on one side; the products are the same, only their order of
 * summation can differ.
 */
export function convTranspose4x4Stride2(g: GraphBuilder, x: string, weight: Float32Array, weightShape: readonly number[], name = 'convT'): string {
  const [cin, cout, kh, kw] = weightShape as [number, number, number, number];
  if (kh !== 4 || kw !== 4) throw new Error(`${name}: expected a 4x4 kernel, got ${kh}x${kw}`);
  // Kernel taps per phase, in correlation order over input offsets (-1, 0) for phase 0 and (0, +1) for phase 1.
  const taps = [[3, 1], [2, 0]] as const;
  const phases: string[] = [];
  for (const pr of [0, 1] as const) {
    for (const pc of [0, 1] as const) {
      const w = new Float32Array(cout * cin * 4);
      for (let o = 0; o < cout; o++) {
        for (let i = 0; i < cin; i++) {
          for (let a = 0; a < 2; a++) {
            for (let b = 0; b < 2; b++) w[((o * cin + i) * 2 + a) * 2 + b] = weight[((i * cout + o) * 4 + taps[pr][a]!) * 4 + taps[pc][b]!]!;
          }
        }
      }
      phases.push(g.op('Conv', [x, g.f32(`${name}.phase${pr}${pc}.weight`, w, [cout, cin, 2, 2])], {
        kernel_shape: [2, 2],
        pads: [pr === 0 ? 1 : 0, pc === 0 ? 1 : 0, pr === 1 ? 1 : 0, pc === 1 ? 1 : 0],
      }, { name }));
    }
  }
  // DCR order: channel block (row phase * 2 + column phase) lands at (2m + row phase, 2n + column phase).
  return g.op('DepthToSpace', [g.op('Concat', phases, { axis: 1 }, { name })], { blocksize: 2, mode: 'DCR' }, { name });
}

/** A Linear's initializers: W^T (in, out) and the optional bias, created once and applied with applyLinear. */
export interface LinearWeights {
  readonly weightT: string;
  readonly bias?: string;
  readonly name: string;
}

/** nn.Linear's weight (out, in), as PyTorch stores it, transposed into an initializer for MatMul. */
export function linearWeights(g: GraphBuilder, weight: Float32Array, shape: readonly [number, number], bias?: Float32Array, name = 'linear'): LinearWeights {
  const [out, inp] = shape;
  const wt = new Float32Array(out * inp);
  for (let o = 0; o < out; o++) for (let i = 0; i < inp; i++) wt[i * out + o] = weight[o * inp + i]!;
  return {
    weightT: g.f32(`${name}.weightT`, wt, [inp, out]),
    ...(bias ? { bias: g.f32(`${name}.bias`, bias, [out]) } : {}),
    name,
  };
}

/** y = x W^T + b on the last axis: MatMul, then Add of the bias when there is one. */
export function applyLinear(g: GraphBuilder, x: string, lw: LinearWeights): string {
  const y = g.op('MatMul', [x, lw.weightT], {}, { name: lw.name });
  return lw.bias ? g.op('Add', [y, lw.bias], {}, { name: lw.name }) : y;
}

/** nn.Linear on the last axis: y = x W^T + b, with W stored (out, in) as in PyTorch. */
export function linear(g: GraphBuilder, x: string, weight: Float32Array, shape: readonly [number, number], bias?: Float32Array, name = 'linear'): string {
  return applyLinear(g, x, linearWeights(g, weight, shape, bias, name));
}

/** Rows [from, to) along `axis` (a constant Slice). */
export function sliceAxis(g: GraphBuilder, x: string, axis: number, from: number, to: number, name = 'slice'): string {
  return g.op('Slice', [x, g.i64([from]), g.i64([to]), g.i64([axis])], {}, { name });
}

/**
 * Bands of `length` rows along an axis such that no band's widest tensor (`bytesPerRow` per row) exceeds
 * ACTIVATION_BUDGET_BYTES, split as evenly as whole rows allow. Why: glibc mmaps every allocation over 32 MiB
 * (and trims large free heap tops) afresh, and on these VMs each first-touched 4 KiB page costs 10-20 us;
 * tensors of a few MiB come back from the heap resident and stay in cache between the ops of a band.
 */
export function bands(length: number, bytesPerRow: number): { from: number; to: number }[] {
  const count = Math.min(length, Math.max(1, Math.ceil((length * bytesPerRow) / ACTIVATION_BUDGET_BYTES)));
  return Array.from({ length: count }, (_, i) => ({ from: Math.round((i * length) / count), to: Math.round(((i + 1) * length) / count) }));
}

/** The widest activation a banded part of a graph should allocate (see bands). */
export const ACTIVATION_BUDGET_BYTES = 8 * 2 ** 20;

/** A LayerNorm's affine initializers, created once and applied with applyLayerNorm. */
export interface LayerNormWeights {
  readonly weight: string;
  readonly bias: string;
  readonly eps: number;
  readonly name: string;
}

export function layerNormWeights(g: GraphBuilder, weight: Float32Array, bias: Float32Array, eps: number, name = 'ln'): LayerNormWeights {
  return { weight: g.f32(`${name}.weight`, weight, [weight.length]), bias: g.f32(`${name}.bias`, bias, [bias.length]), eps, name };
}

/** nn.LayerNorm over the last axis, as the fused LayerNormalization op. */
export function applyLayerNorm(g: GraphBuilder, x: string, ln: LayerNormWeights): string {
  return g.op('LayerNormalization', [x, ln.weight, ln.bias], { axis: -1, epsilon: { float: ln.eps } }, { name: ln.name });
}

/** nn.LayerNorm over the last axis. */
export function layerNorm(g: GraphBuilder, x: string, weight: Float32Array, bias: Float32Array, eps: number, name = 'ln'): string {
  return applyLayerNorm(g, x, layerNormWeights(g, weight, bias, eps, name));
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
