// Normalised surface Dice of one binary structure, as the challenge's SurfaceDice.py (DeepMind's method) computes
// it: crop to the bounding box of G ∪ S, pad one voxel at the far end of each axis, code every voxel corner by its
// 2x2x2 neighbourhood, treat corners whose code is neither 0 nor 255 as surface elements with the area of their
// code, and count the area of each surface lying within `tolerance` (spacing units) of the other surface.
import { squaredDistanceTransform } from '../imaging/edt.ts';
import { cornerBit, surfelAreaTable } from './surfel-areas.ts';

export type Shape3 = readonly [number, number, number];
export type Spacing3 = readonly [number, number, number];

/** The two surfaces of one structure, with the distance of each surface element to the other surface. */
export interface SurfaceDistances {
  readonly distancesGtToPred: Float64Array;
  readonly areasGt: Float64Array;
  readonly distancesPredToGt: Float64Array;
  readonly areasPred: Float64Array;
}

interface Box3 { readonly lo: Shape3; readonly hi: Shape3 }

function boundingBox(gt: Uint8Array, pred: Uint8Array, shape: Shape3): Box3 | null {
  const [n0, n1, n2] = shape;
  const lo = [n0, n1, n2];
  const hi = [-1, -1, -1];
  let i = 0;
  for (let a = 0; a < n0; a++) {
    for (let b = 0; b < n1; b++) {
      for (let c = 0; c < n2; c++, i++) {
        if (gt[i] === 0 && pred[i] === 0) continue;
        if (a < lo[0]!) lo[0] = a;
        if (a > hi[0]!) hi[0] = a;
        if (b < lo[1]!) lo[1] = b;
        if (b > hi[1]!) hi[1] = b;
        if (c < lo[2]!) lo[2] = c;
        if (c > hi[2]!) hi[2] = c;
      }
    }
  }
  return hi[0]! < 0 ? null : { lo: lo as unknown as Shape3, hi: hi as unknown as Shape3 };
}

/**
 * Neighbour codes of the cropped, far-end padded mask: the corner at index (i, j, k) gets bit
 * cornerBit(a, b, c) from voxel (i - 1 + a, j - 1 + b, k - 1 + c) (SciPy's correlate with the 2x2x2 weights
 * [[[128, 64], [32, 16]], [[8, 4], [2, 1]]], zero outside). Output shape = crop + 1 per axis.
 */
function neighbourCodes(mask: Uint8Array, shape: Shape3, box: Box3): { codes: Uint8Array; dims: Shape3 } {
  const [, n1, n2] = shape;
  const m0 = box.hi[0] - box.lo[0] + 1;
  const m1 = box.hi[1] - box.lo[1] + 1;
  const m2 = box.hi[2] - box.lo[2] + 1;
  const dims: Shape3 = [m0 + 1, m1 + 1, m2 + 1];
  const codes = new Uint8Array(dims[0] * dims[1] * dims[2]);
  const s0 = dims[1] * dims[2];
  const s1 = dims[2];
  for (let x = 0; x < m0; x++) {
    for (let y = 0; y < m1; y++) {
      const row = ((box.lo[0] + x) * n1 + box.lo[1] + y) * n2 + box.lo[2];
      for (let zz = 0; zz < m2; zz++) {
        if (mask[row + zz] === 0) continue;
        // voxel (x, y, zz) is offset (a, b, c) of the corners (x + 1 - a, y + 1 - b, zz + 1 - c)
        for (let a = 0; a < 2; a++) {
          for (let b = 0; b < 2; b++) {
            for (let c = 0; c < 2; c++) {
              codes[(x + 1 - a) * s0 + (y + 1 - b) * s1 + (zz + 1 - c)]! |= cornerBit(a, b, c);
            }
          }
        }
      }
    }
  }
  return { codes, dims };
}

function borders(codes: Uint8Array): Uint8Array {
  const out = new Uint8Array(codes.length);
  for (let i = 0; i < codes.length; i++) out[i] = codes[i] !== 0 && codes[i] !== 255 ? 1 : 0;
  return out;
}

function distancesTo(surface: Uint8Array, dims: Shape3, spacing: Spacing3): Float64Array | null {
  if (!surface.includes(1)) return null;
  const d2 = squaredDistanceTransform(surface, dims, spacing);
  for (let i = 0; i < d2.length; i++) d2[i] = Math.sqrt(d2[i]!);
  return d2;
}

function collect(from: Uint8Array, codes: Uint8Array, areaOf: Float64Array, distance: Float64Array | null): { d: Float64Array; a: Float64Array } {
  let n = 0;
  for (let i = 0; i < from.length; i++) n += from[i]!;
  const d = new Float64Array(n);
  const a = new Float64Array(n);
  for (let i = 0, j = 0; i < from.length; i++) {
    if (!from[i]) continue;
    d[j] = distance ? distance[i]! : Infinity;
    a[j] = areaOf[codes[i]!]!;
    j++;
  }
  return { d, a };
}

/**
 * Surface elements of two binary masks (0/1 voxels, C order, `shape`), their areas and distances to the other
 * surface. An empty mask has no elements, and the other's distances are all Infinity.
 */
export function surfaceDistances(gt: Uint8Array, pred: Uint8Array, shape: Shape3, spacing: Spacing3): SurfaceDistances {
  const box = boundingBox(gt, pred, shape);
  if (!box) {
    const empty = new Float64Array(0);
    return { distancesGtToPred: empty, areasGt: empty, distancesPredToGt: empty, areasPred: empty };
  }
  const areaOf = surfelAreaTable(spacing);
  const g = neighbourCodes(gt, shape, box);
  const p = neighbourCodes(pred, shape, box);
  const borderG = borders(g.codes);
  const borderP = borders(p.codes);
  const toG = distancesTo(borderG, g.dims, spacing);
  const toP = distancesTo(borderP, p.dims, spacing);
  const fromG = collect(borderG, g.codes, areaOf, toP);
  const fromP = collect(borderP, p.codes, areaOf, toG);
  return { distancesGtToPred: fromG.d, areasGt: fromG.a, distancesPredToGt: fromP.d, areasPred: fromP.a };
}

/**
 * (area of G within tolerance of S + area of S within tolerance of G) / (area of G + area of S);
 * NaN when both surfaces are empty (0 / 0, as the reference).
 */
export function surfaceDiceAtTolerance(s: SurfaceDistances, tolerance: number): number {
  let overlap = 0;
  let total = 0;
  for (let i = 0; i < s.areasGt.length; i++) {
    total += s.areasGt[i]!;
    if (s.distancesGtToPred[i]! <= tolerance) overlap += s.areasGt[i]!;
  }
  for (let i = 0; i < s.areasPred.length; i++) {
    total += s.areasPred[i]!;
    if (s.distancesPredToGt[i]! <= tolerance) overlap += s.areasPred[i]!;
  }
  return overlap / total;
}
