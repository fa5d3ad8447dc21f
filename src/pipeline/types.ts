// The pipeline's request and result types: what a caller (CLI or gRPC handler) hands in and gets back.
// Volumes are always (D, H, W) for grey data or (1, H, W, 3) for a 2D RGB image; a 2D grey image is D = 1.
import type { NetworkName } from '../models/network-contract.ts';
// The image and the prompts are defined on the volume floor, which decodes them; named here too, as part of the
// pipeline's request.
import type { ImageVolume } from '../volume/image-volume.ts';
import type { ObjectPrompt } from '../volume/prompts.ts';

export type { ImageVolume } from '../volume/image-volume.ts';
export type { Box2D, Box3D, ObjectPrompt, Prompt, Scribble } from '../volume/prompts.ts';

/** How the network is chosen: by modality table (`route`), forced (a network's name), or every network's probabilities averaged. */
export type EnsembleMode = 'route' | NetworkName | 'fuse';

/** Canonical modality keys of the routing table (see src/pipeline/router.ts). */
export type Modality =
  | 'CT' | 'MR' | 'PET' | 'US' | 'XRay' | 'Dermoscopy' | 'Endoscopy' | 'Fundus' | 'Microscopy' | 'OCT' | 'Mammography';

export interface SegmentationRequest {
  readonly requestId: string;
  readonly image: ImageVolume;
  readonly objects: readonly ObjectPrompt[];
  readonly modality?: Modality;
  readonly mode: EnsembleMode;
  /**
   * 3D box walks compute every N-th slice and interpolate the others (src/pipeline/speed-level.ts); 1 (the default)
   * is the exact walk. 2D images and scribble walks ignore it.
   */
  readonly speedLevel?: number;
}

/** Per-stage wall times in milliseconds, summed over the request (stages overlap across objects). */
export interface StageTimes {
  preprocess: number;
  encode: number;
  decode: number;
  postprocess: number;
  assemble: number;
  queue: number;
}

/** A hint a client can act on (see src/pipeline/object-quality.ts for the rule and its threshold). */
export type ObjectQuality = 'ok' | 'low_predicted_iou' | 'empty';

export interface ObjectSummary {
  readonly label: number;
  readonly networks: readonly NetworkName[];
  readonly voxels: number;
  /** First and last slice the object's walks visited. */
  readonly slices: readonly [number, number];
  /** First and last slice holding this object's voxels in the output; absent when it has none. */
  readonly covered?: readonly [number, number];
  /** The decoder's predicted IoU (clamped to 0..1) over the slices decoded for this object: mean and minimum. */
  readonly predictedIou: { readonly mean: number; readonly min: number };
  /** Millilitres (voxels x spacing product / 1000), when the image's spacing is known. */
  readonly volumeMl?: number;
  /**
   * A walk ended on an empty mask before the volume's edge: scribble propagation beyond the scribbled slices
   * assumes the object ended there. Box walks never stop early (they fall back to the prompt's box).
   */
  readonly stoppedEarly: boolean;
  readonly quality: ObjectQuality;
}

export interface SegmentationResult {
  /** D * H * W labels; uint16 when any label exceeds 255. */
  readonly labels: Uint8Array | Uint16Array;
  readonly objects: readonly ObjectSummary[];
  readonly slicesEncoded: Readonly<Record<NetworkName, number>>;
  /** Slice embeddings taken from SegmentOptions.cache instead of encoded (0 without a cache). */
  readonly slicesReused: Readonly<Record<NetworkName, number>>;
  /** The request's speed level (1: exact), and the object slices its 3D box walks filled by interpolation. */
  readonly speedLevel: number;
  readonly slicesInterpolated: number;
  readonly stages: StageTimes;
  readonly wallMs: number;
}

/** Progress events, for streaming to clients. */
export type ProgressEvent =
  /** A slice's embedding is ready: encoded now, or `reused` from the session cache (no encoder ran). */
  | { readonly kind: 'encoded'; readonly network: NetworkName; readonly slice: number; readonly reused: boolean; readonly done: number; readonly total: number }
  | { readonly kind: 'object-done'; readonly label: number; readonly done: number; readonly total: number };
