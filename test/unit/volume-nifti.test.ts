// NIfTI reading and label writing. Test files are built here field by field from nifti1.h / nifti2.h and checked
// with an independent reader (nifti-reader-js) before ours reads them, so a wrong offset on either side shows.
import assert from 'node:assert/strict';
import { gunzipSync, gzipSync } from 'node:zlib';
import { describe, it } from 'node:test';
import * as niftiReader from 'nifti-reader-js';
import { CodedError } from '../../src/errors/coded-error.ts';
import { readNifti, writeNiftiLabels, niftiGeometryForArray } from '../../src/volume/nifti.ts';

interface Fixture {
  version?: 1 | 2;
  littleEndian?: boolean;
  datatype: number;
  bitpix: number;
  dim: number[];
  pixdim?: number[];
  slope?: number;
  inter?: number;
  voxOffset?: number;
  magic?: string;
  sform?: number[][];
  qform?: { b: number; c: number; d: number; offset: [number, number, number]; qfac: 1 | -1 };
  write: (view: DataView, offset: number, i: number, le: boolean) => void;
  count: number;
}

function buildNifti(f: Fixture): Uint8Array {
  const v = f.version ?? 1;
  const le = f.littleEndian ?? true;
  const headerSize = v === 1 ? 348 : 540;
  const voxOffset = f.voxOffset ?? headerSize + 4;
  const bytes = new Uint8Array(Math.max(headerSize + 4, voxOffset + f.count * (f.bitpix / 8)));
  const view = new DataView(bytes.buffer);
  const float = (o: number, x: number) => (v === 1 ? view.setFloat32(o, x, le) : view.setFloat64(o, x, le));
  const fw = v === 1 ? 4 : 8;
  view.setInt32(0, headerSize, le);
  const pixdim = f.pixdim ?? [1, 1, 1, 1, 0, 0, 0, 0];
  if (v === 1) {
    f.dim.forEach((d, i) => view.setInt16(40 + 2 * i, d, le));
    view.setInt16(70, f.datatype, le);
    view.setInt16(72, f.bitpix, le);
    pixdim.forEach((p, i) => view.setFloat32(76 + 4 * i, p, le));
    view.setFloat32(108, voxOffset, le);
    bytes.set(new TextEncoder().encode(f.magic ?? 'n+1\0'), 344);
  } else {
    view.setInt16(12, f.datatype, le);
    view.setInt16(14, f.bitpix, le);
    f.dim.forEach((d, i) => view.setBigInt64(16 + 8 * i, BigInt(d), le));
    pixdim.forEach((p, i) => view.setFloat64(104 + 8 * i, p, le));
    view.setBigInt64(168, BigInt(voxOffset), le);
    bytes.set(new TextEncoder().encode(f.magic ?? 'n+2\0\r\n\x1a\n'), 4);
  }
  const L = v === 1
    ? { slope: 112, inter: 116, qcode: 252, scode: 254, quatern: 256, qoffset: 268, srow: 280 }
    : { slope: 176, inter: 184, qcode: 344, scode: 348, quatern: 352, qoffset: 376, srow: 400 };
  float(L.slope, f.slope ?? 0);
  float(L.inter, f.inter ?? 0);
  const setCode = (o: number, c: number) => (v === 1 ? view.setInt16(o, c, le) : view.setInt32(o, c, le));
  if (f.qform) {
    setCode(L.qcode, 1);
    [f.qform.b, f.qform.c, f.qform.d].forEach((q, i) => float(L.quatern + i * fw, q));
    f.qform.offset.forEach((q, i) => float(L.qoffset + i * fw, q));
    float(v === 1 ? 76 : 104, f.qform.qfac); // pixdim[0] carries qfac
  }
  if (f.sform) {
    setCode(L.scode, 2);
    f.sform.forEach((row, r) => row.forEach((x, c) => float(L.srow + (r * 4 + c) * fw, x)));
  }
  for (let i = 0; i < f.count; i++) f.write(view, voxOffset + i * (f.bitpix / 8), i, le);
  return bytes;
}

function independentlyRead(file: Uint8Array) {
  let ab: ArrayBuffer = file.buffer.slice(file.byteOffset, file.byteOffset + file.byteLength) as ArrayBuffer;
  if (niftiReader.isCompressed(ab)) ab = niftiReader.decompress(ab) as ArrayBuffer;
  assert.ok(niftiReader.isNIFTI(ab), 'nifti-reader-js does not recognise the file');
  const header = niftiReader.readHeader(ab);
  return { header, image: niftiReader.readImage(header, ab) };
}

function assertVolumeError(fn: () => unknown, code: string, field: string): void {
  assert.throws(fn, (err: unknown) => err instanceof CodedError && err.code === code && err.field === field);
}

// A 4 x 3 x 2 (nx, ny, nz) int16 volume whose value encodes its index: v = 100 z + 10 y + x.
const NX = 4, NY = 3, NZ = 2;
const coded = (i: number) => 100 * Math.floor(i / (NX * NY)) + 10 * (Math.floor(i / NX) % NY) + (i % NX);

describe('readNifti', () => {
  it('presents x fastest storage as (D, H, W) = (nz, ny, nx) with no reorientation', () => {
    const file = buildNifti({
      datatype: 4, bitpix: 16, dim: [3, NX, NY, NZ, 1, 1, 1, 1], pixdim: [1, 0.8, 0.9, 2.5, 0, 0, 0, 0], count: NX * NY * NZ,
      write: (v, o, i, le) => v.setInt16(o, coded(i), le),
    });
    const ref = independentlyRead(file);
    assert.deepEqual(ref.header.dims.slice(0, 4), [3, NX, NY, NZ]);
    const { voxels, geometry } = readNifti(file);
    assert.ok(voxels instanceof Int16Array);
    assert.deepEqual(geometry.labelShape, [NZ, NY, NX]);
    assert.deepEqual(geometry.spacing.map((s) => Math.fround(s)), [2.5, 0.9, 0.8].map(Math.fround));
    // voxel (d, h, w) of our array is file voxel (i = w, j = h, k = d)
    for (let d = 0; d < NZ; d++) for (let h = 0; h < NY; h++) for (let w = 0; w < NX; w++) {
      assert.equal(voxels[(d * NY + h) * NX + w], 100 * d + 10 * h + w);
    }
    assert.deepEqual(Array.from(voxels), Array.from(new Int16Array(ref.image)));
  });

  it('reads gzip, big-endian and NIfTI-2 files the same way', () => {
    const base = {
      datatype: 4, bitpix: 16, dim: [3, NX, NY, NZ, 1, 1, 1, 1], count: NX * NY * NZ,
      write: (v: DataView, o: number, i: number, le: boolean) => v.setInt16(o, coded(i), le),
    };
    const expected = Array.from({ length: NX * NY * NZ }, (_, i) => coded(i));
    for (const file of [
      gzipSync(buildNifti(base)),
      buildNifti({ ...base, littleEndian: false }),
      buildNifti({ ...base, version: 2 }),
      gzipSync(buildNifti({ ...base, version: 2, littleEndian: false })),
    ]) {
      const ref = independentlyRead(file);
      assert.deepEqual(ref.header.dims.slice(0, 4), [3, NX, NY, NZ]);
      const { voxels, geometry } = readNifti(file);
      assert.deepEqual(Array.from(voxels), expected, `version ${geometry.version} ${geometry.littleEndian ? 'LE' : 'BE'}`);
    }
  });

  it('applies scl_slope and scl_inter, and ignores a zero slope', () => {
    const fixture = {
      datatype: 512, bitpix: 16, dim: [2, 3, 1, 1, 1, 1, 1, 1], count: 3,
      write: (v: DataView, o: number, i: number, le: boolean) => v.setUint16(o, [0, 1000, 2000][i]!, le),
    };
    const scaled = readNifti(buildNifti({ ...fixture, slope: 0.5, inter: -1024 }));
    assert.ok(scaled.voxels instanceof Float64Array);
    assert.deepEqual(Array.from(scaled.voxels), [-1024, -524, -24]);
    const unscaled = readNifti(buildNifti({ ...fixture, slope: 0, inter: 7 }));
    assert.ok(unscaled.voxels instanceof Uint16Array);
    assert.deepEqual(Array.from(unscaled.voxels), [0, 1000, 2000]);
    assert.deepEqual(unscaled.geometry.labelShape, [1, 1, 3]);
  });

  it('reads each supported datatype', () => {
    const cases: Array<[number, number, (v: DataView, o: number, x: number, le: boolean) => void, Function]> = [
      [2, 8, (v, o, x) => v.setUint8(o, x), Uint8Array],
      [256, 8, (v, o, x) => v.setInt8(o, -x), Int8Array],
      [4, 16, (v, o, x, le) => v.setInt16(o, -x, le), Int16Array],
      [512, 16, (v, o, x, le) => v.setUint16(o, x, le), Uint16Array],
      [8, 32, (v, o, x, le) => v.setInt32(o, -x, le), Int32Array],
      [768, 32, (v, o, x, le) => v.setUint32(o, x, le), Uint32Array],
      [16, 32, (v, o, x, le) => v.setFloat32(o, x + 0.5, le), Float32Array],
      [64, 64, (v, o, x, le) => v.setFloat64(o, x + 0.25, le), Float64Array],
    ];
    for (const [datatype, bitpix, write, Ctor] of cases) {
      const file = buildNifti({ datatype, bitpix, dim: [1, 5, 1, 1, 1, 1, 1, 1], count: 5, write: (v, o, i, le) => write(v, o, i * 3, le) });
      const { voxels } = readNifti(file);
      assert.ok(voxels instanceof Ctor, `datatype ${datatype}`);
      assert.deepEqual(Array.from(voxels), Array.from(new (Ctor as new (b: ArrayBuffer) => ArrayLike<number>)(independentlyRead(file).image)));
    }
  });

  it('computes the affine from the sform, else the qform, and reports axis codes', () => {
    const base = { datatype: 2, bitpix: 8, dim: [3, 2, 2, 2, 1, 1, 1, 1], pixdim: [1, 2, 3, 4, 0, 0, 0, 0], count: 8, write: () => {} };
    const sform = [[-2, 0, 0, 10], [0, -3, 0, 20], [0, 0, 4, -30]];
    const s = readNifti(buildNifti({ ...base, sform })).geometry;
    assert.deepEqual(s.affine, [...sform, [0, 0, 0, 1]]);
    assert.equal(s.axisCodes, 'LPS');
    // Quaternion (0, 0, 1): 180 degrees about z, i.e. diag(-1, -1, 1); qfac -1 flips k.
    const q = readNifti(buildNifti({ ...base, qform: { b: 0, c: 0, d: 1, offset: [5, 6, 7], qfac: -1 } })).geometry;
    const ref = independentlyRead(buildNifti({ ...base, qform: { b: 0, c: 0, d: 1, offset: [5, 6, 7], qfac: -1 } })).header.affine;
    assert.deepEqual(q.affine.map((r) => r.map((x) => x + 0)), ref.map((r) => r.map((x) => x + 0)));
    assert.deepEqual(q.affine, [[-2, 0, 0, 5], [0, -3, 0, 6], [0, 0, -4, 7], [0, 0, 0, 1]]);
    assert.equal(q.axisCodes, 'LPI');
    const none = readNifti(buildNifti(base)).geometry;
    assert.deepEqual(none.affine, [[2, 0, 0, 0], [0, 3, 0, 0], [0, 0, 4, 0], [0, 0, 0, 1]]);
    assert.equal(none.axisCodes, 'RAS');
  });

  it('rejects what it cannot read with a code and the field', () => {
    const ok = { datatype: 2, bitpix: 8, dim: [3, 2, 2, 2, 1, 1, 1, 1], count: 8, write: () => {} };
    assertVolumeError(() => readNifti(new Uint8Array(100)), 'PAYLOAD_FORMAT', 'payload');
    assertVolumeError(() => readNifti(new Uint8Array(400)), 'PAYLOAD_FORMAT', 'payload');
    assertVolumeError(() => readNifti(buildNifti({ ...ok, magic: 'ni1\0' })), 'NIFTI_UNSUPPORTED', 'payload.nifti.magic');
    assertVolumeError(() => readNifti(buildNifti({ ...ok, magic: 'xyz\0' })), 'PAYLOAD_FORMAT', 'payload.nifti.magic');
    assertVolumeError(() => readNifti(buildNifti({ ...ok, dim: [4, 2, 2, 2, 5, 1, 1, 1], count: 40 })), 'NIFTI_UNSUPPORTED', 'payload.nifti.dim[4]');
    assertVolumeError(() => readNifti(buildNifti({ ...ok, dim: [3, 2, 0, 2, 1, 1, 1, 1] })), 'PAYLOAD_FORMAT', 'payload.nifti.dim[2]');
    assertVolumeError(() => readNifti(buildNifti({ ...ok, datatype: 128, bitpix: 24 })), 'NIFTI_UNSUPPORTED', 'payload.nifti.datatype');
    assertVolumeError(() => readNifti(buildNifti({ ...ok, voxOffset: 100 })), 'PAYLOAD_FORMAT', 'payload.nifti.vox_offset');
    assertVolumeError(() => readNifti(buildNifti(ok).subarray(0, 352 + 5)), 'PAYLOAD_SIZE_MISMATCH', 'payload');
    const gz = gzipSync(buildNifti(ok));
    assertVolumeError(() => readNifti(gz.subarray(0, gz.length - 9)), 'PAYLOAD_FORMAT', 'payload');
    assertVolumeError(() => readNifti(gz, { maxDecodedBytes: 300 }), 'PAYLOAD_TOO_LARGE', 'payload');
  });

  it('accepts a 4D header whose extra axes have size 1 and skips extensions via vox_offset', () => {
    const file = buildNifti({
      datatype: 2, bitpix: 8, dim: [4, 2, 2, 1, 1, 1, 1, 1], voxOffset: 352 + 64, count: 4,
      write: (v, o, i) => v.setUint8(o, i + 1),
    });
    assert.deepEqual(Array.from(readNifti(file).voxels), [1, 2, 3, 4]);
  });
});

describe('writeNiftiLabels', () => {
  const input = buildNifti({
    datatype: 4, bitpix: 16, dim: [3, NX, NY, NZ, 1, 1, 1, 1], pixdim: [1, 0.8, 0.9, 2.5, 0, 0, 0, 0], slope: 2, inter: -5,
    sform: [[0.8, 0, 0, 1], [0, 0.9, 0, 2], [0, 0, 2.5, 3]], count: NX * NY * NZ, write: (v, o, i, le) => v.setInt16(o, coded(i), le),
  });
  const labels8 = Uint8Array.from({ length: NX * NY * NZ }, (_, i) => (i % 3 === 0 ? 2 : 0));

  for (const gzip of [false, true]) {
    it(`writes uint8 labels with the input's geometry that read back voxel for voxel (gzip ${gzip})`, () => {
      const { geometry } = readNifti(input);
      const out = writeNiftiLabels(labels8, geometry, gzip);
      assert.equal(out[0] === 0x1f && out[1] === 0x8b, gzip);
      const ref = independentlyRead(out);
      assert.equal(ref.header.datatypeCode, 2);
      assert.equal(ref.header.numBitsPerVoxel, 8);
      assert.equal(ref.header.vox_offset, 352);
      assert.equal(ref.header.scl_slope, 0);
      assert.equal(ref.header.intent_code, 1002);
      assert.deepEqual(ref.header.dims, independentlyRead(input).header.dims);
      assert.deepEqual(ref.header.affine, independentlyRead(input).header.affine);
      assert.deepEqual(new Uint8Array(ref.image), labels8);
      const back = readNifti(out);
      assert.deepEqual(back.voxels, labels8);
      assert.deepEqual(back.geometry.affine, geometry.affine);
      assert.deepEqual(back.geometry.labelShape, geometry.labelShape);
      if (!gzip) assert.equal(out.length, 352 + labels8.length);
    });
  }

  it('writes uint16 labels, and keeps a big-endian NIfTI-2 input in its own version and byte order', () => {
    const be2 = buildNifti({
      version: 2, littleEndian: false, datatype: 16, bitpix: 32, dim: [3, NX, NY, NZ, 1, 1, 1, 1], count: NX * NY * NZ,
      write: (v, o, i, le) => v.setFloat32(o, i, le),
    });
    const { geometry } = readNifti(be2);
    const labels = Uint16Array.from({ length: NX * NY * NZ }, (_, i) => i * 1000);
    const out = writeNiftiLabels(labels, geometry, false);
    assert.equal(out.length, 544 + labels.length * 2);
    const back = readNifti(out);
    assert.equal(back.geometry.version, 2);
    assert.equal(back.geometry.littleEndian, false);
    assert.equal(back.geometry.datatype, 512);
    assert.deepEqual(back.voxels, labels);
    const ref = independentlyRead(out);
    assert.equal(ref.header.datatypeCode, 512);
    assert.equal(ref.header.littleEndian, false);
  });

  it('makes a NIfTI-1 header for raw/npz geometry from the shape and (z, y, x) spacing', () => {
    const g = niftiGeometryForArray({ kind: 'array', shape: [2, 3, 4], labelShape: [2, 3, 4], spacing: [5, 0.5, 0.25] });
    const out = writeNiftiLabels(Uint8Array.from({ length: 24 }, (_, i) => i), g, true);
    const ref = independentlyRead(out);
    assert.deepEqual(ref.header.dims.slice(0, 4), [3, 4, 3, 2]);
    assert.deepEqual(ref.header.pixDims.slice(1, 4), [0.25, 0.5, 5]);
    const back = readNifti(out);
    assert.deepEqual(back.geometry.labelShape, [2, 3, 4]);
    assert.deepEqual(back.voxels, Uint8Array.from({ length: 24 }, (_, i) => i));
    const flat = readNifti(writeNiftiLabels(new Uint8Array(6), niftiGeometryForArray({ kind: 'array', shape: [2, 3, 3], labelShape: [2, 3] }), false));
    assert.deepEqual(flat.geometry.labelShape, [1, 2, 3]);
    assert.deepEqual(flat.geometry.spacing, [1, 1, 1]);
  });

  it('rejects labels that do not fit the geometry', () => {
    const { geometry } = readNifti(input);
    assertVolumeError(() => writeNiftiLabels(new Uint8Array(5), geometry, false), 'LABELS_INVALID', 'labels');
  });

  it('reads gzip output of other compressors (concatenated members)', () => {
    const plain = buildNifti({ datatype: 2, bitpix: 8, dim: [3, 2, 2, 2, 1, 1, 1, 1], count: 8, write: (v, o, i) => v.setUint8(o, i) });
    const twoMembers = Buffer.concat([gzipSync(plain.subarray(0, 200)), gzipSync(plain.subarray(200))]);
    assert.deepEqual(gunzipSync(twoMembers), Buffer.from(plain));
    assert.deepEqual(Array.from(readNifti(twoMembers).voxels), [0, 1, 2, 3, 4, 5, 6, 7]);
  });
});
