// One case's challenge metrics: DSC and NSD per label 1..max(gts), and their means (compute_metrics.py).
import { diceOf, labelCounts, maxLabel } from './dice.ts';
import { surfaceDiceAtTolerance, surfaceDistances, type Shape3, type Spacing3 } from './surface-dice.ts';

/** NSD tolerance of the challenge, for every modality (mm in 3D, pixels in 2D). */
export const NSD_TOLERANCE = 2;
/** NSD is computed only for cases whose mean DSC exceeds this; otherwise the case NSD is 0. */
export const NSD_MIN_DSC = 0.2;

export interface LabelMetrics {
  readonly label: number;
  /** NaN when the label is in neither mask */
  readonly dsc: number;
  /** null when the case's DSC was too low for NSD to be computed; NaN when the label is in neither mask */
  readonly nsd: number | null;
}

export interface CaseMetrics {
  /** mean over labels; NaN if any label is in neither mask (the reference's np.mean) */
  readonly dsc: number;
  /** mean over labels, or 0 when the case DSC is not above NSD_MIN_DSC */
  readonly nsd: number;
  readonly labels: readonly LabelMetrics[];
}

function mean(values: readonly number[]): number {
  return values.length === 0 ? Number.NaN : values.reduce((a, b) => a + b, 0) / values.length;
}

function binaryMask(labels: ArrayLike<number>, label: number): Uint8Array {
  const out = new Uint8Array(labels.length);
  for (let i = 0; i < labels.length; i++) out[i] = labels[i] === label ? 1 : 0;
  return out;
}

/**
 * Metrics of one case given as label maps in C order. 2D cases are passed as (H, W, 1) with spacing [1, 1, 1],
 * as the reference expands them; 3D spacing is used as stored, in array-axis order.
 */
export function caseMetrics(gts: ArrayLike<number>, segs: ArrayLike<number>, shape: Shape3, spacing: Spacing3, tolerance = NSD_TOLERANCE): CaseMetrics {
  const top = maxLabel(gts);
  const counts = labelCounts(gts, segs, top);
  const labelDsc: number[] = [];
  for (let label = 1; label <= top; label++) labelDsc.push(diceOf(counts, label));
  const dsc = mean(labelDsc);
  const computeNsd = dsc > NSD_MIN_DSC; // false for NaN, as in Python
  const labelNsd: (number | null)[] = [];
  for (let label = 1; label <= top; label++) {
    if (!computeNsd) {
      labelNsd.push(null);
      continue;
    }
    const distances = surfaceDistances(binaryMask(gts, label), binaryMask(segs, label), shape, spacing);
    labelNsd.push(surfaceDiceAtTolerance(distances, tolerance));
  }
  const nsd = computeNsd ? mean(labelNsd as number[]) : 0;
  return { dsc, nsd, labels: labelDsc.map((d, i) => ({ label: i + 1, dsc: d, nsd: labelNsd[i]! })) };
}
