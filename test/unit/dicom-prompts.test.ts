// Prompts in DICOM terms against a series description (no files needed): slices named by SOP Instance UID and
// frame number, boxes in patient millimetres through an oblique geometry with the documented rounding, and one
// PROMPT_INVALID with the field path for each way they can miss.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CodedError } from '../../src/errors/coded-error.ts';
import { imageGeometry, orderSlices, type Vec3 } from '../../src/volume/dicom/geometry.ts';
import { dicomPromptMapping, resolveDicomPrompt, type MappedSeries } from '../../src/volume/dicom/prompt-mapping.ts';
import type { SliceReference } from '../../src/volume/dicom/series.ts';

// Rows along (0.8, 0.6, 0), columns along -z: normal (-0.6, 0.8, 0); 4 slices 2.5 mm apart, 16 x 16 pixels of
// 0.5 mm (rows) x 0.75 mm (columns).
const IOP = [0.8, 0.6, 0, 0, 0, -1];
const NORMAL: Vec3 = [-0.6, 0.8, 0];
const ORIGIN: Vec3 = [10, -20, 30];
const placed = [0, 1, 2, 3].map((k) => ({ name: `slice ${k}`, field: `payload.dicom[${k}]`, position: ORIGIN.map((o, i) => o + 2.5 * k * NORMAL[i]!) as unknown as Vec3, orientation: IOP }));
const { geometry } = orderSlices(placed, [0.5, 0.75], 2.5);
const slices: SliceReference[] = [0, 1, 2, 3].map((k) => ({ sopClassUid: '1.2.840.10008.5.1.4.1.1.2', sopInstanceUid: `1.2.3.${k}`, instanceIndex: k }));
const SERIES: MappedSeries = { shape: [4, 16, 16], geometry, slices };
const mapping = dicomPromptMapping(SERIES);

/** The LPS point of continuous voxel coordinates (column, row, slice). */
function lps(i: number, j: number, k: number): number[] {
  const m = geometry.affineLps;
  return [0, 1, 2].map((r) => m[r]![0]! * i + m[r]![1]! * j + m[r]![2]! * k + m[r]![3]!);
}

function promptError(fn: () => unknown, field: string, message: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof CodedError, String(err));
    assert.equal(err.code, 'PROMPT_INVALID');
    assert.equal(err.field, field);
    assert.match(err.detail, message);
    return true;
  });
}

test('slices by SOP Instance UID: frame 0 (or 1) for single-frame instances; each miss names its field', () => {
  assert.equal(mapping.sliceIndex({ sopInstanceUid: '1.2.3.2', frameNumber: 0 }), 2);
  assert.equal(mapping.sliceIndex({ sopInstanceUid: '1.2.3.2', frameNumber: 1 }), 2);
  promptError(() => mapping.sliceIndex({ sopInstanceUid: '1.2.3.9', frameNumber: 0 }), 'slice.sop_instance_uid', /1\.2\.3\.9 is not an instance of this series/);
  promptError(() => mapping.sliceIndex({ sopInstanceUid: '', frameNumber: 0 }), 'slice.sop_instance_uid', /must name/);
  promptError(() => mapping.sliceIndex({ sopInstanceUid: '1.2.3.1', frameNumber: 2 }), 'slice.frame_number', /single-frame image: frame_number must be 0, got 2/);
});

test('frames of a multi-frame instance by number, wherever geometry placed them', () => {
  const frames: SliceReference[] = [2, 3, 1].map((f) => ({ sopClassUid: '1.2.840.10008.5.1.4.1.1.2.1', sopInstanceUid: '9.9', frameNumber: f, instanceIndex: 0 }));
  const multi = dicomPromptMapping({ shape: [3, 8, 8], geometry: imageGeometry(3, [1, 1]), slices: frames });
  assert.deepEqual([1, 2, 3].map((f) => multi.sliceIndex({ sopInstanceUid: '9.9', frameNumber: f })), [2, 0, 1]);
  promptError(() => multi.sliceIndex({ sopInstanceUid: '9.9', frameNumber: 0 }), 'slice.frame_number', /multi-frame image with frames 1\.\.3: frame_number must name one, got 0/);
  promptError(() => multi.sliceIndex({ sopInstanceUid: '9.9', frameNumber: 4 }, 'box2d.slice'), 'box2d.slice.frame_number', /got 4/);
});

test('a box in mm with both corners on one slice is a 2D box covering every pixel the rectangle touches', () => {
  // Corners at pixel centres (2, 3) and (9, 12) of slice 1: pixels 2..9 x 3..12.
  assert.deepEqual(mapping.patientBox(lps(2, 3, 1), lps(9, 12, 1)), { kind: 'box2d', x0: 2, y0: 3, x1: 10, y1: 13, z: 1 });
  // The same rectangle drawn from the other corners, and given by its outer pixel edges: the same pixels.
  assert.deepEqual(mapping.patientBox(lps(9, 3, 1), lps(2, 12, 1)), { kind: 'box2d', x0: 2, y0: 3, x1: 10, y1: 13, z: 1 });
  assert.deepEqual(mapping.patientBox(lps(1.5, 2.5, 1), lps(9.5, 12.5, 1)), { kind: 'box2d', x0: 2, y0: 3, x1: 10, y1: 13, z: 1 });
  // Just past an edge takes the next pixel in; a corner 0.3 slices off the plane takes the nearest slice.
  assert.deepEqual(mapping.patientBox(lps(1.4, 2.5, 1.3), lps(9.6, 12.5, 0.8)), { kind: 'box2d', x0: 1, y0: 3, x1: 11, y1: 13, z: 1 });
  // Every pair of pixel edges (a rectangle drawn exactly on the pixel grid) gives exactly the pixels between them,
  // whatever the affine's floating point does to the edges.
  for (let a = 0; a < 16; a++) {
    for (let b = a; b < 16; b++) {
      assert.deepEqual(mapping.patientBox(lps(a - 0.5, b + 0.5, 2), lps(b + 0.5, a - 0.5, 2)), { kind: 'box2d', x0: a, y0: a, x1: b + 1, y1: b + 1, z: 2 }, `edges ${a - 0.5}..${b + 0.5}`);
    }
  }
  // The whole image, edge to edge.
  assert.deepEqual(mapping.patientBox(lps(-0.5, -0.5, 3), lps(15.5, 15.5, 3)), { kind: 'box2d', x0: 0, y0: 0, x1: 16, y1: 16, z: 3 });
});

test('corners on different slices give a 3D box over the slices between them, both included', () => {
  assert.deepEqual(mapping.patientBox(lps(4, 5, 3), lps(10, 11, 1)), { kind: 'box3d', x0: 4, y0: 5, x1: 11, y1: 12, z0: 1, z1: 3 });
});

test('a corner outside the volume, a malformed corner, or an image without patient geometry are refused', () => {
  promptError(() => mapping.patientBox(lps(2, 3, 1), lps(16.2, 12, 1)), 'patient_box.corner_b', /is at voxel \(16\.20, 12\.00, 1\.00\) \(column, row, slice\), outside the volume \(columns 0\.\.15, rows 0\.\.15, slices 0\.\.3\)/);
  promptError(() => mapping.patientBox(lps(2, 3, -0.7), lps(9, 12, 1)), 'patient_box.corner_a', /outside the volume/);
  promptError(() => mapping.patientBox([1, 2], lps(9, 12, 1)), 'patient_box.corner_a', /three finite numbers/);
  const photo = dicomPromptMapping({ shape: [1, 8, 8], geometry: imageGeometry(1, undefined), slices: [slices[0]!] });
  promptError(() => photo.patientBox([0, 0, 0], [1, 1, 0], 'header.prompts[0].patient_box'), 'header.prompts[0].patient_box', /needs a series placed in patient coordinates/);
});

test('resolveDicomPrompt: pipeline prompts, errors under the prompt\'s path', () => {
  const at = 'header.prompts[2]';
  assert.deepEqual(resolveDicomPrompt({ kind: 'box2d', x0: 1, y0: 2, x1: 5, y1: 6, slice: { sopInstanceUid: '1.2.3.3', frameNumber: 0 } }, mapping, at), { kind: 'box2d', x0: 1, y0: 2, x1: 5, y1: 6, z: 3 });
  const box3d = { kind: 'box3d' as const, x0: 1, y0: 2, x1: 5, y1: 6, sliceFirst: { sopInstanceUid: '1.2.3.3', frameNumber: 0 }, sliceLast: { sopInstanceUid: '1.2.3.1', frameNumber: 0 } };
  assert.deepEqual(resolveDicomPrompt(box3d, mapping, at), { kind: 'box3d', x0: 1, y0: 2, x1: 5, y1: 6, z0: 1, z1: 3 });
  promptError(() => resolveDicomPrompt({ ...box3d, sliceLast: { sopInstanceUid: '1.2.3.1', frameNumber: 7 } }, mapping, at), 'header.prompts[2].box3d.slice_last.frame_number', /got 7/);
  promptError(() => resolveDicomPrompt({ kind: 'patient-box', cornerA: lps(0, 0, 0), cornerB: lps(40, 0, 0) }, mapping, at), 'header.prompts[2].patient_box.corner_b', /outside/);
});
