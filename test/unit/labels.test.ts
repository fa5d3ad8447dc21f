import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LabelAssembler } from '../../src/pipeline/labels.ts';

test('later objects overwrite earlier ones whatever order they finish in', () => {
  const a = new LabelAssembler(1, 1, 4, [5, 9]);
  a.paint(2, 0, Uint8Array.of(0, 1, 1, 0));
  a.paint(1, 0, Uint8Array.of(1, 1, 0, 0));
  const { labels, voxelsPerOrdinal } = a.finish();
  assert.ok(labels instanceof Uint8Array);
  assert.deepEqual([...labels], [5, 9, 9, 0]);
  assert.deepEqual([...voxelsPerOrdinal], [0, 1, 2]);
});

test('labels above 255 switch the volume to uint16 instead of wrapping', () => {
  const a = new LabelAssembler(2, 1, 2, [1, 300]);
  a.paint(2, 1, Uint8Array.of(1, 0));
  const { labels } = a.finish();
  assert.ok(labels instanceof Uint16Array);
  assert.deepEqual([...labels], [0, 0, 300, 0]);
});

test('finish reads only the painted span of each slice, and gives the same labels, counts and slice ranges', () => {
  const depth = 5;
  const plane = 6;
  const a = new LabelAssembler(depth, 2, 3, [7, 8]);
  const masks: [number, number, number[]][] = [
    [1, 1, [0, 0, 1, 1, 0, 0]],
    [2, 1, [0, 1, 1, 0, 0, 0]],
    [2, 3, [0, 0, 0, 0, 0, 1]],
    [1, 4, [0, 0, 0, 0, 0, 0]],
  ];
  const expected = new Uint8Array(depth * plane);
  for (const [ordinal, z, mask] of masks) {
    a.paint(ordinal, z, Uint8Array.from(mask));
    mask.forEach((m, i) => { if (m && ordinal === 2) expected[z * plane + i] = 8; else if (m && expected[z * plane + i] === 0) expected[z * plane + i] = 7; });
  }
  // A voxel outside every painted span that is not 0 would show that finish skipped it: plant one and see it stay.
  const ordinals = (a as unknown as { ordinals: Uint8Array }).ordinals;
  ordinals[0] = 2;
  const { labels, voxelsPerOrdinal, firstSlice, lastSlice } = a.finish();
  assert.equal(labels[0], 2, 'slice 0 (never painted) was not read');
  labels[0] = 0;
  assert.deepEqual([...labels], [...expected]);
  assert.deepEqual([...voxelsPerOrdinal], [0, 1, 3]);
  assert.deepEqual([...firstSlice], [-1, 1, 1]);
  assert.deepEqual([...lastSlice], [-1, 1, 3]);
});
