// Decoded-size limits (src/volume/limits.ts) against bombs of every format, built here and small on disk: each is
// refused with PAYLOAD_TOO_LARGE from what its headers say, before the data is inflated or allocated, or, when the
// headers understate it, the moment inflating passes what they declared. Honest archives just under the limits
// still decode.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { CodedError } from '../../src/errors/coded-error.ts';
import { DEFAULT_DECODE_LIMITS, DEFAULT_MAX_VOXELS, decodeLimits, WORKING_BYTES_FLOOR } from '../../src/volume/limits.ts';
import { readNifti } from '../../src/volume/nifti.ts';
import { writeNpy } from '../../src/volume/npy.ts';
import { MAX_NPZ_MEMBERS, NpyError, readNpz, writeNpz } from '../../src/volume/npz.ts';
import { decodePayload } from '../../src/volume/payload.ts';
import { DEFAULTS } from '../../src/config/schema.ts';
import { deflatedZeros, gzippedZeros, niftiHeader, npyHeader, npzBomb, zipArchive } from '../helpers/bombs.ts';

const MiB = 1024 * 1024;

function assertTooLarge(fn: () => unknown, field: string, pattern: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof CodedError, `expected a CodedError, got ${String(e)}`);
    assert.equal(e.code, 'PAYLOAD_TOO_LARGE', e.message);
    assert.equal(e.field, field, e.message);
    assert.match(e.message, pattern);
    return true;
  });
}

/**
 * Runs `refuse` and checks that it neither took long nor grew the heap or RSS: a refusal from the headers costs
 * kilobytes. The bound is 1 s as the issue asks (measured: a few ms); the memory bound is far below any bomb.
 */
function refusedCheaply(refuse: () => void): { ms: number; rssMB: number } {
  const rss = process.memoryUsage.rss();
  const start = performance.now();
  refuse();
  const ms = performance.now() - start;
  const rssMB = (process.memoryUsage.rss() - rss) / MiB;
  assert.ok(ms < 1000, `refused after ${ms.toFixed(0)} ms`);
  assert.ok(rssMB < 50, `RSS grew ${rssMB.toFixed(1)} MiB`);
  return { ms, rssMB };
}

describe('limits: defaults', () => {
  it('maxVoxels defaults to 512 x 512 x 1024 and decoded bytes to the payload limit', () => {
    assert.equal(DEFAULT_MAX_VOXELS, 512 * 512 * 1024);
    assert.equal(DEFAULTS.maxVoxels, DEFAULT_MAX_VOXELS);
    assert.equal(DEFAULT_DECODE_LIMITS.maxDecodedBytes, DEFAULTS.maxPayloadBytes);
    // Four bytes of buffers per decoded byte, plus a floor for fixed-size scratch (the percentile histogram).
    assert.equal(decodeLimits({ maxDecodedBytes: 10 }).maxWorkingBytes, 40 + WORKING_BYTES_FLOOR);
  });
});

describe('limits: npz', () => {
  it("refuses the issue's bomb (2.2 MB inflating to 2200 x 1024 x 1024 uint8) from the .npy header", () => {
    const bomb = npzBomb();
    assert.ok(bomb.length < 2.5 * MiB, `${bomb.length} bytes`);
    const figures = refusedCheaply(() => assertTooLarge(() => decodePayload({ format: 'npz' }, bomb), 'npz.imgs', /2306867200 voxels, more than the maximum of 268435456 \(maxVoxels\)/));
    console.log(`npz bomb refused in ${figures.ms.toFixed(1)} ms, RSS ${figures.rssMB.toFixed(1)} MiB`);
  });

  it('refuses the 300- and 700-slice versions too (over maxVoxels), and in zip64 form', () => {
    for (const slices of [300, 700]) {
      const bomb = npzBomb({ shape: [slices, 1024, 1024] });
      refusedCheaply(() => assertTooLarge(() => decodePayload({ format: 'npz' }, bomb), 'npz.imgs', /maxVoxels/));
    }
    refusedCheaply(() => assertTooLarge(() => readNpz(npzBomb({ zip64: true }), 'npz'), 'npz.imgs', /maxVoxels/));
  });

  it('refuses on decoded bytes when the voxels are within limits but the dtype is wide', () => {
    // 64 Mi float64 voxels: 512 MiB + the header, one byte per MiB over the default maxDecodedBytes.
    const bomb = npzBomb({ shape: [64, 1024, 1024], descr: '<f8' });
    refusedCheaply(() => assertTooLarge(() => decodePayload({ format: 'npz' }, bomb, { maxDecodedBytes: 256 * MiB }), 'npz.imgs', /536870912 bytes, more than the maximum of 268435456 \(maxDecodedBytes\)/));
  });

  it('never trusts the zip: a member recorded as 1 KiB, with a small header, that inflates to 2 GiB stops where its header ends', () => {
    const bomb = npzBomb({ shape: [16, 16], streamZeros: 2048 * MiB, declaredSize: 1024 });
    refusedCheaply(() => assertTooLarge(() => decodePayload({ format: 'npz' }, bomb), 'npz.imgs', /inflates to more than the 384 bytes its \.npy header declares/));
    // The same with the zip claiming 4 GiB in zip64 fields: the claim is not what is allocated either.
    const claims = npzBomb({ shape: [16, 16], streamZeros: 2048 * MiB, declaredSize: 4 * 1024 * MiB, zip64: true });
    refusedCheaply(() => assertTooLarge(() => readNpz(claims, 'npz'), 'npz.imgs', /inflates to more than/));
  });

  it('a header that overstates its data is truncated, and one over the limits is refused before the data is looked at', () => {
    const short = npzBomb({ shape: [4, 64, 64], streamZeros: 100 });
    assert.throws(() => readNpz(short, 'short.npz'), (e: unknown) => e instanceof NpyError && e.code === 'NPY_TRUNCATED');
    const huge = npzBomb({ shape: [100000, 100000, 100000], streamZeros: 10 });
    refusedCheaply(() => assertTooLarge(() => readNpz(huge, 'npz'), 'npz.imgs', /1000000000000000 voxels/));
  });

  it('counts every member: two arrays each under the byte limit, together over it', () => {
    const member = (): Uint8Array => deflatedZeros(npyHeader([3, 1024, 1024]), 3 * MiB);
    const archive = zipArchive(['a', 'b'].map((key) => ({ name: `${key}.npy`, method: 8 as const, data: member(), uncompressedSize: 128 + 3 * MiB })));
    const limits = decodeLimits({ maxDecodedBytes: 5 * MiB });
    assertTooLarge(() => readNpz(archive, 'npz', { limits }), 'npz.b', /with 3145728 bytes decoded before it/);
    assert.equal(readNpz(archive, 'npz', { limits: decodeLimits({ maxDecodedBytes: 6 * MiB }) }).size, 2);
  });

  it('stored members are checked too', () => {
    const npy = writeNpy({ dtype: 'uint8', shape: [8, 8], data: new Uint8Array(64) });
    const archive = zipArchive([{ name: 'imgs.npy', method: 0, data: npy, uncompressedSize: npy.length }]);
    assert.equal(readNpz(archive, 'npz').get('imgs')!.data.length, 64);
    assertTooLarge(() => readNpz(archive, 'npz', { limits: decodeLimits({ maxVoxels: 63 }) }), 'npz.imgs', /64 voxels, more than the maximum of 63/);
  });

  it('refuses archives of many members and members listed twice', () => {
    const npy = writeNpy({ dtype: 'uint8', shape: [1], data: new Uint8Array(1) });
    const many = zipArchive(Array.from({ length: MAX_NPZ_MEMBERS + 1 }, (_, i) => ({ name: `a${i}.npy`, method: 0 as const, data: npy, uncompressedSize: npy.length })));
    assertTooLarge(() => readNpz(many, 'npz'), 'npz', /257 members/);
    const twice = zipArchive([0, 1].map(() => ({ name: 'imgs.npy', method: 0 as const, data: npy, uncompressedSize: npy.length })));
    assert.throws(() => readNpz(twice, 'npz'), (e: unknown) => e instanceof NpyError && e.code === 'NPZ_CORRUPT' && /appears twice/.test(e.message));
    assert.throws(() => decodePayload({ format: 'npz' }, twice), (e: unknown) => e instanceof CodedError && e.code === 'PAYLOAD_FORMAT');
  });

  it('caps the prompt arrays from their headers: a (10^7, 6) boxes bomb and a long spacing are refused uninflated', () => {
    const image = writeNpy({ dtype: 'uint8', shape: [2, 8, 8], data: new Uint8Array(128) });
    const withMember = (key: string, shape: number[], descr: string, zeros: number): Uint8Array => zipArchive([
      { name: 'imgs.npy', method: 0, data: image, uncompressedSize: image.length },
      { name: `${key}.npy`, method: 8, data: deflatedZeros(npyHeader(shape, descr), zeros), uncompressedSize: 0 },
    ]);
    // 480 MB of int64 zeros: within maxDecodedBytes and maxVoxels, but ten million objects.
    const boxes = withMember('boxes', [10_000_000, 6], '<i8', 480_000_000);
    refusedCheaply(() => assertTooLarge(() => decodePayload({ format: 'npz' }, boxes), 'npz.boxes', /60000000 elements, more than the 393210 this array may hold/));
    const spacing = withMember('spacing', [50_000_000], '<f8', 400_000_000);
    refusedCheaply(() => assertTooLarge(() => decodePayload({ format: 'npz' }, spacing), 'npz.spacing', /more than the 16 this array may hold/));
    // A member the request does not use is not even inflated, however large it claims or inflates to be.
    const unused = withMember('gts', [2200, 1024, 1024], '|u1', 2200 * MiB);
    const decoded = refusedCheaply(() => assert.equal(decodePayload({ format: 'npz', raw: undefined }, unused, {}).image.data.length, 128));
    assert.ok(decoded.ms < 1000);
  });

  it('decodes an honest zip64 archive just under the limits', () => {
    const arrays = readNpz(npzBomb({ shape: [4, 256, 256], zip64: true }), 'npz', { limits: decodeLimits({ maxVoxels: 4 * 256 * 256 }) });
    const imgs = arrays.get('imgs')!;
    assert.deepEqual([imgs.dtype, imgs.shape, imgs.data.length], ['uint8', [4, 256, 256], 4 * 256 * 256]);
  });

  it('counts the intensity preparation: a float32 volume with percentiles needs its own size again for the selection', () => {
    const data = Float32Array.from({ length: 64 * 64 * 64 }, (_, i) => (i % 100) + 1);
    const npz = zipArchive([{ name: 'imgs.npy', method: 0, data: writeNpy({ dtype: 'float32', shape: [64, 64, 64], data }), uncompressedSize: 0 }]);
    const header = { format: 'npz' as const, intensity: { kind: 'percentile' as const } };
    // 1 MiB of float32 decoded, then a 1 MiB copy of the positive voxels and the 256 KiB image.
    assertTooLarge(() => decodePayload(header, npz, { maxDecodedBytes: MiB, maxWorkingBytes: 2 * MiB }), 'payload', /decoded 1048576, preparation 1310720/);
    assert.equal(decodePayload(header, npz, { maxDecodedBytes: MiB, maxWorkingBytes: 2.5 * MiB }).image.data.length, 64 * 64 * 64);
  });
});

describe('limits: NIfTI', () => {
  it('refuses the .nii.gz bomb (dims 1024 x 1024 x 2200 uint8) from its header, without inflating the voxels', () => {
    const bomb = gzippedZeros(niftiHeader([1024, 1024, 2200]), 2200 * MiB);
    const figures = refusedCheaply(() => assertTooLarge(() => decodePayload({ format: 'nifti' }, bomb), 'payload', /2306867200 voxels/));
    console.log(`nii.gz bomb refused in ${figures.ms.toFixed(1)} ms, RSS ${figures.rssMB.toFixed(1)} MiB`);
  });

  it('stops a stream that inflates past what its dims declare (lying dims)', () => {
    const liar = gzippedZeros(niftiHeader([16, 16, 1]), 2048 * MiB);
    refusedCheaply(() => assertTooLarge(() => readNifti(liar), 'payload', /decompresses to more than the 608 bytes its header describes/));
  });

  it('refuses decompressed files over maxDecodedBytes and extensions over 16 MiB before inflating them', () => {
    const wide = gzippedZeros(niftiHeader([512, 512, 300], { datatype: 16, bitpix: 32 }), 300 * MiB);
    refusedCheaply(() => assertTooLarge(() => readNifti(wide, { maxDecodedBytes: 256 * MiB }), 'payload', /maxDecodedBytes/));
    const padded = gzippedZeros(niftiHeader([2, 2, 2], { voxOffset: 1024 * MiB }), 1024 * MiB);
    refusedCheaply(() => assertTooLarge(() => readNifti(padded), 'payload.nifti.vox_offset', /extensions over 16777216 bytes/));
  });

  it('counts scaling and percentile buffers: tiny uint8 input, 8 bytes a voxel after non-integer scaling', () => {
    const count = 64 * 64 * 64;
    const file = (slope: number): Uint8Array => gzipSync(Buffer.concat([niftiHeader([64, 64, 64], { slope, inter: 1 }), Buffer.alloc(count, 3)]));
    const limits = { maxDecodedBytes: MiB, maxWorkingBytes: 4 * MiB };
    // Float64 scaling (2 MiB) + the float64 copy of positive voxels (2 MiB) + the image: refused before inflating.
    assertTooLarge(() => decodePayload({ format: 'nifti', intensity: { kind: 'percentile' } }, file(0.5), limits), 'payload', /scaled 2097152, preparation 2359296/);
    // Integer scaling is held as int32 (1 MiB) and a CT window needs only the image: accepted.
    assert.equal(decodePayload({ format: 'nifti', intensity: { kind: 'ct-window' } }, file(2), limits).image.data.length, count);
  });

  it('reads the header of a .nii.gz split across concatenated gzip members', () => {
    const file = Buffer.concat([niftiHeader([8, 8, 2]), Buffer.alloc(128, 5)]);
    for (const cut of [1, 100, 347, 351, 400]) {
      const gz = new Uint8Array(Buffer.concat([gzipSync(file.subarray(0, cut)), gzipSync(file.subarray(cut))]));
      assert.deepEqual(Array.from(readNifti(gz).voxels), new Array(128).fill(5), `cut at ${cut}`);
    }
  });

  it('int32 scaling gives the values float64 scaling would', () => {
    const stored = Int16Array.from({ length: 4 * 8 * 8 }, (_, i) => i * 37 - 2000);
    const nifti = (slope: number, inter: number): Uint8Array => new Uint8Array(Buffer.concat([niftiHeader([8, 8, 4], { datatype: 4, bitpix: 16, slope, inter }), Buffer.from(stored.buffer)]));
    const ints = readNifti(nifti(3, -1024)).voxels;
    const floats = readNifti(nifti(3.5, -1024)).voxels;
    assert.ok(ints instanceof Int32Array);
    assert.ok(floats instanceof Float64Array);
    assert.deepEqual(Array.from(ints), Array.from(stored, (v) => v * 3 - 1024));
    for (const kind of ['ct-window', 'percentile'] as const) {
      const viaInt32 = decodePayload({ format: 'nifti', intensity: { kind } }, nifti(3, -1024)).image.data;
      const reference = decodePayload({ format: 'raw', raw: { shape: [4, 8, 8], dtype: 'float32' }, intensity: { kind } },
        new Uint8Array(Float32Array.from(stored, (v) => v * 3 - 1024).buffer));
      // float32 arithmetic differs from float64 in the last bits; the integers here are exact in both.
      assert.ok(viaInt32.every((v, i) => Math.abs(v - reference.image.data[i]!) <= 1), kind);
    }
  });
});

describe('limits: raw', () => {
  it('refuses a shape over maxVoxels before looking at the payload', () => {
    const header = { format: 'raw' as const, raw: { shape: [300, 1024, 1024], dtype: 'uint8' as const } };
    assertTooLarge(() => decodePayload(header, new Uint8Array(16)), 'header.raw.shape', /314572800 voxels, more than the maximum of 268435456 \(maxVoxels\)/);
    assertTooLarge(() => decodePayload({ format: 'raw', raw: { shape: [4, 4, 4], dtype: 'uint8' } }, new Uint8Array(64), { maxVoxels: 63 }), 'header.raw.shape', /maxVoxels/);
    assert.equal(decodePayload({ format: 'raw', raw: { shape: [4, 4, 4], dtype: 'uint8' } }, new Uint8Array(64), { maxVoxels: 64 }).image.data.length, 64);
  });
});

describe('scribble maps', () => {
  it('a scribble map of ones (a few KB compressed) becomes one exact typed index list, counted in the working memory', () => {
    const shape = [32, 256, 256];
    const n = shape.reduce((a, b) => a * b);
    const npz = writeNpz(new Map([
      ['imgs', { dtype: 'uint8', shape, data: new Uint8Array(n) }],
      ['scribbles', { dtype: 'uint8', shape, data: new Uint8Array(n).fill(1).fill(2, n - 10)}],
    ]), { compress: true });
    assert.ok(npz.length < 64 * 1024, `${npz.length} bytes on the wire`);
    const decoded = decodePayload({ format: 'npz', intensity: { kind: 'asis' } }, npz);
    const objects = decoded.scribbles ?? [];
    assert.deepEqual(objects.map((o) => o.label), [1, 2]);
    const [ones, twos] = objects.map((o) => (o.prompt as { voxels: Uint32Array }).voxels);
    assert.ok(ones instanceof Uint32Array && ones.length === n - 10 && ones[0] === 0 && ones[n - 11] === n - 11);
    assert.deepEqual([...twos!], Array.from({ length: 10 }, (_, i) => n - 10 + i));
    // Its index lists (4 bytes per scribbled element) count towards the working limit: with room for the decoded
    // members only, the same payload is refused before a list is built.
    const tight = { maxDecodedBytes: 2 * n, maxWorkingBytes: 2 * n + 4 * n - 1 };
    assert.throws(() => decodePayload({ format: 'npz', intensity: { kind: 'asis' } }, npz, tight), (err: unknown) => err instanceof CodedError && err.code === 'PAYLOAD_TOO_LARGE' && /scribbles/.test(err.message));
  });
});
