// One TinyViTBlock on channels-last tokens (B,H,W,C):
//   x1 = x + WindowAttention(LN(x));  x2 = DWConvBN(x1) [+ Adapter(x1)];  x3 = x2 + MLP(LN(x2)).
import type { GraphBuilder } from '../../onnx/graph.ts';
import { applyLayerNorm, applyLinear, bands, conv2d, gelu, layerNormWeights, linearWeights, sliceAxis, transpose } from '../../onnx/ops.ts';
import { adapter } from './adapter.ts';
import { LAYER_NORM_EPS } from './config.ts';
import { NCHW_TO_NHWC, NHWC_TO_NCHW } from './conv-layers.ts';
import { windowAttention, type WindowGeometry } from './window-attention.ts';
import type { EncoderWeights } from './weights.ts';

export interface BlockSpec extends WindowGeometry {
  readonly mlpRatio: number;
  readonly adapter: boolean;
}

export function tinyVitBlock(g: GraphBuilder, w: EncoderWeights, x: string, key: string, spec: BlockSpec): string {
  const { dim } = spec;
  const x1 = g.op('Add', [x, windowAttention(g, w, x, `${key}.attn`, spec)], {}, { name: `${key}.attn_residual` });

  // The local conv is not residual: its output replaces x1.
  const x1Nchw = transpose(g, x1, NHWC_TO_NCHW, `${key}.local_conv`);
  const local = transpose(g, conv2d(g, x1Nchw, w.convBn(`${key}.local_conv`, dim, dim, 3, dim), { pad: 1, groups: dim, name: `${key}.local_conv` }), NCHW_TO_NHWC, `${key}.local_conv`);
  const x2 = spec.adapter
    ? g.op('Add', [local, adapter(g, w, x1, x1Nchw, `${key}.Adapter`, dim)], {}, { name: `${key}.adapter_sum` })
    : local;

  const hidden = dim * spec.mlpRatio;
  const m = `${key}.mlp`;
  const norm = layerNormWeights(g, w.f32(`${m}.norm.weight`, [dim]), w.f32(`${m}.norm.bias`, [dim]), LAYER_NORM_EPS, `${m}.norm`);
  const fc1 = linearWeights(g, w.f32(`${m}.fc1.weight`, [hidden, dim]), [hidden, dim], w.f32(`${m}.fc1.bias`, [hidden]), `${m}.fc1`);
  const fc2 = linearWeights(g, w.f32(`${m}.fc2.weight`, [dim, hidden]), [dim, hidden], w.f32(`${m}.fc2.bias`, [dim]), `${m}.fc2`);
  // The MLP is per token: bands of rows keep its (res, res, 4*dim) hidden activation small (ops.ts, bands).
  const rowBands = bands(spec.res, spec.res * hidden * 4);
  const parts = rowBands.map(({ from, to }) => {
    const rows = rowBands.length === 1 ? x2 : sliceAxis(g, x2, 1, from, to, m);
    return applyLinear(g, gelu(g, applyLinear(g, applyLayerNorm(g, rows, norm), fc1)), fc2);
  });
  const h = parts.length === 1 ? parts[0]! : g.op('Concat', parts, { axis: 1 }, { name: m });
  return g.op('Add', [x2, h], {}, { name: `${m}_residual` });
}
