// Surface elements, distance transform and normalised surface Dice (the DeepMind method the challenge uses).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { squaredDistanceTransform } from '../../src/imaging/edt.ts';
import { surfaceDiceAtTolerance, surfaceDistances, type Shape3 } from '../../src/eval/surface-dice.ts';
import { cornerBit, surfelAreaTable, surfelNormals } from '../../src/eval/surfel-areas.ts';

const close = (a: number, b: number, tol = 1e-12): void => assert.ok(Math.abs(a - b) <= tol, `${a} vs ${b}`);

describe('surfel areas per neighbour code', () => {
  it('codes are the correlation weights [[[128, 64], [32, 16]], [[8, 4], [2, 1]]]', () => {
    assert.deepEqual([cornerBit(0, 0, 0), cornerBit(0, 0, 1), cornerBit(0, 1, 0), cornerBit(1, 0, 0), cornerBit(1, 1, 1)], [128, 64, 32, 8, 1]);
  });

  it('a single corner is cut by one triangle with area vector (1, 1, 1) / 8', () => {
    const t = surfelAreaTable([1, 1, 1]);
    close(t[1]!, Math.sqrt(3) / 8);
    close(t[128]!, Math.sqrt(3) / 8);
    // with spacing the components scale by s1*s2, s0*s2, s0*s1
    close(surfelAreaTable([2, 3, 5])[1]!, Math.hypot(15, 10, 6) / 8);
  });

  it('a full face of four corners is a unit square in the mid-plane (area s1 * s2 for the axis-0 face)', () => {
    const face = cornerBit(1, 0, 0) | cornerBit(1, 0, 1) | cornerBit(1, 1, 0) | cornerBit(1, 1, 1);
    close(surfelAreaTable([1, 1, 1])[face]!, 1);
    close(surfelAreaTable([2.5, 0.8, 0.8])[face]!, 0.64);
    assert.equal(surfelNormals(face).length, 2);
  });

  it('two adjacent corners give a rectangle of 1 x sqrt(2)/2', () => {
    close(surfelAreaTable([1, 1, 1])[cornerBit(1, 1, 1) | cornerBit(1, 1, 0)]!, Math.SQRT1_2);
  });

  it('three corners of a face give the pentagon fan 1/2 + sqrt(3)/4 + sqrt(3)/8', () => {
    const code = cornerBit(1, 1, 1) | cornerBit(1, 1, 0) | cornerBit(1, 0, 1);
    close(surfelAreaTable([1, 1, 1])[code]!, 0.5 + Math.sqrt(3) / 4 + Math.sqrt(3) / 8);
    assert.equal(surfelNormals(code).length, 3);
  });

  it('a configuration and its complement have the same surface; empty and full cubes have none', () => {
    const t = surfelAreaTable([0.7, 1.3, 2.9]);
    for (let code = 0; code < 256; code++) close(t[code]!, t[255 - code]!);
    assert.equal(t[0], 0);
    assert.equal(t[255], 0);
  });

  it('uses at most four triangles per code, as marching cubes with complement symmetry does', () => {
    for (let code = 1; code < 255; code++) {
      const n = surfelNormals(code).length;
      assert.ok(n >= 1 && n <= 4, `code ${code}: ${n}`);
    }
  });
});

describe('squaredDistanceTransform', () => {
  function bruteForce(features: Uint8Array, shape: Shape3, spacing: readonly number[]): Float64Array {
    const [n0, n1, n2] = shape;
    const pts: number[][] = [];
    for (let a = 0; a < n0; a++) for (let b = 0; b < n1; b++) for (let c = 0; c < n2; c++) if (features[(a * n1 + b) * n2 + c]) pts.push([a, b, c]);
    const out = new Float64Array(n0 * n1 * n2);
    for (let a = 0; a < n0; a++) {
      for (let b = 0; b < n1; b++) {
        for (let c = 0; c < n2; c++) {
          let best = Infinity;
          for (const p of pts) {
            const d0 = (a - p[0]!) * spacing[0]!;
            const d1 = (b - p[1]!) * spacing[1]!;
            const d2 = (c - p[2]!) * spacing[2]!;
            best = Math.min(best, d0 * d0 + d1 * d1 + d2 * d2);
          }
          out[(a * n1 + b) * n2 + c] = best;
        }
      }
    }
    return out;
  }

  it('equals the brute-force nearest-feature distance with anisotropic spacing', () => {
    let seed = 12345;
    const rand = (): number => ((seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 2 ** 32);
    for (const [shape, spacing, density] of [
      [[7, 9, 11], [2.5, 0.8, 0.8], 0.03], [[1, 13, 17], [1, 1, 1], 0.1], [[12, 5, 2], [0.5, 1.7, 3], 0.05], [[4, 4, 4], [1, 1, 1], 0.01],
    ] as [Shape3, number[], number][]) {
      const features = new Uint8Array(shape[0] * shape[1] * shape[2]).map(() => (rand() < density ? 1 : 0));
      features[Math.floor(rand() * features.length)] = 1;
      const got = squaredDistanceTransform(features, shape, spacing);
      const want = bruteForce(features, shape, spacing);
      for (let i = 0; i < got.length; i++) close(got[i]!, want[i]!, 1e-9);
    }
  });

  it('is Infinity everywhere without features', () => {
    assert.ok(squaredDistanceTransform(new Uint8Array(8), [2, 2, 2], [1, 1, 1]).every((v) => v === Infinity));
  });
});

/** A 40 x 40 square and the same square shifted by `shift` pixels along x, `depth` slices deep. */
function shiftedSquares(shift: number, depth: number): { gt: Uint8Array; pred: Uint8Array; shape: Shape3 } {
  const [h, w] = [100, 100];
  const gt = new Uint8Array(h * w * depth);
  const pred = new Uint8Array(h * w * depth);
  for (let y = 20; y < 60; y++) {
    for (let x = 20; x < 60; x++) {
      for (let z = 0; z < depth; z++) {
        gt[(y * w + x) * depth + z] = 1;
        pred[(y * w + x + shift) * depth + z] = 1;
      }
    }
  }
  return { gt, pred, shape: [h, w, depth] };
}

describe('normalised surface Dice', () => {
  it('reproduces the 2D quirk table: a single slice is all top and bottom faces (spec section 7.3)', () => {
    const table: [number, number][] = [[0, 1], [3, 0.983], [5, 0.933], [10, 0.81], [20, 0.56]];
    for (const [shift, nsd] of table) {
      const { gt, pred, shape } = shiftedSquares(shift, 1);
      close(surfaceDiceAtTolerance(surfaceDistances(gt, pred, shape, [1, 1, 1]), 2), nsd, 0.0025);
    }
  });

  it('and the contour-like values of a 300-slice slab', () => {
    const table: [number, number][] = [[3, 0.557], [10, 0.464], [20, 0.33]];
    for (const [shift, nsd] of table) {
      const { gt, pred, shape } = shiftedSquares(shift, 300);
      close(surfaceDiceAtTolerance(surfaceDistances(gt, pred, shape, [1, 1, 1]), 2), nsd, 0.0005);
    }
  });

  it('is 0 against an empty prediction and NaN when both masks are empty', () => {
    const { gt, shape } = shiftedSquares(0, 1);
    const empty = new Uint8Array(gt.length);
    const d = surfaceDistances(gt, empty, shape, [1, 1, 1]);
    assert.equal(d.areasPred.length, 0);
    assert.ok(d.distancesGtToPred.every((v) => v === Infinity));
    assert.equal(surfaceDiceAtTolerance(d, 2), 0);
    assert.ok(Number.isNaN(surfaceDiceAtTolerance(surfaceDistances(empty, empty, shape, [1, 1, 1]), 2)));
  });

  it('counts distances in spacing units: a shift of 3 voxels is within tolerance 2 only when voxels are small', () => {
    const { gt, pred, shape } = shiftedSquares(3, 4);
    const coarse = surfaceDiceAtTolerance(surfaceDistances(gt, pred, shape, [1, 1, 1]), 2);
    const fine = surfaceDiceAtTolerance(surfaceDistances(gt, pred, shape, [1, 0.5, 1]), 2);
    assert.ok(coarse < 1);
    close(fine, 1);
  });

  it('does not depend on where the structure sits in the volume (crop to the bounding box)', () => {
    const a = shiftedSquares(5, 1);
    const shape: Shape3 = [100, 100, 1];
    const moved = (m: Uint8Array): Uint8Array => {
      const out = new Uint8Array(m.length);
      for (let i = 0; i < m.length; i++) if (m[i]) out[i + 30 * 100 + 20] = 1;
      return out;
    };
    close(surfaceDiceAtTolerance(surfaceDistances(moved(a.gt), moved(a.pred), shape, [1, 1, 1]), 2),
      surfaceDiceAtTolerance(surfaceDistances(a.gt, a.pred, shape, [1, 1, 1]), 2));
  });
});
