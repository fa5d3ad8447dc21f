// The order in which a request's 3D box walks get their slices encoded, chosen to keep few embeddings held.
//
// Why an order matters: a slice's embedding is encoded once and held until every walk that visits it has decoded
// it. Encoding is the expensive part and the encoder stays busy whatever the order (the prefetcher always has the
// next planned slice to start), so the order changes memory, not speed. A round-robin over the walks, step by
// step, makes walks of different objects reach shared slices at different times: two walks crossing in opposite
// directions hold their whole overlap while they cross, several such crossings happen at once, and walks of the
// same direction that start at different slices hold the slices between them until the later one arrives.
//
// The schedule here is a greedy one on a simple model: the encoder produces one slice at a time, and a walk moves
// on as soon as its next slice is encoded (decoding is ~10x cheaper than encoding). Each time, it encodes the slice
// that leaves the fewest embeddings held once the walks waiting for it have moved on (through it and through any
// slices other walks encoded earlier). That picks slices only one walk needs, lets same-direction walks that reach
// a slice together pass it together, and when every choice holds one more slice (two walks about to cross), it
// keeps extending the crossing it started last, so crossings happen one after another rather than all at once.
// Pure functions of the plan: the store follows the order (embedding-store.ts), the walks and their prompts are
// unchanged, so the masks are too.

/** One sequential walk: the slices it decodes in order, and the step of another walk it must wait for first. */
export interface ScheduledWalk {
  readonly slices: readonly number[];
  /** A 3D box's downward walk starts after its middle slice, the first step of the upward walk. */
  readonly after?: { readonly walk: number; readonly step: number };
}

/** The walks of 3D boxes, as execute.ts runs them: [zmid, ...up] first, then [...down] after zmid. */
export function boxWalks(boxes: readonly { readonly zmid: number; readonly up: readonly number[]; readonly down: readonly number[] }[]): ScheduledWalk[] {
  return boxes.flatMap((b, i) => [
    { slices: [b.zmid, ...b.up] },
    { slices: [...b.down], after: { walk: 2 * i, step: 0 } },
  ]);
}

/**
 * The walks' progress under the model above: which slices are encoded, where each walk stands, how many visits
 * each slice still waits for, and how many slices are held (encoded, not yet visited by all their walks).
 * Changes are logged so that a tentative encode can be undone.
 */
class Progress {
  readonly encoded = new Set<number>();
  readonly position: number[];
  readonly waiting = new Map<number, number>();
  held = 0;
  private readonly log: (() => void)[] = [];
  /** Walks that wait for a step of each walk to start. */
  private readonly dependents: number[][];

  constructor(private readonly walks: readonly ScheduledWalk[]) {
    this.position = walks.map(() => 0);
    this.dependents = walks.map(() => []);
    walks.forEach((w, i) => {
      if (w.after) this.dependents[w.after.walk]!.push(i);
      for (const z of w.slices) this.waiting.set(z, (this.waiting.get(z) ?? 0) + 1);
    });
  }

  /** The walk may take its next step: it has one, and the step it waits for (if any) is done. */
  canMove(w: number): boolean {
    const walk = this.walks[w];
    if (!walk || this.position[w]! >= walk.slices.length) return false;
    return !walk.after || this.position[walk.after.walk]! > walk.after.step;
  }

  next(w: number): number | undefined {
    return this.canMove(w) ? this.walks[w]!.slices[this.position[w]!] : undefined;
  }

  /** Encodes slice z and moves every walk as far as encoded slices let it. Returns the walks that moved. */
  encode(z: number, walkOrder: readonly number[]): Set<number> {
    this.encoded.add(z);
    this.log.push(() => this.encoded.delete(z));
    this.addHeld(1);
    const moved = new Set<number>();
    const pending = [...walkOrder];
    while (pending.length > 0) {
      const w = pending.shift()!;
      let stepped = false;
      for (let s = this.next(w); s !== undefined && this.encoded.has(s); s = this.next(w)) {
        this.visit(w, s);
        stepped = true;
      }
      if (stepped) {
        moved.add(w);
        // A walk that moved may have let a dependent walk start.
        pending.push(...this.dependents[w]!);
      }
    }
    return moved;
  }

  private visit(w: number, z: number): void {
    const p = this.position[w]!;
    this.position[w] = p + 1;
    this.log.push(() => { this.position[w] = p; });
    const left = this.waiting.get(z)! - 1;
    this.waiting.set(z, left);
    this.log.push(() => this.waiting.set(z, left + 1));
    if (left === 0) this.addHeld(-1);
  }

  private addHeld(d: number): void {
    this.held += d;
    this.log.push(() => { this.held -= d; });
  }

  mark(): number {
    return this.log.length;
  }

  undo(to: number): void {
    while (this.log.length > to) this.log.pop()!();
  }

  commit(): void {
    this.log.length = 0;
  }
}

/**
 * The encode order: every distinct slice of the walks once, chosen greedily (file comment). Ties go to the next
 * slice of the walk that moved last (finish the crossing under way), then to the walk listed first.
 */
export function encodeOrder(walks: readonly ScheduledWalk[]): number[] {
  const progress = new Progress(walks);
  const all = walks.map((_, i) => i);
  const order: number[] = [];
  let last = -1;
  for (;;) {
    let best: { z: number; held: number; rank: number } | undefined;
    const tried = new Set<number>();
    for (let w = 0; w < walks.length; w++) {
      const z = progress.next(w);
      if (z === undefined || tried.has(z)) continue;
      tried.add(z);
      const mark = progress.mark();
      progress.encode(z, all);
      const held = progress.held;
      progress.undo(mark);
      // Rank 0: continues the walk that moved last; 1: any other.
      const rank = progress.next(last) === z ? 0 : 1;
      if (!best || held < best.held || (held === best.held && rank < best.rank)) best = { z, held, rank };
    }
    if (!best) break;
    order.push(best.z);
    const moved = progress.encode(best.z, all);
    progress.commit();
    // The walk that moved last: among those that moved, the one that can go on (its next slice is unencoded).
    const goingOn = [...moved].filter((w) => progress.next(w) !== undefined);
    if (goingOn.length > 0 && !goingOn.includes(last)) last = goingOn[0]!;
    else if (goingOn.length === 0) last = -1;
  }
  return order;
}

/**
 * The most slices held at once if the encoder follows `order` and every walk moves on as soon as its next slice is
 * encoded (the model above; a slice counts from its encode until its last visit). For tests and benches.
 */
export function heldPeak(walks: readonly ScheduledWalk[], order: readonly number[]): number {
  const progress = new Progress(walks);
  const all = walks.map((_, i) => i);
  let peak = 0;
  for (const z of order) {
    if (progress.encoded.has(z)) continue;
    // Counted before the walks move on: the slice is held while its decodes run.
    peak = Math.max(peak, progress.held + 1);
    progress.encode(z, all);
    progress.commit();
  }
  return peak;
}
