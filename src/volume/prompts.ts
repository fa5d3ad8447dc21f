// What a request asks to segment: one prompt per object, in the image's own pixel coordinates. On the volume floor
// because a challenge npz carries its prompts beside the image (src/volume/challenge.ts), and the pipeline, which
// validates and plans them, sits above it.

/** Objects one request may segment: labels are written as uint16 ordinals, one per object. */
export const MAX_OBJECTS = 65_535;

/** A box on one slice (2D) in original pixel coordinates, inclusive-exclusive as the challenge files are. */
export interface Box2D { readonly kind: 'box2d'; readonly x0: number; readonly y0: number; readonly x1: number; readonly y1: number; /** slice index in a volume; 0 for a 2D image */ readonly z?: number }
/** A 3D box: xy extent plus the slice range [z0, z1], both ends segmented (reference: z0 < z1). */
export interface Box3D { readonly kind: 'box3d'; readonly x0: number; readonly y0: number; readonly z0: number; readonly x1: number; readonly y1: number; readonly z1: number }
/**
 * A scribble: the voxels (flat indices into D*H*W) a user marked for this object. On a 2D image the scribble is
 * a dense mask prompt (reference LiteMedSAMScribble); in 3D see runScribble in src/pipeline/execute.ts and
 * docs/pipeline.md ("3D scribbles") for the propagation rule.
 */
export interface Scribble { readonly kind: 'scribble'; readonly voxels: Uint32Array }

export type Prompt = Box2D | Box3D | Scribble;

/** One object to segment: a prompt and the label value written for it. */
export interface ObjectPrompt {
  readonly label: number;
  readonly prompt: Prompt;
}
