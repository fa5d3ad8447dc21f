// Logits to masks (PyTorch bilinear, align_corners=False, then sigmoid > 0.5) and the propagated box.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { bboxFromMask256 } from '../../src/imaging/bbox.ts';
import { linearAxis, postprocessLogits, sigmoidAboveHalf } from '../../src/imaging/postprocess.ts';

describe('linearAxis (PyTorch source index and lambdas)', () => {
  it('upsamples 2 -> 4 with half-pixel centres, clamping at both ends', () => {
    // src = 0.5 * (d + 0.5) - 0.5 = -0.25 (-> 0), 0.25, 0.75, 1.25 (i0 = 1 is the last pixel, so i1 = i0)
    const a = linearAxis(2, 4);
    assert.deepEqual([...a.i0], [0, 0, 0, 1]);
    assert.deepEqual([...a.i1], [1, 1, 1, 1]);
    assert.deepEqual([...a.l1], [0, 0.25, 0.75, 0.25]);
    assert.deepEqual([...a.l0], [1, 0.75, 0.25, 0.75]);
  });

  it('downsamples 4 -> 2 by sampling between pixel pairs', () => {
    const a = linearAxis(4, 2); // src = 2 * (d + 0.5) - 0.5 = 0.5, 2.5
    assert.deepEqual([...a.i0], [0, 2]);
    assert.deepEqual([...a.l1], [0.5, 0.5]);
  });

  it('copies when sizes are equal', () => {
    const a = linearAxis(3, 3);
    assert.deepEqual([...a.i0, ...a.i1, ...a.l0, ...a.l1], [0, 1, 2, 0, 1, 2, 1, 1, 1, 0, 0, 0]);
  });

  it('computes the scale and source index in float32', () => {
    // 256 / 160 = 1.6 is 1.60000002384... in float32; for d = 91 the float32 source index 145.90000916 gives
    // lambda1 0.90000916, not 0.9
    const a = linearAxis(256, 160);
    assert.equal(a.i0[91], 145);
    assert.equal(a.l1[91], Math.fround(Math.fround(Math.fround(Math.fround(1.6) * 91.5) - 0.5) - 145));
    assert.notEqual(a.l1[91], Math.fround(0.9));
  });
});

describe('sigmoidAboveHalf', () => {
  it('is v > 0 except in the float32 sliver where 1 / (1 + exp(-v)) rounds to 0.5', () => {
    assert.equal(sigmoidAboveHalf(-1), false);
    assert.equal(sigmoidAboveHalf(0), false);
    assert.equal(sigmoidAboveHalf(5e-8), false); // exp(-v) rounds to 1 - 2^-24, 1 + that ties to 2
    assert.equal(sigmoidAboveHalf(1e-7), true); // exp(-v) rounds to 1 - 2^-23, the sum stays below 2
    assert.equal(sigmoidAboveHalf(3), true);
    assert.equal(sigmoidAboveHalf(Number.NaN), false);
  });
});

describe('postprocessLogits', () => {
  it('crops to newh x neww, interpolates and thresholds', () => {
    const logits = new Float32Array(256 * 256).fill(-5);
    // a 2 x 2 crop: [[-1, 3], [-1, 3]] upsampled to 2 x 4 -> columns -1, 0, 2, 3 (the 0 stays background)
    logits[0] = -1; logits[1] = 3; logits[256] = -1; logits[257] = 3;
    const mask = postprocessLogits(logits, 2, 2, 2, 4);
    assert.deepEqual([...mask], [0, 0, 1, 1, 0, 0, 1, 1]);
  });

  it('ignores logits outside the crop', () => {
    const logits = new Float32Array(256 * 256).fill(10);
    for (let y = 0; y < 128; y++) for (let x = 0; x < 256; x++) logits[y * 256 + x] = -10;
    const mask = postprocessLogits(logits, 128, 256, 320, 640);
    assert.ok(mask.every((v) => v === 0));
  });

  it('matches a direct per-pixel evaluation of the separable formula', () => {
    const logits = new Float32Array(256 * 256);
    for (let i = 0; i < logits.length; i++) logits[i] = Math.fround(Math.sin(i * 0.37) * 4 + Math.cos(i * 0.011));
    const [newh, neww, h, w] = [197, 256, 200, 260];
    const mask = postprocessLogits(logits, newh, neww, h, w);
    const ax = linearAxis(neww, w);
    const ay = linearAxis(newh, h);
    const fr = Math.fround;
    const row = (r: number, x: number): number => fr(fr(logits[r * 256 + ax.i0[x]!]! * ax.l0[x]!) + fr(logits[r * 256 + ax.i1[x]!]! * ax.l1[x]!));
    for (let y = 0; y < h; y += 7) {
      for (let x = 0; x < w; x += 3) {
        const v = fr(fr(row(ay.i0[y]!, x) * ay.l0[y]!) + fr(row(ay.i1[y]!, x) * ay.l1[y]!));
        assert.equal(mask[y * w + x], sigmoidAboveHalf(v) ? 1 : 0);
      }
    }
  });

  it('rejects a crop larger than the logits', () => {
    assert.throws(() => postprocessLogits(new Float32Array(65536), 257, 10, 5, 5), /crop/);
  });
});

describe('bboxFromMask256', () => {
  it('returns min/max of nonzero pixels widened by 3, clamped to [0, 256]', () => {
    const m = new Uint8Array(65536);
    m[10 * 256 + 20] = 5;
    m[40 * 256 + 2] = 5;
    m[255 * 256 + 254] = 5;
    assert.deepEqual(bboxFromMask256(m), [0, 7, 256, 256]);
    const n = new Uint8Array(65536);
    n[100 * 256 + 50] = 1;
    assert.deepEqual(bboxFromMask256(n), [47, 97, 53, 103]);
    assert.deepEqual(bboxFromMask256(n, 0), [50, 100, 50, 100]);
  });

  it('returns null for an empty mask', () => {
    assert.equal(bboxFromMask256(new Uint8Array(65536)), null);
  });
});
