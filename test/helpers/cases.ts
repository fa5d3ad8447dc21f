// Access to the reference challenge cases in ../shared/reference/cases/public, for conformance tests.
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { readNpz } from '../../src/volume/npz.ts';
import type { NdArray } from '../../src/volume/npy.ts';

export const PUBLIC_CASES = fileURLToPath(new URL('../../../shared/reference/cases/public', import.meta.url));
export const MODELS_DIR = fileURLToPath(new URL('../../models', import.meta.url));

export function caseNames(): string[] {
  return readdirSync(join(PUBLIC_CASES, 'imgs')).filter((f) => f.endsWith('.npz')).sort();
}

export function loadArrays(folder: 'imgs' | 'gts' | 'segs_litemedsam' | 'segs_onesam_upstream', name: string): Map<string, NdArray> {
  return readNpz(new Uint8Array(readFileSync(join(PUBLIC_CASES, folder, name))), name);
}

/** Dice of label `label` between two label volumes (1 when both are empty). */
export function dice(a: ArrayLike<number>, b: ArrayLike<number>, label: number): { dsc: number; differing: number } {
  let inter = 0;
  let sa = 0;
  let sb = 0;
  let differing = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i] === label;
    const y = b[i] === label;
    if (x) sa++;
    if (y) sb++;
    if (x && y) inter++;
    if (x !== y) differing++;
  }
  return { dsc: sa + sb === 0 ? 1 : (2 * inter) / (sa + sb), differing };
}
