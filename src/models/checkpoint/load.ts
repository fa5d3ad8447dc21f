// Opens a checkpoint file of either supported format, chosen by its content (never by its extension), and
// turns every failure into a CheckpointError with a one-line message.
import { readFile } from 'node:fs/promises';
import { CheckpointError } from './errors.ts';
import { readPth } from './pth.ts';
import { readSafetensors } from './safetensors.ts';
import type { CheckpointTensor } from './tensor.ts';

export type CheckpointFormat = 'safetensors' | 'pytorch-zip';

const ZIP_LOCAL_HEADER = 0x04034b50;
const ZIP_END_OF_CENTRAL_DIRECTORY = 0x06054b50;
/** The end record (22 bytes) may be followed by a comment of up to 65535 bytes. */
const ZIP_MAX_TAIL = 22 + 0xffff;

/** What the first bytes say the file is; throws CHECKPOINT_FORMAT/TRUNCATED when it is neither format. */
export function sniffCheckpointFormat(file: Uint8Array, source: string): CheckpointFormat {
  if (file.byteLength === 0) throw new CheckpointError('CHECKPOINT_TRUNCATED', `${source}: file is empty`);
  const view = new DataView(file.buffer, file.byteOffset, file.byteLength);
  if (file.byteLength >= 4 && view.getUint32(0, true) === ZIP_LOCAL_HEADER) return 'pytorch-zip';
  // safetensors: u64 header length, then a JSON object.
  if (file.byteLength >= 9 && view.getUint32(4, true) === 0 && file[8] === 0x7b /* { */) return 'safetensors';
  // torch.save before 1.6 (or with _use_new_zipfile_serialization=False) wrote a bare pickle stream.
  if (file[0] === 0x80 && file.byteLength >= 2 && file[1]! >= 2 && file[1]! <= 5) {
    throw new CheckpointError('CHECKPOINT_FORMAT',
      `${source}: legacy (non-zip) PyTorch serialization is not supported; re-save it with torch >= 1.6 ` +
      '(torch.save(torch.load(path), new_path)) or convert it to safetensors');
  }
  if (file.byteLength < 9) {
    throw new CheckpointError('CHECKPOINT_TRUNCATED', `${source}: ${file.byteLength} bytes is too short to be a checkpoint`);
  }
  const head = [...file.subarray(0, 8)].map((b) => b.toString(16).padStart(2, '0')).join(' ');
  throw new CheckpointError('CHECKPOINT_FORMAT',
    `${source}: not a safetensors file or a PyTorch zip checkpoint (first bytes ${head})`);
}

/** A zip whose tail lost the end-of-central-directory record was cut short (the common partial download). */
function assertZipComplete(file: Uint8Array, source: string): void {
  const view = new DataView(file.buffer, file.byteOffset, file.byteLength);
  const stop = Math.max(0, file.byteLength - ZIP_MAX_TAIL);
  for (let at = file.byteLength - 22; at >= stop; at--) {
    if (view.getUint32(at, true) === ZIP_END_OF_CENTRAL_DIRECTORY) return;
  }
  throw new CheckpointError('CHECKPOINT_TRUNCATED',
    `${source}: zip archive has no end-of-central-directory record: the file is truncated (${file.byteLength} bytes)`);
}

/** DistributedDataParallel checkpoints prefix every key with `module.`; the architectures never do. */
function stripDataParallelPrefix(sd: Map<string, CheckpointTensor>): Map<string, CheckpointTensor> {
  const prefix = 'module.';
  if (sd.size === 0 || ![...sd.keys()].every((k) => k.startsWith(prefix))) return sd;
  return new Map([...sd].map(([k, t]) => [k.slice(prefix.length), t]));
}

/** Decodes checkpoint bytes (safetensors or PyTorch zip) into a state dict. */
export function parseCheckpoint(file: Uint8Array, source = 'checkpoint'): Map<string, CheckpointTensor> {
  const format = sniffCheckpointFormat(file, source);
  let sd: Map<string, CheckpointTensor>;
  try {
    if (format === 'pytorch-zip') {
      assertZipComplete(file, source);
      sd = readPth(file, source);
    } else {
      sd = readSafetensors(file, source);
    }
  } catch (err) {
    if (err instanceof CheckpointError) throw err;
    // Anything else escaping a reader is a damaged file we did not anticipate; keep it to one line.
    throw new CheckpointError('CHECKPOINT_CORRUPT', `${source}: cannot decode ${format} checkpoint: ${(err as Error).message}`);
  }
  if (sd.size === 0) throw new CheckpointError('CHECKPOINT_FORMAT', `${source}: checkpoint holds no tensors`);
  return stripDataParallelPrefix(sd);
}

/** Reads and decodes the checkpoint at `path`. */
export async function loadCheckpoint(path: string): Promise<Map<string, CheckpointTensor>> {
  let file: Uint8Array;
  try {
    file = await readFile(path);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const why = e.code === 'ENOENT' ? 'no such file' : e.code === 'EISDIR' ? 'is a directory' : e.message;
    throw new CheckpointError('CHECKPOINT_UNREADABLE', `${path}: cannot read checkpoint: ${why}`);
  }
  return parseCheckpoint(file, path);
}
