// The corner-point form of box prompts (SAM's ONNX convention) and the point labels the decoder graph understands.
// Pure TypeScript, no graph code: callers that only prepare prompts import this without the builders.

/** Point labels of the decoder graph's `point_labels` input (SAM's prompt encoder, spec 5.5). */
export const POINT_LABEL = {
  /** Not a point: its positional encoding is zeroed and not_a_point_embed added. */
  padding: -1,
  background: 0,
  foreground: 1,
  /** A box's (x0,y0) corner: the same embedding as SAM's _embed_boxes corner 0. */
  boxTopLeft: 2,
  /** A box's (x1,y1) corner: _embed_boxes corner 1. */
  boxBottomRight: 3,
} as const;

export interface PointPrompts {
  /** (B,P,2) as (x,y) in 256-space. */
  readonly coords: Float32Array;
  /** (B,P) labels from POINT_LABEL. */
  readonly labels: Float32Array;
  /** P, the points per prompt. */
  readonly pointsPerPrompt: number;
}

/**
 * Turns B boxes (x0,y0,x1,y1) in 256-space, laid out (B,4), into B prompts of two points labelled 2 and 3.
 * SAM's _embed_boxes adds 0.5 to each corner, normalises by 256, encodes and adds point_embeddings[2]/[3]: exactly
 * what the decoder graph does for points with these labels, so the result equals a box prompt bit for bit.
 */
export function boxesToPointPrompts(boxes256: Float32Array): PointPrompts {
  if (boxes256.length % 4 !== 0) {
    throw new RangeError(`boxes256 holds ${boxes256.length} values: expected (B,4) boxes, a multiple of 4`);
  }
  const count = boxes256.length / 4;
  const coords = Float32Array.from(boxes256);
  const labels = new Float32Array(count * 2);
  for (let b = 0; b < count; b++) {
    labels[2 * b] = POINT_LABEL.boxTopLeft;
    labels[2 * b + 1] = POINT_LABEL.boxBottomRight;
  }
  return { coords, labels, pointsPerPrompt: 2 };
}
