// The network architectures the service runs, as configurations (spec 5.3-5.8): the one source of every size
// the graph builders, the network contract (./network-contract.ts, which names them) and the checkpoint check
// (./architecture-check.ts) use. Plain data, importing nothing, so every layer may read it.

export interface TinyVitSpec {
  /** Side of the square input frame the encoder reads (and prompts and masks live in). */
  readonly imgSize: number;
  readonly inChans: number;
  readonly embedDims: readonly number[];
  readonly depths: readonly number[];
  readonly numHeads: readonly number[];
  readonly windowSizes: readonly number[];
  readonly mlpRatio: number;
  readonly mbconvExpandRatio: number;
  /** Patch embed: Conv2d_BN(in -> embedDims[0]/2, k1) -> GELU -> Conv2d_BN(-> embedDims[0], k1). */
  readonly patchEmbedKernel: number;
  readonly neckDim: number;
  /** OneSAM's Adapter_Layer in every TinyViTBlock (spec 5.4); hidden size = trunc(dim * ratio). */
  readonly adapter: null | { readonly hiddenRatio: number; readonly spatialKernel: number; readonly upKernel: number };
}

export interface PromptEncoderSpec {
  readonly embedDim: number;
  /** positional_encoding_gaussian_matrix is (2, embedDim/2). */
  readonly pointEmbeddings: number;
  readonly maskInChans: number;
}

export interface MaskDecoderSpec {
  readonly dim: number;
  /** Attention heads of the two-way transformer (no tensor's shape depends on it). */
  readonly numHeads: number;
  readonly depth: number;
  readonly mlpDim: number;
  readonly attentionDownsampleRate: number;
  readonly numMaskTokens: number;
  readonly iouHeadDepth: number;
  readonly iouHeadHidden: number;
  /** Channels after the two 2x up-scalings (dim/4, then dim/8). */
  readonly upscaleDims: readonly [number, number];
  /** SAM-HQ extras (spec 5.7): the ViT feature width the HQ branch compresses. */
  readonly hq: null | { readonly vitDim: number };
}

export interface ArchitectureSpec {
  readonly encoder: TinyVitSpec;
  readonly prompt: PromptEncoderSpec;
  readonly decoder: MaskDecoderSpec;
}

const LITEMEDSAM_ENCODER: TinyVitSpec = Object.freeze({
  imgSize: 256,
  inChans: 3,
  embedDims: [64, 128, 160, 320],
  depths: [2, 2, 6, 2],
  numHeads: [2, 4, 5, 10],
  windowSizes: [7, 7, 14, 7],
  mlpRatio: 4,
  mbconvExpandRatio: 4,
  patchEmbedKernel: 1,
  neckDim: 256,
  adapter: null,
});

const SAM_PROMPT_ENCODER: PromptEncoderSpec = Object.freeze({ embedDim: 256, pointEmbeddings: 4, maskInChans: 16 });

const SAM_MASK_DECODER: MaskDecoderSpec = Object.freeze({
  dim: 256,
  numHeads: 8,
  depth: 2,
  mlpDim: 2048,
  attentionDownsampleRate: 2,
  numMaskTokens: 4,
  iouHeadDepth: 3,
  iouHeadHidden: 256,
  upscaleDims: [64, 32] as const,
  hq: null,
});

/** LiteMedSAM: TinyViT + SAM's prompt encoder and mask decoder. */
export const LITEMEDSAM_ARCHITECTURE: ArchitectureSpec = Object.freeze({ encoder: LITEMEDSAM_ENCODER, prompt: SAM_PROMPT_ENCODER, decoder: SAM_MASK_DECODER });

/** OneSAM: TinyViT with an Adapter_Layer in every block + the SAM-HQ mask decoder. */
export const ONESAM_ARCHITECTURE: ArchitectureSpec = Object.freeze({
  encoder: Object.freeze({ ...LITEMEDSAM_ENCODER, adapter: Object.freeze({ hiddenRatio: 0.25, spatialKernel: 3, upKernel: 4 }) }),
  prompt: SAM_PROMPT_ENCODER,
  // vit_dim = 160: the HQ branch reads layers.1's output (embedDims[2] channels).
  decoder: Object.freeze({ ...SAM_MASK_DECODER, hq: Object.freeze({ vitDim: LITEMEDSAM_ENCODER.embedDims[2]! }) }),
});
