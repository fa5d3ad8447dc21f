// The calibration set of an int8 model: encoder inputs made from a folder of challenge cases (`.npz` with `imgs`
// and, for volumes, `boxes`), preprocessed exactly as the workers preprocess a slice (imaging's preprocessSlice),
// and a fingerprint of the files, which enters the compiled-graph cache key: other calibration cases give other
// activation ranges, hence other graphs.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { preprocessSlice } from '../imaging/index.ts';
import { readNpz } from '../volume/npz.ts';

/** (1, 3, 256, 256): one slice as the encoder reads it. */
export const ENCODER_INPUT_DIMS = [1, 3, 256, 256] as const;
const ENCODER_INPUT_ELEMENTS = 3 * 256 * 256;

/** Slices taken per box of a 3D case: its middle and the two quarter points, where the walk spends its encodes. */
const SLICES_PER_BOX = [0.25, 0.5, 0.75];

export interface CalibrationSet {
  /** SHA-256 over the file names and bytes, in name order. */
  readonly fingerprint: string;
  /** One (1,3,256,256) float32 encoder input per calibration slice. */
  readonly inputs: readonly Float32Array[];
}

/** Reads every `.npz` of `folder` (sorted by name); throws when there is none. */
export function loadCalibrationSet(folder: string): CalibrationSet {
  const files = readdirSync(folder).filter((f) => f.endsWith('.npz')).sort();
  if (files.length === 0) throw new Error(`calibration folder ${folder} holds no .npz case`);
  const hash = createHash('sha256');
  const inputs: Float32Array[] = [];
  for (const file of files) {
    const bytes = new Uint8Array(readFileSync(join(folder, file)));
    hash.update(file).update('\0').update(bytes).update('\0');
    const arrays = readNpz(bytes, file, { keys: ['imgs', 'boxes'] });
    const imgs = arrays.get('imgs');
    if (!imgs || imgs.dtype !== 'uint8') throw new Error(`calibration case ${file}: no uint8 imgs array`);
    const pixels = imgs.data as Uint8Array;
    if (imgs.shape.length === 3 && imgs.shape[2] === 3) {
      inputs.push(preprocessSlice(pixels, imgs.shape[0]!, imgs.shape[1]!, 3, new Float32Array(ENCODER_INPUT_ELEMENTS)).tensor);
      continue;
    }
    if (imgs.shape.length === 2) {
      inputs.push(preprocessSlice(pixels, imgs.shape[0]!, imgs.shape[1]!, 1, new Float32Array(ENCODER_INPUT_ELEMENTS)).tensor);
      continue;
    }
    const [depth, h, w] = imgs.shape as [number, number, number];
    const zs = new Set<number>();
    const boxes = arrays.get('boxes');
    if (boxes && boxes.shape.length === 2 && boxes.shape[1] === 6) {
      const b = Array.from(boxes.data as ArrayLike<number | bigint>, Number);
      for (let r = 0; r < boxes.shape[0]!; r++) {
        const [z0, z1] = [b[r * 6 + 2]!, b[r * 6 + 5]!];
        for (const f of SLICES_PER_BOX) zs.add(Math.min(depth - 1, Math.max(0, Math.round(z0 + f * (z1 - z0)))));
      }
    } else {
      for (const f of SLICES_PER_BOX) zs.add(Math.round(f * (depth - 1)));
    }
    for (const z of [...zs].sort((a, c) => a - c)) {
      inputs.push(preprocessSlice(pixels.subarray(z * h * w, (z + 1) * h * w), h, w, 1, new Float32Array(ENCODER_INPUT_ELEMENTS)).tensor);
    }
  }
  return { fingerprint: hash.digest('hex'), inputs };
}
