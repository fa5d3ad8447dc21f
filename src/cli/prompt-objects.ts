// A person's prompts (prompt-spec.ts) against the image they were given for: pipeline prompts in voxel
// coordinates, and the pipeline's own checks (ranges, slice indices) reported against the flag or file entry they
// came from, as usage errors. Patient-millimetre boxes and slices named by SOP Instance UID need a DICOM series'
// geometry: the input supplies a DicomPromptMapping, and without one they are refused.
import { CodedError } from '../errors/coded-error.ts';
import type { Box2D, Box3D, ObjectPrompt } from '../pipeline/types.ts';
import { strokesToVoxels, type VolumeDims } from '../protocol/scribble-strokes.ts';
import { UsageError } from './args.ts';
import type { PromptSpec, SliceRef } from './prompt-spec.ts';

/**
 * What a DICOM input knows that maps a person's DICOM-space prompt to voxels (the seam for the DICOM reader):
 * a box in patient coordinates to a 2D box on one slice or a 3D box over the slices between its corners, and an
 * instance (and frame) to its slice index. Each throws an Error whose message says why it cannot map.
 */
export interface DicomPromptMapping {
  patientBox(cornerA: readonly [number, number, number], cornerB: readonly [number, number, number]): Box2D | Box3D;
  sliceIndex(ref: SliceRef): number;
}

export interface PromptTarget {
  readonly dims: VolumeDims;
  /** Present only for DICOM inputs. */
  readonly dicom?: DicomPromptMapping;
  /** Names the input kind in refusals: "a NIfTI input". */
  readonly inputName: string;
}

export function promptObjects(specs: readonly PromptSpec[], target: PromptTarget): ObjectPrompt[] {
  return specs.map((spec) => ({ label: spec.label, prompt: toPipelinePrompt(spec, target) }));
}

function toPipelinePrompt(spec: PromptSpec, target: PromptTarget): ObjectPrompt['prompt'] {
  const { shape, source } = spec;
  const dicom = (what: string): DicomPromptMapping => {
    if (!target.dicom) throw new UsageError(`${source}: ${what} needs a DICOM input (it is mapped through the series geometry); ${target.inputName} takes voxel coordinates (--box)`);
    return target.dicom;
  };
  const mapped = <T>(map: () => T): T => {
    try {
      return map();
    } catch (e) {
      if (e instanceof UsageError) throw e;
      throw new UsageError(`${source}: ${(e as Error).message}`);
    }
  };
  switch (shape.kind) {
    case 'box2d': {
      const { x0, y0, x1, y1 } = shape;
      if (shape.slice) {
        const mapping = dicom('a slice named by SOP Instance UID');
        return { kind: 'box2d', x0, y0, x1, y1, z: mapped(() => mapping.sliceIndex(shape.slice!)) };
      }
      if (shape.z === undefined && target.dims.depth > 1) {
        throw new UsageError(`${source}: a 2D box on a ${target.dims.depth}-slice volume needs its slice: x0,y0,x1,y1,z (or x0,y0,z0,x1,y1,z1 for a 3D box)`);
      }
      return { kind: 'box2d', x0, y0, x1, y1, ...(shape.z !== undefined ? { z: shape.z } : {}) };
    }
    case 'box3d': {
      const { x0, y0, x1, y1 } = shape;
      if (shape.sliceFirst && shape.sliceLast) {
        const mapping = dicom('a slice named by SOP Instance UID');
        return { kind: 'box3d', x0, y0, x1, y1, z0: mapped(() => mapping.sliceIndex(shape.sliceFirst!)), z1: mapped(() => mapping.sliceIndex(shape.sliceLast!)) };
      }
      if (target.dims.depth === 1) throw new UsageError(`${source}: a 3D box needs a volume, and this image has one slice: use x0,y0,x1,y1`);
      return { kind: 'box3d', x0, y0, x1, y1, z0: shape.z0!, z1: shape.z1! };
    }
    case 'scribble':
      return { kind: 'scribble', voxels: rebasePromptErrors(() => strokesToVoxels(shape.strokes, target.dims, 'scribble'), [spec]) };
    case 'patient-box': {
      const mapping = dicom('a box in patient millimetres');
      return mapped(() => mapping.patientBox(shape.cornerA, shape.cornerB));
    }
  }
}

/**
 * Runs a check of the pipeline's (planRequest, strokesToVoxels) and turns its coded PROMPT_INVALID error about prompt i into a
 * UsageError naming the person's words for prompt i: `--box "1,2,300,4,5": box2d: ... extends past the image`.
 * A scribble's own check names the field `scribble...` and is reported against the single spec given.
 */
export function rebasePromptErrors<T>(check: () => T, specs: readonly PromptSpec[]): T {
  try {
    return check();
  } catch (e) {
    if (!(e instanceof CodedError) || e.code !== 'PROMPT_INVALID' || !e.field) throw e;
    const message = e.detail;
    const indexed = /^prompts\[(\d+)\]\.?(.*)$/.exec(e.field);
    if (indexed) {
      const spec = specs[Number(indexed[1])];
      if (spec) throw new UsageError(`${spec.source}: ${indexed[2] ? `${indexed[2]}: ` : ''}${message}`);
    }
    if (specs.length === 1 && e.field.startsWith('scribble')) throw new UsageError(`${specs[0]!.source}: ${e.field}: ${message}`);
    throw new UsageError(`${e.field}: ${message}`);
  }
}
