// Synthetic volumes of the seed paper's Table 5 shapes for `onesam bench`: dark ellipsoids in a textured
// background (3D) or stained cells (2D microscopy), one box prompt around each, deterministic from a seed. The 3D
// volumes follow the demo networks' training distribution, so the networks find the objects and the 3D walks
// propagate as a real network's would on anatomy.
import type { ImageVolume, Modality, ObjectPrompt } from '../pipeline/types.ts';

/** mulberry32: a small, fast, seedable PRNG; the same seed gives the same volume on every machine. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** One object of a 3D volume: an ellipsoid filling its box (x, y the box's, z0..z1 both included). */
export interface SyntheticObject {
  readonly x0: number; readonly y0: number; readonly z0: number;
  readonly x1: number; readonly y1: number; readonly z1: number;
}

export interface SyntheticCase {
  readonly name: string;
  readonly modality: Modality;
  readonly image: ImageVolume;
  readonly objects: readonly ObjectPrompt[];
}

export interface VolumeSpec {
  readonly name: string;
  readonly modality: Modality;
  readonly depth: number;
  readonly height: number;
  readonly width: number;
  /** (z0, z1) of each object's box, both included; x/y are drawn from the seed. */
  readonly zRanges: readonly (readonly [number, number])[];
}

/**
 * The paper's CT: 287 x 512 x 512 with 6 boxes spanning 31-121 slices. The spans sum to 396 (what the reference's
 * per-box walks encode) and cover slices 40..244 (205 distinct slices when embeddings are shared).
 */
export const PAPER_CT: VolumeSpec = {
  name: 'ct', modality: 'CT', depth: 287, height: 512, width: 512,
  zRanges: [[60, 180], [40, 119], [150, 216], [100, 151], [200, 244], [120, 150]],
};

/** The paper's MR: 115 x 400 x 400 with 6 boxes (spans 14-57, 189 in all, slices 20..99: 80 distinct). */
export const PAPER_MR: VolumeSpec = {
  name: 'mr', modality: 'MR', depth: 115, height: 400, width: 400,
  zRanges: [[30, 86], [20, 51], [60, 99], [45, 70], [35, 54], [75, 88]],
};

/** The paper's 2D microscopy image: 1536 x 2040 RGB with 19 boxes. */
export const PAPER_MICROSCOPY = { name: 'microscopy', modality: 'Microscopy' as Modality, height: 1536, width: 2040, objects: 19 };

/** A small volume for tests of the command (2 boxes over 3 slices each: 4 distinct, 6 for the reference). */
export const TINY_MR: VolumeSpec = {
  name: 'tiny', modality: 'MR', depth: 6, height: 64, width: 64,
  zRanges: [[1, 3], [2, 4]],
};

/**
 * The volume is drawn from the distribution the demo networks were trained on, measured on the public 3D cases
 * (shared/reference/cases/public): a background of mean 88 whose brightness wanders smoothly (standard deviation
 * about 11, over tens of pixels and about a dozen slices) under a pixel grain of about 6, and objects that stand
 * out by 60 grey levels or more (dark ones at 5-30 in most cases, with the same grain). The demo networks segment
 * such objects as the public cases show (on the paper CT the exact walk's per-object Dice against the drawn shapes
 * has a median of 0.96-0.98 over three seeds; a rare object is found only in part, 0.67 on seed 11), so their 3D
 * walks are mostly coherent from slice to slice, as a real network's are on anatomy. On a phantom outside that
 * distribution (the bright ellipsoids on a flat disc these volumes had until 2026-11-30) they found the drawn
 * objects at Dice 0.38-0.62 and their masks jumped between slices; on bright objects they leak here.
 */
const BACKGROUND = 88;
const FIELD_SD = 11;
/** The smooth field's lattice: a tenth of the image side in plane, 12 slices apart. */
const FIELD_CELL_FRACTION = 0.094;
const FIELD_CELL_SLICES = 12;
const GRAIN_SD = 6;
/** Objects: dark, 20-30, with a little more grain than the background (as in the public cases). */
const OBJECT_DARK = 20;
const OBJECT_SPREAD = 10;
const OBJECT_GRAIN_SD = 7.2;
/** The networks see a 256-pixel side: a grain cell of side/256 pixels keeps its strength through the resize. */
const NETWORK_SIDE = 256;
/** Objects that share slices keep this many pixels apart in the plane, so each box holds one object. */
const OBJECT_GAP = 8;
const BOX_DRAWS = 200;

/** An approximately normal draw (Irwin-Hall of 4, unit variance, bounded at +-3.5). */
function normal(rand: () => number): number {
  return (rand() + rand() + rand() + rand() - 2) * Math.sqrt(3);
}

/**
 * Draws each object's box in the plane: 12-30 % of the side, inside the central 80 %, apart from the objects of
 * earlier boxes that share its slices (up to BOX_DRAWS tries, then wherever the last draw fell).
 */
function planeBoxes(spec: VolumeSpec, rand: () => number): SyntheticObject[] {
  const { height: h, width: w } = spec;
  const boxes: SyntheticObject[] = [];
  for (const [z0, z1] of spec.zRanges) {
    for (let draw = 1; ; draw++) {
      const bw = Math.max(8, Math.round(w * (0.12 + 0.18 * rand())));
      const bh = Math.max(8, Math.round(h * (0.12 + 0.18 * rand())));
      const x0 = Math.round(w * 0.1 + rand() * (w * 0.8 - bw));
      const y0 = Math.round(h * 0.1 + rand() * (h * 0.8 - bh));
      const box = { x0, y0, z0, x1: x0 + bw, y1: y0 + bh, z1 };
      const clash = boxes.some((o) => o.z0 <= z1 && z0 <= o.z1
        && o.x0 < box.x1 + OBJECT_GAP && box.x0 < o.x1 + OBJECT_GAP && o.y0 < box.y1 + OBJECT_GAP && box.y0 < o.y1 + OBJECT_GAP);
      if (!clash || draw === BOX_DRAWS) {
        boxes.push(box);
        break;
      }
    }
  }
  return boxes;
}

/** A volume of `spec`'s shape with one dark ellipsoid per box in a textured background, and the boxes (x1/y1 exclusive, z1 included). */
export function syntheticVolume(spec: VolumeSpec, seed: number): SyntheticCase {
  const rand = seededRandom(seed);
  const { depth, height, width } = spec;
  const boxes = planeBoxes(spec, rand);
  const data = new Uint8Array(depth * height * width);
  const grain = grainSource(rand, width);
  paintBackground(data, spec, rand, grain);
  for (const b of boxes) paintEllipsoid(data, spec, b, rand, grain);
  const objects: ObjectPrompt[] = boxes.map((b, i) => ({
    label: i + 1,
    prompt: { kind: 'box3d', x0: b.x0, y0: b.y0, z0: b.z0, x1: b.x1, y1: b.y1, z1: b.z1 },
  }));
  return { name: spec.name, modality: spec.modality, image: { depth, height, width, channels: 1, data, spacing: [1, 1, 1] }, objects };
}

/**
 * The pixel grain: one row of unit normal values read at a random offset per grain row, each value covering a
 * grain cell (per-voxel random numbers would dominate generation time). `at(offset, x)` is the grain at column x.
 */
interface Grain {
  readonly cell: number;
  readonly rowOffset: () => number;
  readonly at: (offset: number, x: number) => number;
}

function grainSource(rand: () => number, width: number): Grain {
  const values = new Float32Array(width * 4 + 1024);
  for (let i = 0; i < values.length; i++) values[i] = normal(rand);
  const cell = Math.max(1, Math.round(Math.max(width, 1) / NETWORK_SIDE));
  const span = Math.ceil(width / cell) + 1;
  return {
    cell,
    rowOffset: () => Math.floor(rand() * (values.length - span)),
    at: (offset, x) => values[offset + Math.floor(x / cell)]!,
  };
}

/** The background: BACKGROUND plus a smooth field (trilinear over a random lattice) plus the grain. */
function paintBackground(data: Uint8Array, spec: VolumeSpec, rand: () => number, grain: Grain): void {
  const { depth, height, width } = spec;
  const cell = Math.max(2, Math.round(Math.min(height, width) * FIELD_CELL_FRACTION));
  const gx = Math.ceil(width / cell) + 2;
  const gy = Math.ceil(height / cell) + 2;
  const gz = Math.ceil(depth / FIELD_CELL_SLICES) + 2;
  const lattice = new Float32Array(gx * gy * gz);
  for (let i = 0; i < lattice.length; i++) lattice[i] = normal(rand) * FIELD_SD;
  const plane = new Float32Array(gx * gy);
  const row = new Float32Array(gx);
  for (let z = 0; z < depth; z++) {
    const iz = Math.floor(z / FIELD_CELL_SLICES);
    const tz = z / FIELD_CELL_SLICES - iz;
    for (let i = 0; i < plane.length; i++) plane[i] = lattice[iz * plane.length + i]! * (1 - tz) + lattice[(iz + 1) * plane.length + i]! * tz;
    let offset = 0;
    for (let y = 0; y < height; y++) {
      const iy = Math.floor(y / cell);
      const ty = y / cell - iy;
      for (let i = 0; i < gx; i++) row[i] = plane[iy * gx + i]! * (1 - ty) + plane[(iy + 1) * gx + i]! * ty;
      if (y % grain.cell === 0) offset = grain.rowOffset();
      const base = (z * height + y) * width;
      for (let x = 0; x < width; x++) {
        const ix = Math.floor(x / cell);
        const tx = x / cell - ix;
        const field = row[ix]! * (1 - tx) + row[ix + 1]! * tx;
        data[base + x] = clampByte(BACKGROUND + field + GRAIN_SD * grain.at(offset, x));
      }
    }
  }
}

function clampByte(v: number): number {
  return Math.max(0, Math.min(255, Math.round(v)));
}

/** An ellipsoid inscribed in the box; its cross-section shrinks towards z0 and z1 as an organ's would. */
function paintEllipsoid(data: Uint8Array, spec: VolumeSpec, b: SyntheticObject, rand: () => number, grain: Grain): void {
  const plane = spec.height * spec.width;
  const level = OBJECT_DARK + rand() * OBJECT_SPREAD;
  for (let z = b.z0; z <= b.z1; z++) {
    let offset = 0;
    for (let y = b.y0; y < b.y1; y++) {
      if (y === b.y0 || y % grain.cell === 0) offset = grain.rowOffset();
      const row = z * plane + y * spec.width;
      for (let x = b.x0; x < b.x1; x++) {
        if (ellipsoidContains(b, z, y, x)) data[row + x] = clampByte(level + OBJECT_GRAIN_SD * grain.at(offset, x));
      }
    }
  }
}

/** Whether voxel (z, y, x) is inside the object's ellipsoid: the one shape both the painting and the truth use. */
export function ellipsoidContains(b: SyntheticObject, z: number, y: number, x: number): boolean {
  if (z < b.z0 || z > b.z1) return false;
  const dz = (z - (b.z0 + b.z1) / 2) / ((b.z1 - b.z0) / 2 + 1);
  // Never below 40 % of the box, so the walk's end slices still hold an object to find.
  const scale = Math.sqrt(Math.max(0.16, 1 - dz * dz));
  const dy = (y - (b.y0 + b.y1 - 1) / 2) / (((b.y1 - b.y0) / 2) * scale);
  if (dy * dy > 1) return false;
  const dx = (x - (b.x0 + b.x1 - 1) / 2) / (((b.x1 - b.x0) / 2) * scale);
  return dx * dx + dy * dy <= 1;
}

/**
 * Per object of a synthetic 3D case, in prompt order: Dice of `labels` against the ellipsoid the volume was painted
 * with (where two overlap, the later one, as painted). The demo networks are phantom weights, so this says how close
 * a walk stays to the drawn shapes, which a speed level's walk may do as well as the exact one while differing from it.
 */
export function truthDice(c: SyntheticCase, labels: ArrayLike<number>): number[] {
  const { height, width } = c.image;
  const plane = height * width;
  const boxes = c.objects.map((o) => {
    if (o.prompt.kind !== 'box3d') throw new RangeError('truthDice: a 3D case of box prompts only');
    return o.prompt;
  });
  const predicted = new Map<number, number>();
  for (let i = 0; i < labels.length; i++) if (labels[i] !== 0) predicted.set(labels[i]!, (predicted.get(labels[i]!) ?? 0) + 1);
  return boxes.map((b, k) => {
    const label = c.objects[k]!.label;
    let truth = 0;
    let both = 0;
    for (let z = b.z0; z <= b.z1; z++) {
      for (let y = b.y0; y < b.y1; y++) {
        for (let x = b.x0; x < b.x1; x++) {
          if (!ellipsoidContains(b, z, y, x) || boxes.some((later, j) => j > k && ellipsoidContains(later, z, y, x))) continue;
          truth++;
          if (labels[z * plane + y * width + x] === label) both++;
        }
      }
    }
    const sum = truth + (predicted.get(label) ?? 0);
    return sum === 0 ? 1 : (2 * both) / sum;
  });
}

/** The 2D microscopy image: RGB, pale background, `objects` stained round cells, one box around each. */
export function syntheticMicroscopy(seed: number, spec: { height: number; width: number; objects: number } = PAPER_MICROSCOPY): SyntheticCase {
  const rand = seededRandom(seed);
  const { height, width } = spec;
  const data = new Uint8Array(height * width * 3);
  for (let i = 0; i < height * width; i++) {
    const n = ((i * 2654435761) >>> 27) - 16;
    data[i * 3] = 225 + (n >> 1);
    data[i * 3 + 1] = 215 + (n >> 1);
    data[i * 3 + 2] = 230 + (n >> 1);
  }
  const objects: ObjectPrompt[] = [];
  const side = Math.min(height, width);
  for (let k = 0; k < spec.objects; k++) {
    const r = Math.round(side * (0.02 + 0.04 * rand()));
    const cx = Math.round(r + 2 + rand() * (width - 2 * r - 4));
    const cy = Math.round(r + 2 + rand() * (height - 2 * r - 4));
    const stain = [90 + rand() * 60, 40 + rand() * 40, 120 + rand() * 60];
    for (let y = cy - r; y <= cy + r; y++) {
      for (let x = cx - r; x <= cx + r; x++) {
        const d = ((x - cx) ** 2 + (y - cy) ** 2) / (r * r);
        if (d > 1) continue;
        // A darker nucleus in the middle: texture the encoder can see.
        const shade = d < 0.2 ? 0.6 : 1;
        for (let c = 0; c < 3; c++) data[(y * width + x) * 3 + c] = Math.round(stain[c]! * shade);
      }
    }
    objects.push({ label: k + 1, prompt: { kind: 'box2d', x0: cx - r - 2, y0: cy - r - 2, x1: cx + r + 3, y1: cy + r + 3, z: 0 } });
  }
  return { name: 'microscopy', modality: 'Microscopy', image: { depth: 1, height, width, channels: 3, data }, objects };
}

/**
 * Slices encoded per network: by the reference schedule (each 3D box's span; the 2D boxes of one slice share its
 * encoding, as the reference's 2D script does) and by a store shared across objects (distinct slices).
 */
export function sliceCounts(objects: readonly ObjectPrompt[]): { perObject: number; distinct: number } {
  let perObject = 0;
  const distinct = new Set<number>();
  const slices2d = new Set<number>();
  for (const { prompt } of objects) {
    if (prompt.kind === 'box3d') {
      perObject += prompt.z1 - prompt.z0 + 1;
      for (let z = prompt.z0; z <= prompt.z1; z++) distinct.add(z);
    } else if (prompt.kind === 'box2d') {
      slices2d.add(prompt.z ?? 0);
      distinct.add(prompt.z ?? 0);
    }
  }
  return { perObject: perObject + slices2d.size, distinct: distinct.size };
}
