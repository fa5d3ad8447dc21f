// The codec thread: decodes payloads (gunzip, npz, dtype conversion, intensity preparation) and encodes label
// volumes (widening, npz/NIfTI, gzip) off the main thread, whose event loop must keep answering health checks,
// metrics scrapes and other streams while a 150 MB CT is prepared. Pure CPU work on typed arrays: no onnxruntime
// here, so this pool follows none of the ORT worker rules.
import { move, transferableSymbol, valueSymbol } from 'piscina';
import { decodePayload, encodeLabels, type DecodedVolume } from '../volume/payload.ts';
import { ownBuffer, type CodecDecodeTask, type CodecEncodeTask, type CodecReply, type CodecResult, type CodecTask, type EncodedLabels } from './codec-protocol.ts';
import { packError } from './error-transport.ts';

export default function run(task: CodecTask): CodecReply<CodecResult> | ReturnType<typeof move> {
  try {
    switch (task.kind) {
      case 'ping':
        return { ok: true, value: null };
      case 'decode':
        return decode(task);
      case 'encode':
        return encode(task);
      default:
        throw new Error(`unknown codec task ${String((task as { kind?: unknown }).kind)}`);
    }
  } catch (err) {
    return { ok: false, error: packError(err) };
  }
}

function decode(task: CodecDecodeTask): ReturnType<typeof move> {
  const decoded = decodePayload(task.header, task.bytes, task.options);
  const image = { ...decoded.image, data: ownBuffer(decoded.image.data) };
  const scribbles = decoded.scribbles?.map((o) => (o.prompt.kind === 'scribble' ? { ...o, prompt: { ...o.prompt, voxels: ownBuffer(o.prompt.voxels) } } : o));
  const value: DecodedVolume = { ...decoded, image, ...(scribbles ? { scribbles } : {}) };
  const transfers = [image.data.buffer, ...(scribbles ?? []).flatMap((o) => (o.prompt.kind === 'scribble' ? [o.prompt.voxels.buffer] : []))];
  return reply(value, transfers);
}

function encode(task: CodecEncodeTask): ReturnType<typeof move> {
  const labels = task.forceUint16 && task.labels instanceof Uint8Array ? Uint16Array.from(task.labels) : task.labels;
  const bytes = ownBuffer(encodeLabels(labels, task.geometry, task.format, task.gzip));
  const value: EncodedLabels = { bytes, dtype: labels instanceof Uint16Array ? 'uint16' : 'uint8' };
  return reply(value, [bytes.buffer]);
}

/** The reply with its large buffers moved, not copied, to the main thread (piscina's Transferable protocol). */
function reply(value: CodecResult, buffers: readonly ArrayBufferLike[]): ReturnType<typeof move> {
  const transferList = [...new Set(buffers)];
  const answer: CodecReply<CodecResult> = { ok: true, value };
  return move({ [transferableSymbol]: transferList, [valueSymbol]: answer });
}
