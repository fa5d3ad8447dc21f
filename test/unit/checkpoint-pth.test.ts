// The .pth reader against torch-layout zips written by test/helpers/pickle-writer.ts from the demo weights.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { CheckpointError } from '../../src/models/checkpoint/errors.ts';
import { loadCheckpoint } from '../../src/models/checkpoint/load.ts';
import { OpaqueObject, PickleError, unpickle } from '../../src/models/checkpoint/pickle.ts';
import { readPth } from '../../src/models/checkpoint/pth.ts';
import { readSafetensors } from '../../src/models/checkpoint/safetensors.ts';
import type { CheckpointTensor, StateDict } from '../../src/models/checkpoint/tensor.ts';
import { stateDictToPth, torchSave, type Storage } from '../helpers/pickle-writer.ts';

const WEIGHTS = new URL('../../../shared/reference/weights/', import.meta.url);
let lite: Map<string, CheckpointTensor>;
let onesam: Map<string, CheckpointTensor>;
let dir: string;

before(async () => {
  lite = readSafetensors(await readFile(new URL('litemedsam_demo.safetensors', WEIGHTS)), 'litemedsam_demo');
  onesam = readSafetensors(await readFile(new URL('onesam_demo.safetensors', WEIGHTS)), 'onesam_demo');
  dir = await mkdtemp(join(tmpdir(), 'onesam-pth-'));
});
after(async () => { await rm(dir, { recursive: true, force: true }); });

function assertSameTensors(actual: StateDict, expected: StateDict, dtypeOf: (t: CheckpointTensor) => string): void {
  assert.deepEqual([...actual.keys()], [...expected.keys()]);
  for (const [key, e] of expected) {
    const a = actual.get(key)!;
    assert.equal(a.dtype, dtypeOf(e), `${key} dtype`);
    assert.deepEqual(a.shape, e.shape, `${key} shape`);
    assert.equal(a.data.constructor, e.data.constructor, `${key} array type`);
    assert.equal(a.data.length, e.data.length, `${key} length`);
    for (let i = 0; i < e.data.length; i++) {
      if (!Object.is(a.data[i], e.data[i])) assert.fail(`${key}[${i}]: ${a.data[i]} != ${e.data[i]}`);
    }
  }
}

const isFloat = (t: CheckpointTensor) => t.data instanceof Float32Array;

test('the demo LiteMedSAM weights round-trip through a .pth with half storages', async () => {
  const path = join(dir, 'lite_f16.pth');
  await writeFile(path, stateDictToPth(lite, { floatStorage: 'F16' }));
  const sd = await loadCheckpoint(path);
  assertSameTensors(sd, lite, (t) => (isFloat(t) ? 'F16' : t.dtype));
  assert.equal(sd.get('image_encoder.patch_embed.seq.0.bn.num_batches_tracked')!.dtype, 'I64');
});

test('the demo LiteMedSAM weights round-trip through a .pth with float32 storages', async () => {
  const path = join(dir, 'lite_f32.pth');
  await writeFile(path, stateDictToPth(lite, { floatStorage: 'F32' }));
  assertSameTensors(await loadCheckpoint(path), lite, (t) => (isFloat(t) ? 'F32' : t.dtype));
});

test('a training checkpoint {"model": state_dict, "optimizer", "epoch", ...} yields the state dict', async () => {
  const path = join(dir, 'onesam_wrapped.pth');
  await writeFile(path, stateDictToPth(onesam, { floatStorage: 'F16', wrapper: 'model' }));
  const sd = await loadCheckpoint(path);
  assert.equal(sd.size, 520);
  assertSameTensors(sd, onesam, (t) => (isFloat(t) ? 'F16' : t.dtype));
});

test('a {"state_dict": ...} wrapper of nn.Parameters (_rebuild_parameter) in float32 yields the state dict', () => {
  const sd = readPth(stateDictToPth(lite, { floatStorage: 'F32', wrapper: 'state_dict', parameters: true }));
  assertSameTensors(sd, lite, (t) => (isFloat(t) ? 'F32' : t.dtype));
});

test('views share storages: offsets, non-contiguous strides and scalars are gathered correctly', () => {
  const base = Float32Array.from({ length: 24 }, (_, i) => i * 0.5 - 3);
  const storages = new Map<string, Storage>([
    ['0', { dtype: 'F32', data: base }],
    ['7', { dtype: 'I64', data: [12345678901] }],
    ['h', { dtype: 'F16', data: [0.5, -2, 1024, 0.25] }],
  ]);
  const view = (storage: string, offset: number, size: number[], stride: number[]) => ({ tensor: { storage, offset, size, stride } });
  const file = torchSave({
    ordered: true,
    dict: [
      ['w', view('0', 0, [2, 3, 4], [12, 4, 1])],
      ['wt', view('0', 0, [4, 6], [1, 4])],
      ['tail', view('0', 20, [4], [1])],
      ['col', view('0', 1, [3, 2], [4, 12])],
      ['count', view('7', 0, [], [])],
      ['half', { ...view('h', 1, [3], [1]), parameter: true }],
      ['empty', view('0', 0, [0, 5], [5, 1])],
    ],
  }, storages, 'my_model');
  const sd = readPth(file);
  assert.deepEqual([...sd.get('w')!.data], [...base]);
  const wt = sd.get('wt')!;
  assert.deepEqual(wt.shape, [4, 6]);
  // wt[i][j] = base[i + 4j]: the transpose of a (6,4) row-major matrix.
  for (let i = 0; i < 4; i++) for (let j = 0; j < 6; j++) assert.equal(wt.data[i * 6 + j], base[i + 4 * j]);
  assert.deepEqual([...sd.get('tail')!.data], [...base.subarray(20)]);
  // col[i][j] = base[1 + 4i + 12j]: a strided view that is neither contiguous nor a plain transpose.
  assert.deepEqual([...sd.get('col')!.data], [0, 1, 2].flatMap((i) => [0, 1].map((j) => base[1 + 4 * i + 12 * j]!)));
  assert.deepEqual(sd.get('count')!.shape, []);
  assert.deepEqual([...sd.get('count')!.data], [12345678901]);
  assert.equal(sd.get('half')!.dtype, 'F16');
  assert.deepEqual([...sd.get('half')!.data], [-2, 1024, 0.25]);
  assert.deepEqual(sd.get('empty')!.shape, [0, 5]);
  assert.equal(sd.get('empty')!.data.length, 0);
});

test('a view reaching past its storage is refused as corrupt', () => {
  const file = torchSave({ dict: [['w', { tensor: { storage: '0', offset: 2, size: [4], stride: [1] } }]] },
    new Map([['0', { dtype: 'F32', data: [1, 2, 3, 4] }]]));
  assert.throws(() => readPth(file), (e: unknown) => e instanceof CheckpointError && e.code === 'CHECKPOINT_CORRUPT' && /tensor w reaches element 5 of storage 0/.test(e.message));
});

// --- the pickle VM itself, on hand-assembled programs ---

const PROTO2 = [0x80, 0x02];
const noGlobals = { resolveGlobal: () => undefined, persistentLoad: () => { throw new PickleError('no persistent ids'); } };

test('LONG1 decodes as signed two\'s complement; BINFLOAT is big-endian', () => {
  const prog = Uint8Array.from([...PROTO2, 0x28, 0x8a, 0x01, 0xff, 0x8a, 0x02, 0x00, 0x80, 0x8a, 0x03, 0x00, 0x80, 0x00,
    0x8a, 0x00, 0x8a, 0x09, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0x47, 0x3f, 0xf8, 0, 0, 0, 0, 0, 0, 0x74, 0x2e]);
  assert.deepEqual(unpickle(prog, noGlobals), [-1, -32768, 32768, 0, 1n << 64n, 1.5]);
});

test('unknown globals stay inert OpaqueObjects and keep their BUILD state', () => {
  // c argparse\nNamespace\n ) R } X 'lr' K 3 s b .
  const enc = (s: string) => [...new TextEncoder().encode(s)];
  const prog = Uint8Array.from([...PROTO2, 0x63, ...enc('argparse\nNamespace\n'), 0x29, 0x52, 0x7d,
    0x58, 2, 0, 0, 0, ...enc('lr'), 0x4b, 3, 0x73, 0x62, 0x2e]);
  const v = unpickle(prog, noGlobals);
  assert.ok(v instanceof OpaqueObject);
  assert.equal(v.global.module, 'argparse');
  assert.deepEqual(v.state, new Map([['lr', 3]]));
});

test('malformed programs fail with a PickleError naming the problem and its byte offset', () => {
  const cases: [number[], RegExp][] = [
    [[...PROTO2, 0x68, 0x05, 0x2e], /memo entry 5 was never stored \(at byte 2\)/],
    [[...PROTO2, 0xff], /unsupported pickle opcode 0xff/],
    [[...PROTO2, 0x4e], /pickle ends after 3 bytes/],
    [[...PROTO2, 0x58, 0xff, 0, 0, 0, 0x41], /pickle ends after 8 bytes while 255 more were expected/],
    [[...PROTO2, 0x74, 0x2e], /no MARK/],
    [[...PROTO2, 0x52], /stack underflow/],
    [[...PROTO2, 0x4e, 0x4e, 0x2e], /values left on the stack/],
    [[0x80, 0x09], /unsupported pickle protocol 9/],
  ];
  for (const [bytes, message] of cases) {
    assert.throws(() => unpickle(Uint8Array.from(bytes), noGlobals), (e: unknown) => e instanceof PickleError && message.test(e.message), String(message));
  }
});
