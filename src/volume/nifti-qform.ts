// The NIfTI qform of an affine: the rotation as a unit quaternion (b, c, d; a >= 0 implied), the voxel sizes, the
// handedness factor qfac and the offset (nifti1.h, "METHOD 2"). A NIfTI file carries both the sform (the affine as
// is) and this qform, since readers differ in which they prefer; the qform needs orthonormal axes, so the
// affine's columns are orthonormalised first (the DICOM series this serves are refused beyond 0.06 degrees of
// shear, geometry.ts, so the qform and the sform agree to far below a voxel).

export interface QForm {
  readonly quatern: readonly [number, number, number];
  readonly offset: readonly [number, number, number];
  /** Voxel sizes along i, j, k: the lengths of the affine's first three columns. */
  readonly pixdim: readonly [number, number, number];
  /** -1 when the axes are left-handed (the third column is negated in the quaternion's rotation), else 1. */
  readonly qfac: 1 | -1;
}

type V3 = [number, number, number];

const dot = (a: V3, b: V3): number => a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
const cross = (a: V3, b: V3): V3 => [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]];
const scale = (a: V3, s: number): V3 => [a[0] * s, a[1] * s, a[2] * s];
const unit = (a: V3): V3 => scale(a, 1 / Math.sqrt(dot(a, a)));

/** The qform of a 4x4 voxel-to-world affine whose first three columns are non-zero and not coplanar. */
export function qformOf(affine: readonly (readonly number[])[]): QForm {
  const column = (c: number): V3 => [affine[0]![c]!, affine[1]![c]!, affine[2]![c]!];
  const [ci, cj, ck] = [column(0), column(1), column(2)];
  const pixdim: [number, number, number] = [Math.sqrt(dot(ci, ci)), Math.sqrt(dot(cj, cj)), Math.sqrt(dot(ck, ck))];
  // Gram-Schmidt on i and j; k is their cross product, pointing the way the affine's k column does.
  const x = unit(ci);
  const y = unit([cj[0] - x[0] * dot(x, cj), cj[1] - x[1] * dot(x, cj), cj[2] - x[2] * dot(x, cj)]);
  const z = cross(x, y);
  const qfac: 1 | -1 = dot(z, ck) < 0 ? -1 : 1;
  // R has columns x, y, z (a proper rotation: z = x cross y); the file's k axis is qfac * z.
  const r = (row: 0 | 1 | 2, col: 0 | 1 | 2): number => [x, y, z][col]![row]!;
  let a: number;
  let b: number;
  let c: number;
  let d: number;
  const trace = r(0, 0) + r(1, 1) + r(2, 2);
  if (trace > 0) {
    a = 0.5 * Math.sqrt(1 + trace);
    b = (r(2, 1) - r(1, 2)) / (4 * a);
    c = (r(0, 2) - r(2, 0)) / (4 * a);
    d = (r(1, 0) - r(0, 1)) / (4 * a);
  } else if (r(0, 0) >= r(1, 1) && r(0, 0) >= r(2, 2)) {
    b = 0.5 * Math.sqrt(1 + r(0, 0) - r(1, 1) - r(2, 2));
    a = (r(2, 1) - r(1, 2)) / (4 * b);
    c = (r(0, 1) + r(1, 0)) / (4 * b);
    d = (r(0, 2) + r(2, 0)) / (4 * b);
  } else if (r(1, 1) >= r(2, 2)) {
    c = 0.5 * Math.sqrt(1 + r(1, 1) - r(0, 0) - r(2, 2));
    a = (r(0, 2) - r(2, 0)) / (4 * c);
    b = (r(0, 1) + r(1, 0)) / (4 * c);
    d = (r(1, 2) + r(2, 1)) / (4 * c);
  } else {
    d = 0.5 * Math.sqrt(1 + r(2, 2) - r(0, 0) - r(1, 1));
    a = (r(1, 0) - r(0, 1)) / (4 * d);
    b = (r(0, 2) + r(2, 0)) / (4 * d);
    c = (r(1, 2) + r(2, 1)) / (4 * d);
  }
  // q and -q are the same rotation; NIfTI stores the one with a >= 0 (a itself is implied).
  if (a < 0) [b, c, d] = [-b, -c, -d];
  return { quatern: [b + 0, c + 0, d + 0], offset: [affine[0]![3]!, affine[1]![3]!, affine[2]![3]!], pixdim, qfac };
}
