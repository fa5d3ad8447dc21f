// Speed levels of the 3D box walk (docs/pipeline.md, "Speed levels"): at level N the walk encodes and decodes the
// box's middle slice, its end slices and every N-th slice between, and fills the others by shape interpolation.
// Level 1 is the exact walk of the reference.

/** The exact walk: every slice encoded and decoded. */
export const EXACT_SPEED_LEVEL = 1;

/**
 * The highest level accepted. Beyond 8 skipped slices the masks between two computed ones are guesses rather than
 * interpolations on thick CT slices (5 mm: 4 cm), and the encodes saved no longer dominate the request.
 */
export const MAX_SPEED_LEVEL = 8;

/** Why a value is no speed level, or undefined when it is one (the front ends add the field and their error code). */
export function speedLevelProblem(value: number): string | undefined {
  if (Number.isInteger(value) && value >= EXACT_SPEED_LEVEL && value <= MAX_SPEED_LEVEL) return undefined;
  return `must be an integer from ${EXACT_SPEED_LEVEL} (every slice, exact) to ${MAX_SPEED_LEVEL}, got ${value}`;
}

/**
 * The slices one direction of a walk computes, in walk order, from the slice after `from` to `to` (both
 * directions; `to` included): at level N the multiples of N and the end slice. Multiples of N rather than
 * from + N, 2N, ...: the objects of a request then share the same slices' embeddings, as every slice is shared at
 * level 1, instead of each object encoding its own N-th slices.
 */
export function walkSlices(from: number, to: number, level: number): number[] {
  const step = to >= from ? 1 : -1;
  const slices: number[] = [];
  for (let z = from + step; step > 0 ? z <= to : z >= to; z += step) {
    if (z % level === 0 || z === to) slices.push(z);
  }
  return slices;
}

/**
 * The Dice two consecutive computed masks of a walk must reach for the slices between them to be interpolated;
 * below it the gap is walked exactly (execute.ts). Chosen by measurement on the public 3D cases (bench/README.md,
 * "speed-level"): consecutive masks of a smooth object N <= 4 slices apart stay above it, an object that jumps
 * or ends between them falls below.
 */
export const GAP_AGREEMENT = 0.8;

/**
 * How many times a walk decodes the far slice of a gap again, each time prompted with the box of its own latest
 * mask, before comparing it with the near slice's mask. The exact walk prompts every slice with its neighbour's
 * mask box, which is close to the slice's own; the far slice's first prompt comes from N slices back, and on a
 * network sensitive to the box that difference alone sends the walk elsewhere. One re-decode (a decode costs about
 * a tenth of an encode) measured on the paper CT (bench/README.md, "speed-level"): level 2 min per-object Dice
 * against the exact walk 0.953 -> 0.975, level 4 interpolating every gap 0.728 -> 0.923.
 */
export const GAP_REDECODES = 1;

/**
 * How a walk above level 1 fills the slices between its computed ones (the speedLevelGaps setting):
 * - `refine` (the default): each gap's far slice decoded again with its own mask's box (GAP_REDECODES), and a gap
 *   whose two computed masks disagree (masksDisagree at GAP_AGREEMENT) walked exactly instead of interpolated. It
 *   protects small objects that jump between slices, and costs the re-decodes and the exact gaps: on large
 *   objects that shrink towards their ends it walks those ends exactly for nothing.
 * - `interpolate`: the plain walk: every N-th slice (and the ends) computed once, every other slice interpolated.
 *   Fastest; good where the objects change smoothly over N slices (bench/README.md, "speed-level").
 */
export type GapMode = 'refine' | 'interpolate';
export const GAP_MODES: readonly GapMode[] = Object.freeze(['refine', 'interpolate']);
export const DEFAULT_GAP_MODE: GapMode = 'refine';

/** The walk's gap settings of a mode (SegmentOptions.gapAgreement and gapRedecodes; below 0: no gap refined). */
export function gapSettings(mode: GapMode): { readonly gapAgreement: number; readonly gapRedecodes: number } {
  return mode === 'refine' ? { gapAgreement: GAP_AGREEMENT, gapRedecodes: GAP_REDECODES } : { gapAgreement: -1, gapRedecodes: 0 };
}

/** The most re-decodes a bench may ask for (SegmentOptions.gapRedecodes): beyond a few they only add decodes. */
export const MAX_GAP_REDECODES = 4;

/**
 * Whether two computed masks (0/non-0, same size) of a walk disagree: one empty and the other not, or their
 * Dice below `agreement`. Two empty masks agree (the object is gone on both sides: nothing to guess). With
 * `agreement` 0 only the empty-vs-non-empty pair disagrees; below 0 nothing does (interpolation only).
 */
export function masksDisagree(a: Uint8Array, b: Uint8Array, agreement: number): boolean {
  if (a.length !== b.length) throw new RangeError(`masksDisagree: masks of ${a.length} and ${b.length} values`);
  if (agreement < 0) return false;
  let areaA = 0;
  let areaB = 0;
  let both = 0;
  for (let i = 0; i < a.length; i++) {
    const inA = a[i] !== 0;
    const inB = b[i] !== 0;
    if (inA) areaA++;
    if (inB) areaB++;
    if (inA && inB) both++;
  }
  if (areaA === 0 && areaB === 0) return false;
  if (areaA === 0 || areaB === 0) return true;
  return (2 * both) / (areaA + areaB) < agreement;
}
