// safetensors reader: u64 LE header length, JSON header {name: {dtype, shape, data_offsets}}, raw bytes.
import { CheckpointError } from './errors.ts';
import { BYTES_PER_ELEMENT, decodeTensorBytes, numel, type CheckpointDType, type CheckpointTensor } from './tensor.ts';

interface HeaderEntry {
  dtype: string;
  shape: number[];
  data_offsets: [number, number];
}

export function readSafetensors(file: Uint8Array, source = 'safetensors file'): Map<string, CheckpointTensor> {
  if (file.byteLength < 8) throw new CheckpointError('CHECKPOINT_TRUNCATED', `${source}: ${file.byteLength} bytes is too short for a safetensors header`);
  const view = new DataView(file.buffer, file.byteOffset, file.byteLength);
  const headerLen = Number(view.getBigUint64(0, true));
  if (headerLen > file.byteLength - 8 || headerLen > 100 * 1024 * 1024) {
    throw new CheckpointError('CHECKPOINT_TRUNCATED', `${source}: header length ${headerLen} exceeds the file (${file.byteLength} bytes): truncated or not safetensors`);
  }
  let header: Record<string, HeaderEntry | Record<string, string>>;
  try {
    header = JSON.parse(new TextDecoder().decode(file.subarray(8, 8 + headerLen))) as typeof header;
  } catch {
    throw new CheckpointError('CHECKPOINT_CORRUPT', `${source}: header is not valid JSON`);
  }
  const body = file.subarray(8 + headerLen);
  const out = new Map<string, CheckpointTensor>();
  for (const [name, entry] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    const e = entry as HeaderEntry;
    const dtype = e.dtype as CheckpointDType;
    if (!(dtype in BYTES_PER_ELEMENT)) throw new CheckpointError('CHECKPOINT_CORRUPT', `${source}: tensor ${name} has unsupported dtype ${e.dtype}`);
    const [start, end] = e.data_offsets;
    if (!(end >= start) || end > body.byteLength) {
      throw new CheckpointError('CHECKPOINT_TRUNCATED', `${source}: tensor ${name} ends at byte ${end} of a ${body.byteLength}-byte body: file truncated`);
    }
    if (end - start !== numel(e.shape) * BYTES_PER_ELEMENT[dtype]) {
      throw new CheckpointError('CHECKPOINT_CORRUPT', `${source}: tensor ${name} byte range does not match dtype ${dtype} and shape [${e.shape.join(',')}]`);
    }
    out.set(name, decodeTensorBytes(dtype, e.shape, body.subarray(start, end)));
  }
  return out;
}
