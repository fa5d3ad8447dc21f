// Prompts in DICOM terms mapped onto the decoded volume: a slice named by the image it came from (SOP Instance
// UID, and frame number for a multi-frame instance) becomes its z index, and a box given by two corners in patient
// coordinates (LPS mm, as viewers such as OHIF measure it) becomes a box in voxels through the series geometry.
// Pure functions of the series description; the server (request-objects.ts) and `onesam segment` both use them.
// Errors are PROMPT_INVALID with the field under the caller's path (`box2d.slice.sop_instance_uid`), so each front
// end reports them where the person wrote the prompt.
//
// Rounding of a box in mm (docs/api.md, "Prompts in DICOM terms"): each corner maps to continuous voxel
// coordinates (i, j, k) with voxel centres at whole numbers. In the slice plane the box becomes the smallest
// whole-pixel box covering the rectangle between the corners: x0 = floor(min i + 0.5), x1 = ceil(max i + 0.5)
// (exclusive), and the same for y; a corner exactly on a pixel edge does not take in the pixel beyond it.
// Along the slices each corner takes the nearest slice, round(k). Both on one slice: a 2D box on it; on different
// slices: a 3D box over the slices between them, both included. A corner more than half a voxel outside the volume
// along any axis is refused.
import { CodedError } from '../../errors/coded-error.ts';
import { fieldUnder } from '../../errors/field-path.ts';
import type { Box2D, Box3D, Prompt } from '../prompts.ts';
import { lpsToVoxel, type Vec3 } from './geometry.ts';
import type { DicomSeriesInfo } from './series.ts';

/** One slice named by its image: frame 0 (or 1) for a single-frame instance, 1..N in a multi-frame one. */
export interface DicomSliceRef {
  readonly sopInstanceUid: string;
  readonly frameNumber: number;
}

/** A prompt that names slices or corners in DICOM terms, before the volume is known. */
export type DicomPromptShape =
  | { readonly kind: 'box2d'; readonly x0: number; readonly y0: number; readonly x1: number; readonly y1: number; readonly slice: DicomSliceRef }
  | { readonly kind: 'box3d'; readonly x0: number; readonly y0: number; readonly x1: number; readonly y1: number; readonly sliceFirst: DicomSliceRef; readonly sliceLast: DicomSliceRef }
  | { readonly kind: 'patient-box'; readonly cornerA: readonly number[]; readonly cornerB: readonly number[] };

/** What the mapping needs of a series: its shape, geometry and the image each slice came from. */
export type MappedSeries = Pick<DicomSeriesInfo, 'shape' | 'geometry' | 'slices'>;

export interface DicomPromptMapping {
  /** The z index of the slice `ref` names; errors name `field` (default `slice`). */
  sliceIndex(ref: DicomSliceRef, field?: string): number;
  /** A box in voxels from two corners in LPS mm; errors name `field` (default `patient_box`). */
  patientBox(cornerA: readonly number[], cornerB: readonly number[], field?: string): Box2D | Box3D;
}

/** Values this close to a whole number are that number: corners on pixel edges survive the affine's rounding. */
const SNAP = 1e-6;

export function dicomPromptMapping(series: MappedSeries): DicomPromptMapping {
  // SOP Instance UID -> frame number (0 for single-frame instances) -> z.
  const bySop = new Map<string, Map<number, number>>();
  series.slices.forEach((s, z) => {
    let frames = bySop.get(s.sopInstanceUid);
    if (!frames) bySop.set(s.sopInstanceUid, (frames = new Map()));
    frames.set(s.frameNumber ?? 0, z);
  });
  const [depth, height, width] = series.shape;

  function sliceIndex(ref: DicomSliceRef, field = 'slice'): number {
    const uid = ref.sopInstanceUid;
    if (typeof uid !== 'string' || uid === '') throw invalid(fieldUnder(field, 'sop_instance_uid'), 'must name the SOP Instance UID of an image of the series');
    const frames = bySop.get(uid);
    if (!frames) {
      throw invalid(fieldUnder(field, 'sop_instance_uid'), `${shortUid(uid)} is not an instance of this series (its ${bySop.size} instance${bySop.size === 1 ? '' : 's'} are the ones uploaded)`);
    }
    const frame = ref.frameNumber;
    if (frames.has(0)) {
      // A single-frame instance: frame_number 0 as the proto says, or 1 as DICOM's Referenced Frame Number would.
      if (frame === 0 || frame === 1) return frames.get(0)!;
      throw invalid(fieldUnder(field, 'frame_number'), `instance ${shortUid(uid)} is a single-frame image: frame_number must be 0, got ${frame}`);
    }
    const z = frames.get(frame);
    if (z === undefined) {
      throw invalid(fieldUnder(field, 'frame_number'), `instance ${shortUid(uid)} is a multi-frame image with frames 1..${frames.size}: frame_number must name one, got ${frame}`);
    }
    return z;
  }

  function patientBox(cornerA: readonly number[], cornerB: readonly number[], field = 'patient_box'): Box2D | Box3D {
    if (!series.geometry.patient) {
      throw invalid(field, 'needs a series placed in patient coordinates (Image Position and Orientation (Patient)), and this image has none: give the box in pixels (box2d)');
    }
    const a = voxelOf(cornerA, fieldUnder(field, 'corner_a'));
    const b = voxelOf(cornerB, fieldUnder(field, 'corner_b'));
    // Pixel edges are at half-integers of the voxel coordinates: shifted by 0.5 they are whole numbers to snap.
    const x0 = Math.floor(snap(Math.min(a[0], b[0]) + 0.5));
    const x1 = Math.ceil(snap(Math.max(a[0], b[0]) + 0.5));
    const y0 = Math.floor(snap(Math.min(a[1], b[1]) + 0.5));
    const y1 = Math.ceil(snap(Math.max(a[1], b[1]) + 0.5));
    const za = Math.round(snap(a[2]));
    const zb = Math.round(snap(b[2]));
    if (za === zb) return { kind: 'box2d', x0, y0, x1, y1, ...(depth > 1 ? { z: za } : {}) };
    return { kind: 'box3d', x0, y0, x1, y1, z0: Math.min(za, zb), z1: Math.max(za, zb) };
  }

  /** Continuous voxel coordinates (column, row, slice) of a corner, refused beyond half a voxel outside. */
  function voxelOf(corner: readonly number[], field: string): Vec3 {
    if (!Array.isArray(corner) || corner.length !== 3 || !corner.every((v) => Number.isFinite(v))) {
      throw invalid(field, `must be three finite numbers (x, y, z) in mm, got [${Array.isArray(corner) ? corner.join(', ') : String(corner)}]`);
    }
    const v = lpsToVoxel(series.geometry, corner as unknown as Vec3);
    const inside = (c: number, n: number): boolean => snap(c + 0.5) >= 0 && snap(c + 0.5) <= n;
    if (!(inside(v[0], width) && inside(v[1], height) && inside(v[2], depth))) {
      const shown = v.map((c) => c.toFixed(2)).join(', ');
      throw invalid(field, `(${corner.join(', ')}) mm is at voxel (${shown}) (column, row, slice), outside the volume (columns 0..${width - 1}, rows 0..${height - 1}, slices 0..${depth - 1})`);
    }
    return v;
  }

  return { sliceIndex, patientBox };
}

/** The pipeline prompt of a DICOM-term prompt; errors name fields under `field` (`header.prompts[2]`). */
export function resolveDicomPrompt(shape: DicomPromptShape, mapping: DicomPromptMapping, field: string): Prompt {
  switch (shape.kind) {
    case 'box2d': {
      const { x0, y0, x1, y1 } = shape;
      return { kind: 'box2d', x0, y0, x1, y1, z: mapping.sliceIndex(shape.slice, fieldUnder(field, 'box2d.slice')) };
    }
    case 'box3d': {
      const { x0, y0, x1, y1 } = shape;
      const z0 = mapping.sliceIndex(shape.sliceFirst, fieldUnder(field, 'box3d.slice_first'));
      const z1 = mapping.sliceIndex(shape.sliceLast, fieldUnder(field, 'box3d.slice_last'));
      // The slices may be named in either order: the box spans the slices between them.
      return { kind: 'box3d', x0, y0, x1, y1, z0: Math.min(z0, z1), z1: Math.max(z0, z1) };
    }
    case 'patient-box':
      return mapping.patientBox(shape.cornerA, shape.cornerB, fieldUnder(field, 'patient_box'));
  }
}

function snap(v: number): number {
  const whole = Math.round(v);
  // `+ 0`: a corner on the first edge gives 0, not -0.
  return Math.abs(v - whole) < SNAP ? whole + 0 : v;
}

function shortUid(uid: string): string {
  return uid.length > 64 ? `${uid.slice(0, 64)}...` : uid;
}

function invalid(field: string, detail: string): CodedError {
  return new CodedError('PROMPT_INVALID', detail, field);
}
