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
// on as soon as its next slice is encoded (decoding is ~10x cheaper than encoding). It builds the order a run at a
// time, a run being one walk's next slices: first the runs that end with no more slices held than before, the one
// that climbs least on the way first. That lets walks of the same direction that reach a slice together pass it
// together (a walk ahead of another waits for it), and finishes one crossing (rise: its overlap) before the next
// starts, the smallest first, so crossings do not coincide. The ends of walks that no other walk visits come last,
// in turn: when the encoder has nothing left to encode, the decodes still to run are theirs, side by side, rather
// than the far walk of the last crossing decoding its whole overlap alone (2-3 % more makespan on some box sets).
// On the paper's CT the model holds 41 slices at most, against 94 for the round-robin order (bench/README.md,
// "Memory of the paper CT"). Pure functions of the plan: an ordered store follows the order (embedding-store.ts),
// the walks and their prompts are unchanged, so the masks are too.

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
  /** Per slice index: 1 once encoded. */
  private readonly encoded: Uint8Array;
  readonly position: number[];
  /** Per slice index: visits it still waits for. */
  private readonly waiting: Int32Array;
  held = 0;
  /** Undo log: a walk index for a step it took, ~z for the encode of slice z. */
  private readonly log: number[] = [];
  /** Walks that wait for a step of each walk to start. */
  private readonly dependents: number[][];
  /** Per walk, the step at which it visits each slice (a walk visits a slice at most once). */
  private readonly steps: Map<number, number>[];
  /** Per slice, the walks that visit it. */
  private readonly visitors = new Map<number, number[]>();
  private readonly pending: number[] = [];
  /** Per walk, the step from which every slice it visits is visited by no other walk. */
  private readonly soloFrom: number[];

  constructor(private readonly walks: readonly ScheduledWalk[]) {
    const size = walks.reduce((top, w) => w.slices.reduce((t, z) => Math.max(t, z), top), -1) + 1;
    this.encoded = new Uint8Array(size);
    this.waiting = new Int32Array(size);
    this.position = walks.map(() => 0);
    this.dependents = walks.map(() => []);
    this.steps = walks.map((w) => new Map(w.slices.map((z, i) => [z, i])));
    walks.forEach((w, i) => {
      if (w.after) this.dependents[w.after.walk]!.push(i);
      for (const z of w.slices) {
        this.waiting[z]!++;
        let list = this.visitors.get(z);
        if (!list) this.visitors.set(z, (list = []));
        list.push(i);
      }
    });    this.soloFrom = walks.map((w) => {
      let from = w.slices.length;
      while (from > 0 && this.waiting[w.slices[from - 1]!] === 1) from--;
      return from;
    });
  }

  /**
   * The walk can take the rest of its slices at any time: no other walk visits them and no walk waits for its steps.
   */
  isAlone(w: number): boolean {
    const position = this.position[w]!;
    return this.canMove(w) && position >= this.soloFrom[w]! && this.dependents[w]!.every((d) => this.walks[d]!.after!.step < position);
  }

  isEncoded(z: number): boolean {
    return this.encoded[z] === 1;
  }

  /**
   * How many steps walk w still has to take to reach slice z (the step it waits for included): 0 once it passed z.
   * Walks that still have far to go hold z longer.
   */
  stepsTo(w: number, z: number): number {
    const walk = this.walks[w]!;
    const at = this.steps[w]!.get(z)!;
    const position = this.position[w]!;
    if (position > at) return 0;
    const before = walk.after ? this.stepsTo(walk.after.walk, this.walks[walk.after.walk]!.slices[walk.after.step]!) : 0;
    return before + at - position + 1;
  }

  /** The fewest steps another walk needs to reach slice z, which is held until the last of them does. */
  nearestOther(z: number): number {
    let nearest = 0;
    for (const v of this.visitors.get(z)!) {
      const d = this.stepsTo(v, z);
      if (d > 0 && (nearest === 0 || d < nearest)) nearest = d;
    }
    return nearest;
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

  /** Encodes slice z and moves every walk as far as encoded slices let it. */
  encode(z: number): void {
    this.encoded[z] = 1;
    this.held++;
    this.log.push(~z);
    // Only the walks that visit z can move now, and then the walks that waited for them to start.
    const pending = this.pending;
    pending.push(...this.visitors.get(z)!);
    while (pending.length > 0) {
      const w = pending.pop()!;
      let stepped = false;
      for (let s = this.next(w); s !== undefined && this.encoded[s] === 1; s = this.next(w)) {
        this.position[w]!++;
        if (--this.waiting[s]! === 0) this.held--;
        this.log.push(w);
        stepped = true;
      }
      if (stepped) pending.push(...this.dependents[w]!);
    }
  }

  mark(): number {
    return this.log.length;
  }

  undo(to: number): void {
    while (this.log.length > to) {
      const entry = this.log.pop()!;
      if (entry < 0) {
        this.encoded[~entry] = 0;
        this.held--;
      } else {
        const z = this.walks[entry]!.slices[--this.position[entry]!]!;
        if (this.waiting[z]!++ === 0) this.held++;
      }
    }
  }

  commit(): void {
    this.log.length = 0;
  }
}

/**
 * The encode order: every distinct slice of the walks once, chosen greedily (file comment), a run at a time, and
 * last the rest of the walks that no other walk shares any more (taken in turn).
 *
 * A run is one walk's next slices, encoded in its order, cut where the held count is lowest (as late as possible
 * for the same rise): its rise is how far the count climbs on the way, its net how far it ends above the start. A
 * run that ends no higher than it started (net <= 0) costs only its rise while it lasts: take the one with the
 * smallest rise first (slices only one walk needs: rise 0; two walks crossing: the one of them whose walk reaches
 * the other, rise the overlap; the smallest crossing first), on a tie the walk listed first. When every run ends
 * higher (a walk ahead of another that will come the same way, or a crossing whose other walk cannot start yet),
 * encode one slice: the one that leaves the fewest held, then the one whose other walks are nearest to it (in
 * steps), so the held slice is released soonest.
 */
export function encodeOrder(walks: readonly ScheduledWalk[]): number[] {
  const progress = new Progress(walks);
  const order: number[] = [];
  /** Walks whose remaining slices no other walk needs: encoded last, when their decodes fill the encoder's tail. */
  const alone = new Set<number>();
  for (;;) {
    const start = progress.held;
    let bestRun: { w: number; length: number; rise: number } | undefined;
    let bestSlice: { z: number; held: number; distance: number } | undefined;
    const tried = new Set<number>();
    for (let w = 0; w < walks.length; w++) {
      const first = progress.next(w);
      if (first === undefined || tried.has(first)) continue;
      if (progress.isAlone(w)) {
        alone.add(w);
        continue;
      }
      tried.add(first);
      const mark = progress.mark();
      let length = 0;
      let rise = 0;
      let low = { length: 0, held: Number.POSITIVE_INFINITY, rise: 0 };
      for (let z = progress.next(w); z !== undefined; z = progress.next(w)) {
        progress.encode(z);
        length++;
        if (length === 1) {
          const distance = progress.nearestOther(z);
          const held = progress.held;
          if (!bestSlice || held < bestSlice.held || (held === bestSlice.held && distance < bestSlice.distance)) bestSlice = { z, held, distance };
        }
        rise = Math.max(rise, progress.held - start);
        // Cut at the lowest point, as late as the rise allows (a run of slices no other walk needs is taken whole).
        if (progress.held < low.held || (progress.held === low.held && rise === low.rise)) low = { length, held: progress.held, rise };
        // This run can no longer beat the best one found: its rise only grows, and a tie goes to the walk listed first.
        if (bestRun && rise >= bestRun.rise) break;
      }
      progress.undo(mark);
      if (low.held <= start && (!bestRun || low.rise < bestRun.rise)) {
        bestRun = { w, length: low.length, rise: low.rise };
      }
    }
    if (bestRun) {
      for (let k = 0; k < bestRun.length; k++) {
        const z = progress.next(bestRun.w)!;
        order.push(z);
        progress.encode(z);
      }
    } else if (bestSlice) {
      order.push(bestSlice.z);
      progress.encode(bestSlice.z);
    } else break;
    progress.commit();
  }
  // Last, the walks' ends that no other walk shares, taken in turn so that their decodes run side by side.
  for (let left = true; left;) {
    left = false;
    for (const w of alone) {
      const z = progress.next(w);
      if (z === undefined) continue;
      order.push(z);
      progress.encode(z);
      left = true;
    }
  }
  return order;
}

/**
 * The order an ordered store follows: encodeOrder's, unless the round-robin order over the walks (which they can
 * follow too: each walk's slices come in its own order, a middle slice before its downward walk) holds fewer in the
 * model; a greedy choice is not always best, and on random box sets that happens rarely, by a slice or two.
 */
export function plannedOrder(walks: readonly ScheduledWalk[], roundRobin: readonly number[]): number[] {
  const greedy = encodeOrder(walks);
  return heldPeak(walks, roundRobin) < heldPeak(walks, greedy) ? [...new Set(roundRobin)] : greedy;
}

/**
 * The most slices held at once if the encoder follows `order` and every walk moves on as soon as its next slice is
 * encoded (the model above; a slice counts from its encode until its last visit). For tests and benches.
 */
export function heldPeak(walks: readonly ScheduledWalk[], order: readonly number[]): number {
  const progress = new Progress(walks);
  let peak = 0;
  for (const z of order) {
    if (progress.isEncoded(z)) continue;
    // Counted before the walks move on: the slice is held while its decodes run.
    peak = Math.max(peak, progress.held + 1);
    progress.encode(z);
    progress.commit();
  }
  return peak;
}
