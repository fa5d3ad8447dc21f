// The per-object confidence fields on public cases with the real pipeline and the demo networks (issue 8): the
// predicted IoU is a probability-like score, the volume follows from the voxels and the npz spacing, the covered
// slices are where the labels really are, inside the visited range and the volume, and stopped_early says whether
// a scribble walk ended on an empty mask before the volume's edge.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { challengeCase } from '../../src/volume/challenge.ts';
import { createSegmenter, type PipelineSegmenter } from '../../src/pipeline/index.ts';
import { LOW_PREDICTED_IOU } from '../../src/pipeline/object-quality.ts';
import { modalityFromFileName } from '../../src/pipeline/router.ts';
import type { ImageVolume, ObjectPrompt, ObjectSummary, SegmentationResult } from '../../src/pipeline/types.ts';
import { loadArrays } from '../helpers/cases.ts';
import { defaultPipelineConfig } from '../helpers/pipeline-config.ts';

const CASE_3D = '3DBox_CT_0003.npz'; // 17 slices, one box over slices 5..15, spacing (2.5, 0.8, 0.8)
const CASE_2D = '2DBox_XRay_0010.npz';

let segmenter: PipelineSegmenter;
before(async () => {
  segmenter = await createSegmenter(defaultPipelineConfig({ workers: 1 }));
});
after(() => segmenter?.close());

async function segment(name: string, objects?: readonly ObjectPrompt[]): Promise<{ image: ImageVolume; result: SegmentationResult }> {
  const kase = challengeCase(loadArrays('imgs', name), name);
  const modality = modalityFromFileName(name);
  const result = await segmenter.segment({ requestId: name, image: kase.image, objects: objects ?? kase.objects, mode: 'route', ...(modality ? { modality } : {}) });
  return { image: kase.image, result };
}

/** The fields every object must satisfy, checked against the label volume itself. */
function checkObject(o: ObjectSummary, image: ImageVolume, labels: ArrayLike<number>): void {
  const { mean, min } = o.predictedIou;
  assert.ok(min >= 0 && min <= mean && mean <= 1, `predicted IoU mean ${mean}, min ${min}`);
  const plane = image.height * image.width;
  let voxels = 0;
  let first = -1;
  let last = -1;
  for (let i = 0; i < labels.length; i++) {
    if (labels[i] !== o.label) continue;
    voxels++;
    const z = Math.floor(i / plane);
    if (first < 0) first = z;
    last = z;
  }
  assert.equal(o.voxels, voxels);
  assert.deepEqual(o.covered, voxels > 0 ? [first, last] : undefined, 'covered: the slices holding the label');
  assert.ok(0 <= o.slices[0] && o.slices[0] <= o.slices[1] && o.slices[1] < image.depth, `visited ${o.slices} within the volume`);
  if (o.covered) assert.ok(o.slices[0] <= o.covered[0] && o.covered[1] <= o.slices[1], 'covered within visited');
  if (image.spacing) {
    const [sz, sy, sx] = image.spacing;
    assert.ok(Math.abs(o.volumeMl! - (voxels * sz * sy * sx) / 1000) <= 1e-9 * Math.max(1, o.volumeMl!), `volume ${o.volumeMl} mL`);
  } else {
    assert.equal(o.volumeMl, undefined);
  }
  assert.equal(o.quality, voxels === 0 ? 'empty' : mean < LOW_PREDICTED_IOU ? 'low_predicted_iou' : 'ok');
}

test('a 3D box walk on a public CT: IoU in 0..1 over its slices, mL from the npz spacing, covered slices inside the box', async () => {
  const { image, result } = await segment(CASE_3D);
  assert.deepEqual(image.spacing, [2.5, 0.8, 0.8]);
  const [o] = result.objects;
  checkObject(o!, image, result.labels);
  assert.deepEqual(o!.slices, [5, 15], 'a box walk visits exactly its z range');
  assert.equal(o!.stoppedEarly, false, 'box walks never stop early');
  assert.ok(o!.voxels > 0 && o!.volumeMl! > 1, `a CT lesion of ${o!.volumeMl} mL`);
});

test('a 2D case: one slice, no spacing, so no volume', async () => {
  const { image, result } = await segment(CASE_2D);
  assert.equal(result.objects.length, 3);
  for (const o of result.objects) {
    checkObject(o, image, result.labels);
    assert.deepEqual(o.slices, [0, 0]);
    assert.equal(o.stoppedEarly, false);
  }
});

test('a scribble walk on the CT: stopped_early exactly when it ended before the first or last slice', async () => {
  // A 5 x 5 patch of the ground truth's label 1 on its middle slice: the walk propagates up and down from there.
  const gts = loadArrays('gts', CASE_3D).get('gts')!;
  const [depth, height, width] = gts.shape as [number, number, number];
  const plane = height * width;
  const z = 10;
  let cy = 0;
  let cx = 0;
  let n = 0;
  for (let i = 0; i < plane; i++) if (Number(gts.data[z * plane + i]) === 1) { cy += Math.floor(i / width); cx += i % width; n++; }
  assert.ok(n > 25, 'the ground truth has the object on the middle slice');
  cy = Math.round(cy / n);
  cx = Math.round(cx / n);
  const voxels: number[] = [];
  for (let y = cy - 2; y <= cy + 2; y++) for (let x = cx - 2; x <= cx + 2; x++) if (Number(gts.data[z * plane + y * width + x]) === 1) voxels.push(z * plane + y * width + x);
  const { image, result } = await segment(CASE_3D, [{ label: 1, prompt: { kind: 'scribble', voxels: Uint32Array.from(voxels) } }]);
  const [o] = result.objects;
  checkObject(o!, image, result.labels);
  assert.ok(o!.slices[0] <= z && z <= o!.slices[1]);
  assert.equal(o!.stoppedEarly, o!.slices[0] > 0 || o!.slices[1] < depth - 1, `visited ${o!.slices} of 0..${depth - 1}`);
  // The lesion spans slices 5..15 of 17: the walk finds its ends on empty masks instead of running to the edges.
  assert.equal(o!.stoppedEarly, true);
});
