// Per-network timings for `onesam bench`: bursts of encodes and of one-box decodes straight on a segmenter's
// worker pool (no walk, no store), so each pool shape gives what a slice and a prompt cost the machine with every
// worker busy (burst wall / items) and inside one worker (median run time).
import { NETWORKS, type NetworkName } from '../models/network-contract.ts';
import { resizedSize, scaleBoxTo256 } from '../pipeline/geometry.ts';
import type { PipelineSegmenter } from '../pipeline/index.ts';
import type { ImageVolume } from '../pipeline/types.ts';
import type { NetworkEmbedding, SliceImage } from '../workers/protocol.ts';
import { median, type NetworkTiming, type PoolShape } from './bench-figures.ts';

function sliceOf(image: ImageVolume, z: number): SliceImage {
  const bytes = image.height * image.width * image.channels;
  return { height: image.height, width: image.width, channels: image.channels, pixels: image.data.slice(z * bytes, (z + 1) * bytes) };
}

function emptyEmbedding(network: NetworkName): NetworkEmbedding {
  const c = NETWORKS[network];
  return {
    network,
    embedding: new SharedArrayBuffer(c.embeddingFloats * 4),
    ...(c.needsInterm ? { interm: new SharedArrayBuffer(c.intermFloats * 4) } : {}),
  };
}

/**
 * `perWorker` encodes and then `perWorker` decodes per worker, all submitted at once, on slices `slices` of the
 * image (cycled); the decodes prompt a box of half the slice in its middle, with the walk's next-box step.
 */
export async function timeNetwork(segmenter: PipelineSegmenter, shape: PoolShape, network: NetworkName, image: ImageVolume, slices: readonly number[], perWorker: number): Promise<NetworkTiming> {
  const { pool } = segmenter;
  const count = Math.max(1, perWorker) * shape.workers;
  const embeddings = Array.from({ length: count }, () => emptyEmbedding(network));
  const t0 = performance.now();
  const encodes = await Promise.all(embeddings.map((e, i) => pool.encode({
    kind: 'encode', network, slice: sliceOf(image, slices[i % slices.length]!), embedding: e.embedding, ...(e.interm ? { interm: e.interm } : {}),
  })));
  const encodeWall = performance.now() - t0;
  const { height, width } = image;
  const box = scaleBoxTo256({ x0: width / 4, y0: height / 4, x1: (3 * width) / 4, y1: (3 * height) / 4 }, height, width);
  const t1 = performance.now();
  const decodes = await Promise.all(embeddings.map((e) => pool.decode({
    kind: 'decode', embeddings: [e], prompts: { kind: 'boxes', boxes256: Float32Array.from(box) },
    height, width, ...resizedSize(height, width), propagateLabels: [1],
  })));
  const decodeWall = performance.now() - t1;
  return {
    network, shape,
    encoderSliceMs: encodeWall / count,
    encoderLatencyMs: median(encodes.map((r) => r.encodeMs + r.preprocessMs)),
    decoderPromptMs: decodeWall / count,
    decoderLatencyMs: median(decodes.map((r) => r.decodeMs + r.postprocessMs)),
  };
}
