// Decoder logits to full-resolution masks and, for 3D walks, the next slice's box.
import { bboxFromMask256, linearAxis, MODEL_SIDE, postprocessLogits, resizeArea } from '../imaging/index.ts';
import type { DecodeTask } from './protocol.ts';

type Box256 = [number, number, number, number];
const PLANE256 = MODEL_SIDE * MODEL_SIDE;

/**
 * The fused mask of several networks: each network's cropped logits are bilinearly resized to (h, w), their
 * sigmoids averaged, and the average thresholded at 0.5 (the `fuse` ensemble mode).
 */
export function fuseLogits(lowRes: readonly Float32Array[], newh: number, neww: number, h: number, w: number, out: Uint8Array): void {
  const ax = linearAxis(neww, w);
  const ay = linearAxis(newh, h);
  const sum = new Float64Array(h * w);
  for (const logits of lowRes) {
    for (let y = 0; y < h; y++) {
      const t = ay.i0[y]! * MODEL_SIDE;
      const b = ay.i1[y]! * MODEL_SIDE;
      for (let x = 0; x < w; x++) {
        const top = logits[t + ax.i0[x]!]! * ax.l0[x]! + logits[t + ax.i1[x]!]! * ax.l1[x]!;
        const bottom = logits[b + ax.i0[x]!]! * ax.l0[x]! + logits[b + ax.i1[x]!]! * ax.l1[x]!;
        const v = top * ay.l0[y]! + bottom * ay.l1[y]!;
        sum[y * w + x]! += 1 / (1 + Math.exp(-v));
      }
    }
  }
  const half = lowRes.length / 2;
  for (let i = 0; i < out.length; i++) out[i] = sum[i]! > half ? 1 : 0;
}

/**
 * The reference's previous-slice box: the object's mask on this slice, valued with its label (uint8), resized
 * with INTER_AREA to (newh, neww), zero-padded to 256x256, and boxed with a 3-pixel margin; null when empty.
 */
export function nextSliceBox(mask: Uint8Array, label: number, h: number, w: number, newh: number, neww: number): Box256 | null {
  const valued = new Uint8Array(mask.length);
  for (let i = 0; i < mask.length; i++) if (mask[i]) valued[i] = label;
  const resized = resizeArea(valued, h, w, 1, newh, neww);
  const padded = new Uint8Array(PLANE256);
  for (let y = 0; y < newh; y++) padded.set(resized.subarray(y * neww, (y + 1) * neww), y * MODEL_SIDE);
  return bboxFromMask256(padded, 3);
}

export function logitsToMasks(logits: readonly Float32Array[], batch: number, task: DecodeTask): { masks: Uint8Array; nextBoxes: (Box256 | null)[] } {
  const { height: h, width: w, newh, neww } = task;
  const plane = h * w;
  const masks = new Uint8Array(batch * plane);
  const nextBoxes: (Box256 | null)[] = [];
  for (let b = 0; b < batch; b++) {
    const out = masks.subarray(b * plane, (b + 1) * plane);
    const perNetwork = logits.map((l) => l.subarray(b * PLANE256, (b + 1) * PLANE256));
    if (perNetwork.length === 1) postprocessLogits(perNetwork[0]!, newh, neww, h, w, out);
    else fuseLogits(perNetwork, newh, neww, h, w, out);
    const label = task.propagateLabels?.[b];
    nextBoxes.push(label === undefined ? null : nextSliceBox(out, label, h, w, newh, neww));
  }
  return { masks, nextBoxes };
}
