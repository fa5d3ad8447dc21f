// A server-wide byte budget for slice embeddings (4 MiB each, plus 2.5 MiB for OneSAM's HQ intermediate).
// Waiters are served in FIFO order. When an acquisition cannot be satisfied, registered evictors (the requests'
// embedding stores) drop cached embeddings that no walk is using right now; those are re-encoded if needed again.
import { PipelineError } from './errors.ts';

export interface Evictor {
  /** Frees up to `bytes` of unpinned cached data; returns the bytes released (via budget.release). */
  evict(bytes: number): number;
}

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
  private readonly evictors = new Set<Evictor>();

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

  register(evictor: Evictor): () => void {
    this.evictors.add(evictor);
    return () => this.evictors.delete(evictor);
  }

  /** Takes bytes only if they are free now and nobody is waiting (prefetching never evicts or queues). */
  tryAcquire(bytes: number, headroom = 0): boolean {
    if (this.waiters.length > 0 || this.used + bytes + headroom > this.limit) return false;
    this.take(bytes);
    return true;
  }

  /** Takes bytes, evicting idle cached embeddings (the caller's own first) or waiting for releases. */
  acquire(bytes: number, signal?: AbortSignal, preferred?: Evictor): Promise<void> {
    if (bytes > this.limit) {
      return Promise.reject(new PipelineError('MEMORY_BUDGET_EXCEEDED', `one slice needs ${bytes} bytes of embeddings, more than the whole budget of ${this.limit}`));
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
          reject(new PipelineError('REQUEST_CANCELLED', 'request cancelled while waiting for embedding memory'));
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

  /** Re-examines waiters after cached data became evictable (an encode settled, a walk unpinned a slice). */
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
    const order = preferred ? [preferred, ...[...this.evictors].filter((e) => e !== preferred)] : [...this.evictors];
    for (const evictor of order) {
      evictor.evict(this.used + bytes - this.limit);
      if (this.used + bytes <= this.limit) return true;
    }
    return false;
  }

  private serve(): void {
    while (this.waiters.length > 0) {
      const head = this.waiters[0]!;
      if (!this.fits(head.bytes, head.preferred)) return;
      this.waiters.shift();
      this.take(head.bytes);
      head.resolve();
    }
  }
}
