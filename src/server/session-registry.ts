// Sessions: prepared volumes kept between requests, so an interactive client uploads a CT once and then prompts
// it many times (field notes: the top request for SAM serving). A session holds the decoded 8-bit volume, its
// output geometry and an embedding cache; the volumes are bounded by count and bytes, the cached embeddings by the
// server-wide embedding budget (they are evicted first when a request needs memory). A session nobody used for
// `idleMs` is dropped; so is the least recently used idle one when a new session needs its room. A session with a
// request running is never dropped under that request: close() and expiry take effect when it finishes.
import { randomUUID } from 'node:crypto';
import { CodedError } from '../errors/coded-error.ts';
import type { EmbeddingCache } from '../pipeline/segmenter.ts';
import type { Modality } from '../pipeline/types.ts';
import type { NetworkName } from '../models/network-contract.ts';
import type { DecodedVolume } from '../volume/payload.ts';

export interface SessionLimits {
  /** 0 turns sessions off. */
  readonly maxSessions: number;
  /** Bytes of prepared volumes (and npz-borne prompts) all sessions may hold. */
  readonly maxBytes: number;
  readonly idleMs: number;
}

export interface Session {
  readonly id: string;
  readonly volume: DecodedVolume;
  /** The modality the opening request resolved (its header's, or its DICOM files'): the default for later requests. */
  readonly modality: Modality | undefined;
  readonly cache: EmbeddingCache;
  readonly bytes: number;
}

export interface SessionSnapshot {
  readonly id: string;
  readonly idleSeconds: number;
  readonly slicesCached: Readonly<Record<NetworkName, number>>;
}

/** Why a session left the registry, for logs and metrics. */
export type DropReason = 'closed' | 'expired' | 'evicted' | 'shutdown';

interface Held {
  readonly session: Session;
  lastUsed: number;
  users: number;
  /** Dropped from the registry while a request used it: dispose once the last user leaves. */
  dropped: boolean;
}

/** A lease on a session for one request; release() exactly once when the request's pipeline work settled. */
export interface SessionLease {
  readonly session: Session;
  release(): void;
}

export class SessionRegistry {
  private readonly held = new Map<string, Held>();
  private bytesHeld = 0;
  private readonly sweeper: NodeJS.Timeout | undefined;

  constructor(
    private readonly limits: SessionLimits,
    private readonly onDrop: (session: Session, reason: DropReason) => void = () => undefined,
    private readonly now: () => number = Date.now,
  ) {
    if (limits.maxSessions > 0) {
      // Sweep a few times per idle period; unref'd so a forgotten registry never keeps the process alive.
      this.sweeper = setInterval(() => this.expire(), Math.max(1_000, Math.min(30_000, limits.idleMs / 4)));
      this.sweeper.unref();
    }
  }

  get count(): number {
    return this.held.size;
  }

  get bytes(): number {
    return this.bytesHeld;
  }

  get idleSeconds(): number {
    return Math.round(this.limits.idleMs / 1000);
  }

  /**
   * Keeps a request's volume as a new session, leased to that request. Makes room by dropping the least recently
   * used idle sessions; refuses when the running sessions alone fill the limits.
   */
  open(volume: DecodedVolume, modality: Modality | undefined, openCache: () => EmbeddingCache): SessionLease {
    this.checkEnabled('header.keep_session');
    const bytes = volumeBytes(volume);
    if (bytes > this.limits.maxBytes) {
      throw new CodedError('SESSION_LIMIT', `the volume needs ${bytes} bytes, more than all sessions may hold (sessionMemoryBytes ${this.limits.maxBytes})`, 'header.keep_session');
    }
    this.expire();
    while (this.held.size >= this.limits.maxSessions || this.bytesHeld + bytes > this.limits.maxBytes) {
      const victim = this.leastRecentlyUsedIdle();
      if (!victim) {
        throw new CodedError('SESSION_LIMIT', `no room for another session: ${this.held.size} held (maxSessions ${this.limits.maxSessions}), ${this.bytesHeld} bytes (sessionMemoryBytes ${this.limits.maxBytes}), all with requests running`, 'header.keep_session');
      }
      this.drop(victim, 'evicted');
    }
    const session: Session = { id: randomUUID(), volume, modality, cache: openCache(), bytes };
    const entry: Held = { session, lastUsed: this.now(), users: 0, dropped: false };
    this.held.set(session.id, entry);
    this.bytesHeld += bytes;
    return this.lease(entry);
  }

  /** Leases a held session to a request; SESSION_NOT_FOUND when it is not (or no longer) held. */
  acquire(id: string): SessionLease {
    this.checkEnabled('header.session_id');
    this.expire();
    const entry = this.held.get(id);
    if (!entry) throw notFound(id, 'header.session_id');
    return this.lease(entry);
  }

  /** Drops a session now (or, with a request running on it, when that request finishes). */
  close(id: string): SessionSnapshot {
    const entry = this.held.get(id);
    if (!entry) throw notFound(id, 'session_id');
    const snapshot = this.snapshot(entry.session);
    this.drop(entry, 'closed');
    return snapshot;
  }

  snapshot(session: Session): SessionSnapshot {
    return { id: session.id, idleSeconds: this.idleSeconds, slicesCached: session.cache.stats().slices };
  }

  /** Drops every session whose last request ended more than idleMs ago. */
  expire(): void {
    const cutoff = this.now() - this.limits.idleMs;
    for (const entry of [...this.held.values()]) if (entry.users === 0 && entry.lastUsed < cutoff) this.drop(entry, 'expired');
  }

  /** Drops every session (server shutdown); running requests keep theirs until they finish. */
  closeAll(): void {
    if (this.sweeper) clearInterval(this.sweeper);
    for (const entry of [...this.held.values()]) this.drop(entry, 'shutdown');
  }

  private checkEnabled(field: string): void {
    if (this.limits.maxSessions <= 0) throw new CodedError('SESSIONS_DISABLED', 'sessions are turned off on this server (maxSessions 0)', field);
  }

  private lease(entry: Held): SessionLease {
    entry.users++;
    entry.lastUsed = this.now();
    let released = false;
    return {
      session: entry.session,
      release: () => {
        if (released) return;
        released = true;
        entry.users--;
        entry.lastUsed = this.now();
        if (entry.dropped && entry.users === 0) entry.session.cache.dispose();
      },
    };
  }

  private leastRecentlyUsedIdle(): Held | undefined {
    let oldest: Held | undefined;
    for (const entry of this.held.values()) if (entry.users === 0 && (!oldest || entry.lastUsed < oldest.lastUsed)) oldest = entry;
    return oldest;
  }

  private drop(entry: Held, reason: DropReason): void {
    if (entry.dropped) return;
    entry.dropped = true;
    this.held.delete(entry.session.id);
    this.bytesHeld -= entry.session.bytes;
    if (entry.users === 0) entry.session.cache.dispose();
    this.onDrop(entry.session, reason);
  }
}

function notFound(id: string, field: string): CodedError {
  return new CodedError('SESSION_NOT_FOUND', `session "${id.slice(0, 64)}" is not held by this server (closed, expired or dropped for room); upload the volume again`, field);
}

/** What a kept volume costs: its voxels plus any npz-borne scribble voxel lists. */
export function volumeBytes(volume: DecodedVolume): number {
  let bytes = volume.image.data.byteLength;
  for (const o of volume.scribbles ?? []) if (o.prompt.kind === 'scribble') bytes += o.prompt.voxels.byteLength;
  return bytes;
}
