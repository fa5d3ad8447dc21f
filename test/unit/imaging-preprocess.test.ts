// Encoder input geometry and intensities: longest-side sizes, box scaling, min-max, padding and CHW layout.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { longestSideSize, scaleBox } from '../../src/imaging/longest-side.ts';
import { normalizeMinMax, padAndLayoutCHW, preprocessSlice } from '../../src/imaging/normalize.ts';
import { resizeArea } from '../../src/imaging/resize-area.ts';

describe('longestSideSize', () => {
  it('reproduces the reference sizes (int(x * scale + 0.5))', () => {
    const table: [number, number, number, number][] = [
      [320, 640, 128, 256], [480, 560, 219, 256], [3024, 4032, 192, 256], [1536, 2040, 193, 256],
      [115, 400, 74, 256], [200, 200, 256, 256], [128, 160, 205, 256], [200, 260, 197, 256],
    ];
    for (const [h, w, newh, neww] of table) assert.deepEqual(longestSideSize(h, w), { newh, neww }, `${h}x${w}`);
  });

  it('always gives the longest side exactly the target', () => {
    for (let h = 1; h < 700; h += 37) {
      for (let w = 1; w < 700; w += 41) {
        const { newh, neww } = longestSideSize(h, w);
        assert.equal(Math.max(newh, neww), 256, `${h}x${w}`);
      }
    }
  });
});

describe('scaleBox', () => {
  it('truncates coord * 256 / max(h, w) toward zero, using the nominal ratio', () => {
    // ratio 256 / 640 = 0.4: 101 * 0.4 = 40.4 -> 40, 299 * 0.4 = 119.6 -> 119
    assert.deepEqual(scaleBox([101, 50, 299, 319], 320, 640), [40, 20, 119, 127]);
    // upscaling ratio 1.28 for a 200 x 200 image
    assert.deepEqual(scaleBox([0, 10, 199, 150], 200, 200), [0, 12, 254, 192]);
  });
});

describe('normalizeMinMax', () => {
  it('maps min..max to 0..1 over all channels, float64 rounded once to float32', () => {
    const out = normalizeMinMax(Uint8Array.from([10, 20, 40, 10, 30, 40]));
    assert.deepEqual([...out], [0, Math.fround(1 / 3), 1, 0, Math.fround(2 / 3), 1]);
  });

  it('turns a constant image into zeros', () => {
    assert.ok(normalizeMinMax(new Uint8Array(12).fill(77)).every((v) => v === 0));
  });
});

describe('padAndLayoutCHW', () => {
  it('lays out HWC as CHW, zero padded at the bottom and right', () => {
    const norm = Float32Array.from([0.1, 0.2, 0.3, 0.4, 0.5, 0.6]); // 1 x 2 pixels, RGB
    const chw = padAndLayoutCHW(norm, 1, 2, 3);
    assert.equal(chw.length, 3 * 256 * 256);
    assert.deepEqual([chw[0], chw[1], chw[2]], [Math.fround(0.1), Math.fround(0.4), 0]);
    assert.deepEqual([chw[65536], chw[65537]], [Math.fround(0.2), Math.fround(0.5)]);
    assert.deepEqual([chw[131072], chw[131073]], [Math.fround(0.3), Math.fround(0.6)]);
    assert.equal(chw.reduce((a, b) => a + (b !== 0 ? 1 : 0), 0), 6);
  });

  it('replicates a grey image to three channels', () => {
    const chw = padAndLayoutCHW(Float32Array.from([0.25, 0.75]), 2, 1, 1);
    for (let c = 0; c < 3; c++) assert.deepEqual([chw[c * 65536], chw[c * 65536 + 256]], [0.25, 0.75]);
  });
});

describe('preprocessSlice', () => {
  it('gives a grey slice the same tensor as the slice repeated to RGB (what the reference does)', () => {
    const h = 150;
    const w = 190;
    const grey = new Uint8Array(h * w);
    for (let i = 0; i < grey.length; i++) grey[i] = (i * 7919) % 251;
    const rgb = new Uint8Array(h * w * 3);
    for (let i = 0; i < grey.length; i++) rgb.fill(grey[i]!, 3 * i, 3 * i + 3);
    const a = preprocessSlice(grey, h, w, 1);
    const b = preprocessSlice(rgb, h, w, 3);
    assert.deepEqual({ newh: a.newh, neww: a.neww }, { newh: 202, neww: 256 });
    assert.deepEqual(a.tensor, b.tensor);
  });

  it('normalises the resized (not the original) image and spans exactly 0..1 inside the crop', () => {
    const h = 300;
    const w = 100;
    const img = new Uint8Array(h * w * 3);
    for (let i = 0; i < img.length; i++) img[i] = 50 + (i % 101);
    const { tensor, newh, neww } = preprocessSlice(img, h, w, 3);
    const resized = resizeArea(img, h, w, 3, newh, neww);
    const mn = Math.min(...resized);
    const mx = Math.max(...resized);
    assert.equal(tensor[0], Math.fround((resized[0]! - mn) / (mx - mn)));
    let lo = Infinity;
    let hi = -Infinity;
    for (let c = 0; c < 3; c++) {
      for (let y = 0; y < newh; y++) {
        for (let x = 0; x < neww; x++) {
          const v = tensor[c * 65536 + y * 256 + x]!;
          lo = Math.min(lo, v);
          hi = Math.max(hi, v);
        }
      }
    }
    assert.deepEqual([lo, hi], [0, 1]);
    assert.equal(tensor[255], 0, 'padding column');
  });

  it('writes into a provided buffer', () => {
    const out = new Float32Array(3 * 65536).fill(9);
    const res = preprocessSlice(new Uint8Array(16).fill(3), 4, 4, 1, out);
    assert.equal(res.tensor, out);
    assert.ok(out.every((v) => v === 0));
  });
});
