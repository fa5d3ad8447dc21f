// Fixed hyper-parameters of SAM's prompt encoder and mask decoder as LiteMedSAM/OneSAM configure them (spec 5.5-5.7).

/** Token width of the prompt encoder and the two-way transformer. */
export const EMBED_DIM = 256;
/** Side of the image embedding grid (64x64 for a 256x256 input). */
export const GRID = 64;
/** Side of the (padded, square) model input frame that prompts live in. */
export const INPUT_SIZE = 256;
/** Side of the low-resolution logits: the embedding grid upscaled 4x. */
export const LOGITS_SIZE = 4 * GRID;
/** Channels of the upscaled mask features that the hypernetworks weight. */
export const UPSCALED_DIM = EMBED_DIM / 8;
/** iou token + 4 mask tokens (num_multimask_outputs 3 + 1). */
export const MASK_TOKENS = 4;
export const HEADS = 8;
export const MLP_DIM = 2048;
export const TRANSFORMER_DEPTH = 2;
/** OneSAM's TinyViT layers.1 output width: the HQ decoder's ViT feature. */
export const VIT_DIM = 160;

/** nn.LayerNorm default in the transformer. */
export const LAYER_NORM_EPS = 1e-5;
/** SAM's LayerNorm2d (mask_downscaling, output_upscaling, HQ convs). */
export const LAYER_NORM_2D_EPS = 1e-6;
