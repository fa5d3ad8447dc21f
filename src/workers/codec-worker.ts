// The codec thread: decodes payloads (gunzip, npz, DICOM series, dtype conversion, intensity preparation) and
// encodes label volumes (widening, npz/NIfTI/DICOM SEG, gzip) off the main thread, whose event loop must keep
// answering health checks, metrics scrapes and other streams while a 150 MB CT is prepared. Pure CPU work on typed
// arrays: no onnxruntime here, so this pool follows none of the ORT worker rules. The DICOM decoders (WebAssembly)
// are instantiated by the first DICOM payload a thread decodes, once, and kept (loadDicomCodecs).
import { move, transferableSymbol, valueSymbol } from 'piscina';
import { loadDicomCodecs } from '../volume/dicom/codecs.ts';
import { decodePayload, encodeLabelOutput, type DecodedVolume } from '../volume/payload.ts';
import { ownBuffer, type CodecDecodeTask, type CodecEncodeTask, type CodecReply, type CodecResult, type CodecTask, type EncodedLabels } from './codec-protocol.ts';
import { packError } from './error-transport.ts';

export default async function run(task: CodecTask): Promise<CodecReply<CodecResult> | ReturnType<typeof move>> {
  try {
    switch (task.kind) {
      case 'ping':
        return { ok: true, value: null };
      case 'decode':
        return await decode(task);
      case 'encode':
        return encode(task);
      default:
        throw new Error(`unknown codec task ${String((task as { kind?: unknown }).kind)}`);
    }
  } catch (err) {
    return { ok: false, error: packError(err) };
  }
}

async function decode(task: CodecDecodeTask): Promise<ReturnType<typeof move>> {
  // Only DICOM needs the WASM decoders: a thread that never sees DICOM never instantiates them.
  const codecs = task.header.format === 'dicom' ? await loadDicomCodecs() : undefined;
  const decoded = decodePayload(task.header, task.bytes, task.options, codecs);
  const image = { ...decoded.image, data: ownBuffer(decoded.image.data) };
  const scribbles = decoded.scribbles?.map((o) => (o.prompt.kind === 'scribble' ? { ...o, prompt: { ...o.prompt, voxels: ownBuffer(o.prompt.voxels) } } : o));
  const value: DecodedVolume = { ...decoded, image, ...(scribbles ? { scribbles } : {}) };
  const transfers = [image.data.buffer, ...(scribbles ?? []).flatMap((o) => (o.prompt.kind === 'scribble' ? [o.prompt.voxels.buffer] : []))];
  return reply(value, transfers);
}

function encode(task: CodecEncodeTask): ReturnType<typeof move> {
  const labels = task.forceUint16 && task.labels instanceof Uint8Array ? Uint16Array.from(task.labels) : task.labels;
  const output = encodeLabelOutput(labels, task.geometry, task.format, task.gzip, task.seg);
  const bytes = ownBuffer(output.bytes);
  const value: EncodedLabels = { bytes, dtype: labels instanceof Uint16Array ? 'uint16' : 'uint8', ...(output.segmentation ? { segmentation: output.segmentation } : {}) };
  return reply(value, [bytes.buffer]);
}

/** The reply with its large buffers moved, not copied, to the main thread (piscina's Transferable protocol). */
function reply(value: CodecResult, buffers: readonly ArrayBufferLike[]): ReturnType<typeof move> {
  const transferList = [...new Set(buffers)];
  const answer: CodecReply<CodecResult> = { ok: true, value };
  return move({ [transferableSymbol]: transferList, [valueSymbol]: answer });
}
