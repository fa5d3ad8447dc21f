// The safetensors writer `onesam import` stores weights with: exact half conversion and a round trip through
// the reader.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { float32ToHalfBits, writeSafetensors } from '../../src/models/checkpoint/safetensors-writer.ts';
import { readSafetensors } from '../../src/models/checkpoint/safetensors.ts';
import { halfToFloat32 } from '../../src/models/checkpoint/tensor.ts';

test('every finite half value converts back to the same bits', () => {
  const all = new Uint16Array(65536).map((_, i) => i);
  const floats = halfToFloat32(all);
  for (let h = 0; h < 65536; h++) {
    const exp = (h >> 10) & 0x1f;
    if (exp === 31 && (h & 0x3ff) !== 0) continue; // NaN payloads
    assert.equal(float32ToHalfBits(floats[h]!), h, `half 0x${h.toString(16)}`);
  }
});

test('float32 -> half rounds to nearest even, overflows to infinity and underflows to zero', () => {
  const cases: [number, number][] = [
    [1 + 2 ** -11, 0x3c00], // halfway between 1 and the next half: ties to even (1)
    [1 + 3 * 2 ** -11, 0x3c02], // halfway, odd below: rounds up
    [1 + 2 ** -11 + 2 ** -20, 0x3c01], // just above halfway
    [65520, 0x7c00], // rounds past the largest half (65504)
    [65519, 0x7bff],
    [2 ** -25, 0x0000], // half of the smallest subnormal: ties to even (0)
    [1.5 * 2 ** -25, 0x0001],
    [-(2 ** -24), 0x8001],
    [2 ** -14 - 2 ** -25, 0x0400], // the largest subnormal rounds up into the smallest normal
    [Number.NaN, 0x7e00],
    [-Infinity, 0xfc00],
  ];
  for (const [value, bits] of cases) assert.equal(float32ToHalfBits(value), bits, String(value));
});

test('tensors written as F16, F32, BF16 and I64 read back equal', () => {
  const file = writeSafetensors([
    ['h', { dtype: 'F16', shape: [2, 2], data: [0.5, -2, 1024, 0.099975586] }],
    ['f', { dtype: 'F32', shape: [3], data: Float32Array.of(1.1, -0, 3e38) }],
    ['b', { dtype: 'BF16', shape: [2], data: [1.5, -256] }],
    ['n', { dtype: 'I64', shape: [], data: [123456789012] }],
  ]);
  assert.equal(new DataView(file.buffer).getUint32(0, true) % 8, 0, 'header padded to 8 bytes');
  const sd = readSafetensors(file);
  assert.deepEqual([...sd.keys()], ['h', 'f', 'b', 'n']);
  assert.deepEqual([...sd.get('h')!.data], [0.5, -2, 1024, 0.099975586].map(Math.fround));
  assert.deepEqual(sd.get('f')!.data, Float32Array.of(1.1, -0, 3e38));
  assert.deepEqual([...sd.get('b')!.data], [1.5, -256]);
  assert.deepEqual({ ...sd.get('n')!, data: [...sd.get('n')!.data] }, { dtype: 'I64', shape: [], data: [123456789012] });
  assert.throws(() => writeSafetensors([['x', { dtype: 'F32', shape: [3], data: [1] }]]), /1 values for shape \[3\]/);
});
