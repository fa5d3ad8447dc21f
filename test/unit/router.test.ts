import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CodedError } from '../../src/errors/coded-error.ts';
import { DEFAULT_ROUTING, makeRoutingTable, modalityFromFileName, networksFor, parseModality } from '../../src/pipeline/router.ts';

test('default routing follows the paper\'s Table 3', () => {
  for (const m of ['CT', 'PET', 'XRay', 'Dermoscopy', 'Microscopy'] as const) assert.equal(DEFAULT_ROUTING[m], 'onesam', m);
  for (const m of ['MR', 'US', 'Endoscopy', 'Fundus'] as const) assert.equal(DEFAULT_ROUTING[m], 'litemedsam', m);
  assert.ok(Object.isFrozen(DEFAULT_ROUTING));
});

test('modality names from challenge files, including the spellings the released code missed', () => {
  const cases: [string, string | undefined][] = [
    ['2DBox_US_0004.npz', 'US'], ['3DBox_CT_0001.npz', 'CT'], ['2DBox_X-Ray_0053.npz', 'XRay'], ['2DBox_XRay_0010.npz', 'XRay'],
    ['2DBox_Microscope_0008.npz', 'Microscopy'], ['2DBox_Microscopy_0001.npz', 'Microscopy'], ['2DBox_Dermoscopy_0003.npz', 'Dermoscopy'],
    ['2DBox_Endoscopy_0086.npz', 'Endoscopy'], ['2DBox_Fundus_0003.npz', 'Fundus'], ['3DBox_PET_0001.npz', 'PET'],
    ['3DBox_MR_0621.npz', 'MR'], ['2DBox_MR_0133.npz', 'MR'], ['2DBox_CXR_0001.npz', 'XRay'], ['2DBox_OCT_0001.npz', 'OCT'],
    ['2DBox_Mammography_0001.npz', 'Mammography'], ['/data/PET_runs/2DBox_US_0004.npz', 'US'], ['2DBox_Banana_0001.npz', undefined],
  ];
  for (const [name, expected] of cases) assert.equal(modalityFromFileName(name), expected, name);
});

test('parseModality is case- and separator-insensitive', () => {
  assert.equal(parseModality('x-ray'), 'XRay');
  assert.equal(parseModality('Ultrasound'), 'US');
  assert.equal(parseModality('mri'), 'MR');
  assert.equal(parseModality(''), undefined);
});

test('networksFor honours the ensemble mode', () => {
  assert.deepEqual(networksFor('route', 'CT', DEFAULT_ROUTING), ['onesam']);
  assert.deepEqual(networksFor('route', 'MR', DEFAULT_ROUTING), ['litemedsam']);
  assert.deepEqual(networksFor('route', undefined, DEFAULT_ROUTING), ['litemedsam']);
  assert.deepEqual(networksFor('onesam', 'MR', DEFAULT_ROUTING), ['onesam']);
  assert.deepEqual(networksFor('fuse', 'MR', DEFAULT_ROUTING), ['litemedsam', 'onesam']);
});

test('routing overrides are validated and frozen', () => {
  const t = makeRoutingTable({ Endoscopy: 'onesam' });
  assert.equal(t.Endoscopy, 'onesam');
  assert.equal(t.CT, 'onesam');
  assert.ok(Object.isFrozen(t));
  assert.throws(() => makeRoutingTable({ Banana: 'onesam' }), (e: unknown) => e instanceof CodedError && e.field === 'routing.Banana');
  assert.throws(() => makeRoutingTable({ CT: 'medsam' }), /network must be/);
});
