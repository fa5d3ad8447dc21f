// loadCheckpoint / parseCheckpoint: format dispatch by content, and damaged files giving one CheckpointError
// with a code and a message that names the problem (never an error from inside fflate or the pickle VM).
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { unzipSync as unzipAll, zipSync } from 'fflate';
import { CheckpointError, type CheckpointErrorCode } from '../../src/models/checkpoint/errors.ts';
import { loadCheckpoint, parseCheckpoint, sniffCheckpointFormat } from '../../src/models/checkpoint/load.ts';
import { stateDictToPth, torchSave } from '../helpers/pickle-writer.ts';

const DEMO = new URL('../../../shared/reference/weights/litemedsam_demo.safetensors', import.meta.url);
let safetensors: Uint8Array;
let dir: string;
const small = new Map([
  ['a.weight', { dtype: 'F32' as const, shape: [2, 3], data: Float32Array.from([1, 2, 3, 4, 5, 6]) }],
  ['a.bias', { dtype: 'F16' as const, shape: [2], data: Float32Array.from([0.5, -1]) }],
  ['bn.num_batches_tracked', { dtype: 'I64' as const, shape: [], data: Float64Array.from([3]) }],
]);

before(async () => {
  safetensors = await readFile(DEMO);
  dir = await mkdtemp(join(tmpdir(), 'onesam-load-'));
});
after(async () => { await rm(dir, { recursive: true, force: true }); });

function rejects(code: CheckpointErrorCode, message: RegExp) {
  return (e: unknown) => {
    assert.ok(e instanceof CheckpointError, `expected a CheckpointError, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    assert.match(e.message, message);
    assert.ok(!e.message.includes('\n'), 'one-line message');
    return true;
  };
}

test('the format is chosen by content, not by file name', async () => {
  assert.equal(sniffCheckpointFormat(safetensors, 'x'), 'safetensors');
  const pth = stateDictToPth(small);
  assert.equal(sniffCheckpointFormat(pth, 'x'), 'pytorch-zip');
  const misnamed = join(dir, 'really-a-zip.safetensors');
  await writeFile(misnamed, pth);
  const sd = await loadCheckpoint(misnamed);
  assert.deepEqual([...sd.keys()], [...small.keys()]);
  assert.deepEqual([...sd.get('a.bias')!.data], [0.5, -1]);
});

test('a safetensors file loads to the 435 LiteMedSAM tensors', async () => {
  const sd = await loadCheckpoint(DEMO.pathname);
  assert.equal(sd.size, 435);
});

test('DataParallel `module.` prefixes are removed', () => {
  const prefixed = new Map([...small].map(([k, t]) => [`module.${k}`, t]));
  assert.deepEqual([...parseCheckpoint(stateDictToPth(prefixed)).keys()], [...small.keys()]);
});

test('truncated checkpoints are CHECKPOINT_TRUNCATED', () => {
  assert.throws(() => parseCheckpoint(new Uint8Array(0), 'empty.pth'), rejects('CHECKPOINT_TRUNCATED', /empty\.pth: file is empty/));
  assert.throws(() => parseCheckpoint(safetensors.subarray(0, 5), 'st'), rejects('CHECKPOINT_TRUNCATED', /too short/));
  assert.throws(() => parseCheckpoint(safetensors.subarray(0, 200), 'head.safetensors'),
    rejects('CHECKPOINT_TRUNCATED', /head\.safetensors: header length \d+ exceeds the file/));
  assert.throws(() => parseCheckpoint(safetensors.subarray(0, safetensors.byteLength / 2), 'half.safetensors'),
    rejects('CHECKPOINT_TRUNCATED', /half\.safetensors: tensor \S+ ends at byte \d+ .*truncated/));
  const pth = stateDictToPth(small);
  for (const cut of [10, pth.byteLength / 2, pth.byteLength - 30]) {
    assert.throws(() => parseCheckpoint(pth.subarray(0, Math.floor(cut)), 'cut.pth'),
      rejects('CHECKPOINT_TRUNCATED', /cut\.pth: zip archive has no end-of-central-directory record: the file is truncated/));
  }
});

test('a storage shorter than its tensor needs is reported with both sizes', () => {
  const zip = torchSave({ dict: [['w', { tensor: { storage: '0', offset: 0, size: [4], stride: [1] } }]] },
    new Map([['0', { dtype: 'F32', data: [1, 2, 3, 4] }]]));
  const files = unzipAll(zip);
  files['archive/data/0'] = files['archive/data/0']!.subarray(0, 10);
  assert.throws(() => parseCheckpoint(zipSync(files), 's.pth'),
    rejects('CHECKPOINT_TRUNCATED', /s\.pth: storage data\/0 of tensor w has 10 bytes, expected 16 \(4 x F32\)/));
  delete files['archive/data/0'];
  assert.throws(() => parseCheckpoint(zipSync(files), 's.pth'), rejects('CHECKPOINT_CORRUPT', /storage data\/0 of tensor w is missing/));
});

test('corrupt checkpoints are CHECKPOINT_CORRUPT', () => {
  const header = Buffer.from(safetensors);
  header[20] = 0x00; // inside the JSON header
  assert.throws(() => parseCheckpoint(header, 'bad.safetensors'), rejects('CHECKPOINT_CORRUPT', /bad\.safetensors: header is not valid JSON/));

  const files = unzipAll(stateDictToPth(small));
  const pkl = files['archive/data.pkl']!;
  files['archive/data.pkl'] = pkl.subarray(0, pkl.byteLength - 20);
  assert.throws(() => parseCheckpoint(zipSync(files), 'p.pth'), rejects('CHECKPOINT_CORRUPT', /p\.pth: data\.pkl cannot be read: pickle ends after \d+ bytes/));
  files['archive/data.pkl'] = Uint8Array.from([0x80, 0x02, 0xfe, 0x2e]);
  assert.throws(() => parseCheckpoint(zipSync(files), 'p.pth'), rejects('CHECKPOINT_CORRUPT', /unsupported pickle opcode 0xfe \(at byte 2\)/));

  const odd = torchSave({ dict: [['w', { tensor: { storage: '0', offset: 0, size: [1], stride: [1] } }]] },
    new Map([['0', { dtype: 'F32', data: [1] }]]));
  const text = Buffer.from(odd);
  const at = text.indexOf('FloatStorage');
  text.write('FloatStoragX', at, 'latin1');
  assert.throws(() => parseCheckpoint(text, 'st.pth'), rejects('CHECKPOINT_CORRUPT', /storage type torch\.FloatStoragX is not supported/));
});

test('files of other formats are CHECKPOINT_FORMAT', () => {
  assert.throws(() => parseCheckpoint(new TextEncoder().encode('hello, this is not a checkpoint'), 'x.bin'),
    rejects('CHECKPOINT_FORMAT', /x\.bin: not a safetensors file or a PyTorch zip checkpoint \(first bytes 68 65 6c/));
  // Legacy torch.save: a bare pickle stream starting with the magic number.
  assert.throws(() => parseCheckpoint(Uint8Array.from([0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20]), 'old.pth'),
    rejects('CHECKPOINT_FORMAT', /legacy \(non-zip\) PyTorch serialization/));
  assert.throws(() => parseCheckpoint(zipSync({ 'a/readme.txt': new Uint8Array(3) }), 'z.zip'),
    rejects('CHECKPOINT_FORMAT', /z\.zip: zip archive has no data\.pkl: not a PyTorch checkpoint/));
  // torch.save(model) or of a non-dict: no state dict inside.
  assert.throws(() => parseCheckpoint(torchSave([1, 2, 3], new Map()), 'list.pth'),
    rejects('CHECKPOINT_FORMAT', /list\.pth: the pickled object is a tuple\/list, not a state dict/));
  assert.throws(() => parseCheckpoint(torchSave({ dict: [['epoch', 3], ['loss', { float: 0.5 }]] }, new Map()), 'meta.pth'),
    rejects('CHECKPOINT_FORMAT', /meta\.pth: no state dict found: the pickled dict has keys \[epoch, loss\]/));
  const mixed = torchSave({ dict: [['w', { tensor: { storage: '0', offset: 0, size: [1], stride: [1] } }], ['note', 'hi']] },
    new Map([['0', { dtype: 'F32', data: [1] }]]));
  assert.throws(() => parseCheckpoint(mixed, 'mixed.pth'), rejects('CHECKPOINT_FORMAT', /state dict entry note is a string, not a tensor/));
});

test('an unreadable path is CHECKPOINT_UNREADABLE', async () => {
  await assert.rejects(loadCheckpoint(join(dir, 'nope.pth')), rejects('CHECKPOINT_UNREADABLE', /nope\.pth: cannot read checkpoint: no such file/));
  await assert.rejects(loadCheckpoint(dir), rejects('CHECKPOINT_UNREADABLE', /is a directory/));
});

test('random damage to a .pth only ever produces a CheckpointError or the right tensors', () => {
  const pth = stateDictToPth(small);
  let seed = 12345;
  const rand = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
  let failures = 0;
  for (let trial = 0; trial < 400; trial++) {
    const bytes = Uint8Array.from(pth);
    const flips = 1 + Math.floor(rand() * 4);
    for (let f = 0; f < flips; f++) bytes[Math.floor(rand() * bytes.length)] = Math.floor(rand() * 256);
    try {
      const sd = parseCheckpoint(bytes, 'fuzz.pth');
      assert.ok(sd.size > 0);
    } catch (e) {
      if (!(e instanceof CheckpointError)) assert.fail(`trial ${trial}: ${(e as Error).name}: ${(e as Error).message}`);
      failures++;
    }
  }
  assert.ok(failures > 0, 'some damage must be detected');
});
