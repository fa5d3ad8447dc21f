// .npy / .npz reading and writing: round trips, the challenge files, and the errors for files we cannot read.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { zipSync } from 'fflate';
import { readNpy, writeNpy, type NdArray } from '../../src/volume/npy.ts';
import { NpyError, readNpz, writeNpz } from '../../src/volume/npz.ts';

const CASES = join(import.meta.dirname, '../../../shared/reference/cases/public');

/** A hand-built .npy file with an arbitrary header, to exercise the parser beyond what writeNpy produces. */
function npyBytes(header: string, body: Uint8Array, major = 1): Uint8Array {
  const prefix = major === 1 ? 10 : 12;
  const padded = header + ' '.repeat((64 - ((prefix + header.length + 1) % 64)) % 64) + '\n';
  const out = new Uint8Array(prefix + padded.length + body.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, major, 0]);
  const view = new DataView(out.buffer);
  if (major === 1) view.setUint16(8, padded.length, true);
  else view.setUint32(8, padded.length, true);
  out.set(new TextEncoder().encode(padded), prefix);
  out.set(body, prefix + padded.length);
  return out;
}

function assertNpyError(fn: () => unknown, code: string, pattern: RegExp): void {
  assert.throws(fn, (e: unknown) => e instanceof NpyError && e.code === code && pattern.test(e.message));
}

describe('npy', () => {
  const arrays: NdArray[] = [
    { dtype: 'uint8', shape: [2, 3], data: Uint8Array.from([0, 1, 2, 253, 254, 255]) },
    { dtype: 'int8', shape: [3], data: Int8Array.from([-128, 0, 127]) },
    { dtype: 'bool', shape: [2], data: Uint8Array.from([1, 0]) },
    { dtype: 'uint16', shape: [1, 2], data: Uint16Array.from([0, 65535]) },
    { dtype: 'int16', shape: [2], data: Int16Array.from([-32768, 32767]) },
    { dtype: 'uint32', shape: [1], data: Uint32Array.from([4294967295]) },
    { dtype: 'int32', shape: [2, 1, 1], data: Int32Array.from([-5, 7]) },
    { dtype: 'int64', shape: [1, 2], data: BigInt64Array.from([-9007199254740993n, 42n]) },
    { dtype: 'uint64', shape: [1], data: BigUint64Array.from([18446744073709551615n]) },
    { dtype: 'float32', shape: [2], data: Float32Array.from([Math.fround(0.1), -Infinity]) },
    { dtype: 'float64', shape: [3], data: Float64Array.from([2.5, 0.8, 0.8]) },
    { dtype: 'float64', shape: [], data: Float64Array.from([3.25]) },
    { dtype: 'uint8', shape: [0, 4], data: new Uint8Array(0) },
  ];

  it('round-trips every supported dtype, including 0-d and empty arrays', () => {
    for (const a of arrays) {
      const back = readNpy(writeNpy(a), 'x');
      assert.deepEqual(back, a, `${a.dtype} (${a.shape})`);
    }
  });

  it('writes headers NumPy accepts: 64-byte aligned, newline terminated, 1-tuple shapes with a comma', () => {
    const bytes = writeNpy({ dtype: 'float64', shape: [3], data: new Float64Array(3) });
    const headerLength = bytes[8]! + 256 * bytes[9]!;
    assert.equal((10 + headerLength) % 64, 0);
    const header = new TextDecoder().decode(bytes.subarray(10, 10 + headerLength));
    assert.match(header, /^\{'descr': '<f8', 'fortran_order': False, 'shape': \(3,\), \} *\n$/);
  });

  it('reads version 2.0 and 3.0 headers', () => {
    const body = Uint8Array.from([1, 0, 2, 0]);
    for (const major of [2, 3]) {
      const a = readNpy(npyBytes("{'descr': '<i2', 'fortran_order': False, 'shape': (2,), }", body, major), 'v');
      assert.deepEqual(a, { dtype: 'int16', shape: [2], data: Int16Array.from([1, 2]) });
    }
  });

  it('returns data in a fresh aligned buffer even when the member is unaligned', () => {
    const npy = writeNpy({ dtype: 'float64', shape: [2], data: Float64Array.from([1.5, -2]) });
    const shifted = new Uint8Array(npy.length + 1);
    shifted.set(npy, 1);
    const a = readNpy(shifted.subarray(1), 'odd');
    assert.deepEqual([...(a.data as Float64Array)], [1.5, -2]);
  });

  it('rejects unsupported dtypes, Fortran order, big-endian data and bad files with named errors', () => {
    assertNpyError(() => readNpy(npyBytes("{'descr': '<c8', 'fortran_order': False, 'shape': (1,), }", new Uint8Array(8)), 'boxes'),
      'NPY_UNSUPPORTED_DTYPE', /boxes: unsupported dtype '<c8'/);
    assertNpyError(() => readNpy(npyBytes("{'descr': '|O', 'fortran_order': False, 'shape': (1,), }", new Uint8Array(8)), 'obj'),
      'NPY_UNSUPPORTED_DTYPE', /obj/);
    assertNpyError(() => readNpy(npyBytes("{'descr': '|u1', 'fortran_order': True, 'shape': (2, 2), }", new Uint8Array(4)), 'imgs'),
      'NPY_FORTRAN_ORDER', /imgs: Fortran-ordered/);
    assertNpyError(() => readNpy(npyBytes("{'descr': '>f4', 'fortran_order': False, 'shape': (1,), }", new Uint8Array(4)), 'sp'),
      'NPY_BIG_ENDIAN', /sp: big-endian/);
    assertNpyError(() => readNpy(npyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (4,), }", new Uint8Array(12)), 't'),
      'NPY_TRUNCATED', /t: data truncated/);
    assertNpyError(() => readNpy(new TextEncoder().encode('not a numpy file'), 'junk'), 'NPY_BAD_MAGIC', /junk/);
    assertNpyError(() => readNpy(npyBytes("{'descr': '<f4', 'shape': (4,), }", new Uint8Array(16)), 'h'), 'NPY_BAD_HEADER', /fortran_order/);
  });

  it('reads big-endian single-byte dtypes (byte order is irrelevant there)', () => {
    const a = readNpy(npyBytes("{'descr': '>u1', 'fortran_order': False, 'shape': (2,), }", Uint8Array.from([7, 8])), 'b');
    assert.deepEqual([...(a.data as Uint8Array)], [7, 8]);
  });
});

describe('npz', () => {
  const sample = new Map<string, NdArray>([
    ['imgs', { dtype: 'uint8', shape: [2, 2, 3], data: Uint8Array.from({ length: 12 }, (_, i) => i * 20) }],
    ['boxes', { dtype: 'int64', shape: [1, 4], data: BigInt64Array.from([1n, 2n, 30n, 40n]) }],
    ['spacing', { dtype: 'float64', shape: [3], data: Float64Array.from([2.5, 0.8, 0.8]) }],
  ]);

  it('round-trips stored and deflated archives, keeping key order', () => {
    for (const compress of [false, true]) {
      const back = readNpz(writeNpz(sample, { compress }), 'rt.npz');
      assert.deepEqual([...back.keys()], ['imgs', 'boxes', 'spacing']);
      assert.deepEqual(back, sample);
    }
  });

  it('compresses when asked', () => {
    const big = new Map<string, NdArray>([['segs', { dtype: 'uint8', shape: [100, 100], data: new Uint8Array(10000) }]]);
    assert.ok(writeNpz(big, { compress: true }).length < writeNpz(big).length / 10);
  });

  it('skips members that are not .npy files', () => {
    const zip = zipSync({ 'a.npy': writeNpy({ dtype: 'uint8', shape: [1], data: Uint8Array.from([9]) }), 'readme.txt': new Uint8Array(3) });
    assert.deepEqual([...readNpz(zip, 'mixed.npz').keys()], ['a']);
  });

  it('reports a truncated archive', () => {
    const bytes = writeNpz(sample, { compress: true });
    for (const keep of [bytes.length - 1, Math.floor(bytes.length / 2), 10, 0]) {
      assertNpyError(() => readNpz(bytes.subarray(0, keep), 'cut.npz'), 'NPZ_TRUNCATED', /cut\.npz: not a complete \.npz archive/);
    }
  });

  it('reports a corrupt archive and names the member of a bad array', () => {
    const bytes = writeNpz(sample, { compress: true });
    const broken = bytes.slice();
    broken.fill(0xff, 40, 80); // inside the first member's deflate stream
    assert.throws(() => readNpz(broken, 'bad.npz'), (e: unknown) => e instanceof NpyError && (e.code === 'NPZ_CORRUPT' || e.code.startsWith('NPY_')) && /bad\.npz/.test(e.message));
    const weird = zipSync({ 'x.npy': npyBytes("{'descr': '<c16', 'fortran_order': False, 'shape': (1,), }", new Uint8Array(16)) });
    assertNpyError(() => readNpz(weird, 'c.npz'), 'NPY_UNSUPPORTED_DTYPE', /c\.npz\[x\]: unsupported dtype '<c16'/);
  });
});

describe('npz: the public challenge cases', () => {
  const folders = ['imgs', 'gts', 'segs_litemedsam', 'segs_onesam_upstream'];
  it('reads every file with the layout the challenge defines', () => {
    let files = 0;
    for (const folder of folders) {
      for (const name of readdirSync(join(CASES, folder)).filter((f) => f.endsWith('.npz'))) {
        const arrays = readNpz(readFileSync(join(CASES, folder, name)), `${folder}/${name}`);
        const is3D = name.startsWith('3D');
        files++;
        if (folder === 'imgs') {
          const imgs = arrays.get('imgs')!;
          assert.equal(imgs.dtype, 'uint8');
          assert.equal(imgs.shape.length, 3);
          if (!is3D) assert.equal(imgs.shape[2], 3);
          const boxes = arrays.get('boxes')!;
          assert.equal(boxes.dtype, 'int64');
          assert.equal(boxes.shape[1], is3D ? 6 : 4);
        } else {
          const key = folder === 'gts' ? 'gts' : 'segs';
          const labels = arrays.get(key)!;
          assert.equal(labels.dtype, 'uint8');
          assert.equal(labels.shape.length, is3D ? 3 : 2);
        }
        if (is3D && folder !== 'segs_litemedsam') {
          const spacing = arrays.get('spacing')!;
          assert.deepEqual([spacing.dtype, spacing.shape], ['float64', [3]]);
        }
      }
    }
    assert.ok(files >= 40, `read ${files} files`);
  });

  it('re-encodes a case losslessly', () => {
    const bytes = readFileSync(join(CASES, 'imgs', '3DBox_CT_0001.npz'));
    const arrays = readNpz(bytes, 'ct');
    assert.deepEqual(readNpz(writeNpz(arrays, { compress: true }), 'ct2'), arrays);
  });
});
