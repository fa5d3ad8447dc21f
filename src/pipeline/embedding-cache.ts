// Slice embeddings of one image kept between requests (an interactive session). Embeddings do not depend on the
// prompts, so a later request on the same image can take them instead of encoding the slices again.
// The cache owns the budget reservation of every embedding it holds: a request's store hands an embedding over
// with its bytes still acquired, and takes it back the same way, so the bytes are counted exactly once. Cached
// embeddings are the first thing the budget evicts (see ByteBudget), least recently used first.
import { CodedError } from '../errors/coded-error.ts';
import type { NetworkEmbedding } from '../workers/protocol.ts';
import type { ByteBudget, Evictor } from './byte-budget.ts';
import type { EmbeddingCache } from './segmenter.ts';
import type { SliceKey } from './slice-key.ts';
import type { ImageVolume } from './types.ts';
import { networkRecord, type NetworkName } from '../models/network-contract.ts';

/** An embedding with the budget bytes reserved for it; whoever holds one must put it somewhere or release them. */
export interface HeldEmbedding {
  readonly embedding: NetworkEmbedding;
  readonly bytes: number;
}

interface CachedSlice extends HeldEmbedding {
  lastUse: number;
}

export class SessionEmbeddingCache implements EmbeddingCache, Evictor {
  private readonly held = new Map<SliceKey, CachedSlice>();
  private heldBytes = 0;
  private clock = 0;
  private disposed = false;
  /** "DxHxWxC" of the first image segmented with this cache. */
  private imageShape: string | undefined;
  private readonly unregister: () => void;

  constructor(readonly budget: ByteBudget) {
    this.unregister = budget.register(this, 'cache');
  }

  /**
   * Guards the caller's promise that every request segments the same image: a different shape would make the
   * cached embeddings silently wrong. (Equal shapes with different pixels cannot be told apart cheaply.)
   */
  checkImage(image: ImageVolume): void {
    const shape = `${image.depth}x${image.height}x${image.width}x${image.channels}`;
    this.imageShape ??= shape;
    if (shape !== this.imageShape) {
      throw new CodedError('IMAGE_INVALID', `image is ${shape}, but the session's embedding cache holds slices of a ${this.imageShape} image`, 'image');
    }
  }

  /**
   * Takes over a settled, successfully encoded embedding together with its reserved bytes. A disposed cache, or
   * one that already holds the key (two requests encoded the same slice), releases the bytes instead.
   */
  put(key: SliceKey, slice: HeldEmbedding): void {
    if (this.disposed || this.held.has(key)) {
      this.budget.release(slice.bytes);
      return;
    }
    this.held.set(key, { ...slice, lastUse: ++this.clock });
    this.heldBytes += slice.bytes;
    this.budget.touch(this);
    // The bytes are now evictable, which may satisfy an acquisition waiting for memory.
    this.budget.reconsider();
  }

  /** Hands out the embedding with its reserved bytes (the caller now owns both), or undefined when not held. */
  take(key: SliceKey): HeldEmbedding | undefined {
    const slice = this.held.get(key);
    if (!slice) return undefined;
    this.held.delete(key);
    this.heldBytes -= slice.bytes;
    this.budget.touch(this);
    return { embedding: slice.embedding, bytes: slice.bytes };
  }

  /** Marks keys a request is about to need as recently used, so evictions meanwhile pick other slices first. */
  touch(keys: Iterable<SliceKey>): void {
    for (const key of keys) {
      const slice = this.held.get(key);
      if (slice) slice.lastUse = ++this.clock;
    }
  }

  evictableBytes(): number {
    return this.heldBytes;
  }

  /** Releases least recently used embeddings until `bytes` are freed (or nothing is left). */
  evict(bytes: number): number {
    const byAge = [...this.held.entries()].sort((a, b) => a[1].lastUse - b[1].lastUse);
    let freed = 0;
    for (const [key, slice] of byAge) {
      if (freed >= bytes) break;
      this.held.delete(key);
      this.heldBytes -= slice.bytes;
      freed += slice.bytes;
    }
    if (freed > 0) this.budget.release(freed);
    return freed;
  }

  stats(): { readonly slices: Readonly<Record<NetworkName, number>>; readonly bytes: number } {
    const slices = networkRecord(() => 0);
    for (const slice of this.held.values()) slices[slice.embedding.network]++;
    return { slices, bytes: this.heldBytes };
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.unregister();
    const bytes = this.heldBytes;
    this.held.clear();
    this.heldBytes = 0;
    if (bytes > 0) this.budget.release(bytes);
  }
}

/** The session cache a request may use: only one opened by the same segmenter shares its budget accounting. */
export function sessionCacheFor(cache: EmbeddingCache | undefined, budget: ByteBudget): SessionEmbeddingCache | undefined {
  if (cache === undefined) return undefined;
  if (!(cache instanceof SessionEmbeddingCache) || cache.budget !== budget) {
    throw new Error('SegmentOptions.cache must come from openCache() of the segmenter that segments the request');
  }
  return cache;
}
