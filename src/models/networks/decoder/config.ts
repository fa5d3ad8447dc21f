// The sizes of SAM's prompt encoder and mask decoder as LiteMedSAM/OneSAM configure them (spec 5.5-5.7), taken
// from the architectures (src/models/architectures.ts), which hold every number once. Both networks share them;
// OneSAM's HQ decoder adds the ViT feature width.
import { LITEMEDSAM_ARCHITECTURE, ONESAM_ARCHITECTURE } from '../../architectures.ts';
import { LITEMEDSAM_TINYVIT, stageResolutions } from '../tinyvit/config.ts';

const { prompt, decoder } = LITEMEDSAM_ARCHITECTURE;

/** Token width of the prompt encoder and the two-way transformer. */
export const EMBED_DIM = decoder.dim;
/** Side of the image embedding grid (64x64 for a 256x256 input): the encoder's last stage. */
export const GRID = stageResolutions(LITEMEDSAM_TINYVIT).at(-1)!;
/** Side of the (padded, square) model input frame that prompts live in. */
export const INPUT_SIZE = LITEMEDSAM_TINYVIT.imgSize;
/** Side of the low-resolution logits: the embedding grid upscaled 4x. */
export const LOGITS_SIZE = 4 * GRID;
/** Channels of the upscaled mask features that the hypernetworks weight. */
export const UPSCALED_DIM = decoder.upscaleDims[1];
/** iou token + 4 mask tokens (num_multimask_outputs 3 + 1). */
export const MASK_TOKENS = decoder.numMaskTokens;
export const HEADS = decoder.numHeads;
export const MLP_DIM = decoder.mlpDim;
export const TRANSFORMER_DEPTH = decoder.depth;
/** The cross attentions' downsample rate (token <-> image); self attention runs at full width. */
export const ATTENTION_DOWNSAMPLE = decoder.attentionDownsampleRate;
/** Channels inside the prompt encoder's mask_downscaling. */
export const MASK_IN_CHANS = prompt.maskInChans;
/** OneSAM's TinyViT layers.1 output width: the HQ decoder's ViT feature. */
export const VIT_DIM = ONESAM_ARCHITECTURE.decoder.hq!.vitDim;

/** nn.LayerNorm default in the transformer. */
export const LAYER_NORM_EPS = 1e-5;
/** SAM's LayerNorm2d (mask_downscaling, output_upscaling, HQ convs). */
export const LAYER_NORM_2D_EPS = 1e-6;
