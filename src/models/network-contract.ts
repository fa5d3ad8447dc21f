// The networks the service runs, one entry each, and the contract their compiled graphs keep with the workers and
// the pipeline: tensor names, one slice's tensor shapes, and whether the decoder reads the HQ interm embeddings.
// Everything here is derived from the architecture (./architectures.ts), so a layer that needs a network fact
// reads it here rather than restating it. Adding a network: an entry in NETWORK_ARCHITECTURES, its architecture,
// and its rows in the router's modality table (src/pipeline/router.ts).
import { LITEMEDSAM_ARCHITECTURE, ONESAM_ARCHITECTURE, type ArchitectureSpec } from './architectures.ts';
import { stageResolutions, tinyVitConfig } from './networks/tinyvit/config.ts';

/** Each network's architecture, in the fixed order responses, counts and the `fuse` mode list networks in. */
const NETWORK_ARCHITECTURES = Object.freeze({
  litemedsam: LITEMEDSAM_ARCHITECTURE,
  onesam: ONESAM_ARCHITECTURE,
});

export type NetworkName = keyof typeof NETWORK_ARCHITECTURES;

export const NETWORK_NAMES: readonly NetworkName[] = Object.freeze(Object.keys(NETWORK_ARCHITECTURES) as NetworkName[]);

/** The network names as messages list the choices: `"litemedsam" or "onesam"`. */
export const NETWORK_CHOICES = NETWORK_NAMES.map((n) => `"${n}"`).join(' or ');

export function isNetworkName(value: unknown): value is NetworkName {
  return typeof value === 'string' && (NETWORK_NAMES as readonly string[]).includes(value);
}

/** A record with one entry per network, in NETWORK_NAMES order (per-network counts start as `networkRecord(() => 0)`). */
export function networkRecord<T>(value: (network: NetworkName) => T): Record<NetworkName, T> {
  return Object.fromEntries(NETWORK_NAMES.map((n) => [n, value(n)])) as Record<NetworkName, T>;
}

/** Tensor names of the image encoder graph (src/models/networks/image-encoder.ts), the same for every network. */
export const IMAGE_ENCODER_IO = Object.freeze({ input: 'image', embeddings: 'image_embeddings', interm: 'interm_embeddings' } as const);

/** Tensor names of the prompt encoder + mask decoder graph (src/models/networks/prompt-decoder.ts). */
export const PROMPT_DECODER_IO = Object.freeze({
  imageEmbeddings: 'image_embeddings',
  intermEmbeddings: 'interm_embeddings',
  pointCoords: 'point_coords',
  pointLabels: 'point_labels',
  maskInput: 'mask_input',
  hasMaskInput: 'has_mask_input',
  lowResLogits: 'low_res_logits',
  iouPredictions: 'iou_predictions',
} as const);

export interface NetworkContract {
  readonly name: NetworkName;
  readonly architecture: ArchitectureSpec;
  /** Side of the square model frame: the encoder's input, the prompts' coordinates, the mask input and logits. */
  readonly frameSize: number;
  /** One slice as the encoder reads it: `image` (1, 3, S, S) float32. */
  readonly imageShape: readonly number[];
  /** One slice's `image_embeddings`: (1, C, G, G). */
  readonly embeddingShape: readonly number[];
  /** One slice's `interm_embeddings`, TinyViT layers.1 output channels-last: (1, G, G, C'). Every encoder emits it. */
  readonly intermShape: readonly number[];
  /**
   * Whether the decoder reads `interm_embeddings` (the SAM-HQ decoder): the pipeline then keeps them beside each
   * slice's embeddings and the worker feeds them. Decided here only.
   */
  readonly needsInterm: boolean;
  /** Float32 elements of one slice's embeddings and interm embeddings. */
  readonly embeddingFloats: number;
  readonly intermFloats: number;
  /** Bytes held per encoded slice: the embeddings, plus the interm embeddings when the decoder needs them. */
  readonly sliceBytes: number;
}

const elements = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

function contract(name: NetworkName, architecture: ArchitectureSpec): NetworkContract {
  const encoder = tinyVitConfig(architecture.encoder);
  const res = stageResolutions(encoder);
  const side = res[res.length - 1]!;
  const frameSize = encoder.imgSize;
  const embeddingShape = Object.freeze([1, encoder.neckDim, side, side]);
  // layers.1's output after its PatchMerging: the resolution and width of stage 2.
  const intermShape = Object.freeze([1, res[2]!, res[2]!, encoder.embedDims[2]]);
  const needsInterm = architecture.decoder.hq !== null;
  const embeddingFloats = elements(embeddingShape);
  const intermFloats = elements(intermShape);
  return Object.freeze({
    name,
    architecture,
    frameSize,
    imageShape: Object.freeze([1, encoder.inChans, frameSize, frameSize]),
    embeddingShape,
    intermShape,
    needsInterm,
    embeddingFloats,
    intermFloats,
    sliceBytes: Float32Array.BYTES_PER_ELEMENT * (embeddingFloats + (needsInterm ? intermFloats : 0)),
  });
}

export const NETWORKS: Readonly<Record<NetworkName, NetworkContract>> = Object.freeze(networkRecord((n) => contract(n, NETWORK_ARCHITECTURES[n])));
