// Synthetic volumes of the seed paper's Table 5 shapes for `onesam bench`: bright ellipsoids (3D) or blobs (2D
// microscopy) in noise, one box prompt around each, deterministic from a seed. The objects have real edges so
// the demo networks give non-trivial masks and the 3D walks propagate as they would on anatomy.
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

/** Background: a soft body disc at mid grey with noise; objects: brighter ellipsoids with a little noise. */
const BACKGROUND = 40;
const BODY = 90;
const OBJECT = 200;
const NOISE = 12;

/** Draws each object's box in the plane: inside the body, 12-30 % of the side, from the seed. */
function planeBoxes(spec: VolumeSpec, rand: () => number): SyntheticObject[] {
  const { height: h, width: w } = spec;
  return spec.zRanges.map(([z0, z1]) => {
    const bw = Math.max(8, Math.round(w * (0.12 + 0.18 * rand())));
    const bh = Math.max(8, Math.round(h * (0.12 + 0.18 * rand())));
    const x0 = Math.round(w * 0.2 + rand() * (w * 0.6 - bw));
    const y0 = Math.round(h * 0.2 + rand() * (h * 0.6 - bh));
    return { x0, y0, z0, x1: x0 + bw, y1: y0 + bh, z1 };
  });
}

/** A grey volume of `spec`'s shape with one bright ellipsoid per box, and the boxes (x1/y1 exclusive, z1 included). */
export function syntheticVolume(spec: VolumeSpec, seed: number): SyntheticCase {
  const rand = seededRandom(seed);
  const { depth, height, width } = spec;
  const boxes = planeBoxes(spec, rand);
  const plane = height * width;
  const data = new Uint8Array(depth * plane);
  const cy = height / 2;
  const cx = width / 2;
  const ry = height * 0.45;
  const rx = width * 0.45;
  // One noise row reused with a per-row offset: per-voxel random numbers would dominate generation time.
  const noise = new Int8Array(width * 4 + 1024);
  for (let i = 0; i < noise.length; i++) noise[i] = Math.round((rand() * 2 - 1) * NOISE);
  for (let z = 0; z < depth; z++) {
    for (let y = 0; y < height; y++) {
      const row = z * plane + y * width;
      const offset = Math.floor(rand() * (noise.length - width));
      const dy = (y - cy) / ry;
      for (let x = 0; x < width; x++) {
        const dx = (x - cx) / rx;
        const base = dx * dx + dy * dy <= 1 ? BODY : BACKGROUND;
        data[row + x] = base + noise[offset + x]!;
      }
    }
  }
  for (const b of boxes) paintEllipsoid(data, spec, b, rand);
  const objects: ObjectPrompt[] = boxes.map((b, i) => ({
    label: i + 1,
    prompt: { kind: 'box3d', x0: b.x0, y0: b.y0, z0: b.z0, x1: b.x1, y1: b.y1, z1: b.z1 },
  }));
  return { name: spec.name, modality: spec.modality, image: { depth, height, width, channels: 1, data, spacing: [1, 1, 1] }, objects };
}

/** An ellipsoid inscribed in the box; its cross-section shrinks towards z0 and z1 as an organ's would. */
function paintEllipsoid(data: Uint8Array, spec: VolumeSpec, b: SyntheticObject, rand: () => number): void {
  const plane = spec.height * spec.width;
  const level = OBJECT - Math.round(rand() * 40);
  for (let z = b.z0; z <= b.z1; z++) {
    for (let y = b.y0; y < b.y1; y++) {
      const row = z * plane + y * spec.width;
      for (let x = b.x0; x < b.x1; x++) {
        if (ellipsoidContains(b, z, y, x)) data[row + x] = level + ((x * 7 + y * 13 + z) % 9) - 4;
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
