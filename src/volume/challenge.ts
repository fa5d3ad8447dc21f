// The CVPR 2024 "MedSAM on Laptop" npz layout: `imgs` (H,W,3) for 2D or (D,H,W) for 3D uint8, `boxes` (N,4) or
// (N,6), optional `spacing` and `scribbles` (label map: k = object k, 1000 = background). Turned into a request.
import { CodedError } from '../errors/coded-error.ts';
import type { ImageVolume } from './image-volume.ts';
import type { ObjectPrompt } from './prompts.ts';

export interface NdArrayLike {
  readonly dtype: string;
  readonly shape: readonly number[];
  readonly data: ArrayLike<number | bigint>;
}

export interface ChallengeCase {
  readonly image: ImageVolume;
  readonly objects: readonly ObjectPrompt[];
  readonly is3D: boolean;
}

/** The scribble map's background value: ignored at inference, as in the reference scribble script. */
export const BACKGROUND_SCRIBBLE = 1000;
/** Largest scribble label: labels are written back as uint16. */
const MAX_SCRIBBLE_LABEL = 65_535;

function need(arrays: ReadonlyMap<string, NdArrayLike>, key: string): NdArrayLike {
  const a = arrays.get(key);
  if (!a) throw new CodedError('IMAGE_INVALID', `missing key "${key}" (found: ${[...arrays.keys()].join(', ') || 'none'})`, key);
  return a;
}

/**
 * Builds the request from an npz's arrays. 3D when the file name starts with "3D" (the reference's only
 * dispatch rule) or, for other names, when `imgs` is (D,H,W) without a trailing RGB axis.
 */
export function challengeCase(arrays: ReadonlyMap<string, NdArrayLike>, fileName: string, prompt: 'auto' | 'boxes' | 'scribbles' = 'auto'): ChallengeCase {
  const imgs = need(arrays, 'imgs');
  if (imgs.dtype !== 'uint8') throw new CodedError('IMAGE_INVALID', `must be uint8 (values 0..255), got ${imgs.dtype}`, 'imgs');
  const base = fileName.split(/[\\/]/).pop() ?? fileName;
  const shape = imgs.shape;
  const is3D = base.startsWith('3D') || (!base.startsWith('2D') && shape.length === 3 && shape[2] !== 3);
  let image: ImageVolume;
  const data = imgs.data instanceof Uint8Array ? imgs.data : Uint8Array.from(imgs.data as ArrayLike<number>);
  if (is3D) {
    if (shape.length !== 3) throw new CodedError('IMAGE_INVALID', `a 3D case needs shape (D,H,W), got (${shape.join(',')})`, 'imgs');
    const spacing = arrays.get('spacing');
    image = {
      depth: shape[0]!, height: shape[1]!, width: shape[2]!, channels: 1, data,
      ...(spacing && spacing.shape.length === 1 && spacing.shape[0] === 3
        ? { spacing: Array.from(spacing.data, Number) as unknown as readonly [number, number, number] } : {}),
    };
  } else if (shape.length === 3 && shape[2] === 3) {
    image = { depth: 1, height: shape[0]!, width: shape[1]!, channels: 3, data };
  } else if (shape.length === 2) {
    image = { depth: 1, height: shape[0]!, width: shape[1]!, channels: 1, data };
  } else {
    throw new CodedError('IMAGE_INVALID', `a 2D case needs shape (H,W,3) or (H,W), got (${shape.join(',')})`, 'imgs');
  }
  const useScribbles = prompt === 'scribbles' || (prompt === 'auto' && !arrays.has('boxes') && arrays.has('scribbles'));
  const objects = useScribbles ? scribbleObjects(need(arrays, 'scribbles'), image) : boxObjects(need(arrays, 'boxes'), is3D);
  return { image, objects, is3D };
}

function boxObjects(boxes: NdArrayLike, is3D: boolean): ObjectPrompt[] {
  const width = is3D ? 6 : 4;
  if (!/^(u?int\d+|float\d+)$/.test(boxes.dtype)) throw new CodedError('PROMPT_INVALID', `must be numeric, got ${boxes.dtype}`, 'boxes');
  const shape = boxes.shape;
  const rowsOk = (shape.length === 2 && shape[1] === width) || (shape.length === 1 && shape[0] === width) || (shape.length === 2 && shape[0] === 0);
  if (!rowsOk) throw new CodedError('PROMPT_INVALID', `a ${is3D ? '3D' : '2D'} case needs boxes of shape (N,${width}), got (${shape.join(',')})`, 'boxes');
  const values = Array.from(boxes.data, Number);
  const n = values.length / width;
  const out: ObjectPrompt[] = [];
  for (let i = 0; i < n; i++) {
    const r = values.slice(i * width, (i + 1) * width);
    // Labels are 1-based box indices (enumerate(boxes, start=1)).
    out.push(is3D
      ? { label: i + 1, prompt: { kind: 'box3d', x0: r[0]!, y0: r[1]!, z0: r[2]!, x1: r[3]!, y1: r[4]!, z1: r[5]! } }
      : { label: i + 1, prompt: { kind: 'box2d', x0: r[0]!, y0: r[1]!, x1: r[2]!, y1: r[3]! } });
  }
  return out;
}

function scribbleObjects(scribbles: NdArrayLike, image: ImageVolume): ObjectPrompt[] {
  const plane = image.height * image.width;
  const expected = image.depth * plane;
  if (scribbles.data.length !== expected) {
    throw new CodedError('PROMPT_INVALID', `shape (${scribbles.shape.join(',')}) does not match the image (${image.depth > 1 ? `${image.depth},` : ''}${image.height},${image.width})`, 'scribbles');
  }
  // Two passes over typed arrays: count each label's voxels, then fill lists of exactly that size. A scribble map
  // may cover most of a 512^3 volume from a few hundred compressed bytes; growing JS arrays of indices cost about
  // 25 bytes and 70 ns per voxel there (927 MiB and 9.6 s for 128 x 512 x 512), 4 bytes and a fraction of that here.
  const counts = new Uint32Array(MAX_SCRIBBLE_LABEL + 1);
  for (let i = 0; i < expected; i++) {
    const v = Number(scribbles.data[i]);
    if (v === 0 || v === BACKGROUND_SCRIBBLE) continue;
    if (!Number.isInteger(v) || v < 0 || v > MAX_SCRIBBLE_LABEL) throw new CodedError('PROMPT_INVALID', `label ${v} at voxel ${i} is not an integer in 1..${MAX_SCRIBBLE_LABEL}`, 'scribbles');
    counts[v]!++;
  }
  const byLabel: (Uint32Array | undefined)[] = [];
  for (let label = 1; label <= MAX_SCRIBBLE_LABEL; label++) if (counts[label]! > 0) byLabel[label] = new Uint32Array(counts[label]!);
  const filled = new Uint32Array(MAX_SCRIBBLE_LABEL + 1);
  for (let i = 0; i < expected; i++) {
    const v = Number(scribbles.data[i]);
    const list = byLabel[v];
    if (list) list[filled[v]!++] = i;
  }
  // Ascending label order: higher labels overwrite lower ones, as the reference scribble script writes them.
  const objects: ObjectPrompt[] = [];
  byLabel.forEach((voxels, label) => { if (voxels) objects.push({ label, prompt: { kind: 'scribble', voxels } }); });
  return objects;
}
