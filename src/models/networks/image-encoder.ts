// Builds the LiteMedSAM / OneSAM image encoder (TinyViT, spec 5.3, with OneSAM's adapters of 5.4) as an ONNX graph.
// Layout: the full-resolution stage runs NCHW (convolutions), in strips (tinyvit/stem-strips.ts); from its
// PatchMerging's last 1x1 on, activations stay channels-last
// (B,H,W,C) so that every Linear is a plain MatMul on the last axis and LayerNorm is the fused op; only the
// depthwise/spatial convolutions step through NCHW.
import type { StateDict } from '../checkpoint/tensor.ts';
import { IMAGE_ENCODER_IO } from '../network-contract.ts';
import { GraphBuilder } from '../onnx/graph.ts';
import { conv2d, layerNorm, linear, transpose } from '../onnx/ops.ts';
import { tinyVitBlock } from './tinyvit/block.ts';
import { LITEMEDSAM_TINYVIT, stageResolutions, type TinyVitConfig } from './tinyvit/config.ts';
import { NCHW_TO_NHWC, NHWC_TO_NCHW, patchMerging, pointwiseLinear } from './tinyvit/conv-layers.ts';
import { stemInStrips } from './tinyvit/stem-strips.ts';
import { EncoderWeights } from './tinyvit/weights.ts';

export interface ImageEncoderOptions {
  /** true for the OneSAM checkpoint: an Adapter_Layer beside every TinyViTBlock's local conv. */
  adapter: boolean;
}

/** LayerNorm2d eps in the SAM neck (nn.LayerNorm elsewhere uses 1e-5). */
const NECK_LAYER_NORM_EPS = 1e-6;

interface EncoderValues {
  readonly embeddings: string;
  /** layers.1 output (incl. its PatchMerging), channels-last (B,64,64,160): the HQ decoder's ViT feature. */
  readonly interm: string;
  /** Output of layers.0..2 (each after its PatchMerging), channels-last (B,H,W,C). */
  readonly stages: readonly string[];
}

function encode(g: GraphBuilder, w: EncoderWeights, image: string, cfg: TinyVitConfig, opts: ImageEncoderOptions): EncoderValues {
  const res = stageResolutions(cfg);
  const dims = cfg.embedDims;

  // The full-resolution stage runs in strips (stem-strips.ts), up to its PatchMerging's last 1x1 convolution.
  const stem = stemInStrips(g, w, image, {
    inChans: cfg.inChans, dim: dims[0], out: dims[1], side: cfg.imgSize, blocks: cfg.depths[0], expandRatio: cfg.mbconvExpandRatio,
  });
  let x = pointwiseLinear(g, transpose(g, stem, NCHW_TO_NHWC, 'layers.0.downsample'), w.convBn('layers.0.downsample.conv3', dims[1], dims[1], 1), 'layers.0.downsample.conv3');
  const stages = [x];

  for (let i = 1; i < cfg.depths.length; i++) {
    const spec = { dim: dims[i]!, heads: cfg.numHeads[i]!, ws: cfg.windowSizes[i]!, res: res[i]!, mlpRatio: cfg.mlpRatio, adapter: opts.adapter };
    for (let b = 0; b < cfg.depths[i]!; b++) x = tinyVitBlock(g, w, x, `layers.${i}.blocks.${b}`, spec);
    if (i + 1 < cfg.depths.length) {
      x = patchMerging(g, w, x, `layers.${i}.downsample`, dims[i]!, dims[i + 1]!);
      stages.push(x);
    }
  }
  return { embeddings: neck(g, w, x, dims[3], cfg.neckDim), interm: stages[1]!, stages };
}

/** SAM neck: Conv1x1 (no bias) -> LayerNorm2d -> Conv3x3 p1 (no bias) -> LayerNorm2d. Channels-last in, NCHW out. */
function neck(g: GraphBuilder, w: EncoderWeights, x: string, dim: number, out: number): string {
  let h = linear(g, x, w.f32('neck.0.weight', [out, dim, 1, 1]), [out, dim], undefined, 'neck.0');
  h = layerNorm(g, h, w.f32('neck.1.weight', [out]), w.f32('neck.1.bias', [out]), NECK_LAYER_NORM_EPS, 'neck.1');
  const k3 = [out, out, 3, 3];
  h = conv2d(g, transpose(g, h, NHWC_TO_NCHW, 'neck.2'), { weight: w.f32('neck.2.weight', k3), weightShape: k3 }, { pad: 1, name: 'neck.2' });
  h = layerNorm(g, transpose(g, h, NCHW_TO_NHWC, 'neck.3'), w.f32('neck.3.weight', [out]), w.f32('neck.3.bias', [out]), NECK_LAYER_NORM_EPS, 'neck.3');
  return transpose(g, h, NHWC_TO_NCHW, 'neck.3');
}

function build(weights: StateDict, opts: ImageEncoderOptions, stageOutputs: boolean): Uint8Array {
  const cfg = LITEMEDSAM_TINYVIT;
  const g = new GraphBuilder(opts.adapter ? 'onesam_image_encoder' : 'litemedsam_image_encoder');
  const image = g.input(IMAGE_ENCODER_IO.input, ['N', cfg.inChans, cfg.imgSize, cfg.imgSize]);
  const v = encode(g, new EncoderWeights(weights), image, cfg, opts);
  const side = stageResolutions(cfg)[3]!;
  g.output(v.embeddings, IMAGE_ENCODER_IO.embeddings, ['N', cfg.neckDim, side, side]);
  g.output(v.interm, IMAGE_ENCODER_IO.interm, ['N', side, side, cfg.embedDims[2]]);
  if (stageOutputs) v.stages.forEach((s, i) => g.output(s, `layer${i}`));
  return g.toBytes({ network: 'tinyvit', adapter: String(opts.adapter) });
}

/**
 * Builds the encoder graph. Input `image` float32 (N,3,256,256); outputs `image_embeddings` (N,256,64,64) and
 * `interm_embeddings` (N,64,64,160) (NHWC, layers.1 after its PatchMerging; always emitted, the HQ decoder needs it).
 * `weights` is the full checkpoint state dict (keys prefixed `image_encoder.`). A missing or misshapen weight
 * throws a CheckpointError (CHECKPOINT_ARCH_MISMATCH) naming the key.
 */
export function buildImageEncoder(weights: StateDict, opts: ImageEncoderOptions): Uint8Array {
  return build(weights, opts, false);
}

/**
 * The same graph with extra outputs `layer0`, `layer1`, `layer2` (channels-last (N,H,W,C) outputs of layers.0..2,
 * each after its PatchMerging) for comparing against the reference's intermediate activations.
 */
export function buildImageEncoderWithStages(weights: StateDict, opts: ImageEncoderOptions): Uint8Array {
  return build(weights, opts, true);
}
