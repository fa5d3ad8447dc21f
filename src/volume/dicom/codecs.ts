// Pixel decoding: one frame of an instance, native or compressed, to little-endian samples of Bits Allocated each.
// Compressed frames go through WebAssembly builds of the reference libraries (CharLS for JPEG-LS, OpenJPEG for
// JPEG 2000, libjpeg-turbo for 8-bit JPEG baseline/extended) and a JavaScript JPEG lossless decoder; RLE (rle.ts)
// and 12-bit lossy JPEG (jpeg-extended12.ts, which no npm package decodes) are ours. The WASM modules load asynchronously once per thread (loadDicomCodecs); decoding is then synchronous.
//
// A codestream declares its own size, and the codecs allocate from it: every frame's header is read first and must
// match the instance's Rows, Columns and Samples per Pixel, so a frame cannot make a codec allocate more than the
// instance's checked size.
import { createRequire } from 'node:module';
import { CodedError } from '../../errors/coded-error.ts';
import { describeInstance, instanceField, TAG, type DicomInstance } from './part10.ts';
import type { Photometric, PixelLayout } from './pixel-layout.ts';
import { decodeJpeg12, JpegUnsupported } from './jpeg-extended12.ts';
import { decodeRleFrame, RleError } from './rle.ts';

const require = createRequire(import.meta.url);

/** What the emscripten/embind decoders of @cornerstonejs/codec-* expose (they ship no type declarations). */
interface FrameInfo { readonly width: number; readonly height: number; readonly bitsPerSample: number; readonly componentCount: number; readonly isSigned?: boolean }
interface WasmDecoder {
  getEncodedBuffer(length: number): Uint8Array;
  getDecodedBuffer(): Uint8Array;
  decode(): void;
  getFrameInfo(): FrameInfo;
  getInterleaveMode?(): number;
  delete(): void;
}
type DecoderModule = Record<string, new () => WasmDecoder>;
interface LosslessDecoder { decode(buffer: ArrayBuffer, offset: number, length: number, numBytes: number): Uint8Array | Uint16Array | Int16Array }

export interface DicomCodecs {
  readonly jpegLs: DecoderModule;
  readonly jpeg2000: DecoderModule;
  readonly jpeg8: DecoderModule;
}

let loading: Promise<DicomCodecs> | undefined;

/** Instantiates the WASM decoders (about 100 ms once per thread); later calls get the same promise. */
export function loadDicomCodecs(): Promise<DicomCodecs> {
  loading ??= (async () => {
    // OpenJPEG reports progress through emscripten's print hooks; a server's stdout is its log.
    const quiet = { print: (): void => {}, printErr: (): void => {} };
    const factory = (name: string): Promise<DecoderModule> => (require(name) as (options: object) => Promise<DecoderModule>)(quiet);
    const [jpegLs, jpeg2000, jpeg8] = await Promise.all([
      factory('@cornerstonejs/codec-charls/decodewasmjs'),
      factory('@cornerstonejs/codec-openjpeg/decodewasmjs'),
      factory('@cornerstonejs/codec-libjpeg-turbo-8bit/decodewasmjs'),
    ]);
    return { jpegLs, jpeg2000, jpeg8 };
  })();
  return loading;
}

export interface DecodedFrame {
  /** Little-endian samples of Bits Allocated / 8 bytes each; may be a view into the upload (native little endian). */
  readonly bytes: Uint8Array;
  /** Sample order: interleaved per pixel, or one plane per sample (native data with Planar Configuration 1). */
  readonly planar: boolean;
  /** The photometric interpretation of `bytes`: codecs that undo a colour transform return RGB. */
  readonly photometric: Photometric;
  /** Precision the codestream declares, when it has one and it exceeds Bits Stored (pixels.ts masks with it). */
  readonly precision?: number;
}

/** Decodes frame `frame` (0-based). Compressed syntaxes need `codecs` (loadDicomCodecs). */
export function decodeFrame(instance: DicomInstance, layout: PixelLayout, frame: number, codecs?: DicomCodecs): DecodedFrame {
  const encoding = instance.transferSyntax.encoding;
  if (encoding === 'native') return nativeFrame(instance, layout, frame);
  const bytes = encapsulatedFrame(instance, layout, frame);
  const where = `${describeInstance(instance.ref)} frame ${frame + 1}`;
  const damaged = (why: string): CodedError => new CodedError('DICOM_INVALID', `${where}: ${instance.transferSyntax.name} data cannot be decoded (${why})`, instanceField(instance.ref));
  const bytesPerSample = layout.bitsAllocated / 8;
  if (encoding === 'rle') {
    try {
      return { bytes: decodeRleFrame(bytes, layout.rows * layout.columns, layout.samplesPerPixel, bytesPerSample), planar: false, photometric: layout.photometric };
    } catch (err) {
      if (err instanceof RleError) throw damaged(err.message);
      throw err;
    }
  }
  if (!codecs) throw new Error('decodeFrame: compressed pixel data needs the codecs (await loadDicomCodecs())');
  const header = encoding === 'jpeg-2000' ? j2kFrameHeader(bytes) : jpegFrameHeader(bytes);
  if (!header) throw damaged(encoding === 'jpeg-2000' ? 'no JPEG 2000 SIZ marker' : 'no JPEG start-of-frame marker');
  checkCodestreamSize(instance, layout, where, header.width, header.height, header.components);
  const lossyJpeg = encoding === 'jpeg-baseline' || encoding === 'jpeg-extended';
  const unsupported = (why: string): CodedError => new CodedError('DICOM_UNSUPPORTED', `${where}: ${instance.transferSyntax.uid} (${instance.transferSyntax.name}) ${why}; send it losslessly or transcoded to Explicit VR Little Endian`, `${instanceField(instance.ref)}.transferSyntax`);
  if (lossyJpeg && header.precision === 12) return jpeg12Frame(bytes, instance, layout, where, damaged, unsupported);
  if (lossyJpeg && header.precision !== 8) {
    throw unsupported(`with ${header.precision}-bit precision is not decoded, only 8- and 12-bit lossy JPEG`);
  }
  try {
    switch (encoding) {
      case 'jpeg-baseline':
      case 'jpeg-extended': {
        // The data set's Photometric Interpretation says what the components are (PS3.5 8.2.1), not JFIF/Adobe
        // markers: libjpeg is told to leave them as they are, and pixels.ts converts YBR as pydicom does.
        const stream = layout.samplesPerPixel === 3 ? withoutColourTransform(bytes) : bytes;
        const out = runWasm(codecs.jpeg8, 'JPEGDecoder', stream, instance, layout, where);
        return { bytes: out.bytes, planar: false, photometric: layout.photometric };
      }
      case 'jpeg-ls': {
        const out = runWasm(codecs.jpegLs, 'JpegLSDecoder', bytes, instance, layout, where);
        return { bytes: out.bytes, planar: out.interleaveMode === 0 && layout.samplesPerPixel === 3, photometric: layout.photometric };
      }
      case 'jpeg-2000': {
        const out = runWasm(codecs.jpeg2000, 'J2KDecoder', bytes, instance, layout, where);
        // OpenJPEG undoes the reversible/irreversible colour transform (YBR_RCT / YBR_ICT) itself.
        const photometric = layout.photometric === 'YBR_RCT' || layout.photometric === 'YBR_ICT' ? 'RGB' : layout.photometric;
        return { bytes: out.bytes, planar: false, photometric, ...(out.precision > layout.bitsStored ? { precision: out.precision } : {}) };
      }
      case 'jpeg-lossless':
        return { bytes: losslessFrame(bytes, layout, bytesPerSample), planar: false, photometric: layout.photometric };
    }
  } catch (err) {
    if (err instanceof CodedError) throw err;
    throw damaged(err instanceof Error ? err.message : String(err));
  }
}

/**
 * 12-bit lossy JPEG (process 4) through our own decoder (jpeg-extended12.ts), which gives dcmtk's pixels; the
 * 8-bit processes stay with libjpeg-turbo. The frame header was checked against the instance before.
 */
function jpeg12Frame(bytes: Uint8Array, instance: DicomInstance, layout: PixelLayout, where: string, damaged: (why: string) => CodedError, unsupported: (why: string) => CodedError): DecodedFrame {
  if (layout.bitsAllocated !== 16) {
    throw new CodedError('DICOM_INVALID', `${where}: the codestream holds 12-bit samples, the instance allocates ${layout.bitsAllocated} bits`, instanceField(instance.ref));
  }
  let samples: Uint16Array;
  try {
    samples = decodeJpeg12(bytes, { width: layout.columns, height: layout.rows, components: layout.samplesPerPixel }).samples;
  } catch (err) {
    if (err instanceof JpegUnsupported) throw unsupported(`with 12-bit precision: ${err.message}`);
    throw damaged(err instanceof Error ? err.message : String(err));
  }
  const out = new Uint8Array(samples.length * 2);
  for (let i = 0; i < samples.length; i++) {
    out[2 * i] = samples[i]! & 0xff;
    out[2 * i + 1] = samples[i]! >> 8;
  }
  // As for JPEG 2000: a codestream more precise than Bits Stored is masked with its own precision (pixels.ts).
  return { bytes: out, planar: false, photometric: layout.photometric, ...(layout.bitsStored < 12 ? { precision: 12 } : {}) };
}

function checkCodestreamSize(instance: DicomInstance, layout: PixelLayout, where: string, width: number, height: number, components: number): void {
  if (width !== layout.columns || height !== layout.rows || components !== layout.samplesPerPixel) {
    throw new CodedError('DICOM_INVALID', `${where}: the codestream is ${width}x${height} with ${components} components, the instance says ${layout.columns}x${layout.rows} (Columns x Rows) with ${layout.samplesPerPixel} samples per pixel`, instanceField(instance.ref));
  }
}

function runWasm(module: DecoderModule, name: string, bytes: Uint8Array, instance: DicomInstance, layout: PixelLayout, where: string): { bytes: Uint8Array; interleaveMode: number; precision: number } {
  const decoder = new module[name]!();
  try {
    decoder.getEncodedBuffer(bytes.length).set(bytes);
    decoder.decode();
    const info = decoder.getFrameInfo();
    checkCodestreamSize(instance, layout, where, info.width, info.height, info.componentCount);
    const decoded = decoder.getDecodedBuffer();
    const expected = layout.frameSamples * (layout.bitsAllocated / 8);
    const produced = layout.frameSamples * Math.ceil(info.bitsPerSample / 8);
    if (produced !== expected || decoded.length !== expected) {
      throw new CodedError('DICOM_INVALID', `${where}: the codestream holds ${info.bitsPerSample}-bit samples (${decoded.length} bytes), the instance allocates ${layout.bitsAllocated} bits (${expected} bytes)`, instanceField(instance.ref));
    }
    // The decoded buffer is a view into the module's memory, reused by the next decode: copy it out.
    return { bytes: decoded.slice(), interleaveMode: decoder.getInterleaveMode?.() ?? 1, precision: info.bitsPerSample };
  } finally {
    decoder.delete();
  }
}

let lossless: (new () => LosslessDecoder) | undefined;

function losslessFrame(bytes: Uint8Array, layout: PixelLayout, bytesPerSample: number): Uint8Array {
  lossless ??= (require('jpeg-lossless-decoder-js') as { Decoder: new () => LosslessDecoder }).Decoder;
  // The decoder reads from an ArrayBuffer; the frame may be a view into the upload's larger one.
  const own = bytes.slice();
  const decoded = new lossless().decode(own.buffer, 0, own.length, bytesPerSample);
  const out = new Uint8Array(decoded.buffer, decoded.byteOffset, decoded.byteLength);
  if (out.length !== layout.frameSamples * bytesPerSample) throw new Error(`decoded to ${out.length} bytes, ${layout.frameSamples * bytesPerSample} expected`);
  return out;
}

/** The first start-of-frame marker of a JPEG, JPEG lossless or JPEG-LS codestream (ITU T.81 B.2.2, T.87 C.2.2). */
export function jpegFrameHeader(bytes: Uint8Array): { precision: number; height: number; width: number; components: number } | undefined {
  if (bytes[0] !== 0xff || bytes[1] !== 0xd8) return undefined;
  let at = 2;
  while (at + 4 <= bytes.length) {
    if (bytes[at] !== 0xff) return undefined;
    const marker = bytes[at + 1]!;
    if (marker === 0xff) { at++; continue; }
    const length = (bytes[at + 2]! << 8) | bytes[at + 3]!;
    const sof = (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) || marker === 0xf7;
    if (sof) {
      if (at + 10 > bytes.length) return undefined;
      return { precision: bytes[at + 4]!, height: (bytes[at + 5]! << 8) | bytes[at + 6]!, width: (bytes[at + 7]! << 8) | bytes[at + 8]!, components: bytes[at + 9]! };
    }
    if (marker === 0xda || marker === 0xd9) return undefined;
    at += 2 + length;
  }
  return undefined;
}

/**
 * The JPEG stream with its JFIF (APP0) and Adobe (APP14) segments replaced by one Adobe segment saying "transform 0",
 * which makes libjpeg return the three components as coded instead of converting YCbCr to RGB with its own
 * fixed-point tables (ITU T.872 6.5.3; libjpeg's jdapimin.c reads JFIF first, then Adobe).
 */
function withoutColourTransform(bytes: Uint8Array): Uint8Array {
  const kept: Uint8Array[] = [bytes.subarray(0, 2), ADOBE_NO_TRANSFORM];
  let at = 2;
  while (at + 4 <= bytes.length && bytes[at] === 0xff) {
    const marker = bytes[at + 1]!;
    if (marker === 0xda || (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc)) break;
    const end = at + 2 + ((bytes[at + 2]! << 8) | bytes[at + 3]!);
    if (marker !== 0xe0 && marker !== 0xee) kept.push(bytes.subarray(at, end));
    at = end;
  }
  kept.push(bytes.subarray(at));
  const out = new Uint8Array(kept.reduce((n, part) => n + part.length, 0));
  let offset = 0;
  for (const part of kept) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/** APP14 "Adobe", version 100, flags 0, 0, transform 0 (components are not colour transformed). */
const ADOBE_NO_TRANSFORM = new Uint8Array([0xff, 0xee, 0x00, 0x0e, 0x41, 0x64, 0x6f, 0x62, 0x65, 0x00, 0x64, 0x00, 0x00, 0x00, 0x00, 0x00]);

/**
 * The SIZ marker of a JPEG 2000 codestream (ITU T.800 A.5.1), inside a JP2 file's boxes or bare: image size from
 * the reference grid less its offset, components, and the first component's precision.
 */
export function j2kFrameHeader(bytes: Uint8Array): { precision: number; height: number; width: number; components: number } | undefined {
  const limit = Math.min(bytes.length - 42, 4096);
  for (let at = 0; at <= limit; at++) {
    if (bytes[at] !== 0xff || bytes[at + 1] !== 0x4f || bytes[at + 2] !== 0xff || bytes[at + 3] !== 0x51) continue;
    const view = new DataView(bytes.buffer, bytes.byteOffset + at + 4);
    const width = view.getUint32(4) - view.getUint32(12);
    const height = view.getUint32(8) - view.getUint32(16);
    const components = view.getUint16(36);
    const precision = (view.getUint8(38) & 0x7f) + 1;
    return { precision, height, width, components };
  }
  return undefined;
}

/** A native frame: a view of the upload for little endian, a byte-swapped copy for big endian. */
function nativeFrame(instance: DicomInstance, layout: PixelLayout, frame: number): DecodedFrame {
  const pixels = instance.attributes.bytes(TAG.PixelData)!;
  const needed = layout.nativeFrameBytes * layout.frames;
  if (pixels.length < needed) {
    throw new CodedError('PAYLOAD_SIZE_MISMATCH', `${describeInstance(instance.ref)}: Pixel Data has ${pixels.length} bytes, ${layout.frames} frame(s) of ${layout.rows}x${layout.columns}x${layout.samplesPerPixel} at ${layout.bitsAllocated} bits need ${needed}: truncated`, instanceField(instance.ref));
  }
  let bytes = pixels.subarray(frame * layout.nativeFrameBytes, (frame + 1) * layout.nativeFrameBytes);
  const width = layout.bitsAllocated / 8;
  if (!instance.transferSyntax.littleEndian && width > 1) {
    bytes = bytes.slice();
    for (let i = 0; i < bytes.length; i += width) bytes.subarray(i, i + width).reverse();
  }
  return { bytes, planar: layout.planarConfiguration === 1, photometric: layout.photometric };
}

/** The compressed bytes of one frame, from the fragments of encapsulated Pixel Data (PS3.5 A.4). */
function encapsulatedFrame(instance: DicomInstance, layout: PixelLayout, frame: number): Uint8Array {
  const element = instance.attributes.element(TAG.PixelData)!;
  const data = instance.attributes.dataSet.byteArray;
  const fragments = element.fragments;
  const who = describeInstance(instance.ref);
  if (!element.encapsulatedPixelData || !fragments || fragments.length === 0) {
    throw new CodedError('DICOM_INVALID', `${who}: ${instance.transferSyntax.name} needs encapsulated Pixel Data (fragments), the instance has none`, instanceField(instance.ref));
  }
  let parts: typeof fragments;
  const offsets = element.basicOffsetTable ?? [];
  if (layout.frames === 1) parts = fragments;
  else if (offsets.length === layout.frames) {
    const start = offsets[frame]!;
    const end = frame + 1 < offsets.length ? offsets[frame + 1]! : Infinity;
    parts = fragments.filter((f) => f.offset >= start && f.offset < end);
  } else if (fragments.length === layout.frames) parts = [fragments[frame]!];
  else {
    throw new CodedError('DICOM_INVALID', `${who}: ${layout.frames} frames in ${fragments.length} fragments without a basic offset table: the frames cannot be told apart`, instanceField(instance.ref));
  }
  for (const f of parts) {
    if (f.position + f.length > data.length) {
      throw new CodedError('PAYLOAD_SIZE_MISMATCH', `${who}: a Pixel Data fragment of frame ${frame + 1} runs past the end of the instance: truncated`, instanceField(instance.ref));
    }
  }
  if (parts.length === 1) return data.subarray(parts[0]!.position, parts[0]!.position + parts[0]!.length);
  const out = new Uint8Array(parts.reduce((n, f) => n + f.length, 0));
  let at = 0;
  for (const f of parts) {
    out.set(data.subarray(f.position, f.position + f.length), at);
    at += f.length;
  }
  return out;
}
