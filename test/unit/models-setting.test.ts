// The `models` setting (issue 8): network -> repository model, from file, environment or flag, checked against the
// repository at load with the field named; a single served network takes every modality.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ConfigError, DEFAULTS, loadConfig } from '../../src/config/index.ts';
import { CodedError } from '../../src/errors/coded-error.ts';
import { planRequest } from '../../src/pipeline/plan.ts';
import { MODALITIES } from '../../src/pipeline/router.ts';
import { checkServed, DEFAULT_MODELS, fallbackNetwork, servedNetworks, servingRoutingTable } from '../../src/pipeline/serving.ts';
import type { SegmentationRequest } from '../../src/pipeline/types.ts';

/** A repository of manifests only: the setting is checked against manifests, the weights are read at load. */
const repo = mkdtempSync(join(tmpdir(), 'onesam-models-setting-'));
function model(folder: string, manifest: Record<string, unknown> | string): void {
  mkdirSync(join(repo, folder), { recursive: true });
  writeFileSync(join(repo, folder, 'manifest.json'), typeof manifest === 'string' ? manifest : JSON.stringify(manifest));
}
const manifest = (name: string, architecture: string) => ({
  name, architecture, weights: 'weights.safetensors', modalities: ['CT'], precision: 'fp32', description: 'test model',
});
model('lm', manifest('lm', 'litemedsam'));
model('one', manifest('one', 'onesam'));
model('renamed-folder', manifest('official-lite', 'litemedsam'));
model('broken', '{"name": "broken", "architecture": "litemedsam"');

function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected ConfigError, got ${String(err)}`);
    return err;
  }
  assert.fail('expected a ConfigError');
}

const env = (models: string, extra: Record<string, string> = {}) => ({ ONESAM_MODELS_DIR: repo, ONESAM_MODELS: models, ...extra });

test('default: both embedded demo models, not checked against any repository', () => {
  const { config } = loadConfig({ env: { ONESAM_MODELS_DIR: '/nonexistent/models' } });
  assert.deepEqual(config.models, { litemedsam: 'litemedsam-demo', onesam: 'onesam-demo' });
  assert.deepEqual(DEFAULTS.models, DEFAULT_MODELS);
});

test('ONESAM_MODELS holds JSON, the flag takes network=model pairs, the file an object; names are manifest names', () => {
  assert.deepEqual(loadConfig({ env: env('{"litemedsam":"lm","onesam":"one"}') }).config.models, { litemedsam: 'lm', onesam: 'one' });
  const flagged = loadConfig({ env: { ONESAM_MODELS_DIR: repo }, flags: { 'network-models': 'litemedsam=official-lite,onesam=one' } });
  assert.deepEqual(flagged.config.models, { litemedsam: 'official-lite', onesam: 'one' });
  const file = join(repo, 'config.json');
  writeFileSync(file, JSON.stringify({ modelsDir: '.', models: { onesam: 'one' } }));
  const fromFile = loadConfig({ env: {}, configFile: file }).config;
  assert.equal(fromFile.modelsDir, repo);
  assert.deepEqual(fromFile.models, { onesam: 'one' });
  // The flag wins over the environment, as for every setting.
  assert.deepEqual(loadConfig({ env: env('{"litemedsam":"lm","onesam":"one"}'), flags: { 'network-models': 'onesam=one' } }).config.models, { onesam: 'one' });
});

test('an unknown network, a missing model, a wrong architecture and a broken manifest each name the field', () => {
  let e = configError(() => loadConfig({ env: env('{"medsam":"lm"}') }));
  assert.equal(e.field, 'models.medsam');
  assert.match(e.message, /^config\.models\.medsam \(ONESAM_MODELS\): unknown network \(known: litemedsam, onesam\)/);

  e = configError(() => loadConfig({ env: env('{"litemedsam":"nope","onesam":"one"}') }));
  assert.equal(e.field, 'models.litemedsam');
  assert.match(e.message, /no model named nope in .* \(models: broken, lm, official-lite, one\)/);

  e = configError(() => loadConfig({ env: env('{"litemedsam":"one"}') }));
  assert.equal(e.field, 'models.litemedsam');
  assert.match(e.message, /model one is a onesam network, not litemedsam/);

  e = configError(() => loadConfig({ env: { ONESAM_MODELS_DIR: repo }, flags: { 'network-models': 'onesam=lm' } }));
  assert.equal(e.field, 'models.onesam');
  assert.equal(e.source, '--network-models');

  e = configError(() => loadConfig({ env: env('{"litemedsam":"broken"}') }));
  assert.equal(e.field, 'models.litemedsam');
  assert.match(e.message, /model broken cannot be used: .*not valid JSON/);

  // The folder name is not the model name: the repository looks models up by their manifest's name.
  e = configError(() => loadConfig({ env: env('{"litemedsam":"renamed-folder"}') }));
  assert.equal(e.field, 'models.litemedsam');
});

test('malformed values: not an object, an empty object, a non-string name, bad flag pairs, an unreadable repository', () => {
  assert.equal(configError(() => loadConfig({ env: env('["lm"]') })).field, 'models');
  assert.equal(configError(() => loadConfig({ env: env('{') })).field, 'models');
  assert.match(configError(() => loadConfig({ env: env('{}') })).message, /must name at least one network/);
  assert.equal(configError(() => loadConfig({ env: env('{"onesam":7}') })).field, 'models.onesam');
  assert.equal(configError(() => loadConfig({ env: env('{"onesam":""}') })).field, 'models.onesam');
  assert.equal(configError(() => loadConfig({ env: {}, flags: { 'network-models': 'onesam' } })).field, 'models');
  assert.equal(configError(() => loadConfig({ env: {}, flags: { 'network-models': 'onesam=a,onesam=b' } })).field, 'models.onesam');
  const e = configError(() => loadConfig({ env: { ONESAM_MODELS_DIR: join(repo, 'missing'), ONESAM_MODELS: '{"onesam":"one"}' } }));
  assert.equal(e.field, 'modelsDir');
});

test('one network served: every modality and the fallback go to it; a routing override naming the other is refused', () => {
  const onlyOne = servingRoutingTable({}, ['onesam']);
  for (const modality of MODALITIES) assert.equal(onlyOne[modality], 'onesam', modality);
  assert.equal(fallbackNetwork(['onesam']), 'onesam');
  assert.equal(fallbackNetwork(['litemedsam', 'onesam']), 'litemedsam');
  assert.deepEqual(servedNetworks({ onesam: 'one' }), ['onesam']);
  assert.deepEqual(servedNetworks(DEFAULT_MODELS), ['litemedsam', 'onesam']);
  assert.throws(() => servingRoutingTable({ MR: 'litemedsam' }, ['onesam']), (e: unknown) => e instanceof CodedError && e.code === 'NETWORK_NOT_SERVED' && e.field === 'routing.MR');

  const e = configError(() => loadConfig({ env: env('{"onesam":"one"}', { ONESAM_ROUTING: '{"MR":"litemedsam"}' }) }));
  assert.equal(e.field, 'routing.MR');
  assert.match(e.message, /routes to litemedsam, which the models setting does not serve/);
  // Overrides naming the served network are fine.
  assert.deepEqual(loadConfig({ env: env('{"onesam":"one"}', { ONESAM_ROUTING: '{"MR":"onesam"}' }) }).config.routing, { MR: 'onesam' });
});

test('plans on a single-network server: ROUTE uses the served network, forcing the other is NETWORK_NOT_SERVED', () => {
  const image = { depth: 1, height: 8, width: 8, channels: 1 as const, data: new Uint8Array(64) };
  const request = (mode: SegmentationRequest['mode'], modality?: SegmentationRequest['modality']): SegmentationRequest => ({
    requestId: 'r', image, mode, objects: [{ label: 1, prompt: { kind: 'box2d', x0: 1, y0: 1, x1: 6, y1: 6 } }], ...(modality ? { modality } : {}),
  });
  const served = ['onesam'] as const;
  const table = servingRoutingTable({}, served);
  assert.deepEqual(planRequest(request('route', 'MR'), table, fallbackNetwork(served)).networks, ['onesam']);
  assert.deepEqual(planRequest(request('route'), table, fallbackNetwork(served)).networks, ['onesam']);
  for (const mode of ['litemedsam', 'fuse'] as const) {
    const plan = planRequest(request(mode), table, fallbackNetwork(served));
    assert.throws(() => checkServed(plan.networks, served), (e: unknown) => e instanceof CodedError && e.code === 'NETWORK_NOT_SERVED' && e.field === 'network');
  }
  assert.doesNotThrow(() => checkServed(['onesam'], served));
});
