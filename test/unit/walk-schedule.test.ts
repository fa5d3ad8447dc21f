// The shared schedule's encode order for 3D box walks (src/pipeline/walk-schedule.ts), on hand-made walks whose
// peak is known, on the paper's CT and MR, and on seeded random box sets against the round-robin order it replaced.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { boxWalks, encodeOrder, heldPeak, plannedOrder, type ScheduledWalk } from '../../src/pipeline/walk-schedule.ts';
import { middleSlice, walkVisits, type ObjectWork } from '../../src/pipeline/plan.ts';
import { PAPER_CT, PAPER_MR, seededRandom } from '../../src/cli/bench-volumes.ts';

const range = (from: number, to: number): number[] => {
  const out: number[] = [];
  for (let z = from; from <= to ? z <= to : z >= to; z += from <= to ? 1 : -1) out.push(z);
  return out;
};

/** A 3D box's work as plan.ts describes it at speed level 1. */
function box(z0: number, z1: number, ordinal = 1): Extract<ObjectWork, { kind: 'box3d' }> {
  const zmid = middleSlice(z0, z1);
  return {
    kind: 'box3d', ordinal, label: ordinal, box: { kind: 'box3d', x0: 0, y0: 0, x1: 4, y1: 4, z0, z1 }, zmid,
    up: zmid < z1 ? range(zmid + 1, z1) : [], down: zmid > z0 ? range(zmid - 1, z0) : [],
  };
}

/**
 * Checks that the walks can follow the order: every slice, when its turn comes, is the next slice of a walk that may
 * move (its first step done, for a downward walk). That is what keeps an ordered store from waiting for itself.
 */
function assertFollowable(walks: readonly ScheduledWalk[], order: readonly number[]): void {
  const position = walks.map(() => 0);
  const encoded = new Set<number>();
  const canMove = (w: number): boolean => {
    const walk = walks[w]!;
    return position[w]! < walk.slices.length && (!walk.after || position[walk.after.walk]! > walk.after.step);
  };
  for (const z of order) {
    assert.ok(!encoded.has(z), `slice ${z} listed twice`);
    assert.ok(walks.some((walk, w) => canMove(w) && walk.slices[position[w]!] === z), `slice ${z} is no walk's next slice`);
    encoded.add(z);
    for (let moved = true; moved;) {
      moved = false;
      walks.forEach((walk, w) => {
        while (canMove(w) && encoded.has(walk.slices[position[w]!]!)) {
          position[w]!++;
          moved = true;
        }
      });
    }
  }
  walks.forEach((walk, w) => assert.equal(position[w], walk.slices.length, `walk ${w} did not finish`));
}

test('boxWalks: [zmid, ...up], then the downward walk after zmid', () => {
  const walks = boxWalks([box(2, 6), box(10, 11, 2)]);
  assert.deepEqual(walks, [
    { slices: [4, 5, 6] },
    { slices: [3, 2], after: { walk: 0, step: 0 } },
    { slices: [10, 11] },
    { slices: [], after: { walk: 2, step: 0 } },
  ]);
});

test('one walk holds one slice at a time', () => {
  const walks: ScheduledWalk[] = [{ slices: range(0, 9) }];
  assert.deepEqual(encodeOrder(walks), range(0, 9));
  assert.equal(heldPeak(walks, range(0, 9)), 1);
  // Encoding ahead of the walk holds what it has not reached yet.
  assert.equal(heldPeak(walks, [9, 8, 7, 6, 5, 4, 3, 2, 1, 0]), 10);
});

test('two walks crossing hold their whole overlap, whatever the order', () => {
  const walks: ScheduledWalk[] = [{ slices: range(0, 9) }, { slices: range(9, 0) }];
  const roundRobin = [0, 9, 1, 8, 2, 7, 3, 6, 4, 5];
  assert.equal(heldPeak(walks, roundRobin), 10);
  const order = encodeOrder(walks);
  assertFollowable(walks, order);
  assert.equal(heldPeak(walks, order), 10);
});

test('a walk that starts ahead of another in the same direction waits for it', () => {
  // X walks 0..19, Y 10..19: round-robin encodes Y's slices while X is still at 0..9, holding up to 10 of them.
  const walks: ScheduledWalk[] = [{ slices: range(0, 19) }, { slices: range(10, 19) }];
  const roundRobin: number[] = [];
  for (let step = 0; step < 20; step++) for (const w of walks) if (step < w.slices.length) roundRobin.push(w.slices[step]!);
  assert.ok(heldPeak(walks, [...new Set(roundRobin)]) >= 10);
  const order = encodeOrder(walks);
  assertFollowable(walks, order);
  assert.deepEqual(order, range(0, 19));
  assert.equal(heldPeak(walks, order), 1);
});

test('a downward walk starts after its middle slice', () => {
  const alone = encodeOrder(boxWalks([box(0, 10)]));
  assert.equal(alone[0], 5);
  assert.deepEqual([...alone].sort((a, b) => a - b), range(0, 10));
  // Box 0..10 (zmid 5) and box 3..5 (zmid 4): slice 4 is box 2's middle and on box 1's downward walk.
  const walks = boxWalks([box(0, 10), box(3, 5, 2)]);
  const order = encodeOrder(walks);
  assertFollowable(walks, order);
  assert.deepEqual([...order].sort((a, b) => a - b), range(0, 10));
});

test('paper CT and MR: far fewer slices held than the round-robin order, every slice once', () => {
  for (const [volume, bound] of [[PAPER_CT, 45], [PAPER_MR, 22]] as const) {
    const work = volume.zRanges.map(([z0, z1], i) => box(z0, z1, i + 1));
    const walks = boxWalks(work);
    const order = encodeOrder(walks);
    assertFollowable(walks, order);
    assert.equal(order.length, new Set(walkVisits(work).visits).size);
    const roundRobin = heldPeak(walks, walkVisits(work).prefetchOrder);
    const ordered = heldPeak(walks, order);
    assert.ok(ordered <= bound, `${volume.name}: ${ordered} slices held, expected at most ${bound}`);
    assert.ok(ordered * 2 <= roundRobin, `${volume.name}: ${ordered} against round-robin ${roundRobin}`);
  }
});

test('random box sets: the greedy order is followable and rarely holds more than round-robin; the planned order never', () => {
  const rand = seededRandom(11);
  let worse = 0;
  for (let i = 0; i < 60; i++) {
    const depth = 20 + Math.floor(rand() * 200);
    const work = Array.from({ length: 1 + Math.floor(rand() * 10) }, (_, k) => {
      const span = Math.max(1, Math.round(depth * (0.02 + 0.5 * rand())));
      const z0 = Math.floor(rand() * (depth - span));
      return box(z0, z0 + span, k + 1);
    });
    const walks = boxWalks(work);
    const order = encodeOrder(walks);
    assertFollowable(walks, order);
    const roundRobin = walkVisits(work).prefetchOrder;
    const planned = plannedOrder(walks, roundRobin);
    assertFollowable(walks, planned);
    const ranges = JSON.stringify(work.map((w) => [w.box.z0, w.box.z1]));
    assert.ok(heldPeak(walks, order) <= heldPeak(walks, roundRobin) + 2, `set ${i}: ${ranges}`);
    assert.ok(heldPeak(walks, planned) <= heldPeak(walks, roundRobin), `set ${i}: ${ranges}`);
    if (heldPeak(walks, order) > heldPeak(walks, roundRobin)) worse++;
  }
  assert.ok(worse <= 3, `${worse} of 60 sets`);
});
