// The TinyViT configuration LiteMedSAM (and OneSAM) use (spec 5.3), and the stage geometry derived from it.
// Every size here is static; only the batch dimension of the graph is dynamic.
import { LITEMEDSAM_ARCHITECTURE, type TinyVitSpec } from '../../architectures.ts';

export interface TinyVitConfig {
  readonly imgSize: number;
  readonly inChans: number;
  readonly embedDims: readonly [number, number, number, number];
  readonly depths: readonly [number, number, number, number];
  readonly numHeads: readonly [number, number, number, number];
  readonly windowSizes: readonly [number, number, number, number];
  readonly mlpRatio: number;
  readonly mbconvExpandRatio: number;
  /** Output channels of the SAM neck. */
  readonly neckDim: number;
}

/** The graph builder's view of an encoder spec (src/models/architectures.ts, the one source of these numbers). */
export function tinyVitConfig(encoder: TinyVitSpec): TinyVitConfig {
  const four = (xs: readonly number[]): readonly [number, number, number, number] => [xs[0]!, xs[1]!, xs[2]!, xs[3]!];
  return Object.freeze({
    imgSize: encoder.imgSize,
    inChans: encoder.inChans,
    embedDims: four(encoder.embedDims),
    depths: four(encoder.depths),
    numHeads: four(encoder.numHeads),
    windowSizes: four(encoder.windowSizes),
    mlpRatio: encoder.mlpRatio,
    mbconvExpandRatio: encoder.mbconvExpandRatio,
    neckDim: encoder.neckDim,
  });
}

/** The TinyViT of both networks (OneSAM adds adapters beside its blocks, not other sizes). */
export const LITEMEDSAM_TINYVIT: TinyVitConfig = tinyVitConfig(LITEMEDSAM_ARCHITECTURE.encoder);

/**
 * MobileSAM keeps the last stages at 64x64 by giving PatchMerging stride 1 when it widens to 320, 448 or 576
 * channels; every other PatchMerging halves the resolution.
 */
export function patchMergingStride(outDim: number): 1 | 2 {
  return outDim === 320 || outDim === 448 || outDim === 576 ? 1 : 2;
}

/** The side length each stage works at: the LiteMedSAM patch embed does not downsample, PatchMerging does. */
export function stageResolutions(cfg: TinyVitConfig): number[] {
  const res = [cfg.imgSize];
  for (let i = 1; i < cfg.depths.length; i++) res.push(res[i - 1]! / patchMergingStride(cfg.embedDims[i]!));
  return res;
}

/** nn.LayerNorm's default eps, used by the attention, MLP and adapter norms (the neck's LayerNorm2d uses 1e-6). */
export const LAYER_NORM_EPS = 1e-5;
