// SessionRegistry with a fake clock: leases, least-recently-used eviction that never touches a session in use,
// byte and count limits, idle expiry, close while a request runs, and sessions turned off.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { EmbeddingCache } from '../../src/pipeline/segmenter.ts';
import { SessionRegistry, type DropReason } from '../../src/server/session-registry.ts';
import type { DecodedVolume } from '../../src/volume/payload.ts';

class CountingCache implements EmbeddingCache {
  disposed = 0;
  stats() {
    return { slices: { litemedsam: 2, onesam: 0 }, bytes: 8 * 2 ** 20 };
  }
  dispose(): void {
    this.disposed++;
  }
}

function volume(bytes: number): DecodedVolume {
  return {
    image: { depth: 1, height: 1, width: bytes, channels: 1, data: new Uint8Array(bytes) },
    geometry: { labelShape: [1, bytes] } as unknown as DecodedVolume['geometry'],
  };
}

function registry(limits: { maxSessions?: number; maxBytes?: number; idleMs?: number } = {}) {
  let now = 1_000;
  const dropped: [string, DropReason][] = [];
  const caches: CountingCache[] = [];
  const reg = new SessionRegistry(
    { maxSessions: limits.maxSessions ?? 3, maxBytes: limits.maxBytes ?? 1_000, idleMs: limits.idleMs ?? 60_000 },
    (s, reason) => dropped.push([s.id, reason]),
    () => now,
  );
  const open = (bytes = 100) => reg.open(volume(bytes), 'CT', () => {
    const c = new CountingCache();
    caches.push(c);
    return c;
  });
  return { reg, open, dropped, caches, tick: (ms: number) => { now += ms; } };
}

const codeOf = (fn: () => unknown): string => {
  try {
    fn();
  } catch (err) {
    return (err as { code: string }).code;
  }
  return 'no error';
};

test('a kept session is leased again by id, with its volume, modality and cache', () => {
  const { reg, open, caches } = registry();
  const first = open(100);
  first.release();
  const again = reg.acquire(first.session.id);
  assert.equal(again.session, first.session);
  assert.equal(again.session.modality, 'CT');
  assert.equal(again.session.cache, caches[0]);
  assert.equal(reg.count, 1);
  assert.equal(reg.bytes, 100);
  again.release();
  again.release();
  assert.deepEqual(reg.snapshot(again.session), { id: first.session.id, idleSeconds: 60, slicesCached: { litemedsam: 2, onesam: 0 } });
});

test('unknown ids are SESSION_NOT_FOUND, naming the field', () => {
  const { reg } = registry();
  assert.throws(() => reg.acquire('nope'), (e: Error & { code: string }) => e.code === 'SESSION_NOT_FOUND' && e.message.startsWith('header.session_id: '));
  assert.equal(codeOf(() => reg.close('nope')), 'SESSION_NOT_FOUND');
});

test('the least recently used idle session makes room; one in use is never evicted', () => {
  const { reg, open, dropped, caches, tick } = registry({ maxSessions: 2 });
  const a = open();
  tick(10);
  const b = open();
  a.release();
  tick(10);
  b.release();
  tick(10);
  reg.acquire(a.session.id).release(); // a is now more recent than b
  tick(10);
  const inUse = reg.acquire(a.session.id);
  const c = open();
  assert.deepEqual(dropped, [[b.session.id, 'evicted']]);
  assert.equal(caches[1]!.disposed, 1);
  assert.equal(codeOf(() => reg.acquire(b.session.id)), 'SESSION_NOT_FOUND');
  // a and c both in use: no room, and nothing is dropped.
  assert.equal(codeOf(() => open()), 'SESSION_LIMIT');
  assert.equal(reg.count, 2);
  inUse.release();
  c.release();
});

test('the byte limit evicts too, and a volume larger than the whole limit is refused outright', () => {
  const { reg, open, dropped } = registry({ maxSessions: 10, maxBytes: 250 });
  const a = open(100);
  a.release();
  const b = open(100);
  b.release();
  const c = open(100);
  assert.deepEqual(dropped.map(([id]) => id), [a.session.id]);
  assert.equal(reg.bytes, 200);
  c.release();
  assert.equal(codeOf(() => open(251)), 'SESSION_LIMIT');
  assert.equal(reg.bytes, 200, 'a refused volume takes nothing');
});

test('idle sessions expire; a session in use does not, and its idle time starts when the request ends', () => {
  const { reg, open, dropped, tick } = registry({ idleMs: 1_000 });
  const idle = open();
  idle.release();
  const busy = open();
  tick(5_000);
  reg.expire();
  assert.deepEqual(dropped, [[idle.session.id, 'expired']]);
  busy.release();
  tick(999);
  reg.expire();
  assert.equal(reg.count, 1);
  tick(2);
  assert.equal(codeOf(() => reg.acquire(busy.session.id)), 'SESSION_NOT_FOUND', 'acquire expires first');
});

test('close while a request runs: gone for new requests at once, cache disposed when the request ends', () => {
  const { reg, open, caches } = registry();
  const lease = open();
  const closed = reg.close(lease.session.id);
  assert.deepEqual(closed.slicesCached, { litemedsam: 2, onesam: 0 });
  assert.equal(reg.count, 0);
  assert.equal(reg.bytes, 0);
  assert.equal(caches[0]!.disposed, 0, 'the running request still uses its embeddings');
  lease.release();
  assert.equal(caches[0]!.disposed, 1);
  assert.equal(codeOf(() => reg.close(lease.session.id)), 'SESSION_NOT_FOUND');
});

test('closeAll drops everything with reason shutdown', () => {
  const { reg, open, dropped, caches } = registry();
  open().release();
  open().release();
  reg.closeAll();
  assert.deepEqual(dropped.map(([, r]) => r), ['shutdown', 'shutdown']);
  assert.deepEqual(caches.map((c) => c.disposed), [1, 1]);
});

test('maxSessions 0 turns sessions off with SESSIONS_DISABLED', () => {
  const { reg, open } = registry({ maxSessions: 0 });
  assert.equal(codeOf(() => open()), 'SESSIONS_DISABLED');
  assert.equal(codeOf(() => reg.acquire('x')), 'SESSIONS_DISABLED');
});
