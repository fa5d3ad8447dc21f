// Surface-element areas per 2x2x2 neighbour code, as the DeepMind surface-distance method (and the challenge's
// SurfaceDice.py) defines them: the marching-cubes triangles of each of the 256 corner configurations, each
// triangle's area vector (half the cross product of two edges, vertices at edge midpoints) scaled per axis by
// spacing, and the norms summed. We generate the triangles ourselves instead of carrying the published table:
//   - the surface crosses every cube edge whose two corners differ, at its midpoint;
//   - on each cube face the crossings are joined into segments; a face with two diagonal inside corners is
//     ambiguous and is split so that the minority corners are separated (both splits are tried when the cube
//     has four inside corners);
//   - segments chain into closed polygons, and among all triangulations of the polygons we take the one with the
//     largest total area (ties broken by enumeration order).
// Checked against the published table (scratch script, not part of the project): for all 256 codes the
// triangles agree up to the signs of normal components, except for 8 codes (four corners around one corner) where
// the equal-area tie between {3 x (1,1,1)/8, (3,3,3)/8} and {2 x (1,1,1)/8, 2 x (1,1,1)/4} (up to signs) is
// broken the other way; all
// those normals lie on cube diagonals, whose spacing-weighted norms are linear in length, so the areas per code
// are identical for every spacing.

type Vec3 = readonly [number, number, number];
type Corner = readonly [number, number, number];

/** The bit a corner (offsets a, b, c along axes 0, 1, 2) sets in the neighbour code: 128 for (0,0,0) ... 1 for (1,1,1). */
export function cornerBit(a: number, b: number, c: number): number {
  return 1 << (7 - (4 * a + 2 * b + c));
}

const CORNERS: readonly Corner[] = [0, 1].flatMap((a) => [0, 1].flatMap((b) => [0, 1].map((c) => [a, b, c] as Corner)));

function isInside(code: number, p: Corner): boolean {
  return (code & cornerBit(p[0], p[1], p[2])) !== 0;
}

function midpoint(p: Corner, q: Corner): Vec3 {
  return [(p[0] + q[0]) / 2, (p[1] + q[1]) / 2, (p[2] + q[2]) / 2];
}

const vkey = (v: Vec3): string => v.join(',');

/** Segments of the iso-surface on the six faces; on ambiguous faces, corners of class `separate` are cut off. */
function faceSegments(code: number, separate: boolean): [Vec3, Vec3][] {
  const segments: [Vec3, Vec3][] = [];
  for (let axis = 0; axis < 3; axis++) {
    const [u, w] = [0, 1, 2].filter((i) => i !== axis) as [number, number];
    for (const level of [0, 1]) {
      const at = (du: number, dw: number): Corner => {
        const p = [0, 0, 0];
        p[axis] = level; p[u] = du; p[w] = dw;
        return p as unknown as Corner;
      };
      const ring = [at(0, 0), at(1, 0), at(1, 1), at(0, 1)];
      const inside = ring.map((p) => isInside(code, p));
      const crossings: Vec3[] = [];
      for (let i = 0; i < 4; i++) if (inside[i] !== inside[(i + 1) % 4]) crossings.push(midpoint(ring[i]!, ring[(i + 1) % 4]!));
      if (crossings.length === 2) {
        segments.push([crossings[0]!, crossings[1]!]);
      } else if (crossings.length === 4) {
        for (let i = 0; i < 4; i++) {
          if (inside[i] === separate) segments.push([midpoint(ring[(i + 3) % 4]!, ring[i]!), midpoint(ring[i]!, ring[(i + 1) % 4]!)]);
        }
      }
    }
  }
  return segments;
}

/** Chain segments into closed polygons (each crossing point has exactly two segments). */
function polygons(segments: [Vec3, Vec3][]): Vec3[][] {
  const links = new Map<string, Vec3[]>();
  const points = new Map<string, Vec3>();
  for (const [p, q] of segments) {
    for (const [x, y] of [[p, q], [q, p]] as const) {
      points.set(vkey(x), x);
      links.set(vkey(x), [...(links.get(vkey(x)) ?? []), y]);
    }
  }
  const seen = new Set<string>();
  const loops: Vec3[][] = [];
  for (const [key, start] of points) {
    if (seen.has(key)) continue;
    const loop: Vec3[] = [start];
    seen.add(key);
    let current = start;
    for (;;) {
      const next = links.get(vkey(current))!.find((n) => !seen.has(vkey(n)));
      if (!next) break;
      loop.push(next);
      seen.add(vkey(next));
      current = next;
    }
    loops.push(loop);
  }
  return loops;
}

function areaVector(a: Vec3, b: Vec3, c: Vec3): Vec3 {
  const u = [b[0] - a[0], b[1] - a[1], b[2] - a[2]];
  const v = [c[0] - a[0], c[1] - a[1], c[2] - a[2]];
  return [(u[1]! * v[2]! - u[2]! * v[1]!) / 2, (u[2]! * v[0]! - u[0]! * v[2]!) / 2, (u[0]! * v[1]! - u[1]! * v[0]!) / 2];
}

/** All triangulations of a polygon (as lists of triangles), by the triangle standing on its first edge. */
function triangulations(poly: readonly Vec3[]): Vec3[][][] {
  if (poly.length < 3) return [[]];
  if (poly.length === 3) return [[[poly[0]!, poly[1]!, poly[2]!]]];
  const out: Vec3[][][] = [];
  for (let k = 2; k < poly.length; k++) {
    const apex: Vec3[] = [poly[0]!, poly[1]!, poly[k]!];
    for (const left of triangulations(poly.slice(1, k + 1))) {
      for (const right of triangulations([...poly.slice(k), poly[0]!])) out.push([apex, ...left, ...right]);
    }
  }
  return out;
}

const norm = (v: Vec3): number => Math.hypot(v[0], v[1], v[2]);

/** Triangle area vectors of one neighbour code (empty for 0 and 255). */
export function surfelNormals(code: number): Vec3[] {
  let count = 0;
  for (const p of CORNERS) if (isInside(code, p)) count++;
  if (count === 0 || count === 8) return [];
  // A configuration and its complement have the same surface.
  const c = count > 4 ? 255 - code : code;
  const separations = count === 4 ? [true, false] : [true];
  let best: Vec3[] = [];
  let bestArea = -1;
  for (const separate of separations) {
    const loops = polygons(faceSegments(c, separate));
    let combos: Vec3[][] = [[]];
    for (const loop of loops) {
      const next: Vec3[][] = [];
      for (const partial of combos) {
        for (const tri of triangulations(loop)) next.push([...partial, ...tri.map((t) => areaVector(t[0]!, t[1]!, t[2]!))]);
      }
      combos = next;
    }
    for (const normals of combos) {
      const area = normals.reduce((s, n) => s + norm(n), 0);
      if (area > bestArea + 1e-12) {
        bestArea = area;
        best = normals;
      }
    }
  }
  return best;
}

let normalsByCode: Vec3[][] | undefined;

/**
 * Area of the surface elements of each neighbour code for voxel spacing (s0, s1, s2): per triangle the norm of
 * (n0 * s1 * s2, n1 * s0 * s2, n2 * s0 * s1), summed.
 */
export function surfelAreaTable(spacing: readonly [number, number, number]): Float64Array {
  normalsByCode ??= Array.from({ length: 256 }, (_, code) => surfelNormals(code));
  const [s0, s1, s2] = spacing;
  const table = new Float64Array(256);
  for (let code = 0; code < 256; code++) {
    let sum = 0;
    for (const n of normalsByCode[code]!) {
      const x = n[0] * s1 * s2;
      const y = n[1] * s0 * s2;
      const z = n[2] * s0 * s1;
      sum += Math.sqrt(x * x + y * y + z * z);
    }
    table[code] = sum;
  }
  return table;
}
