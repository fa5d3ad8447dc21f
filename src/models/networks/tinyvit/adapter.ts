// OneSAM's Adapter_Layer (spec 5.4), which runs beside every TinyViTBlock's depthwise local conv when the
// checkpoint was trained with adapters: channel attention, a down/up spatial branch, a skip and a LayerNorm.
import { ONESAM_ARCHITECTURE } from '../../architectures.ts';
import type { GraphBuilder } from '../../onnx/graph.ts';
import { conv2d, convTranspose4x4Stride2, layerNorm, linear, relu, transpose } from '../../onnx/ops.ts';
import { NCHW_TO_NHWC, NHWC_TO_NCHW } from './conv-layers.ts';
import { LAYER_NORM_EPS } from './config.ts';
import type { EncoderWeights } from './weights.ts';

/** Adapter_Layer's sizes (mlp_ratio 0.25: hidden width int(dim * 0.25); 3x3 down, 4x4 up), from the OneSAM architecture. */
const ADAPTER = ONESAM_ARCHITECTURE.encoder.adapter!;
/**
 * Adapter(x1) for x1 given both channels-last (B,H,W,C) and NCHW (the block has both at hand).
 * Returns channels-last (B,H,W,C). The skip adds the ORIGINAL x1, not the channel-weighted one.
 */
export function adapter(g: GraphBuilder, w: EncoderWeights, xNhwc: string, xNchw: string, key: string, dim: number): string {
  const hidden = Math.floor(dim * ADAPTER.hiddenRatio);
  // Channel attention: global average pool -> Linear (no bias) -> ReLU -> Linear (no bias) -> sigmoid.
  let ch = g.op('ReduceMean', [xNhwc, g.i64([1, 2])], { keepdims: 1 }, { name: `${key}.channel` });
  ch = relu(g, linear(g, ch, w.f32(`${key}.channel.0.weight`, [hidden, dim]), [hidden, dim], undefined, `${key}.channel.0`));
  ch = linear(g, ch, w.f32(`${key}.channel.2.weight`, [dim, hidden]), [dim, hidden], undefined, `${key}.channel.2`);
  ch = transpose(g, g.op('Sigmoid', [ch]), NHWC_TO_NCHW, `${key}.channel`);
  const weighted = g.op('Mul', [xNchw, ch], {}, { name: `${key}.channel` });

  // Spatial branch: Conv3x3 s2 p1 -> ReLU -> ConvTranspose4x4 s2 p1 -> ReLU, back to the input resolution.
  const convShape = [dim, dim, ADAPTER.spatialKernel, ADAPTER.spatialKernel];
  let sp = conv2d(g, weighted, { weight: w.f32(`${key}.spatial.0.weight`, convShape), weightShape: convShape }, { stride: 2, pad: 1, name: `${key}.spatial.0` });
  sp = relu(g, sp);
  const upShape = [dim, dim, ADAPTER.upKernel, ADAPTER.upKernel];
  sp = convTranspose4x4Stride2(g, sp, w.f32(`${key}.spatial.2.weight`, upShape), upShape, `${key}.spatial.2`);
  sp = relu(g, sp);

  const y = transpose(g, g.op('Add', [xNchw, sp], {}, { name: `${key}.skip` }), NCHW_TO_NHWC, key);
  return layerNorm(g, y, w.f32(`${key}.norm.weight`, [dim]), w.f32(`${key}.norm.bias`, [dim]), LAYER_NORM_EPS, `${key}.norm`);
}
