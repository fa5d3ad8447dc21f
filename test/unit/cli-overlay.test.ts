// `--overlay`: the montage's slices, size, outline and box colours on synthetic cases, and the PNG that carries it.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decode } from 'fast-png';
import { labelColour, MAX_TILES, overlayPng, overlaySlices, renderMontage, TILE_GAP, type Montage, type OverlayInput } from '../../src/cli/overlay.ts';
import type { ImageVolume } from '../../src/pipeline/types.ts';

function volume(depth: number, height: number, width: number, grey = 100): ImageVolume {
  return { depth, height, width, channels: 1, data: new Uint8Array(depth * height * width).fill(grey) };
}

function fill(labels: Uint8Array, image: ImageVolume, z: number, rows: [number, number], cols: [number, number], label: number): void {
  for (let y = rows[0]; y <= rows[1]; y++) for (let x = cols[0]; x <= cols[1]; x++) labels[(z * image.height + y) * image.width + x] = label;
}

function pixel(m: Montage, tile: number, x: number, y: number): number[] {
  const ox = (tile % m.columns) * (m.tileWidth + TILE_GAP);
  const oy = Math.floor(tile / m.columns) * (m.tileHeight + TILE_GAP);
  const o = ((oy + y) * m.width + ox + x) * 3;
  return [m.rgb[o]!, m.rgb[o + 1]!, m.rgb[o + 2]!];
}

describe('overlay', () => {
  // Five slices of 40 x 30: label 1 on slices 1-2, label 2 on slice 3, a 2D box on slice 1 and a 3D box over 3..4.
  const image = volume(5, 40, 30);
  const labels = new Uint8Array(5 * 40 * 30);
  fill(labels, image, 1, [10, 19], [5, 14], 1);
  fill(labels, image, 2, [10, 19], [5, 14], 1);
  fill(labels, image, 3, [25, 34], [15, 24], 2);
  const input: OverlayInput = {
    image, labels,
    objects: [
      { label: 1, prompt: { kind: 'box2d', x0: 2, y0: 7, x1: 20, y1: 25, z: 1 } },
      { label: 2, prompt: { kind: 'box3d', x0: 12, y0: 22, z0: 3, x1: 28, y1: 38, z1: 4 } },
    ],
  };

  it('shows the slices with a mask or a prompt, in a grid', () => {
    const m = renderMontage(input);
    assert.deepEqual(m.slices, [1, 2, 3, 4]);
    assert.equal(m.columns, 2);
    assert.deepEqual([m.tileWidth, m.tileHeight, m.width, m.height], [30, 40, 30 * 2 + TILE_GAP, 40 * 2 + TILE_GAP]);
  });

  it("draws each label's outline in its colour, leaves the inside grey, dashes the boxes", () => {
    const m = renderMontage(input);
    const c1 = [...labelColour(1)];
    const c2 = [...labelColour(2)];
    assert.notDeepEqual(c1, c2);
    // Slice 1 (tile 0): the square's edge pixels, its inside, and the box's corner.
    for (const [x, y] of [[5, 15], [14, 15], [10, 10], [10, 19], [5, 10]]) assert.deepEqual(pixel(m, 0, x!, y!), c1, `label 1 outline at ${x},${y}`);
    assert.deepEqual(pixel(m, 0, 10, 15), [100, 100, 100]);
    assert.deepEqual(pixel(m, 0, 2, 7), c1, 'box corner');
    assert.deepEqual(pixel(m, 0, 4, 7), [100, 100, 100], 'box dash gap');
    assert.deepEqual(pixel(m, 0, 19, 24), c1, 'box corner at max - 1');
    // Slice 2 (tile 1): the outline, no box.
    assert.deepEqual(pixel(m, 1, 5, 15), c1);
    assert.deepEqual(pixel(m, 1, 2, 7), [100, 100, 100]);
    // Slice 3 (tile 2): label 2 and its box; slice 4 (tile 3): the box only.
    assert.deepEqual(pixel(m, 2, 15, 30), c2);
    assert.deepEqual(pixel(m, 2, 20, 30), [100, 100, 100]);
    assert.deepEqual(pixel(m, 2, 12, 22), c2);
    assert.deepEqual(pixel(m, 3, 12, 22), c2);
    assert.deepEqual(pixel(m, 3, 15, 30), [100, 100, 100]);
    // The gap between tiles is black.
    assert.deepEqual([...m.rgb.subarray(30 * 3, 30 * 3 + 3)], [0, 0, 0]);
  });

  it('encodes a PNG that decodes to the montage', () => {
    const { png, montage } = overlayPng(input);
    const decoded = decode(png);
    assert.deepEqual([decoded.width, decoded.height, decoded.channels, decoded.depth], [montage.width, montage.height, 3, 8]);
    assert.deepEqual(decoded.data, montage.rgb);
    assert.match(decoded.text['Description']!, /slices 1,2,3,4/);
  });

  it('caps the tiles, evenly spread from the first to the last slice', () => {
    const deep = volume(40, 8, 8);
    const all = new Uint8Array(40 * 64).fill(1);
    const slices = overlaySlices({ image: deep, labels: all, objects: [] });
    assert.equal(slices.length, MAX_TILES);
    assert.equal(slices[0], 0);
    assert.equal(slices.at(-1), 39);
    assert.deepEqual(slices, [...new Set(slices)].sort((a, b) => a - b));
    assert.deepEqual(overlaySlices({ image: deep, labels: new Uint8Array(40 * 64), objects: [] }), [20], 'nothing to show: the middle slice');
    assert.deepEqual(overlaySlices({ image: deep, labels: all, objects: [] }, 1), [20]);
  });

  it('downscales a large 2D image to one tile of at most 256 px, colours kept', () => {
    const rgb: ImageVolume = { depth: 1, height: 400, width: 600, channels: 3, data: new Uint8Array(400 * 600 * 3) };
    for (let i = 0; i < 400 * 600; i++) rgb.data.set([10, 200, 30], i * 3);
    const lab = new Uint8Array(400 * 600);
    fill(lab, rgb, 0, [100, 299], [150, 449], 3);
    const { png, montage } = overlayPng({ image: rgb, labels: lab, objects: [{ label: 3, prompt: { kind: 'box2d', x0: 140, y0: 90, x1: 460, y1: 310 } }] });
    const decoded = decode(png);
    assert.deepEqual([decoded.width, decoded.height], [256, 171]);
    assert.deepEqual(montage.slices, [0]);
    assert.deepEqual(pixel(montage, 0, 5, 5), [10, 200, 30]);
    // The mask's left edge, x 150 of 600, lands at x 64 of 256.
    assert.deepEqual(pixel(montage, 0, 64, 85), [...labelColour(3)]);
    assert.deepEqual(pixel(montage, 0, 100, 85), [10, 200, 30]);
  });

  it('dots scribbles in their colour', () => {
    const img = volume(2, 10, 10);
    const voxels = Uint32Array.of(100 + 3 * 10 + 4);
    const m = renderMontage({ image: img, labels: new Uint8Array(200), objects: [{ label: 5, prompt: { kind: 'scribble', voxels } }] });
    assert.deepEqual(m.slices, [1]);
    assert.deepEqual(pixel(m, 0, 4, 3), [...labelColour(5)]);
  });
});
