// The contract between front ends (CLI, gRPC handlers) and the segmentation pipeline.
import type { ObjectPrompt, ProgressEvent, SegmentationRequest, SegmentationResult, Modality, EnsembleMode } from './types.ts';
import type { NetworkName } from '../models/network-contract.ts';

export interface SegmentOptions {
  /** Aborting stops the request's remaining work between slices; in-flight ORT runs finish first. */
  readonly signal?: AbortSignal;
  readonly onProgress?: (event: ProgressEvent) => void;
  /**
   * Slice embeddings kept between requests on the same image (an interactive session): embeddings found here are
   * reused instead of encoded, and the request's settled embeddings are left here when it ends. It must come from
   * this segmenter's openCache() (it lives in the segmenter's embedding budget), and every request given one cache
   * must segment the same prepared image (a different image shape is refused; the caller guarantees the voxels).
   */
  readonly cache?: EmbeddingCache;
  /**
   * What plan() returned for this same request (the server sends it as the acceptance first): segment() runs it
   * instead of planning the request again. Only a plan this segmenter made for this request object is accepted.
   */
  readonly plan?: SegmentationPlan;
  /**
   * `reference`: the reference scripts' schedule, which `onesam bench` measures against: objects one after
   * another, each with embeddings of its own (a slice encoded for one object never serves another; the 2D boxes
   * of one slice still share its encoding, as the reference's 2D script does). Same masks, more encodes.
   * `shared` (the default): every object's walks at once over one embedding store, 3D box walks in the order of
   * src/pipeline/walk-schedule.ts. `round-robin`: the same with the round-robin prefetch order the shared schedule
   * had before, walks ungated (more embeddings held at once; for bench/embedding-footprint.ts). Same masks.
   */
  readonly schedule?: 'shared' | 'round-robin' | 'reference';
  /**
   * Speed levels above 1 only: the Dice two consecutive computed masks of a 3D walk must reach for the slices
   * between to be interpolated rather than walked exactly (default: the segmenter's speedLevelGaps mode,
   * src/pipeline/speed-level.ts `gapSettings`). For benches that compare thresholds; a negative value interpolates
   * every gap (no refinement).
   */
  readonly gapAgreement?: number;
  /** Speed levels above 1 only: re-decodes of a gap's far slice with its own mask's box (default: as gapAgreement); for benches. */
  readonly gapRedecodes?: number;
}

/**
 * Embeddings of one image kept across requests. They stay inside the server-wide embedding budget and are the
 * first thing evicted when a request needs memory (evicted slices are simply encoded again).
 */
export interface EmbeddingCache {
  /** Slice embeddings held now (per network) and their bytes. */
  stats(): { readonly slices: Readonly<Record<NetworkName, number>>; readonly bytes: number };
  /** Releases every held embedding; the cache takes no more afterwards. */
  dispose(): void;
}

/** What a request will do, known before any encoding: sent to clients as the acceptance. */
export interface SegmentationPlan {
  readonly objects: readonly { readonly label: number; readonly networks: readonly NetworkName[]; readonly slices: readonly [number, number] }[];
  /** Distinct slices each network must encode (upper bound for scribble propagation, which may stop early). */
  readonly slicesToEncode: Readonly<Record<NetworkName, number>>;
  readonly modality: Modality | undefined;
  readonly mode: EnsembleMode;
}

/** What a served model is and where it came from (ListModels). */
export interface ModelInfo {
  readonly architecture: string;
  /** Compute precision of the graphs (manifest `precision`). */
  readonly precision: string;
  /** SHA-256 (hex) of the repository's weights file. */
  readonly weightsSha256: string;
  /** Learnable parameters of the architecture (BatchNorm statistics and fixed encodings excluded). */
  readonly parameters: number;
  /** The checkpoint file the model was imported from, and its SHA-256; empty when the manifest does not say. */
  readonly source: string;
  readonly sourceSha256: string;
  readonly description: string;
  readonly license: string;
  readonly modalities: readonly string[];
}

export interface NetworkStatus {
  readonly name: NetworkName;
  readonly model: string;
  readonly ready: boolean;
  readonly message?: string;
  readonly info?: ModelInfo;
}

export interface Segmenter {
  /**
   * Validates the request against the image and returns the plan; throws a CodedError for bad prompts. Pass the
   * plan on to segment() (SegmentOptions.plan) so the request is planned once.
   */
  plan(request: SegmentationRequest): SegmentationPlan;
  segment(request: SegmentationRequest, options?: SegmentOptions): Promise<SegmentationResult>;
  /** A new, empty embedding cache for one image, to pass to segment() of every request on that image. */
  openCache(): EmbeddingCache;
  networks(): readonly NetworkStatus[];
  /** Pool statistics for metrics: queued tasks, busy workers, total workers. */
  poolStats(): { readonly queued: number; readonly busy: number; readonly workers: number };
  /** Bytes of slice embeddings held in the server-wide budget (requests and session caches), and the budget. */
  embeddingStats?(): { readonly inUse: number; readonly limit: number };
  /** Waits for in-flight work, then closes the pool. */
  close(): Promise<void>;
}

export type { ObjectPrompt };
