// The codec pool: decoding and encoding on a thread of their own give exactly what decodePayload/encodeLabels
// give in-thread, the big buffers are moved rather than copied, failures keep their class, code and field, and
// close() lets submitted work finish.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { after, test } from 'node:test';
import { CodedError } from '../../src/errors/coded-error.ts';
import { mapError } from '../../src/errors/grpc-status.ts';
import { niftiGeometryForArray, writeNiftiLabels } from '../../src/volume/nifti.ts';
import { writeNpz } from '../../src/volume/npz.ts';
import { decodePayload, encodeLabels, type DecodeOptions, type LabelFormat, type PayloadHeader } from '../../src/volume/payload.ts';
import { CodecPool } from '../../src/workers/codec-pool.ts';

const CASES = new URL('../../../shared/reference/cases/public/imgs/', import.meta.url);
const pool = new CodecPool({ threads: 1 });
after(() => pool.close());

function int16Bytes(values: ArrayLike<number>): Uint8Array {
  return new Uint8Array(Int16Array.from(values).buffer);
}

/** In-thread decode of a copy, then the pool's decode of the original bytes (which the pool takes over). */
async function bothWays(header: PayloadHeader, bytes: Uint8Array, options: DecodeOptions = {}) {
  const inThread = decodePayload(header, Uint8Array.from(bytes), options);
  const pooled = await pool.decode(header, bytes, options);
  return { inThread, pooled };
}

/** The rejection of a promise, or a failure when it resolves. */
async function rejection(promise: Promise<unknown>): Promise<Error> {
  return promise.then(() => assert.fail('expected a rejection'), (err: Error) => err);
}

function thrown(fn: () => unknown): Error {
  try {
    fn();
  } catch (err) {
    return err as Error;
  }
  return assert.fail('expected a throw');
}

test('raw, npz (with boxes and with scribbles) and NIfTI decode exactly as in-thread', async () => {
  const ct = Array.from({ length: 4 * 8 * 8 }, (_, i) => ((i * 37) % 1400) - 1000);
  const raw = await bothWays({ format: 'raw', raw: { shape: [4, 8, 8], dtype: 'int16', spacing: [2, 1, 1] }, intensity: { kind: 'percentile' } }, int16Bytes(ct));
  assert.deepEqual(raw.pooled, raw.inThread);

  const npzCase = new Uint8Array(readFileSync(new URL('3DBox_CT_0001.npz', CASES)));
  const npz = await bothWays({ format: 'npz' }, npzCase);
  assert.deepEqual(npz.pooled, npz.inThread);
  assert.equal(npz.pooled.boxes?.length, 2);

  const scribbles = new Float32Array(4 * 8 * 8);
  scribbles[3] = 1; scribbles[70] = 2; scribbles[71] = 2; scribbles[100] = 1000;
  const scribbleNpz = writeNpz(new Map([
    ['imgs', { dtype: 'int16', shape: [4, 8, 8], data: Int16Array.from(ct) }],
    ['scribbles', { dtype: 'float32', shape: [4, 8, 8], data: scribbles }],
  ] as const), { compress: true });
  const withScribbles = await bothWays({ format: 'npz', intensity: { kind: 'ct-window' } }, scribbleNpz);
  assert.deepEqual(withScribbles.pooled, withScribbles.inThread);
  assert.equal(withScribbles.pooled.scribbles?.length, 2);

  const geometry = niftiGeometryForArray({ kind: 'array', shape: [4, 8, 8], labelShape: [4, 8, 8], spacing: [3, 0.5, 0.5] });
  const niftiFile = gzipSync(writeNiftiLabels(Uint16Array.from(ct, (v) => v + 1000), geometry, false));
  const nifti = await bothWays({ format: 'nifti', intensity: { kind: 'percentile', low: 1, high: 99 } }, niftiFile);
  assert.deepEqual(nifti.pooled, nifti.inThread);
  assert.equal(nifti.pooled.geometry.kind, 'nifti');
});

test('the payload buffer is moved to the codec thread; a view into a larger buffer is copied and left alone', async () => {
  const header: PayloadHeader = { format: 'raw', raw: { shape: [2, 4, 4], dtype: 'uint8' } };
  const whole = Uint8Array.from({ length: 32 }, (_, i) => i);
  const decoded = await pool.decode(header, whole);
  assert.equal(whole.byteLength, 0, 'transferred: detached in the caller');
  assert.deepEqual(Array.from(decoded.image.data), Array.from({ length: 32 }, (_, i) => i));
  // Handing the same (now detached) array in again is an empty payload, not a task that never settles.
  const again = await rejection(pool.decode(header, whole));
  assert.ok(again instanceof CodedError && again.code === 'PAYLOAD_SIZE_MISMATCH', String(again));

  const larger = Uint8Array.from({ length: 40 }, (_, i) => i);
  const view = larger.subarray(4, 36);
  const fromView = await pool.decode(header, view);
  assert.equal(larger.byteLength, 40, 'the larger buffer is still usable');
  assert.deepEqual(Array.from(fromView.image.data), Array.from(view));
});

test('labels encode exactly as in-thread in every format, and force_uint16 widens on the codec thread', async () => {
  const geometry = { kind: 'array', shape: [2, 3, 4], labelShape: [2, 3, 4], spacing: [3, 0.5, 0.5] } as const;
  const labels8 = Uint8Array.from({ length: 24 }, (_, i) => i % 3);
  const labels16 = Uint16Array.from({ length: 24 }, (_, i) => i * 300);
  for (const format of ['raw', 'npz', 'nifti'] as LabelFormat[]) {
    for (const gzip of [false, true]) {
      for (const labels of [labels8, labels16]) {
        const expected = encodeLabels(labels, geometry, format, gzip);
        const sent = labels.slice();
        const encoded = await pool.encode({ labels: sent, geometry, format, gzip, forceUint16: false });
        assert.equal(sent.byteLength, 0, 'the label volume was moved, not copied');
        assert.deepEqual(encoded.bytes, new Uint8Array(expected), `${format} gzip=${gzip}`);
        assert.equal(encoded.dtype, labels instanceof Uint16Array ? 'uint16' : 'uint8');
      }
    }
  }
  const forced = await pool.encode({ labels: labels8.slice(), geometry, format: 'raw', gzip: false, forceUint16: true });
  assert.equal(forced.dtype, 'uint16');
  assert.deepEqual(forced.bytes, encodeLabels(Uint16Array.from(labels8), geometry, 'raw', false));
});

test('failures keep their class, code, field and message, so they map to the same status', async () => {
  const hu = (): Uint8Array => int16Bytes([-1000, 0, 40, 300]);
  const bigNifti = (): Uint8Array => gzipSync(writeNiftiLabels(new Uint8Array(64 * 64), niftiGeometryForArray({ kind: 'array', shape: [1, 64, 64], labelShape: [1, 64, 64] }), false));
  const failing: [PayloadHeader, () => Uint8Array, DecodeOptions][] = [
    [{ format: 'raw', raw: { shape: [1, 2, 2], dtype: 'int16' } }, hu, {}],
    [{ format: 'raw', raw: { shape: [1, 2, 3], dtype: 'int16' } }, hu, {}],
    [{ format: 'raw', raw: { shape: [1, 2, 2], dtype: 'int16' }, intensity: { kind: 'percentile', low: 60, high: 40 } }, hu, {}],
    [{ format: 'npz' }, () => new TextEncoder().encode('not a zip file at all'), {}],
    [{ format: 'nifti' }, bigNifti, { maxDecodedBytes: 1024 }],
  ];
  for (const [header, bytes, options] of failing) {
    const inThread = thrown(() => decodePayload(header, bytes(), options));
    const pooled = await rejection(pool.decode(header, bytes(), options));
    assert.ok(pooled instanceof CodedError, String(pooled));
    assert.equal(pooled.message, inThread.message);
    assert.deepEqual([pooled.code, pooled.field], [(inThread as CodedError).code, (inThread as CodedError).field]);
    assert.deepEqual(mapError(pooled, 'r'), mapError(inThread, 'r'));
  }
  const geometry = { kind: 'array', shape: [2, 2], labelShape: [2, 2] } as const;
  const badLabels = await rejection(pool.encode({ labels: new Uint8Array(3), geometry, format: 'raw', gzip: false, forceUint16: false }));
  assert.ok(badLabels instanceof CodedError);
  assert.deepEqual([badLabels.code, badLabels.field], ['LABELS_INVALID', 'labels']);
  assert.equal(mapError(badLabels).status, mapError(thrown(() => encodeLabels(new Uint8Array(3), geometry, 'raw', false))).status);
});

test('close() waits for submitted work, then refuses more', async () => {
  const own = new CodecPool({ threads: 1 });
  const volume = int16Bytes(Array.from({ length: 64 * 128 * 128 }, (_, i) => i % 2000));
  const decoding = own.decode({ format: 'raw', raw: { shape: [64, 128, 128], dtype: 'int16' }, intensity: { kind: 'ct-window' } }, volume);
  assert.equal(own.pending, 1);
  await own.close();
  const decoded = await decoding;
  assert.equal(decoded.image.data.length, 64 * 128 * 128);
  assert.equal(own.pending, 0);
  assert.match((await rejection(own.decode({ format: 'raw' }, new Uint8Array(1)))).message, /closed/);
});
