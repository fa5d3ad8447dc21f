// Evaluate a folder of predicted challenge files against a folder of ground truths, case by case.
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { readNpz, type NdArray } from '../volume/npz.ts';
import { EvalError } from './errors.ts';
import { caseMetrics, type CaseMetrics } from './metrics.ts';
import type { Shape3, Spacing3 } from './surface-dice.ts';

export interface CaseReport extends CaseMetrics {
  readonly case: string;
}

export interface EvalReport {
  readonly cases: readonly CaseReport[];
  /** means over cases, skipping cases whose value is NaN */
  readonly mean: { readonly dsc: number; readonly nsd: number };
}

function need(arrays: Map<string, NdArray>, key: string, file: string): NdArray {
  const a = arrays.get(key);
  if (!a) throw new EvalError('EVAL_MISSING_KEY', `${file}: missing array "${key}" (found: ${[...arrays.keys()].join(', ') || 'none'})`);
  return a;
}

/** Label values as plain numbers (int64 label maps are converted; labels are small integers). */
function labelValues(a: NdArray, file: string): ArrayLike<number> {
  if (a.dtype === 'float32' || a.dtype === 'float64') throw new EvalError('EVAL_BAD_DTYPE', `${file}: label maps must be integers, got ${a.dtype}`);
  if (a.data instanceof BigInt64Array || a.data instanceof BigUint64Array) return Float64Array.from(a.data, Number);
  return a.data as ArrayLike<number>;
}

/** Metrics of one case, from the ground-truth and predicted npz bytes; the challenge's rules pick 2D or 3D by name. */
export function evaluateCase(name: string, gtBytes: Uint8Array, predBytes: Uint8Array): CaseReport {
  const gtFile = readNpz(gtBytes, `gt/${name}`);
  const predFile = readNpz(predBytes, `pred/${name}`);
  const gts = need(gtFile, 'gts', `gt/${name}`);
  const segs = need(predFile, 'segs', `pred/${name}`);
  if (gts.shape.join(',') !== segs.shape.join(',')) {
    throw new EvalError('EVAL_SHAPE_MISMATCH', `${name}: gts shape (${gts.shape.join(', ')}) differs from segs shape (${segs.shape.join(', ')})`);
  }
  let shape: Shape3;
  let spacing: Spacing3;
  if (name.startsWith('3D')) {
    if (gts.shape.length !== 3) throw new EvalError('EVAL_SHAPE_MISMATCH', `${name}: a 3D case needs (D, H, W) gts, got (${gts.shape.join(', ')})`);
    const stored = need(gtFile, 'spacing', `gt/${name}`);
    const values = Array.from(stored.data as ArrayLike<number | bigint>, Number);
    if (values.length !== 3 || values.some((v) => !(v > 0) || !Number.isFinite(v))) {
      throw new EvalError('EVAL_BAD_SPACING', `gt/${name}: spacing must be three positive numbers, got [${values.join(', ')}]`);
    }
    shape = gts.shape as unknown as Shape3;
    spacing = values as unknown as Spacing3; // as stored, in array-axis order, like the reference
  } else {
    if (gts.shape.length !== 2) throw new EvalError('EVAL_SHAPE_MISMATCH', `${name}: a 2D case needs (H, W) gts, got (${gts.shape.join(', ')})`);
    shape = [gts.shape[0]!, gts.shape[1]!, 1];
    spacing = [1, 1, 1];
  }
  return { case: name, ...caseMetrics(labelValues(gts, `gt/${name}`), labelValues(segs, `pred/${name}`), shape, spacing) };
}

function nanMean(values: readonly number[]): number {
  const finite = values.filter((v) => !Number.isNaN(v));
  return finite.length === 0 ? Number.NaN : finite.reduce((a, b) => a + b, 0) / finite.length;
}

/** Every `.npz` in `gtDir` (sorted by name) against the file of the same name in `predDir`. */
export async function evaluateDirectories(predDir: string, gtDir: string): Promise<EvalReport> {
  const names = (await readdir(gtDir)).filter((f) => f.endsWith('.npz')).sort();
  if (names.length === 0) throw new EvalError('EVAL_NO_CASES', `${gtDir}: no .npz ground-truth files`);
  const predictions = new Set(await readdir(predDir));
  const cases: CaseReport[] = [];
  for (const name of names) {
    if (!predictions.has(name)) throw new EvalError('EVAL_MISSING_PREDICTION', `${join(predDir, name)}: no prediction for ground truth ${name}`);
    const [gtBytes, predBytes] = await Promise.all([readFile(join(gtDir, name)), readFile(join(predDir, name))]);
    cases.push(evaluateCase(name, gtBytes, predBytes));
  }
  return { cases, mean: { dsc: nanMean(cases.map((c) => c.dsc)), nsd: nanMean(cases.map((c) => c.nsd)) } };
}
