// INTER_AREA resize: hand-computed expectations for each of OpenCV's paths, plus fingerprints of real OpenCV
// output for pseudo-random inputs.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { areaTab, resizeArea } from '../../src/imaging/resize-area.ts';

const u8 = (...v: number[]): Uint8Array => Uint8Array.from(v);

describe('resizeArea: same size', () => {
  it('copies, without aliasing the input', () => {
    const src = u8(1, 2, 3, 4, 5, 6);
    const out = resizeArea(src, 2, 3, 1, 2, 3);
    assert.deepEqual(out, src);
    assert.notEqual(out.buffer, src.buffer);
  });
});

describe('resizeArea: integral factors ("area fast")', () => {
  it('2x2 rounds half up with integers: (a + b + c + d + 2) >> 2', () => {
    // cells sum to 6 (1.5 -> 2), 10 (2.5 -> 3, not the even 2), 3 (0.75 -> 1) and 1 (0.25 -> 0)
    const src = u8(
      1, 2, 2, 3, 1, 0, 0, 0,
      1, 2, 2, 3, 1, 1, 1, 0,
    );
    assert.deepEqual(resizeArea(src, 2, 8, 1, 1, 4), u8(2, 3, 1, 0));
  });

  it('2x2 keeps channels apart', () => {
    // one 2x2 cell of RGB pixels; per channel the sums are 4 (-> 1), 9 (2.25 -> 2) and 1020 (-> 255)
    const src = u8(1, 2, 255, 1, 2, 255, 1, 2, 255, 1, 3, 255);
    assert.deepEqual(resizeArea(src, 2, 2, 3, 1, 1), u8(1, 2, 255));
  });

  it('other factors multiply the integer sum by float32 1/k^2 and round half to even', () => {
    // four 4x4 cells side by side with sums 8 (0.5 -> 0), 24 (1.5 -> 2), 40 (2.5 -> 2) and 4080 (-> 255)
    const cellValues = [
      [1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0],
      [2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 0, 0, 0, 0],
      [3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 1, 1, 1, 1],
      new Array<number>(16).fill(255),
    ];
    const src = new Uint8Array(4 * 16);
    cellValues.forEach((values, cell) => values.forEach((v, i) => { src[Math.floor(i / 4) * 16 + cell * 4 + (i % 4)] = v; }));
    assert.deepEqual(resizeArea(src, 4, 16, 1, 1, 4), u8(0, 2, 2, 255));
  });
});

describe('resizeArea: fractional factors', () => {
  it('builds OpenCV decimation tables (partial edge pixels, weights per cell)', () => {
    const t = areaTab(3, 2, 1.5);
    assert.deepEqual([...t.src], [0, 1, 1, 2]);
    assert.deepEqual([...t.dst], [0, 0, 1, 1]);
    assert.deepEqual([...t.weight], [Math.fround(2 / 3), Math.fround(1 / 3), Math.fround(1 / 3), Math.fround(2 / 3)]);
  });

  it('averages with fractional weights in float32 (3 -> 2 columns)', () => {
    // out0 = 2/3 * 0 + 1/3 * 3 = 1, out1 = 1/3 * 3 + 2/3 * 6 = 5; rows 2 -> 1 with weights 1/2
    assert.deepEqual(resizeArea(u8(0, 3, 6, 0, 3, 6), 2, 3, 1, 1, 2), u8(1, 5));
    // a row pair 10/11 averages to 10.5, which rounds half to even
    assert.deepEqual(resizeArea(u8(10, 10, 10, 11, 11, 11), 2, 3, 1, 1, 2), u8(10, 10));
  });

  it('keeps a constant image constant', () => {
    for (const v of [0, 1, 127, 255]) {
      const out = resizeArea(new Uint8Array(37 * 53 * 3).fill(v), 37, 53, 3, 25, 36);
      assert.ok(out.every((x) => x === v), `constant ${v}`);
    }
  });
});

describe('resizeArea: upscaling (bilinear with area-mode coefficients, 11-bit fixed point)', () => {
  it('repeats pixels when the factor is an integer', () => {
    assert.deepEqual(resizeArea(u8(10, 20), 1, 2, 1, 1, 4), u8(10, 10, 20, 20));
  });

  it('interpolates with fixed-point weights 683/1365 for 3 -> 4', () => {
    // out1 = (30 * 1365) / 2048 -> 20, out2 = (30 * 1365 + 60 * 683) / 2048 -> 40, borders copy
    assert.deepEqual(resizeArea(u8(0, 30, 60), 1, 3, 1, 1, 4), u8(0, 20, 40, 60));
  });
});

// Fingerprints of cv2.resize(img, (neww, newh), interpolation=cv2.INTER_AREA) from OpenCV 4.6.0 (Debian's
// python3-opencv, x86-64) on the same pseudo-random images (an LCG: s = s * 1664525 + 1013904223 mod 2^32, byte =
// s >> 24). Label masks take `label` where the byte is below 40, else 0.
interface Golden {
  readonly name: string; readonly h: number; readonly w: number; readonly channels: number;
  readonly newh: number; readonly neww: number; readonly seed: number; readonly label?: number; readonly sha256: string;
}
const GOLDEN: readonly Golden[] = [
  { name: 'same size copy', h: 256, w: 200, channels: 3, newh: 256, neww: 200, seed: 1,
    sha256: '7984b5e285b19cbb3cb595d1c390a07d23b163bd5256c215602a3adfceb58548' },
  { name: '2x2 area fast, 3 channels', h: 512, w: 384, channels: 3, newh: 256, neww: 192, seed: 2,
    sha256: 'e1cdcaf71acdc085e41fd80fdd3f7508e29f52ecb4f1d38c9c707e7965afdd41' },
  { name: '2x2 area fast, 1 channel', h: 64, w: 48, channels: 1, newh: 32, neww: 24, seed: 3,
    sha256: '8a97e2fe7f18041b199775f2a1b4bd1ea474a3f2dd1c3be472a5b396c51e28c0' },
  { name: '4x4 area fast, 1 channel', h: 64, w: 64, channels: 1, newh: 16, neww: 16, seed: 4,
    sha256: '45d34cdd0cfbf546d74ddb573831f8ca4336dcb76a8d6a4d192f175598c288c2' },
  { name: '10x10 area fast, 3 channels', h: 100, w: 50, channels: 3, newh: 10, neww: 5, seed: 5,
    sha256: '28475b3c3c9ed499b7ae9bf0468ff9fe1e0f521422536625cf106230ea793a65' },
  { name: 'fractional, 600x800 RGB', h: 600, w: 800, channels: 3, newh: 192, neww: 256, seed: 6,
    sha256: 'a8b2b78302cfeff7a3dd1bf304aca2171894f7d800359cd56892586ff68571ee' },
  { name: 'fractional, 200x260 grey', h: 200, w: 260, channels: 1, newh: 197, neww: 256, seed: 7,
    sha256: 'ab6edf103f838ea8c248a3195388737d7f680e025f8d7130062e3d91ea3059d3' },
  { name: 'fractional, 320x320 grey', h: 320, w: 320, channels: 1, newh: 256, neww: 256, seed: 8,
    sha256: 'bfc2c68da7b37066a9795e408669e75c00f87dce1659551c1c3e68dd3d052c0d' },
  { name: 'fractional, 115x400 RGB', h: 115, w: 400, channels: 3, newh: 74, neww: 256, seed: 9,
    sha256: '19c6cf96ee0830eeade1bfab2bdf940f0a43e6be73c8c9cca41ba6b1d4d9e60f' },
  { name: 'fractional rows, integral columns', h: 257, w: 10, channels: 1, newh: 256, neww: 10, seed: 10,
    sha256: '1585bfe18bb02c001924dec4abf5481df92e0356402d4368e5ccf74c19d6a127' },
  { name: 'upscale, 128x160 RGB', h: 128, w: 160, channels: 3, newh: 205, neww: 256, seed: 11,
    sha256: 'a9910e70914718d7ea7454bf724cc3f59216b68b43a3902d83175666da8e7838' },
  { name: 'upscale, 200x200 grey', h: 200, w: 200, channels: 1, newh: 256, neww: 256, seed: 12,
    sha256: 'b4f6f5242496d920945c0883777be594027fd9d5e1c181dcb917833c3245d43d' },
  { name: 'upscale, 7x5 RGB', h: 7, w: 5, channels: 3, newh: 256, neww: 183, seed: 13,
    sha256: '9bfb965d928e3008f19498f809d425f0b841bac1eb15e102ea6d75cea7efcb28' },
  { name: 'up rows, down columns', h: 50, w: 300, channels: 1, newh: 60, neww: 256, seed: 14,
    sha256: 'c691fa099d11dcd9f0a076bc252001469e6efd1af141b68671215ae59df459f4' },
  { name: 'label mask 2x (index 1)', h: 300, w: 150, channels: 1, newh: 150, neww: 75, seed: 21, label: 1,
    sha256: '26aaa7fc80d745fd9c663f4acd8684185c473e38f136b1d8897ac23a0c345893' },
  { name: 'label mask fractional (index 7)', h: 200, w: 260, channels: 1, newh: 197, neww: 256, seed: 22, label: 7,
    sha256: '1f23c532519dfe006a0ee4e0e90c5d8dae4887cb13304cc2d095bbdcb6727878' },
  { name: 'label mask upscale (index 3)', h: 100, w: 80, channels: 1, newh: 256, neww: 205, seed: 23, label: 3,
    sha256: '28eb6dee20853a1da7eaa7e766c9108196ca49bfd210a8090b6715326e32b4ae' },
];

function lcgBytes(seed: number, n: number): Uint8Array {
  const out = new Uint8Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s >>> 24;
  }
  return out;
}

describe('resizeArea matches OpenCV output bit for bit', () => {
  for (const g of GOLDEN) {
    it(`${g.name}: ${g.h}x${g.w}x${g.channels} -> ${g.newh}x${g.neww}`, () => {
      let img = lcgBytes(g.seed, g.h * g.w * g.channels);
      if (g.label !== undefined) img = img.map((b) => (b < 40 ? g.label! : 0));
      const out = resizeArea(img, g.h, g.w, g.channels, g.newh, g.neww);
      assert.equal(out.length, g.newh * g.neww * g.channels);
      assert.equal(createHash('sha256').update(out).digest('hex'), g.sha256);
    });
  }
});

describe('resizeArea argument checks', () => {
  it('rejects a source of the wrong length and non-positive sizes', () => {
    assert.throws(() => resizeArea(new Uint8Array(5), 2, 3, 1, 1, 1), /expected h\*w\*channels/);
    assert.throws(() => resizeArea(new Uint8Array(6), 2, 3, 1, 0, 1), /newh must be a positive integer/);
  });
});
