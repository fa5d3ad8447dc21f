// Intensity preparation against values computed with numpy by the reference recipe (pre_CT_MR.py):
//   ct:  pre = np.clip(img, L - W/2, L + W/2); pre = (pre - pre.min()) / (pre.max() - pre.min()) * 255.0
//   mr:  l, u = np.percentile(img[img > 0], low), np.percentile(img[img > 0], high); clip; same rescale;
//        pre[img == 0] = 0
//   then np.uint8(pre).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CodedError } from '../../src/errors/coded-error.ts';
import { asIsUint8, ctWindow, percentileWindow, prepareIntensity } from '../../src/volume/intensity.ts';

function assertVolumeError(fn: () => unknown, code: string, field: string): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof CodedError, `expected CodedError, got ${String(err)}`);
    assert.equal(err.code, code);
    assert.equal(err.field, field);
    assert.ok(err.message.startsWith(`${field}: `), err.message);
    return true;
  });
}

describe('CT window', () => {
  it('maps int16 HU through the default soft-tissue window (40/400) with truncation, not rounding', () => {
    const hu = Int16Array.from([-1000, -160, 0, 40, 240, 1000]);
    // 40 HU -> (200 / 400) * 255 = 127.5 -> 127.
    assert.deepEqual([...prepareIntensity(hu, { kind: 'ct-window' })], [0, 0, 102, 127, 255, 255]);
  });

  it('min-maxes over the clipped volume, not over the window bounds (the reference quirk)', () => {
    assert.deepEqual([...ctWindow(Int16Array.from([0, 50, 100]), 40, 400)], [0, 127, 255]);
    assert.deepEqual([...ctWindow(Int16Array.from([-1000, -600, -500, 0, 150, 900]), -600, 1500)], [0, 88, 110, 221, 255, 255]);
  });

  it('computes float32 voxels in float32 as numpy does', () => {
    assert.deepEqual([...ctWindow(Float32Array.from([-200.5, 10.25, 100.125, 300]), 40, 400)], [0, 108, 165, 255]);
  });

  it('gives zeros for a volume that is constant after clipping (numpy would produce NaN)', () => {
    assert.deepEqual([...ctWindow(Int16Array.from([500, 600, 700]), 40, 400)], [0, 0, 0]);
  });

  it('rejects a non-positive width and a non-finite level, naming the field', () => {
    assertVolumeError(() => prepareIntensity(Int16Array.of(1), { kind: 'ct-window', width: 0 }), 'INTENSITY_INVALID', 'header.intensity.width');
    assertVolumeError(() => prepareIntensity(Int16Array.of(1), { kind: 'ct-window', level: Number.NaN }), 'INTENSITY_INVALID', 'header.intensity.level');
  });
});

describe('percentile window (MR style)', () => {
  const mr = Int16Array.from([0, 0, -5, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100]);

  it('clips to numpy linear percentiles of the voxels > 0 and keeps zeros at zero', () => {
    // np.percentile(mr[mr > 0], [10, 90]) = [19.0, 91.0]; -5 is clipped up to 19 and maps to 0.
    assert.deepEqual([...percentileWindow(mr, 10, 90)], [0, 0, 0, 0, 3, 38, 74, 109, 145, 180, 216, 251, 255]);
    // Defaults 0.5 / 99.5: bounds 10.45 / 99.55.
    assert.deepEqual([...prepareIntensity(mr, { kind: 'percentile' })], [0, 0, 0, 0, 27, 55, 84, 113, 141, 170, 199, 227, 255]);
  });

  it('gives the same result through the histogram path (16-bit) and the selection path (32-bit)', () => {
    const values = Array.from({ length: 5000 }, (_, i) => ((i * 7919) % 4001) - 500);
    const viaHistogram = percentileWindow(Int16Array.from(values), 0.5, 99.5);
    const viaSelection = percentileWindow(Int32Array.from(values), 0.5, 99.5);
    assert.deepEqual(viaSelection, viaHistogram);
    assert.ok(viaHistogram.some((v) => v === 255) && viaHistogram.some((v) => v > 0 && v < 255));
  });

  it('computes float32 voxels in float32 as numpy does', () => {
    const f = Float32Array.from([0, 3.3, 7.1, 1e3, 12.5, 0, 2.2, 50.75]);
    assert.deepEqual([...percentileWindow(f, 20, 80)], [0, 0, 20, 255, 49, 0, 0, 255]);
  });

  it('rejects a volume without positive voxels and bad percentiles, naming the field', () => {
    assertVolumeError(() => percentileWindow(Int16Array.from([0, -3, 0]), 0.5, 99.5), 'INTENSITY_INVALID', 'header.intensity.kind');
    assertVolumeError(() => prepareIntensity(mr, { kind: 'percentile', low: 60, high: 40 }), 'INTENSITY_INVALID', 'header.intensity.low');
    assertVolumeError(() => prepareIntensity(mr, { kind: 'percentile', high: 101 }), 'INTENSITY_INVALID', 'header.intensity.high');
  });

  it('rejects non-finite float voxels, naming the payload', () => {
    assertVolumeError(() => percentileWindow(Float32Array.from([1, Number.NaN, 3]), 0.5, 99.5), 'INTENSITY_INVALID', 'payload');
  });
});

describe('as-is', () => {
  it('passes uint8 through without copying', () => {
    const u8 = Uint8Array.from([0, 7, 255]);
    assert.equal(asIsUint8(u8), u8);
  });

  it('accepts other dtypes holding integers 0..255 and rejects anything else', () => {
    assert.deepEqual([...asIsUint8(Float32Array.from([0, 128, 255]))], [0, 128, 255]);
    assertVolumeError(() => asIsUint8(Int16Array.from([0, 256])), 'INTENSITY_INVALID', 'header.intensity.kind');
    assertVolumeError(() => asIsUint8(Float32Array.from([1.5])), 'INTENSITY_INVALID', 'header.intensity.kind');
    assertVolumeError(() => asIsUint8(Int16Array.from([-1])), 'INTENSITY_INVALID', 'header.intensity.kind');
  });

  it('rejects an unknown kind', () => {
    assertVolumeError(() => prepareIntensity(Uint8Array.of(1), { kind: 'gamma' } as never), 'INTENSITY_INVALID', 'header.intensity.kind');
  });
});
