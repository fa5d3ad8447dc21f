// The `__metadata__` of a safetensors weights file, read from its header alone (a few KiB, not the 40 MB body).
// `onesam import` records there where the weights came from (the checkpoint's file name and SHA-256), which
// ListModels reports; manifest.json stays as it was.
import { open } from 'node:fs/promises';

/** Longest header read: real headers of these networks are ~60 KiB. */
const MAX_HEADER_BYTES = 16 * 1024 * 1024;

/** String entries of the file's `__metadata__`; empty for a .pth file, a header without metadata, or unreadable bytes. */
export async function readWeightsMetadata(path: string): Promise<Readonly<Record<string, string>>> {
  const file = await open(path, 'r');
  try {
    const prefix = Buffer.alloc(8);
    if ((await file.read(prefix, 0, 8, 0)).bytesRead !== 8) return {};
    const length = Number(prefix.readBigUInt64LE(0));
    if (length < 2 || length > MAX_HEADER_BYTES) return {};
    const header = Buffer.alloc(length);
    if ((await file.read(header, 0, length, 8)).bytesRead !== length || header[0] !== 0x7b /* { */) return {};
    const parsed = JSON.parse(header.toString('utf8')) as { __metadata__?: unknown };
    const meta = parsed.__metadata__;
    if (typeof meta !== 'object' || meta === null) return {};
    return Object.fromEntries(Object.entries(meta).filter((e): e is [string, string] => typeof e[1] === 'string'));
  } catch {
    return {};
  } finally {
    await file.close();
  }
}
