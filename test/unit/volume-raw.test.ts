// Raw voxel payloads: declared shape and dtype, little-endian bytes, layouts shared with npz.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CodedError } from '../../src/errors/coded-error.ts';
import { arrayLayout, labelBytesLittleEndian, readRawVoxels, validateSpacing } from '../../src/volume/raw.ts';

function assertVolumeError(fn: () => unknown, code: string, field: string, text?: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof CodedError, String(err));
    assert.equal(err.code, code);
    assert.equal(err.field, field);
    if (text) assert.match(err.message, text);
    return true;
  });
}

function littleEndian(values: number[], set: (v: DataView, o: number, x: number) => void, width: number, offset = 0): Uint8Array {
  const buffer = new Uint8Array(offset + values.length * width);
  const view = new DataView(buffer.buffer);
  values.forEach((x, i) => set(view, offset + i * width, x));
  return buffer.subarray(offset);
}

describe('arrayLayout', () => {
  it('reads (H, W), (H, W, 3) and (D, H, W)', () => {
    assert.deepEqual(arrayLayout([4, 5], 's'), { depth: 1, height: 4, width: 5, channels: 1, labelShape: [4, 5] });
    assert.deepEqual(arrayLayout([4, 5, 3], 's'), { depth: 1, height: 4, width: 5, channels: 3, labelShape: [4, 5] });
    assert.deepEqual(arrayLayout([2, 4, 5], 's'), { depth: 2, height: 4, width: 5, channels: 1, labelShape: [2, 4, 5] });
  });

  it('rejects other ranks and non-positive or fractional sizes, naming the axis', () => {
    assertVolumeError(() => arrayLayout([5], 'header.raw.shape'), 'PAYLOAD_FORMAT', 'header.raw.shape');
    assertVolumeError(() => arrayLayout([1, 2, 3, 4], 'header.raw.shape'), 'PAYLOAD_FORMAT', 'header.raw.shape');
    assertVolumeError(() => arrayLayout([4, 0, 5], 'header.raw.shape'), 'PAYLOAD_FORMAT', 'header.raw.shape[1]');
    assertVolumeError(() => arrayLayout([4, 2.5], 'header.raw.shape'), 'PAYLOAD_FORMAT', 'header.raw.shape[1]');
    assertVolumeError(() => arrayLayout([1e9, 4], 'header.raw.shape'), 'PAYLOAD_FORMAT', 'header.raw.shape[0]');
  });
});

describe('readRawVoxels', () => {
  it('decodes each dtype little-endian, also from an unaligned offset', () => {
    const i16 = littleEndian([-1024, 0, 3071, -1, 5, 6], (v, o, x) => v.setInt16(o, x, true), 2, 1);
    assert.equal(i16.byteOffset % 2, 1);
    const a = readRawVoxels({ shape: [2, 3], dtype: 'int16' }, i16);
    assert.ok(a.voxels instanceof Int16Array);
    assert.deepEqual(Array.from(a.voxels), [-1024, 0, 3071, -1, 5, 6]);

    const u16 = littleEndian([0, 65535, 256, 1], (v, o, x) => v.setUint16(o, x, true), 2);
    assert.deepEqual(Array.from(readRawVoxels({ shape: [1, 2, 2], dtype: 'uint16' }, u16).voxels), [0, 65535, 256, 1]);

    const f32 = littleEndian([0.5, -2.25, 1e6, 3], (v, o, x) => v.setFloat32(o, x, true), 4);
    const f = readRawVoxels({ shape: [2, 2], dtype: 'float32' }, f32);
    assert.ok(f.voxels instanceof Float32Array);
    assert.deepEqual(Array.from(f.voxels), [0.5, -2.25, 1e6, 3]);

    const rgb = Uint8Array.from({ length: 2 * 2 * 3 }, (_, i) => i);
    const r = readRawVoxels({ shape: [2, 2, 3], dtype: 'uint8' }, rgb);
    assert.equal(r.voxels, rgb, 'uint8 is not copied');
    assert.equal(r.layout.channels, 3);
  });

  it('rejects a byte length that does not match the declared shape, naming both', () => {
    assertVolumeError(
      () => readRawVoxels({ shape: [2, 3, 4], dtype: 'int16' }, new Uint8Array(47)),
      'PAYLOAD_SIZE_MISMATCH', 'payload', /47 bytes.*header\.raw\.shape \[2, 3, 4\] of int16 needs 48/,
    );
    assertVolumeError(() => readRawVoxels({ shape: [2, 3], dtype: 'uint8' }, new Uint8Array(7)), 'PAYLOAD_SIZE_MISMATCH', 'payload');
  });

  it('rejects an unknown dtype', () => {
    assertVolumeError(() => readRawVoxels({ shape: [2, 2], dtype: 'int64' as never }, new Uint8Array(32)), 'PAYLOAD_FORMAT', 'header.raw.dtype');
  });
});

describe('spacing and label bytes', () => {
  it('validates (z, y, x) spacing', () => {
    assert.equal(validateSpacing(undefined, 'f'), undefined);
    assert.equal(validateSpacing([], 'f'), undefined, 'an unset repeated field means unknown');
    assert.deepEqual(validateSpacing([2.5, 0.7, 0.7], 'f'), [2.5, 0.7, 0.7]);
    assertVolumeError(() => validateSpacing([1, 1], 'header.raw.spacing'), 'PAYLOAD_FORMAT', 'header.raw.spacing');
    assertVolumeError(() => validateSpacing([1, 0, 1], 'header.raw.spacing'), 'PAYLOAD_FORMAT', 'header.raw.spacing');
  });

  it('writes uint16 labels little-endian and uint8 labels as they are', () => {
    assert.deepEqual(Array.from(labelBytesLittleEndian(Uint16Array.of(1, 0x0102, 300))), [1, 0, 2, 1, 44, 1]);
    const u8 = Uint8Array.of(0, 3, 255);
    assert.equal(labelBytesLittleEndian(u8), u8);
  });
});
