import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CodedError } from '../../src/errors/coded-error.ts';
import { middleSlice, planRequest } from '../../src/pipeline/plan.ts';
import { DEFAULT_ROUTING } from '../../src/pipeline/router.ts';
import type { ObjectPrompt, SegmentationRequest } from '../../src/pipeline/types.ts';

const volume = (depth: number, height = 40, width = 50) => ({ depth, height, width, channels: 1 as const, data: new Uint8Array(depth * height * width) });
const request = (objects: ObjectPrompt[], depth = 20): SegmentationRequest => ({ requestId: 't', image: volume(depth), objects, mode: 'route', modality: 'CT' });
const box3d = (z0: number, z1: number, label = 1): ObjectPrompt => ({ label, prompt: { kind: 'box3d', x0: 5, y0: 5, x1: 20, y1: 30, z0, z1 } });

test('middle slice truncates like int((z1 - z0) / 2 + z0)', () => {
  assert.equal(middleSlice(9, 26), 17);
  assert.equal(middleSlice(2, 12), 7);
  assert.equal(middleSlice(0, 1), 0);
});

test('3D walks cover [z0, z1] inclusive: middle, up to z1, down to z0', () => {
  const plan = planRequest(request([box3d(3, 8)]), DEFAULT_ROUTING);
  const w = plan.work[0]!;
  assert.equal(w.kind, 'box3d');
  if (w.kind !== 'box3d') return;
  assert.equal(w.zmid, 5);
  assert.deepEqual(w.up, [6, 7, 8]);
  assert.deepEqual(w.down, [4, 3]);
  assert.deepEqual(plan.objects[0]!.slices, [3, 8]);
  assert.deepEqual(plan.networks, ['onesam']);
  assert.deepEqual(plan.slicesToEncode, { litemedsam: 0, onesam: 6 });
});

test('slices to encode are the distinct slices over all objects', () => {
  const plan = planRequest(request([box3d(2, 6), box3d(5, 10, 2), box3d(15, 16, 3)]), DEFAULT_ROUTING);
  // 2..10 (9 slices) + 15..16 (2 slices)
  assert.equal(plan.slicesToEncode.onesam, 11);
  assert.equal(plan.visits.length, 5 + 6 + 2);
});

test('fuse plans both networks', () => {
  const plan = planRequest({ ...request([box3d(0, 3)]), mode: 'fuse' }, DEFAULT_ROUTING);
  assert.deepEqual(plan.slicesToEncode, { litemedsam: 4, onesam: 4 });
});

function rejects(objects: ObjectPrompt[], field: RegExp, message: RegExp, depth = 20): void {
  assert.throws(() => planRequest(request(objects, depth), DEFAULT_ROUTING), (e: unknown) => {
    assert.ok(e instanceof CodedError, String(e));
    assert.equal(e.code, 'PROMPT_INVALID');
    assert.match(e.field ?? '', field);
    assert.match(e.message, message);
    return true;
  });
}

test('bad prompts name the field and the problem', () => {
  rejects([box3d(8, 8)], /prompts\[0\]\.box3d/, /z_min 8 must be less than z_max 8/);
  rejects([box3d(9, 4)], /prompts\[0\]\.box3d/, /z_min 9 must be less than z_max 4/);
  rejects([box3d(5, 25)], /prompts\[0\]\.box3d/, /outside the volume/);
  rejects([{ label: 1, prompt: { kind: 'box3d', x0: 5, y0: 5, x1: 80, y1: 30, z0: 1, z1: 3 } }], /prompts\[0\]\.box3d/, /extends past the image/);
  rejects([{ label: 1, prompt: { kind: 'box3d', x0: -1, y0: 5, x1: 8, y1: 30, z0: 1, z1: 3 } }], /prompts\[0\]\.box3d/, /starts outside/);
  rejects([{ label: 1, prompt: { kind: 'box3d', x0: 9, y0: 5, x1: 8, y1: 30, z0: 1, z1: 3 } }], /prompts\[0\]\.box3d/, /x_min 9 must be less than x_max 8/);
  rejects([{ label: 1, prompt: { kind: 'box2d', x0: 1, y0: 5, x1: 8, y1: Number.NaN } }], /prompts\[0\]\.box2d\.y1/, /finite number/, 1);
  rejects([{ label: 1, prompt: { kind: 'box2d', x0: 1, y0: 5, x1: 8, y1: 9 } }], /prompts\[0\]\.box2d\.z/, /needs its slice index/);
  rejects([box3d(1, 3, 0)], /prompts\[0\]\.label/, /1\.\.65535/);
  rejects([{ label: 2, prompt: { kind: 'scribble', voxels: Uint32Array.of(20 * 40 * 50) } }], /prompts\[0\]\.scribble\.voxels/, /outside the image/);
});

test('a malformed image is rejected with its field', () => {
  const bad: SegmentationRequest = { requestId: 't', image: { ...volume(2), data: new Uint8Array(7) }, objects: [], mode: 'route' };
  assert.throws(() => planRequest(bad, DEFAULT_ROUTING), (e: unknown) => e instanceof CodedError && e.field === 'image.data');
});

test('scribbles plan their scribbled slice range', () => {
  const plane = 40 * 50;
  const plan = planRequest(request([{ label: 7, prompt: { kind: 'scribble', voxels: Uint32Array.of(4 * plane + 10, 9 * plane + 11) } }]), DEFAULT_ROUTING);
  assert.deepEqual(plan.objects[0]!.slices, [4, 9]);
  assert.equal(plan.slicesToEncode.onesam, 6);
});
