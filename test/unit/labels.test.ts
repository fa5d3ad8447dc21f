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
