// Turning a raw label answer (LABEL_FORMAT_RAW) back into a typed array.
import { gunzipSync } from 'node:zlib';
import type { Summary__Output } from '../generated/onesam/v1/Summary.ts';

export function rawLabels(bytes: Uint8Array, summary: Summary__Output): Uint8Array | Uint16Array {
  if (summary.format !== 'LABEL_FORMAT_RAW') throw new Error(`labels are ${summary.format}, not LABEL_FORMAT_RAW`);
  const plain = summary.gzip ? new Uint8Array(gunzipSync(bytes)) : bytes;
  const voxels = summary.labelShape.reduce((a, b) => a * b, 1);
  if (summary.labelType === 'LABEL_TYPE_UINT8') {
    if (plain.length !== voxels) throw new Error(`expected ${voxels} uint8 labels, got ${plain.length} bytes`);
    return plain;
  }
  if (plain.length !== voxels * 2) throw new Error(`expected ${voxels} uint16 labels, got ${plain.length} bytes`);
  const view = new DataView(plain.buffer, plain.byteOffset, plain.byteLength);
  const labels = new Uint16Array(voxels);
  for (let i = 0; i < voxels; i++) labels[i] = view.getUint16(i * 2, true);
  return labels;
}
