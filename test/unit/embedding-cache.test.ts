// The session embedding cache and its budget accounting: reservations move between request stores and the
// cache without being counted twice or leaked, caches are evicted before request stores, least recently used
// first, and only finished embeddings are ever cached. Encodes run on a fake pool.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CodedError } from '../../src/errors/coded-error.ts';
import { ByteBudget, type Evictor } from '../../src/pipeline/byte-budget.ts';
import { SessionEmbeddingCache, sessionCacheFor, type HeldEmbedding } from '../../src/pipeline/embedding-cache.ts';
import { EmbeddingStore } from '../../src/pipeline/embedding-store.ts';
import { sliceKey, type SliceKey } from '../../src/pipeline/slice-key.ts';
import type { StageTimes } from '../../src/pipeline/types.ts';
import { NETWORKS, type NetworkName } from '../../src/models/network-contract.ts';
import type { WorkerPool } from '../../src/workers/pool.ts';
import type { EncodeResult, EncodeTask } from '../../src/workers/protocol.ts';

const SLICE = NETWORKS.litemedsam.sliceBytes;

/** An embedding whose bytes the caller has just acquired from the budget. */
async function reserved(budget: ByteBudget, network: NetworkName = 'litemedsam'): Promise<HeldEmbedding> {
  await budget.acquire(SLICE);
  return { embedding: { network, embedding: new SharedArrayBuffer(8) }, bytes: SLICE };
}

test('put and take move the reservation between owner and cache; a duplicate key releases the extra bytes', async () => {
  const budget = new ByteBudget(10 * SLICE);
  const cache = new SessionEmbeddingCache(budget);
  const first = await reserved(budget);
  cache.put('litemedsam:3', first);
  assert.equal(budget.inUse, SLICE, 'handing over keeps the bytes acquired once');
  assert.deepEqual(cache.stats(), { slices: { litemedsam: 1, onesam: 0 }, bytes: SLICE });
  cache.put('litemedsam:3', await reserved(budget));
  assert.equal(budget.inUse, SLICE, 'the second copy of slice 3 was released');
  const taken = cache.take('litemedsam:3');
  assert.equal(taken?.embedding, first.embedding, 'the copy held first is kept');
  assert.equal(budget.inUse, SLICE, 'taking moves the bytes to the taker');
  assert.equal(cache.take('litemedsam:3'), undefined, 'a taken slice is gone');
  assert.deepEqual(cache.stats(), { slices: { litemedsam: 0, onesam: 0 }, bytes: 0 });
  budget.release(taken!.bytes);
  assert.equal(budget.inUse, 0);
});

test('dispose releases everything and unregisters; a put after dispose releases its bytes', async () => {
  const budget = new ByteBudget(4 * SLICE);
  const cache = new SessionEmbeddingCache(budget);
  cache.put('litemedsam:0', await reserved(budget));
  cache.put('onesam:0', await reserved(budget, 'onesam'));
  cache.dispose();
  assert.equal(budget.inUse, 0);
  assert.deepEqual(cache.stats(), { slices: { litemedsam: 0, onesam: 0 }, bytes: 0 });
  cache.put('litemedsam:1', await reserved(budget));
  assert.equal(budget.inUse, 0, 'a disposed cache accepts nothing');
  // Unregistered: a full budget no longer asks it to evict.
  await budget.acquire(4 * SLICE);
  let evicted = false;
  cache.evict = () => { evicted = true; return 0; };
  const waiting = budget.acquire(SLICE);
  await new Promise((r) => setImmediate(r));
  assert.equal(evicted, false);
  budget.release(SLICE);
  await waiting;
});

test('blocked acquisitions evict caches before request stores, least recently used slice first', async () => {
  const budget = new ByteBudget(3 * SLICE);
  const calls: string[] = [];
  const store: Evictor = { evict: (n) => { calls.push(`store:${n}`); return 0; } };
  budget.register(store);
  const cache = new SessionEmbeddingCache(budget);
  cache.put('litemedsam:0', await reserved(budget));
  cache.put('litemedsam:1', await reserved(budget));
  cache.put('litemedsam:2', await reserved(budget));
  cache.touch(['litemedsam:0']);
  await budget.acquire(SLICE, undefined, store);
  assert.deepEqual(calls, [], 'the store was not asked while the cache had slices');
  assert.equal(budget.inUse, 3 * SLICE);
  assert.equal(cache.take('litemedsam:1'), undefined, 'the least recently used slice went first');
  assert.ok(cache.take('litemedsam:0'), 'the touched slice stayed');
  assert.ok(cache.take('litemedsam:2'));
});

test('of two caches the one used least recently is evicted first', async () => {
  const budget = new ByteBudget(2 * SLICE);
  const a = new SessionEmbeddingCache(budget);
  const b = new SessionEmbeddingCache(budget);
  a.put('litemedsam:0', await reserved(budget));
  b.put('litemedsam:0', await reserved(budget));
  // A request on a's image takes its slice and hands it back: a is now the more recently used cache.
  a.put('litemedsam:0', a.take('litemedsam:0')!);
  await budget.acquire(SLICE);
  assert.equal(b.stats().bytes, 0, 'b, untouched since its put, was evicted');
  assert.equal(a.stats().bytes, SLICE);
});

test('prefetching evicts cached slices, never request stores, and counts cached bytes as free headroom', async () => {
  const budget = new ByteBudget(4 * SLICE);
  const calls: string[] = [];
  budget.register({ evict: (n) => { calls.push(`store:${n}`); return 0; } });
  const cache = new SessionEmbeddingCache(budget);
  await budget.acquire(SLICE); // a walk's pinned slice
  for (const z of [0, 1, 2]) cache.put(sliceKey('litemedsam', z), await reserved(budget));
  // 1 slice in use + 1 wanted + 2 headroom fit once the cache's 3 are counted as free; only 1 is evicted.
  assert.equal(budget.tryAcquire(SLICE, 2 * SLICE), true);
  assert.equal(budget.inUse, 4 * SLICE);
  assert.equal(cache.stats().bytes, 2 * SLICE);
  // Now 2 slices are held outside the cache: 1 + 2 headroom more would exceed the budget.
  assert.equal(budget.tryAcquire(SLICE, 2 * SLICE), false);
  assert.equal(cache.stats().bytes, 2 * SLICE, 'a refused prefetch evicts nothing');
  assert.deepEqual(calls, []);
});

test('evictions that release bytes while waiters are served count each waiter once', async () => {
  const budget = new ByteBudget(4 * SLICE);
  let evictable = false;
  /** A request store's idle slices, released one release() call at a time, as EmbeddingStore.evict does. */
  const idleStore = (slices: number) => {
    const store = {
      slices,
      evict: (bytes: number): number => {
        let freed = 0;
        while (evictable && store.slices > 0 && freed < bytes) { store.slices--; freed += SLICE; budget.release(SLICE); }
        return freed;
      },
    };
    budget.register(store);
    return store;
  };
  const a = idleStore(1);
  const b = idleStore(2);
  await budget.acquire(4 * SLICE); // one pinned slice plus the stores' three idle ones
  const w1 = budget.acquire(SLICE);
  const w2 = budget.acquire(SLICE);
  evictable = true;
  budget.reconsider();
  await Promise.all([w1, w2]);
  // Every byte the budget counts is held by someone: the pinned slice, the two waiters, the stores' idle slices.
  assert.equal(budget.inUse, (3 + a.slices + b.slices) * SLICE);
  budget.release(3 * SLICE);
  a.evict(Infinity);
  b.evict(Infinity);
  assert.equal(budget.inUse, 0);
});

test('a cache from another segmenter, or a different image shape, is refused', () => {
  const budget = new ByteBudget(SLICE);
  const other = new SessionEmbeddingCache(new ByteBudget(SLICE));
  assert.throws(() => sessionCacheFor(other, budget), /openCache\(\)/);
  assert.throws(() => sessionCacheFor({ stats: () => ({ slices: { litemedsam: 0, onesam: 0 }, bytes: 0 }), dispose: () => undefined }, budget), /openCache\(\)/);
  const cache = new SessionEmbeddingCache(budget);
  assert.equal(sessionCacheFor(cache, budget), cache);
  const image = { depth: 4, height: 8, width: 8, channels: 1 as const, data: new Uint8Array(256) };
  cache.checkImage(image);
  assert.throws(() => cache.checkImage({ ...image, depth: 5 }), (e: unknown) => e instanceof CodedError && e.code === 'IMAGE_INVALID' && e.message.includes('4x8x8x1'));
});

// --- the request store with a cache, on a fake pool --------------------------------------------------------

interface FakePool {
  readonly pool: WorkerPool;
  readonly encodes: number[];
  /** Per slice: fail the encode, or report it skipped by cancellation. */
  readonly outcome: Map<number, 'fail' | 'cancelled'>;
}

function fakePool(workers = 1): FakePool {
  const encodes: number[] = [];
  const outcome = new Map<number, 'fail' | 'cancelled'>();
  const pool = {
    workers,
    encode: async (task: EncodeTask): Promise<EncodeResult> => {
      const z = task.slice.pixels[0]!;
      encodes.push(z);
      await new Promise((r) => setImmediate(r));
      if (outcome.get(z) === 'fail') throw new Error(`encoder failed on slice ${z}`);
      // Mark the buffer so a test can tell which slice an embedding came from.
      new Float32Array(task.embedding)[0] = z;
      return { cancelled: outcome.get(z) === 'cancelled', preprocessMs: 0, encodeMs: 0 };
    },
  };
  return { pool: pool as unknown as WorkerPool, encodes, outcome };
}

function storeFor(fake: FakePool, budget: ByteBudget, cache: SessionEmbeddingCache | undefined, uses: readonly number[], ready: string[] = [], prefetch = false): EmbeddingStore {
  const stages: StageTimes = { preprocess: 0, encode: 0, decode: 0, postprocess: 0, assemble: 0, queue: 0 };
  const store = new EmbeddingStore({
    pool: fake.pool, budget, stages,
    sliceImage: (z) => ({ height: 1, width: 1, channels: 1, pixels: Uint8Array.of(z) }),
    cancel: new Int32Array(new SharedArrayBuffer(4)),
    signal: new AbortController().signal,
    onEncoded: (network, z) => ready.push(`${network}:${z}`),
    ...(cache ? { cache } : {}),
  });
  const keys: SliceKey[] = uses.map((z) => sliceKey('litemedsam', z));
  store.plan(keys, prefetch ? keys : []);
  return store;
}

async function walk(store: EmbeddingStore, zs: readonly number[]): Promise<number[]> {
  const marks: number[] = [];
  for (const z of zs) {
    const [e] = await store.acquireSlice(['litemedsam'], z);
    marks.push(new Float32Array(e!.embedding)[0]!);
    store.release('litemedsam', z);
  }
  return marks;
}

test('a second request adopts the first one\'s slices: no encode, no new reservation, progress still reported', async () => {
  const budget = new ByteBudget(10 * SLICE);
  const cache = new SessionEmbeddingCache(budget);
  const fake = fakePool();
  const first = storeFor(fake, budget, cache, [1, 2]);
  assert.deepEqual(await walk(first, [1, 2]), [1, 2]);
  assert.deepEqual(cache.stats(), { slices: { litemedsam: 2, onesam: 0 }, bytes: 2 * SLICE }, 'used-up slices went to the cache');
  assert.equal(budget.inUse, 2 * SLICE);
  first.dispose();
  assert.equal(budget.inUse, 2 * SLICE);

  const ready: string[] = [];
  const second = storeFor(fake, budget, cache, [2, 3], ready);
  const peakBefore = budget.peak;
  const [e2] = await second.acquireSlice(['litemedsam'], 2);
  assert.equal(new Float32Array(e2!.embedding)[0], 2, 'the cached embedding of slice 2');
  assert.equal(budget.inUse, 2 * SLICE, 'adoption reserved nothing more');
  assert.equal(budget.peak, peakBefore);
  second.release('litemedsam', 2);
  await walk(second, [3]);
  assert.deepEqual(fake.encodes, [1, 2, 3], 'only slice 3 was encoded for the second request');
  assert.deepEqual(second.reused, { litemedsam: 1, onesam: 0 });
  assert.deepEqual(second.encoded, { litemedsam: 1, onesam: 0 });
  assert.deepEqual(ready, ['litemedsam:2', 'litemedsam:3']);
  second.dispose();
  assert.equal(budget.inUse, 3 * SLICE, 'slices 1, 2 and 3 held by the cache');
  cache.dispose();
  assert.equal(budget.inUse, 0);
});

test('prefetching adopts cached slices instead of encoding them', async () => {
  const budget = new ByteBudget(10 * SLICE);
  const cache = new SessionEmbeddingCache(budget);
  const fake = fakePool(2);
  const first = storeFor(fake, budget, cache, [0, 1]);
  await walk(first, [0, 1]);
  first.dispose();
  const second = storeFor(fake, budget, cache, [0, 1, 2]);
  second.plan([], ['litemedsam:0', 'litemedsam:1', 'litemedsam:2']);
  second.pump();
  assert.deepEqual(second.reused, { litemedsam: 2, onesam: 0 }, 'adopted synchronously by the pump');
  assert.equal(cache.stats().bytes, 0);
  assert.deepEqual(await walk(second, [0, 1, 2]), [0, 1, 2]);
  assert.deepEqual(fake.encodes, [0, 1, 2]);
  second.dispose();
  cache.dispose();
  assert.equal(budget.inUse, 0);
});

test('failed and cancelled encodes never enter the cache; a request that fails leaves its finished slices', async () => {
  const budget = new ByteBudget(10 * SLICE);
  const cache = new SessionEmbeddingCache(budget);
  const fake = fakePool();
  fake.outcome.set(2, 'fail');
  fake.outcome.set(3, 'cancelled');
  const store = storeFor(fake, budget, cache, [1, 1, 2, 3]);
  await store.acquireSlice(['litemedsam'], 1); // still planned once more: stays in the store
  await assert.rejects(store.acquireSlice(['litemedsam'], 2), /encoder failed on slice 2/);
  await assert.rejects(store.acquireSlice(['litemedsam'], 3), /cancelled/);
  store.release('litemedsam', 1);
  store.dispose();
  assert.deepEqual(cache.stats(), { slices: { litemedsam: 1, onesam: 0 }, bytes: SLICE }, 'only slice 1');
  assert.ok(cache.take('litemedsam:1'));
  budget.release(SLICE);
  assert.equal(budget.inUse, 0);
  cache.dispose();
});

test('a store evicted by the budget really releases; it does not park the slice in the cache', async () => {
  const budget = new ByteBudget(2 * SLICE);
  const cache = new SessionEmbeddingCache(budget);
  const fake = fakePool();
  const store = storeFor(fake, budget, cache, [0, 0, 1]);
  await walk(store, [0]); // one use of slice 0 left: idle in the store, not cached
  assert.equal(cache.stats().bytes, 0);
  await budget.acquire(2 * SLICE);
  assert.equal(budget.inUse, 2 * SLICE, 'the store freed slice 0 for the acquisition');
  assert.equal(cache.stats().bytes, 0, 'and did not hand it to the cache');
  budget.release(2 * SLICE);
  store.dispose();
  cache.dispose();
  assert.equal(budget.inUse, 0);
});

test('addUse keeps a slice for one more decode than planned; skip gives the extra use back', async () => {
  const budget = new ByteBudget(10 * SLICE);
  const fake = fakePool();
  const store = storeFor(fake, budget, undefined, [4, 8]);
  // A speed-level walk decodes slice 8 once, walks the gap before it, then decodes 8 again.
  store.addUse('litemedsam', 8);
  await walk(store, [8]);
  assert.equal(budget.inUse, SLICE, 'slice 8 is kept for its second decode');
  assert.deepEqual(await walk(store, [5, 8]), [5, 8], 'slice 5 (not planned) is encoded on demand');
  assert.deepEqual(fake.encodes, [8, 5], 'slice 8 was not encoded again');
  assert.equal(budget.inUse, 0, 'both freed after their last use (no prefetch planned, so no spare kept)');
  // An agreeing gap: the extra use is skipped and the slice freed at once.
  store.addUse('litemedsam', 4);
  await walk(store, [4]);
  assert.equal(budget.inUse, SLICE);
  store.skip('litemedsam', 4);
  assert.equal(budget.inUse, 0);
  store.dispose();
});

test('released buffers are kept as spares, counted in the budget and reused, while encodes remain to start', async () => {
  const budget = new ByteBudget(10 * SLICE);
  const fake = fakePool();
  const buffers = new Set<SharedArrayBuffer>();
  const pool = fake.pool as unknown as { encode: (t: EncodeTask) => Promise<EncodeResult> };
  const encode = pool.encode;
  pool.encode = (task) => { buffers.add(task.embedding); return encode(task); };
  const store = storeFor(fake, budget, undefined, [0, 1, 2, 3, 4, 5, 6], [], true);
  // Three slices held at once, then released together: their buffers stay reserved, as spares or already
  // holding the next slice the prefetcher started.
  await Promise.all([0, 1, 2].map((z) => store.acquireSlice(['litemedsam'], z)));
  for (const z of [0, 1, 2]) store.release('litemedsam', z);
  assert.equal(budget.inUse, 3 * SLICE, 'the released buffers stay reserved');
  assert.ok(budget.spareBytes >= 2 * SLICE, `${budget.spareBytes / SLICE} spares`);
  assert.deepEqual(await walk(store, [3, 4, 5, 6]), [3, 4, 5, 6], 'a reused buffer holds its new slice');
  assert.equal(buffers.size, 3, 'seven slices encoded into the three buffers of the high-water mark');
  assert.equal(budget.peak, 3 * SLICE);
  assert.equal(budget.inUse, 0, 'no encode left to start: the spares were let go before the request ended');
  store.dispose();
  assert.equal(budget.inUse, 0);
});

test('spare buffers are evicted before session caches and request stores, and count as free for prefetching', async () => {
  const budget = new ByteBudget(4 * SLICE);
  const calls: string[] = [];
  budget.register({ evict: (n) => { calls.push(`store:${n}`); return 0; } });
  const cache = new SessionEmbeddingCache(budget);
  cache.put(sliceKey('litemedsam', 9), await reserved(budget));
  const fake = fakePool();
  // Slices from 2 on never finish encoding: the prefetcher starts slice 2 in one spare and leaves the other.
  const pool = fake.pool as unknown as { encode: (t: EncodeTask) => Promise<EncodeResult> };
  const encode = pool.encode;
  pool.encode = (task) => {
    const z = task.slice.pixels[0]!;
    if (z < 2) return encode(task);
    fake.encodes.push(z);
    return new Promise<EncodeResult>(() => undefined);
  };
  const store = storeFor(fake, budget, undefined, [0, 1, 2, 3, 4], [], true);
  await Promise.all([0, 1].map((z) => store.acquireSlice(['litemedsam'], z)));
  for (const z of [0, 1]) store.release('litemedsam', z);
  assert.deepEqual(fake.encodes, [0, 1, 2]);
  assert.equal(budget.spareBytes, SLICE);
  assert.equal(budget.inUse, 3 * SLICE, 'the cached slice, slice 2 encoding, one spare');
  // Prefetching 1 with 2 of headroom fits, the spare and the cached slice counting as free; nothing is evicted.
  assert.equal(budget.tryAcquire(SLICE, 2 * SLICE), true);
  assert.equal(budget.spareBytes, SLICE);
  // Full: a blocked acquisition takes the spare's bytes first; the cache and the stores are not touched.
  await budget.acquire(SLICE);
  assert.equal(budget.spareBytes, 0);
  assert.equal(cache.stats().bytes, SLICE, 'the cached slice stayed');
  assert.deepEqual(calls, []);
  store.dispose();
  cache.dispose();
  assert.equal(budget.inUse, 2 * SLICE, 'only the two acquisitions above are left');
});
