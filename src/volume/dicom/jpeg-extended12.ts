// JPEG Extended process 4 (ITU T.81: sequential DCT, Huffman coding, 12-bit samples), the 12-bit half of DICOM
// 1.2.840.10008.1.2.4.51 (CT, MR and NM written by dcmtk and older modalities). No maintained JavaScript or
// WebAssembly decoder for 12-bit lossy JPEG exists on npm, so it is written here from T.81; the 8-bit processes stay
// with libjpeg-turbo (codecs.ts). The pixels are those of dcmtk's dcmdjpeg (IJG libjpeg built for 12 bits): its
// integer IDCT (jpeg-islow-idct.ts) and its 16-bit coefficient store, and its tolerance of the scan parameters a
// sequential scan ignores (Ss, Se, Ah, Al: some files write Se = 0), are followed exactly.
//
// Subsampled components are upsampled with libjpeg's filters (jpeg-upsample.ts). Refused: other precisions,
// progressive, lossless, hierarchical and arithmetic-coded frames, a height given by DNL, and sampling factors that
// are not whole multiples of each other (libjpeg refuses those too).
// Anything T.81 forbids that would change the pixels (a bad Huffman code, missing tables, data ending before the
// last block, a missing or misnumbered restart marker) is a JpegError, never a guess.
//
// Bounded work: the caller has checked the frame size against the instance (and the instance against the decode
// limits) and passes it in; the frame header must agree, every loop is bounded by the blocks it implies or by the
// stream's length, and the bit reader (jpeg-huffman.ts) never reads past the stream (it supplies zero bits there and
// the decoder fails if a block needed them).
import { EntropyReader, huffmanTable, JpegError, markerName, type HuffmanTable } from './jpeg-huffman.ts';
import { islowIdct12 } from './jpeg-islow-idct.ts';
import { upsample } from './jpeg-upsample.ts';

export { JpegError };
/** A valid JPEG stream using a feature this decoder does not have (a process or a sampling other than the above). */
export class JpegUnsupported extends Error {}

export interface Jpeg12Image {
  readonly width: number;
  readonly height: number;
  readonly components: number;
  /** Samples 0..4095, interleaved per pixel, rows top to bottom. */
  readonly samples: Uint16Array;
}

interface Component {
  readonly id: number;
  readonly h: number;
  readonly v: number;
  readonly quantTable: number;
  /** Sample columns and rows of this component (T.81 A.1.1): the image's, scaled by its sampling over the largest. */
  readonly width: number;
  readonly height: number;
  /** The block grid kept: whole MCUs of an interleaved scan. */
  readonly blocksPerLine: number;
  readonly plane: Uint16Array;
  scanned: boolean;
}

interface Frame {
  readonly width: number;
  readonly height: number;
  readonly components: readonly Component[];
  readonly mcusPerLine: number;
  readonly mcusPerColumn: number;
}

interface ScanComponent {
  readonly component: Component;
  readonly dc: HuffmanTable;
  readonly ac: HuffmanTable;
  readonly quant: Uint16Array;
  predictor: number;
}

/** Natural (row-major) position of the k-th coefficient in zig-zag order (T.81 figure A.6). */
const ZIGZAG = Uint8Array.from([
  0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5, 12, 19, 26, 33, 40, 48, 41, 34, 27, 20, 13, 6, 7, 14, 21,
  28, 35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51, 58, 59, 52, 45, 38, 31, 39, 46, 53, 60, 61, 54,
  47, 55, 62, 63,
]);

/** What the start-of-frame markers T.81 defines, other than SOF0/SOF1, are (table B.1). */
const OTHER_PROCESSES: Readonly<Record<number, string>> = {
  0xc2: 'progressive DCT', 0xc3: 'lossless', 0xc5: 'differential sequential DCT (hierarchical)',
  0xc6: 'differential progressive DCT (hierarchical)', 0xc7: 'differential lossless (hierarchical)',
  0xc9: 'arithmetic-coded sequential DCT', 0xca: 'arithmetic-coded progressive DCT', 0xcb: 'arithmetic-coded lossless',
  0xcd: 'arithmetic-coded differential sequential DCT', 0xce: 'arithmetic-coded differential progressive DCT',
  0xcf: 'arithmetic-coded differential lossless',
};

/**
 * Decodes a 12-bit sequential DCT JPEG stream whose frame header must say `expected` (width, height, components:
 * what the caller checked against the instance and the limits).
 */
export function decodeJpeg12(bytes: Uint8Array, expected: { readonly width: number; readonly height: number; readonly components: number }): Jpeg12Image {
  if (bytes.length < 2 || bytes[0] !== 0xff || bytes[1] !== 0xd8) throw new JpegError('the stream does not start with SOI');
  const quantTables: (Uint16Array | undefined)[] = [];
  const dcTables: (HuffmanTable | undefined)[] = [];
  const acTables: (HuffmanTable | undefined)[] = [];
  let restartInterval = 0;
  let frame: Frame | undefined;
  let at = 2;
  for (;;) {
    if (at >= bytes.length) break; // no EOI: accepted when every component was decoded (checked below)
    if (bytes[at] !== 0xff) throw new JpegError(`a marker was expected at byte ${at}`);
    while (at < bytes.length && bytes[at] === 0xff) at++; // fill bytes (T.81 B.1.1.2)
    if (at >= bytes.length) break;
    const marker = bytes[at++]!;
    if (marker === 0xd9) break; // EOI
    if (marker >= 0xd0 && marker <= 0xd7) continue; // a stray RSTn between segments, skipped as libjpeg does
    if (at + 2 > bytes.length) throw new JpegError(`marker ${markerName(marker)} has no length`);
    const length = (bytes[at]! << 8) | bytes[at + 1]!;
    if (length < 2 || at + length > bytes.length) throw new JpegError(`the segment of marker ${markerName(marker)} (${length} bytes) runs past the end of the stream`);
    const body = bytes.subarray(at + 2, at + length);
    at += length;
    if (marker === 0xc0 || marker === 0xc1) {
      if (frame) throw new JpegError('a second start-of-frame marker');
      frame = readFrame(body, expected);
    } else if (marker in OTHER_PROCESSES) {
      throw new JpegUnsupported(`${OTHER_PROCESSES[marker]} JPEG (marker ${markerName(marker)}) is not decoded, only sequential DCT with Huffman coding`);
    } else if (marker === 0xc4) readHuffmanTables(body, dcTables, acTables);
    else if (marker === 0xdb) readQuantTables(body, quantTables);
    else if (marker === 0xdd) {
      if (body.length !== 2) throw new JpegError(`DRI has ${body.length + 2} bytes, 4 expected`);
      restartInterval = (body[0]! << 8) | body[1]!;
    } else if (marker === 0xda) {
      if (!frame) throw new JpegError('a scan comes before the start-of-frame marker');
      const scan = readScanHeader(body, frame, quantTables, dcTables, acTables);
      at = decodeScan(bytes, at, frame, scan, restartInterval);
    } else if (marker === 0xdc) {
      throw new JpegUnsupported('a DNL marker (number of lines after the first scan) is not read');
    } else if ((marker >= 0xe0 && marker <= 0xef) || marker === 0xfe) {
      // APPn and COM: nothing that changes the samples (the data set's Photometric Interpretation says what they are).
    } else throw new JpegError(`unexpected marker ${markerName(marker)}`);
  }
  if (!frame) throw new JpegError('no start-of-frame marker');
  const missing = frame.components.find((c) => !c.scanned);
  if (missing) throw new JpegError(`component ${missing.id} has no scan`);
  return { width: frame.width, height: frame.height, components: frame.components.length, samples: interleave(frame) };
}

/** SOF0/SOF1 (T.81 B.2.2). */
function readFrame(body: Uint8Array, expected: { readonly width: number; readonly height: number; readonly components: number }): Frame {
  if (body.length < 6) throw new JpegError('the start-of-frame segment is too short');
  const precision = body[0]!;
  const height = (body[1]! << 8) | body[2]!;
  const width = (body[3]! << 8) | body[4]!;
  const count = body[5]!;
  if (precision !== 12) throw new JpegUnsupported(`${precision}-bit samples are not decoded here, only 12-bit`);
  if (height === 0) throw new JpegUnsupported('a height given by a DNL marker is not read');
  if (body.length !== 6 + 3 * count) throw new JpegError(`the start-of-frame segment has ${body.length + 2} bytes for ${count} components`);
  if (width !== expected.width || height !== expected.height || count !== expected.components) {
    throw new JpegError(`the frame is ${width}x${height} with ${count} components, ${expected.width}x${expected.height} with ${expected.components} expected`);
  }
  const specs: { id: number; h: number; v: number; quantTable: number }[] = [];
  for (let i = 0; i < count; i++) {
    const id = body[6 + 3 * i]!;
    const h = body[7 + 3 * i]! >> 4;
    const v = body[7 + 3 * i]! & 15;
    const quantTable = body[8 + 3 * i]!;
    if (h < 1 || h > 4 || v < 1 || v > 4) throw new JpegError(`component ${id} has sampling factors ${h}x${v}, 1..4 allowed`);
    if (quantTable > 3) throw new JpegError(`component ${id} uses quantisation table ${quantTable}, 0..3 allowed`);
    if (specs.some((s) => s.id === id)) throw new JpegError(`component ${id} is defined twice`);
    specs.push({ id, h, v, quantTable });
  }
  const hMax = Math.max(...specs.map((s) => s.h));
  const vMax = Math.max(...specs.map((s) => s.v));
  if (specs.some((s) => hMax % s.h !== 0 || vMax % s.v !== 0)) {
    throw new JpegUnsupported(`sampling factors ${specs.map((s) => `${s.h}x${s.v}`).join(', ')} are not whole multiples of each other`);
  }
  const mcusPerLine = Math.ceil(width / (8 * hMax));
  const mcusPerColumn = Math.ceil(height / (8 * vMax));
  const components = specs.map((s): Component => {
    const blocksPerLine = mcusPerLine * s.h;
    return {
      ...s,
      width: Math.ceil((width * s.h) / hMax),
      height: Math.ceil((height * s.v) / vMax),
      blocksPerLine,
      plane: new Uint16Array(blocksPerLine * 8 * mcusPerColumn * s.v * 8),
      scanned: false,
    };
  });
  return { width, height, components, mcusPerLine, mcusPerColumn };
}

/** DQT (T.81 B.2.4.1): 8- or 16-bit values (Pq 0 or 1) in zig-zag order, kept in natural order. */
function readQuantTables(body: Uint8Array, tables: (Uint16Array | undefined)[]): void {
  let at = 0;
  while (at < body.length) {
    const wide = body[at]! >> 4;
    const id = body[at]! & 15;
    const size = wide ? 128 : 64;
    if (wide > 1 || id > 3) throw new JpegError(`DQT declares table ${id} with precision code ${wide}`);
    if (at + 1 + size > body.length) throw new JpegError(`DQT table ${id} runs past its segment`);
    const table = new Uint16Array(64);
    for (let k = 0; k < 64; k++) table[ZIGZAG[k]!] = wide ? (body[at + 1 + 2 * k]! << 8) | body[at + 2 + 2 * k]! : body[at + 1 + k]!;
    tables[id] = table;
    at += 1 + size;
  }
}

/** DHT (T.81 B.2.4.2): code counts by length 1..16, then the symbols; codes are assigned as in annex C. */
function readHuffmanTables(body: Uint8Array, dc: (HuffmanTable | undefined)[], ac: (HuffmanTable | undefined)[]): void {
  let at = 0;
  while (at < body.length) {
    const kind = body[at]! >> 4;
    const id = body[at]! & 15;
    if (kind > 1 || id > 3) throw new JpegError(`DHT declares table class ${kind} number ${id}`);
    if (at + 17 > body.length) throw new JpegError(`DHT table ${id} runs past its segment`);
    const counts = body.subarray(at + 1, at + 17);
    const total = counts.reduce((n, c) => n + c, 0);
    if (total > 256 || at + 17 + total > body.length) throw new JpegError(`DHT table ${id} declares ${total} codes, more than its segment holds`);
    const table = huffmanTable(counts, body.subarray(at + 17, at + 17 + total));
    (kind === 0 ? dc : ac)[id] = table;
    at += 17 + total;
  }
}

/** SOS (T.81 B.2.3): the components of the scan and their tables, checked before any data is read. */
function readScanHeader(body: Uint8Array, frame: Frame, quantTables: readonly (Uint16Array | undefined)[], dcTables: readonly (HuffmanTable | undefined)[], acTables: readonly (HuffmanTable | undefined)[]): ScanComponent[] {
  const count = body[0] ?? 0;
  if (count < 1 || count > 4 || body.length !== 4 + 2 * count) throw new JpegError(`the scan header has ${body.length + 2} bytes for ${count} components`);
  // Ss, Se, Ah and Al (body[1 + 2 * count]...) mean nothing to a sequential scan; libjpeg warns and decodes all 64
  // coefficients whatever they say, and so do we (pydicom's JPEG-lossy.dcm writes Se = 0).
  const scan: ScanComponent[] = [];
  for (let i = 0; i < count; i++) {
    const id = body[1 + 2 * i]!;
    const dcId = body[2 + 2 * i]! >> 4;
    const acId = body[2 + 2 * i]! & 15;
    const component = frame.components.find((c) => c.id === id);
    if (!component) throw new JpegError(`the scan names component ${id}, which the frame does not define`);
    if (component.scanned || scan.some((s) => s.component === component)) throw new JpegError(`component ${id} is in more than one scan`);
    const dc = dcTables[dcId];
    const ac = acTables[acId];
    if (!dc) throw new JpegError(`component ${id} uses DC Huffman table ${dcId}, which is not defined`);
    if (!ac) throw new JpegError(`component ${id} uses AC Huffman table ${acId}, which is not defined`);
    if (dc.maxSymbol > 15) throw new JpegError(`DC Huffman table ${dcId} has a difference category over 15`);
    const quant = quantTables[component.quantTable];
    if (!quant) throw new JpegError(`component ${id} uses quantisation table ${component.quantTable}, which is not defined`);
    // libjpeg takes each component's quantisation table when its scan starts; a later DQT does not change it.
    scan.push({ component, dc, ac, quant: quant.slice(), predictor: 0 });
  }
  if (count > 1 && scan.reduce((n, s) => n + s.component.h * s.component.v, 0) > 10) {
    throw new JpegError('an interleaved scan has more than 10 blocks per MCU');
  }
  return scan;
}

/**
 * Decodes one scan's entropy-coded data from `start`; returns where the next marker is. An interleaved scan codes
 * MCUs of h x v blocks of each component; a scan of one component codes its blocks one at a time over its own
 * width and height (T.81 A.2). Restart intervals count MCUs; each ends with RST0..RST7 in turn.
 */
function decodeScan(bytes: Uint8Array, start: number, frame: Frame, scan: ScanComponent[], restartInterval: number): number {
  const reader = new EntropyReader(bytes, start);
  const single = scan.length === 1 ? scan[0]!.component : undefined;
  const mcusPerLine = single ? Math.ceil(single.width / 8) : frame.mcusPerLine;
  const mcus = mcusPerLine * (single ? Math.ceil(single.height / 8) : frame.mcusPerColumn);
  const block = new Int16Array(64);
  const workspace = new Int32Array(64);
  let restarts = 0;
  for (let mcu = 0; mcu < mcus; mcu++) {
    if (restartInterval > 0 && mcu > 0 && mcu % restartInterval === 0) {
      reader.restart(restarts++ & 7);
      for (const s of scan) s.predictor = 0;
    }
    const mcuX = mcu % mcusPerLine;
    const mcuY = (mcu - mcuX) / mcusPerLine;
    for (const s of scan) {
      const c = s.component;
      const h = single ? 1 : c.h;
      const v = single ? 1 : c.v;
      for (let y = 0; y < v; y++) {
        for (let x = 0; x < h; x++) {
          const acZero = decodeBlock(reader, s, block);
          const stride = c.blocksPerLine * 8;
          islowIdct12(block, s.quant, acZero, c.plane, ((mcuY * v + y) * stride + mcuX * h + x) * 8, stride, workspace);
          for (let i = 0; i < 64; i++) block[i] = 0;
        }
      }
    }
    if (reader.pastEnd()) throw new JpegError(`the entropy-coded data ends in MCU ${mcu + 1} of ${mcus}`);
  }
  for (const s of scan) s.component.scanned = true;
  return reader.nextMarker();
}

/**
 * One block's coefficients (T.81 F.2.2): the DC difference from the component's previous block, then AC run/size
 * pairs to end-of-block. Stored as 16-bit values as libjpeg's JCOEF keeps them. Returns whether every AC is zero.
 */
function decodeBlock(reader: EntropyReader, s: ScanComponent, block: Int16Array): boolean {
  const category = reader.decode(s.dc);
  if (category > 0) s.predictor += reader.receiveExtend(category);
  block[0] = s.predictor;
  let acZero = true;
  for (let k = 1; k < 64;) {
    const rs = reader.decode(s.ac);
    const run = rs >> 4;
    const size = rs & 15;
    if (size === 0) {
      if (run !== 15) break; // end of block
      k += 16; // ZRL: sixteen zeros
      continue;
    }
    k += run;
    if (k > 63) throw new JpegError('a block has more than 64 coefficients');
    const value = reader.receiveExtend(size);
    block[ZIGZAG[k]!] = value;
    if (value !== 0) acZero = false;
    k++;
  }
  return acZero;
}

/** The components' planes, upsampled where subsampled, cropped to the image and interleaved per pixel. */
function interleave(frame: Frame): Uint16Array {
  const { width, height, components } = frame;
  const n = components.length;
  const hMax = Math.max(...components.map((c) => c.h));
  const vMax = Math.max(...components.map((c) => c.v));
  const out = new Uint16Array(width * height * n);
  components.forEach((c, index) => {
    let plane = c.plane;
    let stride = c.blocksPerLine * 8;
    if (c.h !== hMax || c.v !== vMax) {
      plane = upsample({ plane, stride, width: c.width, height: c.height, hRatio: hMax / c.h, vRatio: vMax / c.v });
      stride = c.width * (hMax / c.h);
    }
    for (let y = 0; y < height; y++) {
      const row = y * stride;
      if (n === 1) out.set(plane.subarray(row, row + width), y * width);
      else for (let x = 0; x < width; x++) out[(y * width + x) * n + index] = plane[row + x]!;
    }
  });
  return out;
}
