// Shape interpolation between the masks of two slices, for the 3D walk's speed levels (docs/pipeline.md, "Speed
// levels"): the slices a walk skips get the zero level set of the linear blend of the two computed neighbours'
// signed distance maps. Where both neighbours hold the object its outline moves smoothly from one to the other;
// where one is empty the other's shape shrinks towards its core and is gone halfway (the object ended somewhere
// between; halfway is the guess that errs least either way).
import { squaredDistanceTransform } from './edt.ts';

/** Squared distances beyond any image: "no such pixel" without Infinity, whose 0 * Infinity would give NaN. */
const FAR = 1e12;

/**
 * Masks (0/1, height x width, row-major) for the slices between a walk's two computed slices, one per fraction
 * t in [0, 1] of the way from mask0 (t = 0) to mask1 (t = 1): 1 where (1 - t) * d0 + t * d1 > 0, with d the signed
 * distance (positive inside, pixel centres half a pixel off the outline). A null or empty neighbour counts as the
 * other's core receding: its d is minus the other's largest inside distance. t = 0 and t = 1 give the masks back.
 */
export function interpolateShapes(mask0: Uint8Array | null, mask1: Uint8Array | null, height: number, width: number, fractions: readonly number[]): Uint8Array[] {
  const plane = height * width;
  for (const m of [mask0, mask1]) if (m && m.length !== plane) throw new RangeError(`interpolateShapes: expected ${plane} values, got ${m.length}`);
  const out = fractions.map(() => new Uint8Array(plane));
  const box0 = mask0 ? maskBounds(mask0, height, width) : null;
  const box1 = mask1 ? maskBounds(mask1, height, width) : null;
  if (!box0 && !box1) return out;
  // Every interpolated pixel is inside one of the masks (both distances are negative elsewhere), so work in the
  // masks' joint bounds plus one pixel: that ring is background, so inside distances measured there are exact.
  const [x0, y0, x1, y1] = widen(union(box0, box1), height, width);
  const w = x1 - x0;
  const h = y1 - y0;
  const d0 = box0 ? signedDistance(mask0!, width, x0, y0, w, h) : null;
  const d1 = box1 ? signedDistance(mask1!, width, x0, y0, w, h) : null;
  const a = d0 ?? receded(d1!);
  const b = d1 ?? receded(d0!);
  fractions.forEach((t, k) => {
    if (!(t >= 0 && t <= 1)) throw new RangeError(`interpolateShapes: fraction ${t} is outside [0, 1]`);
    const target = out[k]!;
    for (let y = 0; y < h; y++) {
      const row = (y0 + y) * width + x0;
      for (let x = 0; x < w; x++) {
        const i = y * w + x;
        if ((1 - t) * a[i]! + t * b[i]! > 0) target[row + x] = 1;
      }
    }
  });
  return out;
}

type Bounds = readonly [number, number, number, number];

/** [x0, y0, x1, y1) of the nonzero pixels, or null for an empty mask. */
function maskBounds(mask: Uint8Array, height: number, width: number): Bounds | null {
  let x0 = width;
  let y0 = height;
  let x1 = -1;
  let y1 = -1;
  for (let y = 0; y < height; y++) {
    const row = y * width;
    for (let x = 0; x < width; x++) {
      if (mask[row + x] === 0) continue;
      if (x < x0) x0 = x;
      if (x > x1) x1 = x;
      if (y < y0) y0 = y;
      y1 = y;
    }
  }
  return x1 < 0 ? null : [x0, y0, x1 + 1, y1 + 1];
}

function union(a: Bounds | null, b: Bounds | null): Bounds {
  if (!a) return b!;
  if (!b) return a;
  return [Math.min(a[0], b[0]), Math.min(a[1], b[1]), Math.max(a[2], b[2]), Math.max(a[3], b[3])];
}

function widen(b: Bounds, height: number, width: number): Bounds {
  return [Math.max(0, b[0] - 1), Math.max(0, b[1] - 1), Math.min(width, b[2] + 1), Math.min(height, b[3] + 1)];
}

/** The empty side's distances: minus the other mask's deepest inside distance, everywhere. */
function receded(d: Float64Array): Float64Array {
  let deepest = 0;
  for (const v of d) if (v > deepest) deepest = v;
  return new Float64Array(d.length).fill(-deepest);
}

/** Signed Euclidean distance of the w x h window at (x0, y0): inside d - 0.5 to the background, outside -(d - 0.5) to the object. */
function signedDistance(mask: Uint8Array, width: number, x0: number, y0: number, w: number, h: number): Float64Array {
  const on = new Uint8Array(w * h);
  for (let y = 0; y < h; y++) {
    const row = (y0 + y) * width + x0;
    for (let x = 0; x < w; x++) on[y * w + x] = mask[row + x] !== 0 ? 1 : 0;
  }
  const off = on.map((v) => 1 - v);
  // Squared distances to the nearest background pixel (inside) and object pixel (outside); a window with no
  // background at all (the object fills it at the image's edge) gives Infinity, held at FAR.
  const inside = squaredDistanceTransform(off, [h, w], [1, 1]);
  const outside = squaredDistanceTransform(on, [h, w], [1, 1]);
  const d = new Float64Array(w * h);
  for (let i = 0; i < d.length; i++) {
    d[i] = inside[i]! > 0 ? Math.sqrt(Math.min(FAR, inside[i]!)) - 0.5 : 0.5 - Math.sqrt(Math.min(FAR, outside[i]!));
  }
  return d;
}
