import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CodedError } from '../../src/errors/coded-error.ts';
import { strokesToVoxels, voxelsToStrokes, type Stroke } from '../../src/protocol/scribble-strokes.ts';

const dims = { depth: 3, height: 6, width: 8 };
const at = (x: number, y: number, z: number): number => z * 48 + y * 8 + x;
const p = (x: number, y: number, z = 0) => ({ x, y, z });

function promptError(fn: () => unknown): CodedError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof CodedError);
    assert.equal(err.code, 'PROMPT_INVALID');
    return err;
  }
  assert.fail('expected PROMPT_INVALID');
}

test('a single-point stroke marks one voxel on its slice', () => {
  assert.deepEqual([...strokesToVoxels([[p(3, 2, 1)]], dims, 's')], [at(3, 2, 1)]);
});

test('a horizontal, vertical and diagonal segment draw every pixel between the ends, ends included', () => {
  assert.deepEqual([...strokesToVoxels([[p(1, 4), p(5, 4)]], dims, 's')], [1, 2, 3, 4, 5].map((x) => at(x, 4, 0)));
  assert.deepEqual([...strokesToVoxels([[p(2, 5), p(2, 1)]], dims, 's')], [1, 2, 3, 4, 5].map((y) => at(2, y, 0)));
  assert.deepEqual([...strokesToVoxels([[p(0, 0, 2), p(3, 3, 2)]], dims, 's')], [0, 1, 2, 3].map((i) => at(i, i, 2)));
});

test('a shallow line is one pixel thick: one pixel per column (Bresenham)', () => {
  const v = strokesToVoxels([[p(0, 0), p(7, 2)]], dims, 's');
  const xs = [...v].map((i) => i % 8);
  assert.deepEqual(xs.sort((a, b) => a - b), [0, 1, 2, 3, 4, 5, 6, 7]);
  const ys = new Map([...v].map((i) => [i % 8, Math.floor(i / 8)]));
  assert.equal(ys.get(0), 0);
  assert.equal(ys.get(7), 2);
  // The reverse direction draws a line with the same ends, also 8 pixels.
  assert.equal(strokesToVoxels([[p(7, 2), p(0, 0)]], dims, 's').length, 8);
});

test('a polyline joins consecutive points; voxels come back sorted and unique', () => {
  const v = strokesToVoxels([[p(1, 1), p(3, 1), p(3, 3), p(1, 1)], [p(2, 1)]], dims, 's');
  const expected = [at(1, 1, 0), at(2, 1, 0), at(3, 1, 0), at(3, 2, 0), at(3, 3, 0), at(2, 2, 0)].sort((a, b) => a - b);
  assert.deepEqual([...v], expected);
});

test('errors name the stroke and point at fault', () => {
  assert.equal(promptError(() => strokesToVoxels([], dims, 'prompts[0].scribble')).field, 'prompts[0].scribble.strokes');
  assert.equal(promptError(() => strokesToVoxels([[p(1, 1)], []], dims, 'prompts[0].scribble')).field, 'prompts[0].scribble.strokes[1].points');
  const outside = promptError(() => strokesToVoxels([[p(1, 1), p(8, 1)]], dims, 'prompts[2].scribble'));
  assert.equal(outside.field, 'prompts[2].scribble.strokes[0].points[1].x');
  assert.match(outside.message, /0\.\.7, got 8/);
  assert.equal(promptError(() => strokesToVoxels([[p(1, -1)]], dims, 's')).field, 's.strokes[0].points[0].y');
  assert.equal(promptError(() => strokesToVoxels([[p(1, 1, 3)]], dims, 's')).field, 's.strokes[0].points[0].z');
  assert.equal(promptError(() => strokesToVoxels([[p(1.5, 1)]], dims, 's')).field, 's.strokes[0].points[0].x');
  const mixed = promptError(() => strokesToVoxels([[p(1, 1, 0), p(2, 1, 1)]], dims, 's'));
  assert.equal(mixed.field, 's.strokes[0].points[1].z');
});

test('hostile polylines are bounded', () => {
  const big = { depth: 1, height: 4096, width: 4096 };
  const zigzag: Stroke = Array.from({ length: 5000 }, (_, i) => p(i % 2 ? 4095 : 0, 0));
  assert.match(promptError(() => strokesToVoxels([zigzag], big, 's')).message, /more than/);
});

test('voxelsToStrokes round-trips any voxel set exactly, with one stroke per row run', () => {
  let seed = 7;
  const random = (): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  for (let trial = 0; trial < 50; trial++) {
    const set = new Set<number>();
    const n = Math.floor(random() * 60);
    for (let i = 0; i < n; i++) set.add(Math.floor(random() * 144));
    const voxels = Uint32Array.from(set);
    const strokes = voxelsToStrokes(voxels, dims);
    assert.deepEqual([...(voxels.length ? strokesToVoxels(strokes, dims, 's') : [])], [...set].sort((a, b) => a - b));
  }
  // A run ending at the row end does not continue onto the next row.
  const strokes = voxelsToStrokes(Uint32Array.from([6, 7, 8, 9]), dims);
  assert.deepEqual(strokes, [[p(6, 0), p(7, 0)], [p(0, 1), p(1, 1)]]);
});
