// Per-object confidence (issue 8): the IoU statistics, the physical volume, the quality hint, the covered slice
// range from the label assembly, and their wire form (proto round trip through the client's reader).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { resultFromSummary } from '../../src/client/segment-remote.ts';
import { LabelAssembler } from '../../src/pipeline/labels.ts';
import { IouStats, LOW_PREDICTED_IOU, objectQuality, volumeMl } from '../../src/pipeline/object-quality.ts';
import type { ObjectSummary } from '../../src/pipeline/types.ts';
import type { MethodDefinition } from '@grpc/proto-loader';
import type { SegmentResponse, SegmentResponse__Output } from '../../src/generated/onesam/v1/SegmentResponse.ts';
import { loadSegmentationProto, SEGMENTATION_SERVICE } from '../../src/protocol/proto.ts';
import { objectResult } from '../../src/server/response-messages.ts';
import { qualityFromWire, qualityToWire } from '../../src/protocol/wire.ts';

test('IouStats: mean and minimum, clamped to 0..1; nothing decoded reads as 0', () => {
  const s = new IouStats();
  for (const v of [0.9, 0.7, 1.02, Number.NaN, -0.1]) s.add(v);
  assert.deepEqual(s.summary, { mean: (0.9 + 0.7 + 1 + 0 + 0) / 5, min: 0 });
  const t = new IouStats();
  t.add(0.8);
  t.add(0.6);
  assert.ok(Math.abs(t.summary.mean - 0.7) < 1e-12);
  assert.equal(t.summary.min, 0.6);
  assert.deepEqual(new IouStats().summary, { mean: 0, min: 0 });
});

test('volume in mL is voxels x the spacing product / 1000, unknown without spacing', () => {
  assert.equal(volumeMl(1000, [2.5, 0.8, 0.8]), 1.6);
  assert.equal(volumeMl(0, [1, 1, 1]), 0);
  assert.equal(volumeMl(1000, undefined), undefined);
});

test('quality: EMPTY without voxels, LOW_PREDICTED_IOU below the threshold, else OK', () => {
  assert.equal(objectQuality(0, 0.99), 'empty');
  assert.equal(objectQuality(10, LOW_PREDICTED_IOU - 0.01), 'low_predicted_iou');
  assert.equal(objectQuality(10, LOW_PREDICTED_IOU), 'ok');
  for (const q of ['ok', 'low_predicted_iou', 'empty'] as const) assert.equal(qualityFromWire(qualityToWire(q)), q);
  assert.equal(qualityToWire('low_predicted_iou'), 'OBJECT_QUALITY_LOW_PREDICTED_IOU');
  assert.equal(qualityFromWire('OBJECT_QUALITY_UNSPECIFIED'), 'ok');
});

test('the label assembly reports the slices each object holds in the output, after later objects overwrite', () => {
  const a = new LabelAssembler(5, 2, 2, [7, 9]);
  const full = new Uint8Array([1, 1, 1, 1]);
  const one = new Uint8Array([1, 0, 0, 0]);
  a.paint(1, 1, full);
  a.paint(1, 3, one);
  a.paint(2, 3, one); // object 2 overwrites object 1's only voxel on slice 3
  a.paint(2, 4, one);
  const r = a.finish();
  assert.deepEqual([...r.voxelsPerOrdinal], [0, 4, 2]);
  assert.deepEqual([r.firstSlice[1], r.lastSlice[1]], [1, 1]);
  assert.deepEqual([r.firstSlice[2], r.lastSlice[2]], [3, 4]);
  const empty = new LabelAssembler(2, 1, 1, [1]).finish();
  assert.deepEqual([empty.firstSlice[1], empty.lastSlice[1]], [-1, -1]);
});

test('the Summary fields survive the proto: set, unset (no spacing, no voxels) and zero values', () => {
  // The serializer grpc-js uses for Segment's responses, and the client's deserializer.
  const method = (loadSegmentationProto().definition[SEGMENTATION_SERVICE] as Record<string, MethodDefinition<unknown, SegmentResponse>>)['Segment']!;
  const objects: ObjectSummary[] = [
    { label: 1, networks: ['onesam'], voxels: 12, slices: [0, 4], covered: [0, 3], predictedIou: { mean: 0.8125, min: 0.5 }, volumeMl: 0.024, stoppedEarly: true, quality: 'ok' },
    { label: 2, networks: ['litemedsam'], voxels: 0, slices: [2, 2], predictedIou: { mean: 0.25, min: 0.25 }, stoppedEarly: false, quality: 'empty' },
    { label: 3, networks: ['onesam'], voxels: 1, slices: [0, 0], covered: [0, 0], predictedIou: { mean: 0, min: 0 }, volumeMl: 0.001, stoppedEarly: false, quality: 'low_predicted_iou' },
  ];
  const bytes = method.responseSerialize({ summary: { objects: objects.map(objectResult) } });
  const decoded = (method.responseDeserialize(bytes) as SegmentResponse__Output).summary!;
  assert.deepEqual(resultFromSummary(decoded, new Uint8Array(0)).objects, objects);
});
