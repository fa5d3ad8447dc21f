// The faithful pipeline against the reference pipelines' outputs on the public challenge cases: every object of
// every case with LiteMedSAM (2D and 3D, bowang-lab inference script), and the 2D cases the released OneSAM script
// sends to the OneSAM network.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { challengeCase } from '../../src/volume/challenge.ts';
import { createSegmenter, type PipelineSegmenter } from '../../src/pipeline/index.ts';
import { modalityFromFileName } from '../../src/pipeline/router.ts';
import type { EnsembleMode, SegmentationRequest } from '../../src/pipeline/types.ts';
import { caseNames, dice, loadArrays } from '../helpers/cases.ts';
import { defaultPipelineConfig } from '../helpers/pipeline-config.ts';

let segmenter: PipelineSegmenter;
before(async () => { segmenter = await createSegmenter(defaultPipelineConfig()); });
after(async () => { await segmenter.close(); });

function request(name: string, mode: EnsembleMode): { req: SegmentationRequest; boxes: number } {
  const kase = challengeCase(loadArrays('imgs', name), name);
  const modality = modalityFromFileName(name);
  return { req: { requestId: name, image: kase.image, objects: kase.objects, mode, ...(modality ? { modality } : {}) }, boxes: kase.objects.length };
}

async function expectMatch(name: string, mode: EnsembleMode, referenceFolder: 'segs_litemedsam' | 'segs_onesam_upstream'): Promise<void> {
  const { req, boxes } = request(name, mode);
  const result = await segmenter.segment(req);
  const reference = loadArrays(referenceFolder, name).get('segs')!;
  assert.equal(result.labels.length, reference.data.length, 'label volume size');
  for (let label = 1; label <= boxes; label++) {
    const { dsc, differing } = dice(result.labels, reference.data as Uint8Array, label);
    assert.ok(dsc >= 0.99, `${name} object ${label}: DSC ${dsc.toFixed(4)} (${differing} voxels differ)`);
  }
  for (const o of result.objects) assert.deepEqual(o.networks, [mode]);
}

for (const name of caseNames()) {
  test(`litemedsam matches the reference LiteMedSAM pipeline: ${name}`, () => expectMatch(name, 'litemedsam', 'segs_litemedsam'));
}

for (const name of caseNames().filter((n) => /Endo|Dermo|Micro|XRay/.test(n))) {
  test(`onesam matches the released OneSAM pipeline: ${name}`, () => expectMatch(name, 'onesam', 'segs_onesam_upstream'));
}

test('route mode plans each public case on the network the routing table names', () => {
  const expected: Record<string, string> = { CT: 'onesam', PET: 'onesam', XRay: 'onesam', Dermoscopy: 'onesam', Microscopy: 'onesam', MR: 'litemedsam', US: 'litemedsam', Endoscopy: 'litemedsam', Fundus: 'litemedsam' };
  for (const name of caseNames()) {
    const { req } = request(name, 'route');
    const plan = segmenter.plan(req);
    assert.ok(req.modality, `${name}: modality parsed from the file name`);
    for (const o of plan.objects) assert.deepEqual(o.networks, [expected[req.modality!]], name);
  }
});
