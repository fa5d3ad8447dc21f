// `onesam segment --overlay out.png`: a picture of the result to look at before opening a viewer. A montage of the
// slices that hold a mask or a prompt (at most MAX_TILES, evenly chosen), each tile the image in grey (or its own
// colours) downscaled to at most MAX_TILE_PIXELS a side, each label's outline in its own colour, the prompt boxes
// dashed and scribbles dotted in their object's colour: what the reference scripts' figures show. The raster is a
// pure function (tested on synthetic cases); fast-png encodes it.
import { encode } from 'fast-png';
import type { ImageVolume, ObjectPrompt } from '../pipeline/types.ts';

export const MAX_TILES = 16;
export const MAX_TILE_PIXELS = 256;
/** Black pixels between tiles. */
export const TILE_GAP = 2;

/** Label colours, cycled: saturated, none grey (r = g = b), so no outline can be mistaken for the image. */
const PALETTE: readonly (readonly [number, number, number])[] = Object.freeze([
  [255, 64, 64], [64, 220, 64], [64, 128, 255], [255, 220, 0], [255, 0, 255], [0, 230, 230],
  [255, 140, 0], [160, 80, 255], [150, 255, 120], [255, 128, 170], [0, 160, 120], [200, 160, 80],
]);

export function labelColour(label: number): readonly [number, number, number] {
  return PALETTE[(label - 1) % PALETTE.length]!;
}

export interface OverlayInput {
  readonly image: ImageVolume;
  /** depth * height * width labels, the pipeline's result. */
  readonly labels: Uint8Array | Uint16Array;
  /** The prompts, drawn on the slices they touch. */
  readonly objects: readonly ObjectPrompt[];
}

export interface OverlayOptions {
  readonly maxTiles?: number;
  readonly maxTilePixels?: number;
}

export interface Montage {
  readonly width: number;
  readonly height: number;
  /** width * height * 3 bytes, RGB, row-major. */
  readonly rgb: Uint8Array;
  /** The slice shown in each tile, left to right then top to bottom. */
  readonly slices: readonly number[];
  readonly columns: number;
  readonly tileWidth: number;
  readonly tileHeight: number;
}

/** Slices holding a label voxel or touched by a prompt; at most maxTiles of them, evenly spread, ascending. */
export function overlaySlices(input: OverlayInput, maxTiles = MAX_TILES): number[] {
  const { depth, height, width } = input.image;
  const plane = height * width;
  const shown = new Uint8Array(depth);
  for (let z = 0; z < depth; z++) {
    const end = (z + 1) * plane;
    for (let i = z * plane; i < end; i++) {
      if (input.labels[i] !== 0) {
        shown[z] = 1;
        break;
      }
    }
  }
  for (const { prompt } of input.objects) {
    if (prompt.kind === 'box2d') shown[prompt.z ?? 0] = 1;
    else if (prompt.kind === 'box3d') for (let z = Math.max(0, prompt.z0); z <= Math.min(depth - 1, prompt.z1); z++) shown[z] = 1;
    else for (const v of prompt.voxels) shown[Math.floor(v / plane)] = 1;
  }
  const candidates: number[] = [];
  shown.forEach((s, z) => { if (s) candidates.push(z); });
  // Nothing to show (every mask empty and no prompt): the middle slice, so the picture still shows the image.
  if (candidates.length === 0) return [Math.floor(depth / 2)];
  if (candidates.length <= maxTiles) return candidates;
  if (maxTiles === 1) return [candidates[Math.floor(candidates.length / 2)]!];
  return Array.from({ length: maxTiles }, (_, i) => candidates[Math.round((i * (candidates.length - 1)) / (maxTiles - 1))]!);
}

export function renderMontage(input: OverlayInput, options: OverlayOptions = {}): Montage {
  const { image, labels } = input;
  const { height: H, width: W, channels } = image;
  const plane = H * W;
  const slices = overlaySlices(input, options.maxTiles ?? MAX_TILES);
  const scale = Math.min(1, (options.maxTilePixels ?? MAX_TILE_PIXELS) / Math.max(H, W));
  const tw = Math.max(1, Math.round(W * scale));
  const th = Math.max(1, Math.round(H * scale));
  const columns = Math.ceil(Math.sqrt(slices.length));
  const rows = Math.ceil(slices.length / columns);
  const width = columns * tw + (columns - 1) * TILE_GAP;
  const height = rows * th + (rows - 1) * TILE_GAP;
  const rgb = new Uint8Array(width * height * 3);
  // Nearest-neighbour sampling: a tile pixel shows the source pixel under its centre.
  const srcX = Int32Array.from({ length: tw }, (_, x) => Math.min(W - 1, Math.floor(((x + 0.5) * W) / tw)));
  const srcY = Int32Array.from({ length: th }, (_, y) => Math.min(H - 1, Math.floor(((y + 0.5) * H) / th)));
  const tileOf = new Map(slices.map((z, t) => [z, t]));
  const origin = (t: number): [number, number] => [(t % columns) * (tw + TILE_GAP), Math.floor(t / columns) * (th + TILE_GAP)];
  const put = (t: number, x: number, y: number, c: readonly [number, number, number]): void => {
    if (x < 0 || y < 0 || x >= tw || y >= th) return;
    const [ox, oy] = origin(t);
    const o = ((oy + y) * width + ox + x) * 3;
    rgb[o] = c[0];
    rgb[o + 1] = c[1];
    rgb[o + 2] = c[2];
  };

  const tileLabels = slices.map((z, t) => {
    const lab = new Uint16Array(tw * th);
    const [ox, oy] = origin(t);
    for (let y = 0; y < th; y++) {
      for (let x = 0; x < tw; x++) {
        const s = z * plane + srcY[y]! * W + srcX[x]!;
        const o = ((oy + y) * width + ox + x) * 3;
        if (channels === 3) {
          rgb[o] = image.data[s * 3]!;
          rgb[o + 1] = image.data[s * 3 + 1]!;
          rgb[o + 2] = image.data[s * 3 + 2]!;
        } else {
          rgb[o] = rgb[o + 1] = rgb[o + 2] = image.data[s]!;
        }
        lab[y * tw + x] = labels[s]!;
      }
    }
    return lab;
  });

  // Prompts under the outlines: the result is what a person checks, the prompt what they compare it with.
  const toTileX = (x: number): number => Math.floor((x * tw) / W);
  const toTileY = (y: number): number => Math.floor((y * th) / H);
  for (const { label, prompt } of input.objects) {
    const colour = labelColour(label);
    if (prompt.kind === 'scribble') {
      for (const v of prompt.voxels) {
        const t = tileOf.get(Math.floor(v / plane));
        if (t !== undefined) put(t, toTileX(v % W), toTileY(Math.floor((v % plane) / W)), colour);
      }
      continue;
    }
    const [z0, z1] = prompt.kind === 'box2d' ? [prompt.z ?? 0, prompt.z ?? 0] : [prompt.z0, prompt.z1];
    // Box max is exclusive: its last pixel column is x1 - 1.
    const x0 = toTileX(prompt.x0);
    const y0 = toTileY(prompt.y0);
    const x1 = Math.ceil((prompt.x1 * tw) / W) - 1;
    const y1 = Math.ceil((prompt.y1 * th) / H) - 1;
    for (const [z, t] of tileOf) {
      if (z < z0 || z > z1) continue;
      // Dashed, two on two off, so a box is told from an outline.
      for (let x = x0; x <= x1; x++) if ((x - x0) % 4 < 2) { put(t, x, y0, colour); put(t, x, y1, colour); }
      for (let y = y0; y <= y1; y++) if ((y - y0) % 4 < 2) { put(t, x0, y, colour); put(t, x1, y, colour); }
    }
  }

  // Outlines: a labelled pixel whose 4-neighbour (or the tile's edge) is not of its label.
  tileLabels.forEach((lab, t) => {
    for (let y = 0; y < th; y++) {
      for (let x = 0; x < tw; x++) {
        const k = lab[y * tw + x]!;
        if (k === 0) continue;
        const edge = x === 0 || y === 0 || x === tw - 1 || y === th - 1 ||
          lab[y * tw + x - 1] !== k || lab[y * tw + x + 1] !== k || lab[(y - 1) * tw + x] !== k || lab[(y + 1) * tw + x] !== k;
        if (edge) put(t, x, y, labelColour(k));
      }
    }
  });
  return { width, height, rgb, slices, columns, tileWidth: tw, tileHeight: th };
}

/** The montage as PNG bytes; its tEXt names the slices shown (indices only: nothing of the input's metadata). */
export function overlayPng(input: OverlayInput, options: OverlayOptions = {}): { png: Uint8Array; montage: Montage } {
  const montage = renderMontage(input, options);
  const png = encode({
    width: montage.width, height: montage.height, data: montage.rgb, channels: 3, depth: 8,
    text: { Description: `onesam segment overlay; slices ${montage.slices.join(',')}, ${montage.columns} per row` },
  });
  return { png, montage };
}
