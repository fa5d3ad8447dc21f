// The state dicts generated from the architecture configurations, against the spec's key lists and the demo
// weights, and the strict check that turns any difference into one CHECKPOINT_ARCH_MISMATCH.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { before, test } from 'node:test';
import { checkArchitecture, detectArchitecture, diffArchitecture, expectedStateDict, parameterCount } from '../../src/models/architecture-check.ts';
import { CheckpointError } from '../../src/models/checkpoint/errors.ts';
import { readSafetensors } from '../../src/models/checkpoint/safetensors.ts';
import type { CheckpointTensor } from '../../src/models/checkpoint/tensor.ts';
import type { NetworkName } from '../../src/models/network-contract.ts';

const SHARED = new URL('../../../shared/', import.meta.url);
const demo = new Map<NetworkName, Map<string, CheckpointTensor>>();

before(async () => {
  demo.set('litemedsam', readSafetensors(await readFile(new URL('reference/weights/litemedsam_demo.safetensors', SHARED))));
  demo.set('onesam', readSafetensors(await readFile(new URL('reference/weights/onesam_demo.safetensors', SHARED))));
});

for (const arch of ['litemedsam', 'onesam'] as const) {
  test(`${arch}: the generated state dict equals docs/state-dict-keys-${arch}.txt line for line`, async () => {
    const text = await readFile(new URL(`docs/state-dict-keys-${arch}.txt`, SHARED), 'utf8');
    const reference = text.trimEnd().split('\n');
    const generated = expectedStateDict(arch).map((t) => `${t.key} [${t.shape.join(', ')}]`);
    assert.equal(generated.length, reference.length);
    assert.deepEqual(generated, reference);
  });

  test(`${arch}: the demo weights have exactly the generated keys and shapes`, () => {
    const sd = demo.get(arch)!;
    const expected = new Map(expectedStateDict(arch).map((t) => [t.key, t.shape]));
    assert.deepEqual([...sd.keys()].sort(), [...expected.keys()].sort());
    for (const [key, t] of sd) assert.deepEqual(t.shape, expected.get(key), key);
    checkArchitecture(sd, arch);
    assert.equal(detectArchitecture(sd), arch);
  });
}

test('parameter counts match the spec (buffers excluded)', () => {
  assert.equal(parameterCount('litemedsam'), 9_791_300);
  assert.equal(parameterCount('onesam'), 20_218_308);
  assert.equal(expectedStateDict('litemedsam').length, 435);
  assert.equal(expectedStateDict('onesam').length, 520);
});

function archError(fn: () => void): CheckpointError {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof CheckpointError);
    assert.equal(e.code, 'CHECKPOINT_ARCH_MISMATCH');
    assert.ok(!e.message.includes('\n'));
    return e;
  }
  assert.fail('expected CHECKPOINT_ARCH_MISMATCH');
}

test('the OneSAM checkpoint checked as LiteMedSAM lists the 85 unexpected adapter/HQ keys', () => {
  const sd = demo.get('onesam')!;
  const diff = diffArchitecture(sd, 'litemedsam');
  assert.equal(diff.unexpected.length, 85);
  assert.equal(diff.missing.length, 0);
  assert.ok(diff.unexpected.every((k) => k.includes('.Adapter.') || /mask_decoder\.(hf_|compress_vit_feat|embedding_encoder|embedding_maskfeature)/.test(k)));
  const e = archError(() => checkArchitecture(sd, 'litemedsam', 'medsam_lite_adapter_hq.pth'));
  assert.match(e.message, /^medsam_lite_adapter_hq\.pth does not match the litemedsam architecture \(435 tensors expected, 520 found\)/);
  assert.match(e.message, /85 unexpected keys: image_encoder\.layers\.1\.blocks\.0\.Adapter\.channel\.0\.weight, /);
  assert.match(e.message, /\.\.\. \(77 more\)/);
  assert.doesNotMatch(e.message, /missing keys/);
  assert.match(e.message, /it matches the onesam architecture instead$/);
});

test('the LiteMedSAM checkpoint checked as OneSAM lists the 85 missing keys', () => {
  const e = archError(() => checkArchitecture(demo.get('litemedsam')!, 'onesam', 'lite_medsam.pth'));
  assert.match(e.message, /\(520 tensors expected, 435 found\): 85 missing keys: image_encoder\.layers\.1\.blocks\.0\.Adapter\.norm\.weight/);
  assert.doesNotMatch(e.message, /unexpected keys/);
  assert.match(e.message, /it matches the litemedsam architecture instead$/);
});

test('shape and dtype mismatches are listed with both shapes; the list is capped', () => {
  const sd = new Map(demo.get('litemedsam')!);
  const qkv = 'image_encoder.layers.1.blocks.0.attn.qkv.weight';
  sd.set(qkv, { ...sd.get(qkv)!, shape: [128, 384] });
  const nbt = 'image_encoder.patch_embed.seq.0.bn.num_batches_tracked';
  sd.set(nbt, { dtype: 'F32', shape: [], data: Float32Array.of(0) });
  sd.delete('prompt_encoder.no_mask_embed.weight');
  sd.set('extra.weight', { dtype: 'F32', shape: [1], data: Float32Array.of(0) });
  const e = archError(() => checkArchitecture(sd, 'litemedsam'));
  assert.match(e.message, /1 missing keys: prompt_encoder\.no_mask_embed\.weight; 1 unexpected keys: extra\.weight; /);
  assert.match(e.message, /1 shape mismatches: image_encoder\.layers\.1\.blocks\.0\.attn\.qkv\.weight \[128,384\] expected \[384,128\]/);
  assert.match(e.message, /1 dtype mismatches: image_encoder\.patch_embed\.seq\.0\.bn\.num_batches_tracked F32 expected integer/);
  assert.equal(detectArchitecture(sd), null);

  // A wholly different network: hundreds of differences, but the message stays short.
  const other = new Map([...demo.get('litemedsam')!].map(([k, t]) => [`net.${k}`, t]));
  const big = archError(() => checkArchitecture(other, 'onesam'));
  assert.match(big.message, /520 missing keys: .* \(512 more\); 435 unexpected keys: .* \(427 more\)$/);
  assert.ok(big.message.length < 2500, `message is ${big.message.length} characters`);
});
