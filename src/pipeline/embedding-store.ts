// Per-request cache of slice embeddings: each (network, slice) a walk needs is encoded once and shared by all
// objects and both walk directions, then released as soon as no planned walk step needs it any more.
// Prefetching encodes planned slices ahead of the walks while budget and pool capacity allow.
// With a session cache attached, slices are first taken from it ("adopted": no encode, the cache's budget
// reservation moves here) and successfully encoded slices are handed to it instead of released.
import { CodedError } from '../errors/coded-error.ts';
import type { WorkerPool } from '../workers/pool.ts';
import type { CancelFlag, NetworkEmbedding, SliceImage } from '../workers/protocol.ts';
import type { ByteBudget, Evictor } from './byte-budget.ts';
import type { SessionEmbeddingCache } from './embedding-cache.ts';
import { sliceKey, type SliceKey } from './slice-key.ts';
import type { StageTimes } from './types.ts';
import { networkRecord, NETWORKS, type NetworkName } from '../models/network-contract.ts';

interface Entry {
  readonly network: NetworkName;
  readonly z: number;
  readonly bytes: number;
  readonly embedding: NetworkEmbedding;
  ready: Promise<void>;
  pins: number;
  /** Planned walk steps still to use this entry. */
  refs: number;
  lastUse: number;
  /** The buffers hold a finished embedding (encoded or adopted): only such entries may go to the session cache. */
  complete: boolean;
}

export interface EmbeddingStoreOptions {
  readonly pool: WorkerPool;
  readonly budget: ByteBudget;
  readonly sliceImage: (z: number) => SliceImage;
  readonly cancel: CancelFlag;
  readonly signal: AbortSignal;
  readonly stages: StageTimes;
  /** Called when a slice's embedding is ready, whether encoded or adopted from the session cache (`reused`). */
  readonly onEncoded?: (network: NetworkName, z: number, reused: boolean) => void;
  /** Embeddings kept between requests on the same image. */
  readonly cache?: SessionEmbeddingCache;
}

/**
 * Ordered stores: encodes kept waiting in the pool's queue beyond one per worker. Only the prefetcher encodes for an
 * ordered store, and a worker that finishes finds its next encode there at once instead of idling while the main
 * thread answers (decodes still go first).
 */
const PREFETCH_QUEUED = 2;

/** Ordered stores: prefetched slices no walk has asked for yet, per pool worker (see EmbeddingStore.ahead). */
const PREFETCH_LEAD_PER_WORKER = 2;

export class EmbeddingStore implements Evictor {
  private readonly entries = new Map<SliceKey, Entry>();
  /** Entries whose encode finished (or failed): only those may be evicted. */
  private readonly settledEntries = new WeakSet<Entry>();
  /** Uses already made of each key, so an entry re-created after eviction knows how many remain. */
  private readonly consumed = new Map<SliceKey, number>();
  private readonly plannedRefs = new Map<SliceKey, number>();
  private prefetchQueue: SliceKey[] = [];
  private prefetching = 0;
  /**
   * Ordered stores only: planned keys the prefetcher has not yet reached. A walk that needs one waits for its turn
   * (awaitTurn) instead of encoding it early, so slices are encoded in the planned order (walk-schedule.ts).
   */
  private readonly notYetDue = new Set<SliceKey>();
  /** Walks waiting for their turn, woken whenever the prefetcher moves on. */
  private turnWaiters: (() => void)[] = [];
  /** The prefetcher could not start its next slice for want of budget: walks no longer wait for turns meanwhile. */
  private stalled = false;
  /**
   * Ordered stores: slices the prefetcher started that no walk has asked for yet. A walk decodes one slice at a
   * time and waits for a free worker each time, so when the order gives the encoder one walk to follow the encoder
   * outruns it; at most PREFETCH_LEAD_PER_WORKER per worker run ahead, and a walk's acquire lets the prefetcher on.
   */
  private readonly ahead = new Set<SliceKey>();
  private ordered = false;
  private clock = 0;
  /**
   * Buffers of entries this request released, reused by its next encodes (an encode overwrites every float). A
   * released SharedArrayBuffer is freed only when the main thread's GC collects it, and an idle main thread rarely
   * runs one: `onesam bench` saw 200-370 MiB of released embeddings still resident on the paper CT when at most 4
   * were kept. So every released buffer is kept, still counted in the budget: the store then never holds more
   * buffers than its high-water mark of embeddings in use, and the budget evicts spares before anything else. No
   * more are kept than encodes the prefetcher has still to start (trimSpares): a walk that is winding down lets its
   * buffers go, for the GC to collect while the last walks finish.
   */
  private readonly spare: NetworkEmbedding[] = [];
  private disposed = false;
  private readonly unregister: () => void;
  private readonly unregisterSpares: () => void;
  /** Slices run through an encoder (re-encodes after eviction included). */
  readonly encoded: Record<NetworkName, number> = networkRecord(() => 0);
  /** Slices adopted from the session cache instead of encoded. */
  readonly reused: Record<NetworkName, number> = networkRecord(() => 0);
  /** Distinct (network, slice) pairs encoded, to tell re-encodes after eviction from first encodes. */
  readonly distinct = new Set<SliceKey>();

  constructor(private readonly o: EmbeddingStoreOptions) {
    this.unregister = o.budget.register(this);
    this.unregisterSpares = o.budget.register({
      evict: (bytes) => this.dropSpares(bytes),
      evictableBytes: () => this.spare.reduce((sum, e) => sum + this.bytesFor(e.network), 0),
    }, 'spare');
    o.signal.addEventListener('abort', this.onAbort, { once: true });
  }

  /** A cancelled or failed request: walks waiting for a turn must not wait for a prefetcher that stopped. */
  private readonly onAbort = (): void => {
    this.notYetDue.clear();
    this.wakeTurnWaiters();
  };

  /** Declares the walks' planned uses, in the order prefetching should follow. */
  plan(uses: readonly SliceKey[], prefetchOrder: readonly SliceKey[], ordered = false): void {
    for (const key of uses) this.plannedRefs.set(key, (this.plannedRefs.get(key) ?? 0) + 1);
    const seen = new Set<SliceKey>();
    this.prefetchQueue = prefetchOrder.filter((k) => (seen.has(k) ? false : (seen.add(k), true)));
    this.ordered = ordered;
    if (ordered) for (const key of this.prefetchQueue) this.notYetDue.add(key);
    // Keep this request's slices in the session cache while prefetching evicts cached slices to make room.
    this.o.cache?.touch(this.prefetchQueue);
  }

  bytesFor(network: NetworkName): number {
    return NETWORKS[network].sliceBytes;
  }

  /**
   * Pins the embeddings of slice z for every network (two in `fuse` mode), encoding what is missing. Pair with
   * release() per network. Memory for all missing networks is reserved before anything is pinned, so a walk never
   * holds a pinned embedding while it waits for memory: with two networks that hold-and-wait could deadlock a tight
   * budget shared by many walks.
   */
  async acquireSlice(networks: readonly NetworkName[], z: number): Promise<NetworkEmbedding[]> {
    for (const n of networks) await this.awaitTurn(n, z);
    let entries: Entry[] | undefined;
    while (!entries) {
      // Adopt cached slices first, synchronously, so that no memory is reserved for them.
      for (const n of networks) if (!this.entries.has(sliceKey(n, z))) this.adopt(n, z);
      const missing = networks.filter((n) => !this.entries.has(sliceKey(n, z)));
      // A spare buffer brings its reservation: when every missing network has one, nothing is reserved (and nothing
      // awaited, so the spares are still there below). Otherwise all are reserved, the spares staying evictable
      // while this walk waits, and the reservations of the spares used below are given back.
      const reserved = missing.every((n) => this.hasSpare(n)) ? 0 : missing.reduce((sum, n) => sum + this.bytesFor(n), 0);
      if (reserved > 0) await this.o.budget.acquire(reserved, this.o.signal, this);
      if (this.disposed) {
        this.o.budget.release(reserved);
        throw new CodedError('REQUEST_CANCELLED', 'request finished while waiting for embedding memory');
      }
      // From here on synchronous: nothing can be evicted between this check and the pins below.
      const evicted = networks.some((n) => !missing.includes(n) && !this.entries.has(sliceKey(n, z)));
      if (evicted) {
        // A slice we counted on was evicted while we waited: give the reservation back and start over.
        this.o.budget.release(reserved);
        continue;
      }
      let unused = reserved;
      entries = networks.map((n) => {
        // Another request may have left the slice in the session cache while we waited.
        const existing = this.entries.get(sliceKey(n, z)) ?? this.adopt(n, z);
        if (existing) return existing;
        const buffer = this.takeSpare(n);
        if (!buffer) unused -= this.bytesFor(n);
        return this.start(n, z, buffer);
      });
      // Entries another walk started (or that were adopted) while we waited were reserved twice, and so were spares.
      if (unused > 0) this.o.budget.release(unused);
    }
    for (const entry of entries) {
      entry.pins++;
      entry.lastUse = ++this.clock;
    }
    // Reached by a walk: no longer ahead of the walks, so the prefetcher may start another slice.
    if (this.ahead.size > 0 && networks.map((n) => this.ahead.delete(sliceKey(n, z))).some(Boolean)) this.pump();
    try {
      await Promise.all(entries.map((e) => e.ready));
    } catch (e) {
      for (const entry of entries) entry.pins--;
      throw e;
    }
    return entries.map((e) => e.embedding);
  }

  /**
   * Ordered stores: waits until the prefetcher has reached this planned key (started, adopted or passed it). It
   * cannot deadlock: the prefetcher moves on whenever an encode settles, and when it cannot (no budget for its next
   * slice, the request cancelled or finished) every waiting walk goes on, acquiring on demand as in an unordered
   * store. Keys outside the plan (scribble walks past their range, speed-level gaps) never wait, and neither do
   * slices the session cache holds (adopted now: they cost no encode, and their bytes are in the budget already).
   */
  private async awaitTurn(network: NetworkName, z: number): Promise<void> {
    const key = sliceKey(network, z);
    let waited = false;
    while (this.notYetDue.has(key) && !this.stalled && !this.entries.has(key) && !this.adopt(network, z)) {
      waited = true;
      await new Promise<void>((resolve) => this.turnWaiters.push(resolve));
    }
    if (waited && (this.disposed || this.o.signal.aborted)) throw new CodedError('REQUEST_CANCELLED', 'request cancelled');
  }

  /** Wakes the walks waiting for a turn: each checks again whether its key is due. */
  private wakeTurnWaiters(): void {
    if (this.turnWaiters.length === 0) return;
    const waiters = this.turnWaiters;
    this.turnWaiters = [];
    for (const w of waiters) w();
  }

  /** Unpins; frees the entry once no planned step needs it. */
  release(network: NetworkName, z: number): void {
    this.consume(network, z, true);
    this.pump();
  }

  /**
   * One more use of slice z than planned (a speed-level walk may decode a computed slice again after walking the
   * gap before it): keeps its embedding past the planned use that would free it. Pair with release() or skip().
   */
  addUse(network: NetworkName, z: number): void {
    const key = sliceKey(network, z);
    this.plannedRefs.set(key, (this.plannedRefs.get(key) ?? 0) + 1);
    const entry = this.entries.get(key);
    if (entry) entry.refs++;
  }

  /** A planned use that will not happen (a scribble walk skipped the slice): frees the entry if it was the last. */
  skip(network: NetworkName, z: number): void {
    this.consume(network, z, false);
  }

  private consume(network: NetworkName, z: number, pinned: boolean): void {
    const key = sliceKey(network, z);
    this.consumed.set(key, (this.consumed.get(key) ?? 0) + 1);
    const entry = this.entries.get(key);
    if (!entry) return;
    if (pinned) entry.pins--;
    entry.refs--;
    if (entry.pins <= 0 && entry.refs <= 0) this.drop(key, entry, true);
    // Unpinned but still planned: now evictable, which a waiting acquisition may need to know.
    else if (pinned && entry.pins <= 0) this.o.budget.reconsider();
  }

  /** Adopts cached slices and starts prefetch encodes while pool threads and budget are free (never waits). */
  pump(): void {
    const { pool, budget } = this.o;
    const dueBefore = this.notYetDue.size;
    const stalledBefore = this.stalled;
    const inFlight = this.ordered ? pool.workers + PREFETCH_QUEUED : pool.workers;
    const lead = PREFETCH_LEAD_PER_WORKER * pool.workers;
    while (!this.disposed && !this.o.signal.aborted && this.prefetchQueue.length > 0 && this.prefetching < inFlight && this.ahead.size < lead) {
      const key = this.prefetchQueue[0]!;
      if (this.entries.has(key) || this.remainingUses(key) <= 0) { this.passed(); continue; }
      const [network, zs] = key.split(':') as [NetworkName, string];
      if (this.adopt(network, Number(zs))) { this.passed(); continue; }
      // A spare brings its reservation. Otherwise keep headroom so walks that need a slice now are not starved.
      const buffer = this.takeSpare(network);
      if (!buffer && !budget.tryAcquire(this.bytesFor(network), this.bytesFor(network) * pool.workers)) {
        this.stalled = true;
        break;
      }
      this.stalled = false;
      this.passed();
      const entry = this.start(network, Number(zs), buffer);
      // Only a slice no walk has reached yet: its planned first walk reaches it through slices started before it, so
      // the prefetcher waiting for that never waits for itself. (A slice re-encoded after an eviction may wait for a
      // walk that is itself waiting for its turn.)
      if (this.ordered && !this.consumed.has(key)) this.ahead.add(key);
      this.prefetching++;
      entry.ready.catch(() => undefined).finally(() => { this.prefetching--; this.pump(); });
    }
    this.trimSpares();
    // Walks waiting for a turn: wake them when their key may have come due, or when they must not wait any more.
    const over = this.disposed || this.o.signal.aborted || this.prefetchQueue.length === 0;
    if (over) this.notYetDue.clear();
    if (this.notYetDue.size !== dueBefore || this.stalled !== stalledBefore || over) this.wakeTurnWaiters();
  }

  /** The prefetcher is done with the head of its queue: that key is due. */
  private passed(): void {
    this.notYetDue.delete(this.prefetchQueue.shift()!);
  }

  evict(bytes: number): number {
    let freed = 0;
    const idle = [...this.entries.entries()].filter(([, e]) => e.pins <= 0).sort((a, b) => a[1].lastUse - b[1].lastUse);
    for (const [key, entry] of idle) {
      if (freed >= bytes) break;
      // Settled entries only: an encode in flight still writes into its buffer.
      if (!this.settledEntries.has(entry)) continue;
      freed += entry.bytes;
      // Really released: handing it to the session cache would free nothing.
      this.drop(key, entry, false);
      // A dropped entry with remaining uses may be prefetched again later.
      if (entry.refs > 0) this.prefetchQueue.push(key);
    }
    return freed;
  }

  /** Hands every finished embedding to the session cache, releases the rest (after the request finished or failed). */
  dispose(): void {
    this.disposed = true;
    this.o.signal.removeEventListener('abort', this.onAbort);
    this.onAbort();
    // Unregister first: the cache's put() lets the budget evict, which must not re-enter this store meanwhile.
    this.unregister();
    this.unregisterSpares();
    this.dropSpares(Infinity);
    for (const [key, entry] of [...this.entries]) this.drop(key, entry, true);
  }

  /** Keeps no more spares than the prefetcher's queue could still use (it only shrinks). */
  private trimSpares(): void {
    while (this.spare.length > this.prefetchQueue.length) this.dropSpare();
  }

  /** Lets spare buffers go until `bytes` are released; returns the bytes released. */
  private dropSpares(bytes: number): number {
    let freed = 0;
    while (freed < bytes && this.spare.length > 0) freed += this.dropSpare();
    return freed;
  }

  /** Lets the last spare buffer go (to the GC) and gives its reservation back; returns its bytes. */
  private dropSpare(): number {
    const bytes = this.bytesFor(this.spare.pop()!.network);
    this.o.budget.release(bytes);
    return bytes;
  }

  private hasSpare(network: NetworkName): boolean {
    return this.spare.some((e) => e.network === network);
  }

  /** A spare buffer of `network`, its reservation moving to the caller. */
  private takeSpare(network: NetworkName): NetworkEmbedding | undefined {
    const at = this.spare.findIndex((e) => e.network === network);
    return at >= 0 ? this.spare.splice(at, 1)[0] : undefined;
  }

  /**
   * Starts encoding slice z into `buffer` (a spare, with its reservation) or a new buffer, whose bytes the caller
   * has reserved.
   */
  private start(network: NetworkName, z: number, buffer?: NetworkEmbedding): Entry {
    const key = sliceKey(network, z);
    const bytes = this.bytesFor(network);
    const contract = NETWORKS[network];
    const embedding: NetworkEmbedding = buffer ?? {
      network,
      embedding: new SharedArrayBuffer(contract.embeddingFloats * Float32Array.BYTES_PER_ELEMENT),
      ...(contract.needsInterm ? { interm: new SharedArrayBuffer(contract.intermFloats * Float32Array.BYTES_PER_ELEMENT) } : {}),
    };
    const entry: Entry = {
      network, z, bytes, embedding, pins: 0, lastUse: ++this.clock,
      refs: this.remainingUses(key),
      ready: Promise.resolve(),
      complete: false,
    };
    const submitted = performance.now();
    entry.ready = this.o.pool.encode({
      kind: 'encode', network, slice: this.o.sliceImage(z), embedding: embedding.embedding,
      ...(embedding.interm ? { interm: embedding.interm } : {}), cancel: this.o.cancel,
    }).then((r) => {
      this.settledEntries.add(entry);
      queueMicrotask(() => this.o.budget.reconsider());
      if (r.cancelled) throw new CodedError('REQUEST_CANCELLED', 'encode skipped: request cancelled');
      entry.complete = true;
      this.o.stages.preprocess += r.preprocessMs;
      this.o.stages.encode += r.encodeMs;
      this.o.stages.queue += Math.max(0, performance.now() - submitted - r.preprocessMs - r.encodeMs);
      this.encoded[network]++;
      this.distinct.add(key);
      this.o.onEncoded?.(network, z, false);
    }, (e: unknown) => {
      this.settledEntries.add(entry);
      queueMicrotask(() => this.o.budget.reconsider());
      throw e;
    });
    // Avoid unhandled rejections for prefetches nobody awaited.
    entry.ready.catch(() => undefined);
    this.entries.set(key, entry);
    return entry;
  }


  /** Planned uses of a key not yet made (a slice whose walks all passed must not be prefetched again). */
  private remainingUses(key: SliceKey): number {
    return (this.plannedRefs.get(key) ?? 0) - (this.consumed.get(key) ?? 0);
  }

  /**
   * Takes slice z of `network` from the session cache with its reservation; the entry is ready at once.
   * Progress reports it like an encode: progress counts slices ready, and would otherwise stop short of its total.
   */
  private adopt(network: NetworkName, z: number): Entry | undefined {
    const key = sliceKey(network, z);
    const held = this.o.cache?.take(key);
    if (!held) return undefined;
    if (held.bytes !== this.bytesFor(network)) {
      // Laid out for another decoder (cannot happen with one segmenter's cache): drop it and encode.
      this.o.budget.release(held.bytes);
      return undefined;
    }
    const entry: Entry = {
      network, z, bytes: held.bytes, embedding: held.embedding, pins: 0, lastUse: ++this.clock,
      refs: this.remainingUses(key),
      ready: Promise.resolve(),
      complete: true,
    };
    this.settledEntries.add(entry);
    this.entries.set(key, entry);
    this.reused[network]++;
    this.o.onEncoded?.(network, z, true);
    return entry;
  }

  /** Forgets an entry: its bytes go with it to the session cache when `keep` and it is complete, else are released. */
  private drop(key: SliceKey, entry: Entry, keep: boolean): void {
    if (this.entries.get(key) !== entry) return;
    this.entries.delete(key);
    this.ahead.delete(key);
    if (keep && entry.complete && this.o.cache) this.o.cache.put(key, { embedding: entry.embedding, bytes: entry.bytes });
    // Only a settled entry nobody pins is reused: its encode has finished writing and no decode reads it. Evicted
    // entries are released outright: the budget asked for the bytes.
    else if (keep && !this.disposed && entry.pins <= 0 && this.settledEntries.has(entry) && this.spare.length < this.prefetchQueue.length) this.spare.push(entry.embedding);
    else this.o.budget.release(entry.bytes);
  }

}
