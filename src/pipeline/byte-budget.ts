// A server-wide byte budget for slice embeddings (4 MiB each, plus 2.5 MiB for OneSAM's HQ intermediate).
// Waiters are served in FIFO order. When an acquisition cannot be satisfied, registered evictors drop embeddings
// nobody is using right now; those are re-encoded if needed again. Spare buffers (released by a request, kept for
// its next encodes) go first: they hold no embedding. Session caches (embeddings kept between requests on one
// image) come next, least recently used cache first: they only save future work, while a request store's idle
// embeddings are still planned for the request in flight.
import { CodedError } from '../errors/coded-error.ts';

export interface Evictor {
  /** Frees up to `bytes` of unpinned cached data; returns the bytes released (via budget.release). */
  evict(bytes: number): number;
  /**
   * Bytes it could free right now. Cache evictors must provide it: prefetching counts those bytes as free when
   * it checks its headroom, since any acquisition would evict them anyway.
   */
  evictableBytes?(): number;
}

/**
 * `spare`: buffers kept for reuse, evicted before anything else; `cache`: a session cache, evicted before any
 * request store (`request`). Spares and caches must provide evictableBytes.
 */
export type EvictorPriority = 'spare' | 'cache' | 'request';

interface Waiter {
  readonly bytes: number;
  readonly resolve: () => void;
  readonly reject: (e: unknown) => void;
  readonly preferred?: Evictor;
}

export class ByteBudget {
  private used = 0;
  /** High-water mark of bytes in use, for tests and metrics. */
  peak = 0;
  private readonly waiters: Waiter[] = [];
  /** Insertion order is recency order: touch() moves a cache to the end, so the first is the least recently used. */
  private readonly caches = new Set<Evictor>();
  private readonly stores = new Set<Evictor>();
  private readonly spares = new Set<Evictor>();
  /** Set while serve() runs: evictors release bytes from inside it, and a nested serve would hand out the head twice. */
  private serving = false;

  constructor(readonly limit: number) {
    if (!(limit > 0)) throw new Error('byte budget must be positive');
  }

  private take(bytes: number): void {
    this.used += bytes;
    if (this.used > this.peak) this.peak = this.used;
  }

  get inUse(): number {
    return this.used;
  }

  /** Bytes of inUse that only spare buffers hold: free for the asking. */
  get spareBytes(): number {
    let bytes = 0;
    for (const spares of this.spares) bytes += spares.evictableBytes?.() ?? 0;
    return bytes;
  }

  register(evictor: Evictor, priority: EvictorPriority = 'request'): () => void {
    const set = priority === 'spare' ? this.spares : priority === 'cache' ? this.caches : this.stores;
    set.add(evictor);
    return () => { set.delete(evictor); };
  }

  /** Marks a cache as just used, so other caches are evicted before it. */
  touch(cache: Evictor): void {
    if (this.caches.delete(cache)) this.caches.add(cache);
  }

  /**
   * Takes bytes only if they are free now and nobody is waiting. Prefetching never queues and never evicts a
   * request store; it may evict spare buffers and session caches, whose bytes it counts as free for the headroom.
   */
  tryAcquire(bytes: number, headroom = 0): boolean {
    if (this.waiters.length > 0) return false;
    const freeable = [...this.spares, ...this.caches];
    let cached = 0;
    for (const cache of freeable) cached += cache.evictableBytes?.() ?? 0;
    if (this.used - cached + bytes + headroom > this.limit) return false;
    for (const cache of freeable) {
      if (this.used + bytes <= this.limit) break;
      cache.evict(this.used + bytes - this.limit);
    }
    if (this.used + bytes > this.limit) return false;
    this.take(bytes);
    return true;
  }

  /** Takes bytes, evicting spare buffers, then idle embeddings (session caches, then the caller's own, then others'), or waiting for releases. */
  acquire(bytes: number, signal?: AbortSignal, preferred?: Evictor): Promise<void> {
    if (bytes > this.limit) {
      return Promise.reject(new CodedError('MEMORY_BUDGET_EXCEEDED', `one slice needs ${bytes} bytes of embeddings, more than the whole budget of ${this.limit}`));
    }
    if (this.waiters.length === 0 && this.fits(bytes, preferred)) {
      this.take(bytes);
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => {
      const onAbort = (): void => {
        const i = this.waiters.indexOf(waiter);
        if (i >= 0) {
          this.waiters.splice(i, 1);
          reject(new CodedError('REQUEST_CANCELLED', 'request cancelled while waiting for embedding memory'));
          this.serve();
        }
      };
      const waiter: Waiter = {
        bytes,
        resolve: () => { signal?.removeEventListener('abort', onAbort); resolve(); },
        reject,
        ...(preferred ? { preferred } : {}),
      };
      this.waiters.push(waiter);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Re-examines waiters after data became evictable (an encode settled, a walk unpinned a slice, a cache took one). */
  reconsider(): void {
    this.serve();
  }

  release(bytes: number): void {
    this.used -= bytes;
    if (this.used < 0) this.used = 0;
    this.serve();
  }

  private fits(bytes: number, preferred?: Evictor): boolean {
    if (this.used + bytes <= this.limit) return true;
    const stores = preferred && !this.caches.has(preferred) ? [preferred, ...[...this.stores].filter((e) => e !== preferred)] : [...this.stores];
    for (const evictor of [...this.spares, ...this.caches, ...stores]) {
      evictor.evict(this.used + bytes - this.limit);
      if (this.used + bytes <= this.limit) return true;
    }
    return false;
  }

  private serve(): void {
    // Evictions inside fits() release bytes and so re-enter here; the running loop re-checks the head itself.
    if (this.serving) return;
    this.serving = true;
    try {
      while (this.waiters.length > 0) {
        const head = this.waiters[0]!;
        if (!this.fits(head.bytes, head.preferred)) return;
        this.waiters.shift();
        this.take(head.bytes);
        head.resolve();
      }
    } finally {
      this.serving = false;
    }
  }
}
