// The pipeline's request and result types: what a caller (CLI or gRPC handler) hands in and gets back.
// Volumes are always (D, H, W) for grey data or (1, H, W, 3) for a 2D RGB image; a 2D grey image is D = 1.
import type { NetworkName } from '../models/network-contract.ts';

/** How the network is chosen: by modality table (`route`), forced (a network's name), or every network's probabilities averaged. */
export type EnsembleMode = 'route' | NetworkName | 'fuse';

/** Canonical modality keys of the routing table (see src/pipeline/router.ts). */
export type Modality =
  | 'CT' | 'MR' | 'PET' | 'US' | 'XRay' | 'Dermoscopy' | 'Endoscopy' | 'Fundus' | 'Microscopy' | 'OCT' | 'Mammography';

/** An 8-bit image or volume, already prepared to 0..255 (intensity preparation happens before the pipeline). */
export interface ImageVolume {
  /** Number of slices; 1 for a 2D image. */
  readonly depth: number;
  readonly height: number;
  readonly width: number;
  /** 1 (grey, replicated to 3 channels for the encoder) or 3 (RGB as stored, HWC). */
  readonly channels: 1 | 3;
  /** depth * height * width * channels bytes, slice-major then row-major, channels last. */
  readonly data: Uint8Array;
  /** (z, y, x) voxel spacing when known; not used by inference. */
  readonly spacing?: readonly [number, number, number];
}

/** A box on one slice (2D) in original pixel coordinates, inclusive-exclusive as the challenge files are. */
export interface Box2D { readonly kind: 'box2d'; readonly x0: number; readonly y0: number; readonly x1: number; readonly y1: number; /** slice index in a volume; 0 for a 2D image */ readonly z?: number }
/** A 3D box: xy extent plus the slice range [z0, z1], both ends segmented (reference: z0 < z1). */
export interface Box3D { readonly kind: 'box3d'; readonly x0: number; readonly y0: number; readonly z0: number; readonly x1: number; readonly y1: number; readonly z1: number }
/**
 * A scribble: the voxels (flat indices into D*H*W) a user marked for this object. On a 2D image the scribble is
 * a dense mask prompt (reference LiteMedSAMScribble); in 3D see src/pipeline/scribble.ts for the propagation rule.
 */
export interface Scribble { readonly kind: 'scribble'; readonly voxels: Uint32Array }

export type Prompt = Box2D | Box3D | Scribble;

/** One object to segment: a prompt and the label value written for it. */
export interface ObjectPrompt {
  readonly label: number;
  readonly prompt: Prompt;
}

export interface SegmentationRequest {
  readonly requestId: string;
  readonly image: ImageVolume;
  readonly objects: readonly ObjectPrompt[];
  readonly modality?: Modality;
  readonly mode: EnsembleMode;
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
  readonly stages: StageTimes;
  readonly wallMs: number;
}

/** Progress events, for streaming to clients. */
export type ProgressEvent =
  /** A slice's embedding is ready: encoded now, or `reused` from the session cache (no encoder ran). */
  | { readonly kind: 'encoded'; readonly network: NetworkName; readonly slice: number; readonly reused: boolean; readonly done: number; readonly total: number }
  | { readonly kind: 'object-done'; readonly label: number; readonly done: number; readonly total: number };
