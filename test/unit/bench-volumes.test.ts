// The synthetic workloads of `onesam bench`: the paper's shapes and box spans, deterministic from the seed, and
// objects that stand out from a textured background inside their boxes, as in the demo networks' training
// distribution (so the networks find them).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import {
  PAPER_CT, PAPER_MR, TINY_MR, ellipsoidContains, seededRandom, sliceCounts, syntheticMicroscopy, syntheticVolume, truthDice,
} from '../../src/cli/bench-volumes.ts';
import type { Box3D } from '../../src/pipeline/types.ts';

const digest = (data: Uint8Array): string => createHash('sha256').update(data).digest('hex');

test('seededRandom: the same seed gives the same sequence, in [0, 1)', () => {
  const a = seededRandom(7);
  const b = seededRandom(7);
  const xs = Array.from({ length: 1000 }, () => a());
  assert.deepEqual(xs, Array.from({ length: 1000 }, () => b()));
  assert.ok(xs.every((x) => x >= 0 && x < 1));
  assert.notDeepEqual(xs.slice(0, 5), Array.from({ length: 5 }, seededRandom(8)));
});

test('the paper CT: 287 x 512 x 512, 6 boxes spanning 31-121 slices, 396 slices per box and 205 distinct', () => {
  assert.deepEqual([PAPER_CT.depth, PAPER_CT.height, PAPER_CT.width], [287, 512, 512]);
  const spans = PAPER_CT.zRanges.map(([z0, z1]) => z1 - z0 + 1);
  assert.equal(spans.length, 6);
  assert.equal(Math.min(...spans), 31);
  assert.equal(Math.max(...spans), 121);
  const c = syntheticVolume(PAPER_CT, 1);
  assert.equal(c.image.data.length, 287 * 512 * 512);
  assert.deepEqual(sliceCounts(c.objects), { perObject: 396, distinct: 205 });
});

test('the paper MR: deterministic from the seed, boxes inside the image around dark objects in a textured background', () => {
  const a = syntheticVolume(PAPER_MR, 42);
  const b = syntheticVolume(PAPER_MR, 42);
  const other = syntheticVolume(PAPER_MR, 43);
  assert.equal(a.modality, 'MR');
  assert.deepEqual([a.image.depth, a.image.height, a.image.width, a.image.channels], [115, 400, 400, 1]);
  assert.equal(digest(a.image.data), digest(b.image.data));
  assert.deepEqual(a.objects, b.objects);
  assert.notEqual(digest(a.image.data), digest(other.image.data));
  assert.equal(a.objects.length, 6);
  const { height: h, width: w } = a.image;
  const at = (z: number, y: number, x: number): number => a.image.data[z * h * w + y * w + x]!;
  const boxes = a.objects.map((o) => o.prompt as Box3D);
  for (const box of boxes) {
    assert.equal(box.kind, 'box3d');
    assert.ok(box.x0 >= 0 && box.y0 >= 0 && box.x1 <= w && box.y1 <= h && box.z1 < a.image.depth, JSON.stringify(box));
    // The middle slice: around the box's centre is the object (dark, 20-30 with grain).
    const z = Math.trunc((box.z0 + box.z1) / 2);
    const cy = Math.trunc((box.y0 + box.y1) / 2);
    const cx = Math.trunc((box.x0 + box.x1) / 2);
    let sum = 0;
    for (let dy = -2; dy <= 2; dy++) for (let dx = -2; dx <= 2; dx++) sum += at(z, cy + dy, cx + dx);
    assert.ok(sum / 25 <= 40, `centre mean ${sum / 25}`);
  }
  // Objects that share slices do not touch in the plane, so each box holds one object.
  for (const [i, p] of boxes.entries()) {
    for (const q of boxes.slice(i + 1)) {
      const shareSlices = p.z0 <= q.z1 && q.z0 <= p.z1;
      const apart = p.x1 <= q.x0 || q.x1 <= p.x0 || p.y1 <= q.y0 || q.y1 <= p.y0;
      assert.ok(!shareSlices || apart, `${JSON.stringify(p)} ${JSON.stringify(q)}`);
    }
  }
  // Outside every box: the public cases' background, mean about 88 with a smooth field and grain, never as dark
  // as an object over a neighbourhood, and varying (a flat background is not what the networks were trained on).
  let n = 0;
  let sum = 0;
  let sumSq = 0;
  for (let z = 0; z < a.image.depth; z += 7) {
    for (let y = 2; y < h - 2; y += 5) {
      for (let x = 2; x < w - 2; x += 5) {
        if (boxes.some((b) => z >= b.z0 && z <= b.z1 && y >= b.y0 - 2 && y < b.y1 + 2 && x >= b.x0 - 2 && x < b.x1 + 2)) continue;
        let local = 0;
        for (let dy = -2; dy <= 2; dy++) for (let dx = -2; dx <= 2; dx++) local += at(z, y + dy, x + dx);
        assert.ok(local / 25 > 40, `voxel (${z}, ${y}, ${x}): neighbourhood mean ${local / 25}`);
        const v = at(z, y, x);
        n++;
        sum += v;
        sumSq += v * v;
      }
    }
  }
  const mean = sum / n;
  const sd = Math.sqrt(sumSq / n - mean * mean);
  assert.ok(mean > 80 && mean < 96, `background mean ${mean}`);
  assert.ok(sd > 8 && sd < 20, `background sd ${sd}`);
  assert.deepEqual(sliceCounts(a.objects), { perObject: 189, distinct: 80 });
});

test('the microscopy image: 1536 x 2040 RGB with 19 boxes inside it; 2D boxes share one encoding', () => {
  const c = syntheticMicroscopy(5);
  assert.deepEqual([c.image.depth, c.image.height, c.image.width, c.image.channels], [1, 1536, 2040, 3]);
  assert.equal(c.objects.length, 19);
  for (const { prompt } of c.objects) {
    assert.equal(prompt.kind, 'box2d');
    if (prompt.kind !== 'box2d') continue;
    assert.ok(prompt.x0 >= 0 && prompt.y0 >= 0 && prompt.x1 <= 2040 && prompt.y1 <= 1536 && prompt.x0 < prompt.x1 && prompt.y0 < prompt.y1);
  }
  assert.equal(digest(c.image.data), digest(syntheticMicroscopy(5).image.data));
  assert.deepEqual(sliceCounts(c.objects), { perObject: 1, distinct: 1 });
});

test('the tiny test volume: 4 distinct slices, 6 for the reference schedule', () => {
  assert.deepEqual(sliceCounts(syntheticVolume(TINY_MR, 1).objects), { perObject: 6, distinct: 4 });
});

test('truthDice: the painted ellipsoids score 1, a shifted or missing object less, overlaps go to the later object', () => {
  const c = syntheticVolume({ ...TINY_MR, height: 48, width: 48, depth: 8, zRanges: [[1, 6], [2, 5]] }, 3);
  const { depth, height, width } = c.image;
  const boxes = c.objects.map((o) => o.prompt as Box3D);
  const truth = new Uint8Array(depth * height * width);
  for (let z = 0; z < depth; z++) for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) {
    boxes.forEach((b, k) => { if (ellipsoidContains(b, z, y, x)) truth[(z * height + y) * width + x] = c.objects[k]!.label; });
  }
  assert.ok(truth.includes(1) && truth.includes(2));
  assert.deepEqual(truthDice(c, truth), [1, 1]);
  // The painted voxels are where the image is dark: the shape the pipeline sees is the one scored.
  const plane = height * width;
  const b = boxes[0]!;
  const zc = Math.trunc((b.z0 + b.z1) / 2);
  assert.ok(c.image.data[zc * plane + Math.trunc((b.y0 + b.y1) / 2) * width + Math.trunc((b.x0 + b.x1) / 2)]! < 60);
  const without2 = truth.map((v) => (v === 2 ? 0 : v));
  assert.deepEqual(truthDice(c, without2), [1, 0]);
  // One slice of object 1 lost: Dice below 1 by that slice's share.
  const lost = truth.slice();
  for (let i = zc * plane; i < (zc + 1) * plane; i++) if (lost[i] === 1) lost[i] = 0;
  const [d1] = truthDice(c, lost);
  assert.ok(d1! < 1 && d1! > 0.5, String(d1));
});
