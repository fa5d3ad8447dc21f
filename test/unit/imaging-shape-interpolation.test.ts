// Shape interpolation between two computed slices' masks (the 3D walk's speed levels).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { interpolateShapes } from '../../src/imaging/shape-interpolation.ts';

const H = 64;
const W = 80;

function disc(cx: number, cy: number, r: number): Uint8Array {
  const m = new Uint8Array(H * W);
  for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) if ((x - cx) ** 2 + (y - cy) ** 2 <= r * r) m[y * W + x] = 1;
  return m;
}

function rect(x0: number, y0: number, x1: number, y1: number): Uint8Array {
  const m = new Uint8Array(H * W);
  for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) m[y * W + x] = 1;
  return m;
}

const count = (m: Uint8Array): number => m.reduce((s, v) => s + v, 0);

function dice(a: Uint8Array, b: Uint8Array): number {
  let both = 0;
  for (let i = 0; i < a.length; i++) both += a[i]! & b[i]!;
  return (2 * both) / (count(a) + count(b));
}

describe('interpolateShapes', () => {
  it('gives the neighbours back at t = 0 and t = 1', () => {
    const a = disc(30, 30, 12);
    const b = rect(20, 10, 60, 40);
    const [at0, at1] = interpolateShapes(a, b, H, W, [0, 1]);
    assert.deepEqual(at0, a);
    assert.deepEqual(at1, b);
  });

  it('keeps a shape both neighbours share', () => {
    const a = disc(40, 32, 15);
    for (const m of interpolateShapes(a, a, H, W, [0.25, 0.5, 0.75])) assert.deepEqual(m, a);
  });

  // The pixel grid makes the in-between outlines approximate: within a pixel on these shapes.
  it('grows a disc between two concentric discs', () => {
    const [quarter, mid] = interpolateShapes(disc(40, 32, 8), disc(40, 32, 20), H, W, [0.25, 0.5]);
    assert.ok(dice(quarter!, disc(40, 32, 11)) > 0.97, `dice ${dice(quarter!, disc(40, 32, 11))}`);
    assert.ok(dice(mid!, disc(40, 32, 14)) > 0.97, `dice ${dice(mid!, disc(40, 32, 14))}`);
  });

  it('moves a square halfway between two overlapping positions', () => {
    const [mid] = interpolateShapes(rect(10, 20, 30, 40), rect(20, 20, 40, 40), H, W, [0.5]);
    // Distance blending rounds the corners (where the y distance governs): a Dice of 0.92 on this 20 px square.
    assert.ok(dice(mid!, rect(15, 20, 35, 40)) > 0.9, `dice ${dice(mid!, rect(15, 20, 35, 40))}`);
    // The moving edges sit exactly halfway.
    assert.deepEqual([mid![30 * W + 14], mid![30 * W + 15], mid![30 * W + 34], mid![30 * W + 35]], [0, 1, 1, 0]);
  });

  it('stays inside the union of the neighbours', () => {
    const a = disc(20, 20, 10);
    const b = rect(45, 30, 70, 60);
    for (const m of interpolateShapes(a, b, H, W, [0.2, 0.5, 0.8])) {
      for (let i = 0; i < m.length; i++) if (m[i]) assert.ok(a[i] || b[i], `pixel ${i} outside both masks`);
    }
  });

  it('recedes towards an empty or missing neighbour and is gone halfway', () => {
    const a = disc(40, 32, 16);
    const empty = new Uint8Array(H * W);
    const [q, h, tq] = interpolateShapes(a, empty, H, W, [0.25, 0.5, 0.75]);
    assert.ok(count(q!) > 0 && count(q!) < count(a));
    for (let i = 0; i < q!.length; i++) if (q![i]) assert.equal(a[i], 1);
    assert.equal(count(h!), 0);
    assert.equal(count(tq!), 0);
    // Mirrored: a missing (null) first neighbour.
    const [mirrored] = interpolateShapes(null, a, H, W, [0.75]);
    assert.deepEqual(mirrored, q);
  });

  it('gives empty masks between two empty neighbours', () => {
    const [m] = interpolateShapes(null, new Uint8Array(H * W), H, W, [0.5]);
    assert.equal(count(m!), 0);
  });

  it('handles a mask that fills the image up to its border', () => {
    const full = new Uint8Array(H * W).fill(1);
    const [m] = interpolateShapes(full, full, H, W, [0.5]);
    assert.equal(count(m!), H * W);
  });

  it('refuses a mask of another size and a fraction outside [0, 1]', () => {
    assert.throws(() => interpolateShapes(new Uint8Array(3), null, H, W, [0.5]), /expected 5120 values, got 3/);
    assert.throws(() => interpolateShapes(disc(5, 5, 3), null, H, W, [1.5]), /fraction 1.5 is outside/);
  });
});
