// Dice similarity per label, as the challenge's compute_metrics.py: labels 1..max(gts), NaN when a label is
// absent from both masks.

/** Voxel counts per label value (index = label) of gts, segs and their agreement. */
export interface LabelCounts {
  readonly gt: Float64Array;
  readonly seg: Float64Array;
  readonly both: Float64Array;
}

export function labelCounts(gts: ArrayLike<number>, segs: ArrayLike<number>, maxLabel: number): LabelCounts {
  if (gts.length !== segs.length) throw new RangeError(`labelCounts: ${gts.length} ground-truth voxels vs ${segs.length} predicted`);
  const gt = new Float64Array(maxLabel + 1);
  const seg = new Float64Array(maxLabel + 1);
  const both = new Float64Array(maxLabel + 1);
  for (let i = 0; i < gts.length; i++) {
    const g = gts[i]!;
    const s = segs[i]!;
    if (g <= maxLabel) gt[g]!++;
    if (s <= maxLabel) seg[s]!++;
    if (g === s && g <= maxLabel) both[g]!++;
  }
  return { gt, seg, both };
}

/** 2 |G ∩ S| / (|G| + |S|) for one label; NaN if both are empty. */
export function diceOf(counts: LabelCounts, label: number): number {
  const sum = counts.gt[label]! + counts.seg[label]!;
  return sum === 0 ? Number.NaN : (2 * counts.both[label]!) / sum;
}

/** Largest value of a label map (0 for an empty one). */
export function maxLabel(values: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < values.length; i++) if (values[i]! > m) m = values[i]!;
  return m;
}
