// How sure the model is about each object: the decoder's predicted IoU over the slices it decoded, the physical
// volume, and one hint a client can act on without interpreting the numbers itself.
import type { ObjectQuality } from './types.ts';

/**
 * An object whose mean predicted IoU is below this is flagged LOW_PREDICTED_IOU. SAM's IoU head is trained to
 * regress the mask's IoU with the truth; below 0.5 it expects the mask to be more wrong than right, which is where
 * a reviewer should look (docs/api.md, "How sure the model is"). Measured with the demo networks on the 11 public
 * phantom cases (routed): 0.58-0.86 per 2D object, 0.82-0.92 mean (0.62-0.84 lowest slice) per 3D object, so
 * nothing there is flagged; the challenge's Dice of those masks against the phantoms' truth is 0.52-0.87.
 */
export const LOW_PREDICTED_IOU = 0.5;

/** Running mean and minimum of one object's per-slice IoU predictions. */
export class IouStats {
  private sum = 0;
  private count = 0;
  private lowest = 1;

  /**
   * The IoU head is an unbounded regression (an MLP without a sigmoid): values slightly outside 0..1 happen and
   * mean nothing more than 0 or 1, so they are clamped before they reach a client.
   */
  add(predicted: number): void {
    const v = Number.isFinite(predicted) ? Math.min(1, Math.max(0, predicted)) : 0;
    this.sum += v;
    this.count++;
    if (v < this.lowest) this.lowest = v;
  }

  /** Mean and minimum over the slices seen; both 0 when the decoder never ran for the object. */
  get summary(): { readonly mean: number; readonly min: number } {
    return this.count === 0 ? { mean: 0, min: 0 } : { mean: this.sum / this.count, min: this.lowest };
  }
}

/** The object's volume in millilitres (voxels x the product of the (z, y, x) spacing in mm, / 1000). */
export function volumeMl(voxels: number, spacing: readonly [number, number, number] | undefined): number | undefined {
  if (!spacing) return undefined;
  return (voxels * spacing[0] * spacing[1] * spacing[2]) / 1000;
}

/** One hint per object: EMPTY wins over a low IoU (an empty mask has nothing to review). */
export function objectQuality(voxels: number, meanIou: number): ObjectQuality {
  if (voxels === 0) return 'empty';
  if (meanIou < LOW_PREDICTED_IOU) return 'low_predicted_iou';
  return 'ok';
}
