// The contract between front ends (CLI, gRPC handlers) and the segmentation pipeline.
import type { NetworkName, ObjectPrompt, ProgressEvent, SegmentationRequest, SegmentationResult, Modality, EnsembleMode } from './types.ts';

export interface SegmentOptions {
  /** Aborting stops the request's remaining work between slices; in-flight ORT runs finish first. */
  readonly signal?: AbortSignal;
  readonly onProgress?: (event: ProgressEvent) => void;
}

/** What a request will do, known before any encoding: sent to clients as the acceptance. */
export interface SegmentationPlan {
  readonly objects: readonly { readonly label: number; readonly networks: readonly NetworkName[]; readonly slices: readonly [number, number] }[];
  /** Distinct slices each network must encode (upper bound for scribble propagation, which may stop early). */
  readonly slicesToEncode: Readonly<Record<NetworkName, number>>;
  readonly modality: Modality | undefined;
  readonly mode: EnsembleMode;
}

export interface NetworkStatus {
  readonly name: NetworkName;
  readonly model: string;
  readonly ready: boolean;
  readonly message?: string;
}

export interface Segmenter {
  /** Validates the request against the image and returns the plan; throws a PipelineError for bad prompts. */
  plan(request: SegmentationRequest): SegmentationPlan;
  segment(request: SegmentationRequest, options?: SegmentOptions): Promise<SegmentationResult>;
  networks(): readonly NetworkStatus[];
  /** Pool statistics for metrics: queued tasks, busy workers, total workers. */
  poolStats(): { readonly queued: number; readonly busy: number; readonly workers: number };
  /** Waits for in-flight work, then closes the pool. */
  close(): Promise<void>;
}

export type { ObjectPrompt };
