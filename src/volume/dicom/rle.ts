// DICOM RLE Lossless (PS3.5 Annex G): a 64-byte header of up to 15 segment offsets, then one PackBits-coded segment
// per byte plane, most significant byte of each sample first, one sample (colour plane) after the other. Written
// here because it is a page of code and no well-kept package decodes just this.

export class RleError extends Error {}

/**
 * Decodes one RLE frame into little-endian samples interleaved per pixel (sample s of pixel p at
 * (p * samples + s) * bytesPerSample): the order the other codecs return.
 */
export function decodeRleFrame(frame: Uint8Array, pixels: number, samples: number, bytesPerSample: number): Uint8Array {
  if (frame.length < 64) throw new RleError(`the frame is ${frame.length} bytes, shorter than the 64-byte RLE header`);
  const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  const segments = view.getUint32(0, true);
  const expected = samples * bytesPerSample;
  if (segments !== expected) throw new RleError(`the RLE header lists ${segments} segments, ${expected} expected (${samples} samples of ${bytesPerSample} bytes)`);
  const offsets: number[] = [];
  for (let i = 0; i < segments; i++) offsets.push(view.getUint32(4 + 4 * i, true));
  const out = new Uint8Array(pixels * expected);
  for (let segment = 0; segment < segments; segment++) {
    const start = offsets[segment]!;
    const end = segment + 1 < segments ? offsets[segment + 1]! : frame.length;
    if (!(start >= 64 && start <= end && end <= frame.length)) throw new RleError(`segment ${segment + 1} has offsets ${start}..${end} outside the frame of ${frame.length} bytes`);
    const sample = Math.floor(segment / bytesPerSample);
    const byte = bytesPerSample - 1 - (segment % bytesPerSample); // segments run from the most significant byte
    unpackSegment(frame, start, end, out, sample * bytesPerSample + byte, expected, pixels, segment + 1);
  }
  return out;
}

/** PackBits: n in 0..127 copies n + 1 bytes, n in -127..-1 repeats the next byte 1 - n times, -128 is a no-op. */
function unpackSegment(src: Uint8Array, start: number, end: number, out: Uint8Array, first: number, stride: number, pixels: number, number: number): void {
  let at = start;
  let p = 0;
  while (p < pixels && at < end) {
    const n = (src[at++]! << 24) >> 24;
    if (n >= 0) {
      const count = n + 1;
      if (at + count > end || p + count > pixels) throw new RleError(`segment ${number} runs past its end`);
      for (let i = 0; i < count; i++) out[first + (p++) * stride] = src[at++]!;
    } else if (n !== -128) {
      const count = 1 - n;
      if (at >= end || p + count > pixels) throw new RleError(`segment ${number} runs past its end`);
      const value = src[at++]!;
      for (let i = 0; i < count; i++) out[first + (p++) * stride] = value;
    }
  }
  if (p < pixels) throw new RleError(`segment ${number} decodes to ${p} bytes, ${pixels} expected`);
}
