// Series geometry: the order of slices from their positions and the volume's place in patient space.
//
// Patient coordinates are DICOM's LPS (x to the patient's left, y posterior, z head), in mm. Image Orientation
// (Patient) gives the row direction (along a row: increasing column index) and the column direction (down a column:
// increasing row index); their cross product is the slice normal. Slices are ordered by their position along the
// normal, Image Position (Patient) . normal, increasing: slice z of the volume is the z-th smallest. Rows and columns
// stay as stored. So voxel (i = column, j = row, k = slice) sits at
//   origin + i * columnSpacing * rowDirection + j * rowSpacing * columnDirection + k * sliceStep
// where origin is the first slice's position and sliceStep the mean difference between consecutive positions (the
// normal times the slice spacing within the tolerances below).
//
// Refused, with DICOM_SERIES_INVALID naming the instances: orientations that differ by more than
// ORIENTATION_TOLERANCE, two slices at the same position (closer than POSITION_TOLERANCE_MM), slices whose
// positions do not step along the normal (gantry tilt or a sheared stack: the step's angle to the normal has a sine
// above TILT_TOLERANCE), and gaps that differ from the mean gap by more than SPACING_TOLERANCE of it (a missing
// slice, or non-uniform spacing).
import { CodedError } from '../../errors/coded-error.ts';

export type Vec3 = readonly [number, number, number];
export type Matrix4 = readonly (readonly [number, number, number, number])[];

/** Largest difference allowed between two slices' direction cosines (DS values carry about 6 digits). */
export const ORIENTATION_TOLERANCE = 1e-4;
/** Slices closer than this along the normal are at the same position. */
export const POSITION_TOLERANCE_MM = 1e-3;
/** Sine of the largest angle allowed between the slice step and the normal (0.06 degrees). */
export const TILT_TOLERANCE = 1e-3;
/** Largest relative difference between one gap and the mean gap (1 %, plus POSITION_TOLERANCE_MM for rounding). */
export const SPACING_TOLERANCE = 0.01;

export interface SeriesGeometry {
  /** False for images without Image Position/Orientation (Patient): photographs, CR, US; origin 0, identity axes. */
  readonly patient: boolean;
  /** Position of voxel (0, 0, 0) in LPS mm: the first slice's Image Position (Patient). */
  readonly origin: Vec3;
  /** Unit vector along a row (increasing column index), Image Orientation (Patient) values 1-3. */
  readonly rowDirection: Vec3;
  /** Unit vector down a column (increasing row index), values 4-6. */
  readonly columnDirection: Vec3;
  /** rowDirection x columnDirection: the direction slices are ordered along. */
  readonly normal: Vec3;
  /** (z, y, x) spacing in mm: between slices, between rows (Pixel Spacing 1), between columns (Pixel Spacing 2). */
  readonly spacing: readonly [number, number, number];
  /** Voxel (i = column, j = row, k = slice, 1) to LPS mm. */
  readonly affineLps: Matrix4;
  /** The same to RAS mm (x and y negated), the affine NIfTI stores. */
  readonly affineRas: Matrix4;
  /** Each slice's position along the normal (mm), increasing. */
  readonly slicePositions: readonly number[];
}

/** One slice (a single-frame instance or one frame) as placed in the series. */
export interface PlacedSlice {
  /** `instance 3 (SOP Instance UID ...)` or `instance 0 (...) frame 7`, for messages. */
  readonly name: string;
  /** Error field of the instance (`payload.dicom[3]`). */
  readonly field: string;
  readonly position: Vec3;
  /** Image Orientation (Patient): six direction cosines. */
  readonly orientation: readonly number[];
}

export function dot(a: Vec3, b: Vec3): number {
  return a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
}

export function cross(a: Vec3, b: Vec3): Vec3 {
  return [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]];
}

function norm(a: Vec3): number {
  return Math.sqrt(dot(a, a));
}

function seriesError(slice: PlacedSlice, message: string): CodedError {
  return new CodedError('DICOM_SERIES_INVALID', message, slice.field);
}

/**
 * Orders slices along their common normal and derives the geometry. `pixelSpacing` is (row, column) spacing;
 * `thickness` is used as the slice spacing of a single slice. Returns the slice order (indices into `slices`).
 */
export function orderSlices(slices: readonly PlacedSlice[], pixelSpacing: readonly [number, number], thickness: number | undefined): { order: number[]; geometry: SeriesGeometry } {
  const first = slices[0]!;
  const orientation = first.orientation;
  for (const slice of slices) {
    const differs = slice.orientation.some((v, i) => Math.abs(v - orientation[i]!) > ORIENTATION_TOLERANCE);
    if (differs) {
      throw seriesError(slice, `${slice.name} has Image Orientation (Patient) [${slice.orientation.join(', ')}], ${first.name} [${orientation.join(', ')}]: slices of one volume must be parallel`);
    }
  }
  const rowDirection: Vec3 = [orientation[0]!, orientation[1]!, orientation[2]!];
  const columnDirection: Vec3 = [orientation[3]!, orientation[4]!, orientation[5]!];
  const normal = cross(rowDirection, columnDirection);
  if (Math.abs(norm(rowDirection) - 1) > 0.01 || Math.abs(norm(columnDirection) - 1) > 0.01 || Math.abs(norm(normal) - 1) > 0.01) {
    throw seriesError(first, `${first.name} has Image Orientation (Patient) [${orientation.join(', ')}], which is not two orthogonal unit vectors`);
  }
  const along = slices.map((s) => dot(s.position, normal));
  const order = slices.map((_, i) => i).sort((a, b) => along[a]! - along[b]!);
  const positions = order.map((i) => along[i]!);
  for (let k = 1; k < order.length; k++) {
    if (positions[k]! - positions[k - 1]! < POSITION_TOLERANCE_MM) {
      const a = slices[order[k - 1]!]!;
      const b = slices[order[k]!]!;
      throw seriesError(b, `${b.name} and ${a.name} are at the same position (${positions[k]!.toFixed(3)} mm along the slice normal): duplicate slices, or several stacks in one series`);
    }
  }
  let sliceSpacing = thickness !== undefined && thickness > 0 ? thickness : 1;
  let step: Vec3 = [normal[0] * sliceSpacing, normal[1] * sliceSpacing, normal[2] * sliceSpacing];
  if (order.length > 1) {
    const firstSlice = slices[order[0]!]!;
    const lastSlice = slices[order[order.length - 1]!]!;
    const span: Vec3 = [0, 1, 2].map((i) => lastSlice.position[i]! - firstSlice.position[i]!) as unknown as Vec3;
    const sine = norm(cross(span, normal)) / norm(span);
    if (sine > TILT_TOLERANCE) {
      const degrees = (Math.asin(Math.min(1, sine)) * 180) / Math.PI;
      throw seriesError(lastSlice, `the slices from ${firstSlice.name} to ${lastSlice.name} step ${degrees.toFixed(2)} degrees off their normal: gantry tilt or a sheared stack is not resampled; send a series reconstructed without tilt`);
    }
    const gaps = positions.slice(1).map((p, k) => p - positions[k]!);
    const mean = (positions[positions.length - 1]! - positions[0]!) / gaps.length;
    // The gap furthest from the mean is the one to name (a missing slice makes one gap twice the others).
    let worst = 0;
    gaps.forEach((gap, k) => { if (Math.abs(gap - mean) > Math.abs(gaps[worst]! - mean)) worst = k; });
    const gap = gaps[worst]!;
    if (Math.abs(gap - mean) > SPACING_TOLERANCE * mean + POSITION_TOLERANCE_MM) {
      const a = slices[order[worst]!]!;
      const b = slices[order[worst + 1]!]!;
      throw seriesError(b, `${a.name} and ${b.name} are ${gap.toFixed(3)} mm apart, the mean slice spacing is ${mean.toFixed(3)} mm: a missing slice or non-uniform spacing (tolerance ${SPACING_TOLERANCE * 100} %)`);
    }
    sliceSpacing = mean;
    step = span.map((v) => v / gaps.length) as unknown as Vec3;
  }
  const origin = slices[order[0]!]!.position;
  const [rowSpacing, columnSpacing] = pixelSpacing;
  const affineLps = affine(origin, rowDirection, columnDirection, step, rowSpacing, columnSpacing);
  return {
    order,
    geometry: {
      patient: true, origin, rowDirection, columnDirection, normal,
      spacing: [sliceSpacing, rowSpacing, columnSpacing],
      affineLps, affineRas: lpsToRas(affineLps), slicePositions: positions,
    },
  };
}

/** Geometry of images without patient coordinates: identity axes, origin 0, the given spacing. */
export function imageGeometry(slices: number, pixelSpacing: readonly [number, number] | undefined): SeriesGeometry {
  const [rowSpacing, columnSpacing] = pixelSpacing ?? [1, 1];
  const origin: Vec3 = [0, 0, 0];
  const rowDirection: Vec3 = [1, 0, 0];
  const columnDirection: Vec3 = [0, 1, 0];
  const normal: Vec3 = [0, 0, 1];
  const affineLps = affine(origin, rowDirection, columnDirection, normal, rowSpacing, columnSpacing);
  return {
    patient: false, origin, rowDirection, columnDirection, normal, spacing: [1, rowSpacing, columnSpacing],
    affineLps, affineRas: lpsToRas(affineLps), slicePositions: Array.from({ length: slices }, (_, k) => k),
  };
}

function affine(origin: Vec3, row: Vec3, column: Vec3, step: Vec3, rowSpacing: number, columnSpacing: number): Matrix4 {
  // `+ 0` turns -0 into 0, so affines compare and print cleanly.
  const rowOf = (axis: 0 | 1 | 2): [number, number, number, number] => [row[axis] * columnSpacing + 0, column[axis] * rowSpacing + 0, step[axis] + 0, origin[axis] + 0];
  return [rowOf(0), rowOf(1), rowOf(2), [0, 0, 0, 1]];
}

function lpsToRas(m: Matrix4): Matrix4 {
  const flip = (r: readonly [number, number, number, number]): [number, number, number, number] => [-r[0] + 0, -r[1] + 0, -r[2] + 0, -r[3] + 0];
  return [flip(m[0]!), flip(m[1]!), [...m[2]!], [...m[3]!]];
}

/** Voxel (column, row, slice) of an LPS point through an affine, for prompts given in mm (inverse of affineLps). */
export function lpsToVoxel(geometry: SeriesGeometry, point: Vec3): Vec3 {
  const m = geometry.affineLps;
  const d: Vec3 = [point[0] - m[0]![3], point[1] - m[1]![3], point[2] - m[2]![3]];
  const columns: Vec3[] = [0, 1, 2].map((c) => [m[0]![c]!, m[1]![c]!, m[2]![c]!] as Vec3);
  // Solve the 3x3 system by Cramer's rule: the axes are not orthogonal in general (a sheared step is refused, but
  // the step's length differs from the pixel spacings).
  const det = dot(columns[0]!, cross(columns[1]!, columns[2]!));
  return [
    dot(d, cross(columns[1]!, columns[2]!)) / det,
    dot(columns[0]!, cross(d, columns[2]!)) / det,
    dot(columns[0]!, cross(columns[1]!, d)) / det,
  ];
}
