// decodePayload / encodeLabels: each input format to the pipeline's 8-bit image and back to labels in the input's
// frame, and each error with its code and field. Challenge cases come from ../shared/reference.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { gunzipSync, gzipSync } from 'node:zlib';
import { describe, it } from 'node:test';
import { CodedError } from '../../src/errors/coded-error.ts';
import { challengeCase } from '../../src/volume/challenge.ts';
import { niftiGeometryForArray, readNifti, writeNiftiLabels } from '../../src/volume/nifti.ts';
import { readNpz, writeNpz } from '../../src/volume/npz.ts';
import { decodePayload, encodeLabels, type PayloadHeader } from '../../src/volume/payload.ts';

const CASES = new URL('../../../shared/reference/cases/public/imgs/', import.meta.url);

function assertVolumeError(fn: () => unknown, code: string, field: string): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof CodedError, String(err));
    assert.equal(err.code, code, err.message);
    assert.equal(err.field, field, err.message);
    return true;
  });
}

function int16Bytes(values: number[]): Uint8Array {
  const bytes = new Uint8Array(values.length * 2);
  const view = new DataView(bytes.buffer);
  values.forEach((v, i) => view.setInt16(i * 2, v, true));
  return bytes;
}

// A 2 x 2 x 4 CT in Hounsfield units; the soft-tissue window (40/400) maps it as numpy's pre_CT_MR.py does:
// clip to [-160, 240], then ((v + 160) / 400) * 255, truncated.
const HU = [-1000, -160, -100, 0, 20, 40, 60, 100, 140, 180, 200, 240, 500, 1000, -50, 10];
const HU_WINDOWED = [0, 0, 38, 102, 114, 127, 140, 165, 191, 216, 229, 255, 255, 255, 70, 108];

describe('decodePayload: raw', () => {
  const header: PayloadHeader = { format: 'raw', raw: { shape: [2, 2, 4], dtype: 'int16', spacing: [3, 0.5, 0.5] }, intensity: { kind: 'ct-window' } };

  it('windows an int16 CT to the expected uint8 values and keeps shape and spacing', () => {
    const { image, geometry, boxes, scribbles } = decodePayload(header, int16Bytes(HU));
    assert.deepEqual({ d: image.depth, h: image.height, w: image.width, c: image.channels }, { d: 2, h: 2, w: 4, c: 1 });
    assert.deepEqual(Array.from(image.data), HU_WINDOWED);
    assert.deepEqual(image.spacing, [3, 0.5, 0.5]);
    assert.deepEqual(geometry, { kind: 'array', shape: [2, 2, 4], labelShape: [2, 2, 4], spacing: [3, 0.5, 0.5] });
    assert.equal(boxes, undefined);
    assert.equal(scribbles, undefined);
  });

  it('takes uint8 as is by default, RGB included, with labels in (H, W)', () => {
    const rgb = Uint8Array.from({ length: 2 * 3 * 3 }, (_, i) => i * 10);
    const { image, geometry } = decodePayload({ format: 'raw', raw: { shape: [2, 3, 3], dtype: 'uint8' } }, rgb);
    assert.equal(image.channels, 3);
    assert.deepEqual(image.data, rgb);
    assert.deepEqual(geometry.labelShape, [2, 3]);
  });

  it('rejects each malformed header and payload with its code and field', () => {
    assertVolumeError(() => decodePayload({ format: 'raw' }, new Uint8Array(4)), 'PAYLOAD_FORMAT', 'header.raw');
    assertVolumeError(() => decodePayload({ format: 'tiff' as never }, new Uint8Array(4)), 'PAYLOAD_FORMAT', 'header.format');
    assertVolumeError(() => decodePayload(header, int16Bytes(HU).subarray(2)), 'PAYLOAD_SIZE_MISMATCH', 'payload');
    assertVolumeError(() => decodePayload({ ...header, raw: { ...header.raw!, shape: [2, 0, 4] } }, new Uint8Array(0)), 'PAYLOAD_FORMAT', 'header.raw.shape[1]');
    assertVolumeError(() => decodePayload({ ...header, raw: { ...header.raw!, spacing: [1, -1, 1] } }, int16Bytes(HU)), 'PAYLOAD_FORMAT', 'header.raw.spacing');
    assertVolumeError(() => decodePayload({ ...header, intensity: { kind: 'asis' } }, int16Bytes(HU)), 'INTENSITY_INVALID', 'header.intensity.kind');
    assertVolumeError(
      () => decodePayload({ format: 'raw', raw: { shape: [1, 1, 3], dtype: 'uint8' }, intensity: { kind: 'percentile' } }, new Uint8Array(3)),
      'INTENSITY_INVALID', 'header.intensity.kind',
    );
  });
});

describe('decodePayload: nifti', () => {
  // An int16 NIfTI: our uint16 label writer's file with the datatype switched to int16 (same 16 bits per voxel).
  function int16Nifti(values: number[], shape: [number, number, number], gzip: boolean): Uint8Array {
    const geometry = niftiGeometryForArray({ kind: 'array', shape, labelShape: shape, spacing: [3, 0.5, 0.5] });
    const file = writeNiftiLabels(Uint16Array.from(values, (v) => v & 0xffff), geometry, false);
    new DataView(file.buffer, file.byteOffset).setInt16(70, 4, true);
    return gzip ? gzipSync(file) : file;
  }

  for (const gzip of [false, true]) {
    it(`decodes an int16 CT (.nii${gzip ? '.gz' : ''}) through the window and writes labels that overlay it`, () => {
      const file = int16Nifti(HU, [2, 2, 4], gzip);
      const { image, geometry } = decodePayload({ format: 'nifti', intensity: { kind: 'ct-window', level: 40, width: 400 } }, file);
      assert.deepEqual({ d: image.depth, h: image.height, w: image.width }, { d: 2, h: 2, w: 4 });
      assert.deepEqual(Array.from(image.data), HU_WINDOWED);
      assert.equal(geometry.kind, 'nifti');
      assert.deepEqual(geometry.labelShape, [2, 2, 4]);
      const labels = Uint8Array.from(HU_WINDOWED, (v) => (v > 128 ? 1 : 0));
      for (const outGzip of [false, true]) {
        const out = encodeLabels(labels, geometry, 'nifti', outGzip);
        const back = readNifti(out);
        assert.deepEqual(back.voxels, labels);
        assert.deepEqual(back.geometry.dim, geometry.kind === 'nifti' ? geometry.dim : []);
        assert.deepEqual(back.geometry.affine, geometry.kind === 'nifti' ? geometry.affine : []);
      }
    });
  }

  it('caps gzip expansion and names unreadable files', () => {
    const file = int16Nifti(new Array(2 * 64 * 64).fill(0), [2, 64, 64], true);
    assertVolumeError(() => decodePayload({ format: 'nifti' }, file, { maxDecodedBytes: 4096 }), 'PAYLOAD_TOO_LARGE', 'payload');
    assertVolumeError(() => decodePayload({ format: 'nifti' }, new Uint8Array(500)), 'PAYLOAD_FORMAT', 'payload');
  });
});

describe('decodePayload: npz', () => {
  it('reads a 3D challenge case exactly as the CLI does, with spacing as stored', () => {
    const bytes = new Uint8Array(readFileSync(new URL('3DBox_CT_0001.npz', CASES)));
    const decoded = decodePayload({ format: 'npz' }, bytes);
    const expected = challengeCase(readNpz(bytes, 'case'), '3DBox_CT_0001.npz');
    assert.deepEqual(decoded.image.data, expected.image.data);
    assert.deepEqual([decoded.image.depth, decoded.image.height, decoded.image.width], [28, 200, 260]);
    assert.deepEqual(decoded.boxes, expected.objects);
    assert.equal(decoded.boxes?.length, 2);
    assert.equal(decoded.scribbles, undefined);
    assert.deepEqual(decoded.geometry.labelShape, [28, 200, 260]);
    assert.ok(decoded.geometry.kind === 'array' && decoded.geometry.spacing?.length === 3);
    assert.deepEqual(decoded.image.spacing, decoded.geometry.kind === 'array' ? decoded.geometry.spacing : undefined);
  });

  it('reads a 2D RGB challenge case with (H, W) labels', () => {
    const bytes = new Uint8Array(readFileSync(new URL('2DBox_US_0006.npz', CASES)));
    const decoded = decodePayload({ format: 'npz' }, bytes);
    assert.deepEqual([decoded.image.depth, decoded.image.height, decoded.image.width, decoded.image.channels], [1, 128, 160, 3]);
    assert.deepEqual(decoded.boxes?.map((b) => b.prompt.kind), ['box2d', 'box2d']);
    assert.deepEqual(decoded.geometry.labelShape, [128, 160]);
  });

  it('prepares non-uint8 imgs and returns scribbles per label, ignoring the background value', () => {
    const imgs = Int16Array.from({ length: 2 * 2 * 4 }, (_, i) => HU[i]!);
    const scribbles = new Float32Array(16);
    scribbles[1] = 2; scribbles[5] = 2; scribbles[9] = 1; scribbles[15] = 1000;
    const bytes = writeNpz(new Map([
      ['imgs', { dtype: 'int16', shape: [2, 2, 4], data: imgs }],
      ['scribbles', { dtype: 'float32', shape: [2, 2, 4], data: scribbles }],
    ] as const), { compress: true });
    const decoded = decodePayload({ format: 'npz', intensity: { kind: 'ct-window' } }, bytes);
    assert.deepEqual(Array.from(decoded.image.data), HU_WINDOWED);
    assert.deepEqual(decoded.scribbles?.map((s) => [s.label, s.prompt.kind === 'scribble' ? Array.from(s.prompt.voxels) : []]), [[1, [9]], [2, [1, 5]]]);
    assert.equal(decoded.boxes, undefined);
  });

  it('rejects a missing imgs, malformed boxes and bytes that are not an npz', () => {
    const onlyBoxes = writeNpz(new Map([['boxes', { dtype: 'int64', shape: [1, 4], data: BigInt64Array.of(1n, 2n, 3n, 4n) }]] as const), { compress: false });
    assertVolumeError(() => decodePayload({ format: 'npz' }, onlyBoxes), 'PAYLOAD_FORMAT', 'npz.imgs');
    const badBoxes = writeNpz(new Map([
      ['imgs', { dtype: 'uint8', shape: [2, 2, 4], data: new Uint8Array(16) }],
      ['boxes', { dtype: 'int64', shape: [1, 4], data: BigInt64Array.of(1n, 2n, 3n, 4n) }],
    ] as const), { compress: false });
    assertVolumeError(() => decodePayload({ format: 'npz' }, badBoxes), 'PAYLOAD_FORMAT', 'npz.boxes');
    assertVolumeError(() => decodePayload({ format: 'npz' }, new TextEncoder().encode('not a zip file at all')), 'PAYLOAD_FORMAT', 'payload');
  });
});

describe('encodeLabels', () => {
  const geometry = { kind: 'array', shape: [2, 2, 4], labelShape: [2, 2, 4], spacing: [3, 0.5, 0.5] } as const;
  const labels8 = Uint8Array.from({ length: 16 }, (_, i) => i % 3);
  const labels16 = Uint16Array.from({ length: 16 }, (_, i) => i * 300);

  it('raw: label bytes little-endian, optionally gzip-wrapped', () => {
    assert.deepEqual(encodeLabels(labels8, geometry, 'raw', false), labels8);
    assert.deepEqual(new Uint8Array(gunzipSync(encodeLabels(labels8, geometry, 'raw', true))), labels8);
    const raw16 = encodeLabels(labels16, geometry, 'raw', false);
    assert.equal(raw16.length, 32);
    assert.equal(new DataView(raw16.buffer, raw16.byteOffset).getUint16(2, true), 300);
  });

  it('npz: one array `segs` in the label shape, stored or deflated', () => {
    for (const gzip of [false, true]) {
      for (const labels of [labels8, labels16]) {
        const arrays = readNpz(encodeLabels(labels, geometry, 'npz', gzip), 'out');
        assert.deepEqual([...arrays.keys()], ['segs']);
        const segs = arrays.get('segs')!;
        assert.deepEqual(segs.shape, [2, 2, 4]);
        assert.equal(segs.dtype, labels instanceof Uint16Array ? 'uint16' : 'uint8');
        assert.deepEqual(Array.from(segs.data as ArrayLike<number>), Array.from(labels));
      }
    }
  });

  it('nifti from raw input: a NIfTI-1 with the shape and spacing', () => {
    const back = readNifti(encodeLabels(labels16, geometry, 'nifti', true));
    assert.deepEqual(back.voxels, labels16);
    assert.deepEqual(back.geometry.labelShape, [2, 2, 4]);
    assert.deepEqual(back.geometry.spacing, [3, 0.5, 0.5]);
  });

  it('rejects labels that do not fit the geometry and unknown formats', () => {
    assertVolumeError(() => encodeLabels(new Uint8Array(15), geometry, 'raw', false), 'LABELS_INVALID', 'labels');
    assertVolumeError(() => encodeLabels(labels8, geometry, 'png' as never, false), 'LABELS_INVALID', 'header.output.format');
  });
});
