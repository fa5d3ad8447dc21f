// The calibration set of an int8 model: encoder inputs made from a folder of challenge cases (`.npz` with `imgs`
// and, for volumes, `boxes`), preprocessed exactly as the workers preprocess a slice (imaging's preprocessSlice),
// and a fingerprint of the files, which enters the compiled-graph cache key: other calibration cases give other
// activation ranges, hence other graphs.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { preprocessSlice } from '../imaging/index.ts';
import type { NetworkName } from '../models/network-contract.ts';
import type { CalibrationSource, Int8Request } from '../models/repository.ts';
import { readNpz } from '../volume/npz.ts';

export type CalibrationMethod = Int8Request['method'];
/** How int8 builds may take activation ranges from the calibration runs (src/models/quantize/calibrate.ts). */
export const CALIBRATION_METHODS: readonly CalibrationMethod[] = ['minmax', 'percentile'];

/** A network served in int8 (the models setting's `"precision": "int8"`). */
export interface Int8Setting {
  readonly precision: 'int8';
  /** Absolute path of the folder of `.npz` cases the activation ranges are calibrated on. */
  readonly calibration: string;
  readonly calibrationMethod: CalibrationMethod;
}

/** The networks served in int8; a network without an entry runs the fp32 graphs. */
export type NetworkPrecisions = Readonly<Partial<Record<NetworkName, Int8Setting>>>;

/** The repository's build request for a network's setting. */
export function int8Request(setting: Int8Setting): Int8Request {
  return { precision: 'int8', method: setting.calibrationMethod, calibration: calibrationFolder(setting.calibration) };
}

/** (1, 3, 256, 256): one slice as the encoder reads it. */
export const ENCODER_INPUT_DIMS = [1, 3, 256, 256] as const;
const ENCODER_INPUT_ELEMENTS = 3 * 256 * 256;

/** Slices taken per box of a 3D case: its middle and the two quarter points, where the walk spends its encodes. */
const SLICES_PER_BOX = [0.25, 0.5, 0.75];

/**
 * The calibration source of a folder: its fingerprint now (SHA-256 over the `.npz` file names and bytes, in name
 * order), its encoder inputs when a build asks for them. Throws when the folder cannot be read or holds no case.
 */
export function calibrationFolder(folder: string): CalibrationSource {
  const files = readdirSync(folder).filter((f) => f.endsWith('.npz')).sort();
  if (files.length === 0) throw new Error(`calibration folder ${folder} holds no .npz case`);
  const hash = createHash('sha256');
  for (const file of files) hash.update(file).update('\0').update(readFileSync(join(folder, file))).update('\0');
  return { fingerprint: hash.digest('hex'), inputs: () => files.flatMap((file) => caseInputs(folder, file)) };
}

/** The encoder inputs of one case: the 2D image, or for a volume the slices SLICES_PER_BOX picks in each box. */
function caseInputs(folder: string, file: string): Float32Array[] {
  const arrays = readNpz(new Uint8Array(readFileSync(join(folder, file))), file, { keys: ['imgs', 'boxes'] });
  const imgs = arrays.get('imgs');
  if (!imgs || imgs.dtype !== 'uint8') throw new Error(`calibration case ${file}: no uint8 imgs array`);
  const pixels = imgs.data as Uint8Array;
  const input = (): Float32Array => new Float32Array(ENCODER_INPUT_ELEMENTS);
  if (imgs.shape.length === 3 && imgs.shape[2] === 3) return [preprocessSlice(pixels, imgs.shape[0]!, imgs.shape[1]!, 3, input()).tensor];
  if (imgs.shape.length === 2) return [preprocessSlice(pixels, imgs.shape[0]!, imgs.shape[1]!, 1, input()).tensor];
  if (imgs.shape.length !== 3) throw new Error(`calibration case ${file}: imgs of shape (${imgs.shape.join(', ')}) is neither an image nor a volume`);
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
  return [...zs].sort((a, c) => a - c).map((z) => preprocessSlice(pixels.subarray(z * h * w, (z + 1) * h * w), h, w, 1, input()).tensor);
}
