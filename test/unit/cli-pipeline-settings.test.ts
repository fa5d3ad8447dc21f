// The settings `onesam segment` and `onesam bench` run the pipeline with, from the same sources as `onesam serve`:
// an int8 entry of the models setting must reach the pipeline (it once was dropped, and the command line ran fp32).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { pipelineSettings } from '../../src/cli/segment.ts';

const CASES = fileURLToPath(new URL('../../../shared/reference/cases/public/imgs', import.meta.url));

test('pipelineSettings: a network given with "precision": "int8" is built int8, the others fp32', () => {
  const env = { ONESAM_MODELS: JSON.stringify({ litemedsam: 'litemedsam-demo', onesam: { model: 'onesam-demo', precision: 'int8', calibration: CASES } }) };
  const settings = pipelineSettings(env, {});
  assert.deepEqual(settings.models, { litemedsam: 'litemedsam-demo', onesam: 'onesam-demo' });
  assert.equal(settings.precisions?.onesam?.precision, 'int8');
  assert.equal(settings.precisions?.onesam?.calibrationMethod, 'percentile');
  assert.equal(settings.precisions?.litemedsam, undefined);
});

test('pipelineSettings: bare names are fp32 (no precisions at all)', () => {
  const settings = pipelineSettings({ ONESAM_MODELS: '{"onesam":"onesam-demo"}' }, {});
  assert.equal(settings.precisions, undefined);
});
