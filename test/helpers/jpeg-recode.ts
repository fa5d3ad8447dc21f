// Re-codes the entropy-coded data of a one-scan sequential Huffman JPEG (as dcmtk's dcmcjpeg writes it) with
// restart markers every `restartInterval` MCUs (T.81 B.2.4.4, F.1.2.3) and, if asked, one scan per component
// (non-interleaved scans, T.81 A.2.2). dcmcjpeg writes neither. The coefficients stay as they were, so a decoder
// must give exactly the pixels of the original stream. The new Huffman tables give every DC category 0..15 a 5-bit
// code and every AC run/size pair an 8-bit code, so any coefficient can be re-coded. Written from T.81 for the
// tests; it is not a general encoder.

interface Component { readonly id: number; readonly h: number; readonly v: number; readonly width: number; readonly height: number; readonly blocksPerLine: number; tables: number }

const ZIGZAG_LENGTH = 64;

export function recodeJpeg(bytes: Uint8Array, options: { readonly restartInterval: number; readonly separateScans: boolean }): Uint8Array {
  const kept: Uint8Array[] = [];
  const huffman = new Map<number, Map<string, number>>(); // (class << 4 | id) -> "length:code" -> symbol
  let components: Component[] = [];
  let mcusPerLine = 0;
  let mcusPerColumn = 0;
  let coefficients: Int32Array[][] = [];
  let at = 2;
  for (;;) {
    if (bytes[at] !== 0xff) throw new Error(`recodeJpeg: no marker at ${at}`);
    while (bytes[at + 1] === 0xff) at++; // fill bytes (dcmcjpeg writes one before EOI at times)
    const marker = bytes[at + 1]!;
    if (marker === 0xd9) break;
    const length = (bytes[at + 2]! << 8) | bytes[at + 3]!;
    const body = bytes.subarray(at + 4, at + 2 + length);
    if (marker === 0xdd) throw new Error('recodeJpeg: the stream already has restart intervals');
    if (marker === 0xc4) readTables(body, huffman);
    else if (marker === 0xc0 || marker === 0xc1) {
      const width = (body[3]! << 8) | body[4]!;
      const height = (body[1]! << 8) | body[2]!;
      const specs = Array.from({ length: body[5]! }, (_, i) => ({ id: body[6 + 3 * i]!, h: body[7 + 3 * i]! >> 4, v: body[7 + 3 * i]! & 15 }));
      const hMax = Math.max(...specs.map((s) => s.h));
      const vMax = Math.max(...specs.map((s) => s.v));
      mcusPerLine = Math.ceil(width / (8 * hMax));
      mcusPerColumn = Math.ceil(height / (8 * vMax));
      components = specs.map((s) => ({ ...s, width: Math.ceil((width * s.h) / hMax), height: Math.ceil((height * s.v) / vMax), blocksPerLine: mcusPerLine * s.h, tables: 0 }));
      coefficients = components.map((c) => Array.from({ length: mcusPerLine * c.h * mcusPerColumn * c.v }, () => new Int32Array(ZIGZAG_LENGTH)));
      kept.push(bytes.subarray(at, at + 2 + length));
    } else if (marker === 0xda) {
      if (body[0] !== components.length) throw new Error('recodeJpeg: the original must be one scan of every component');
      for (let i = 0; i < components.length; i++) components.find((c) => c.id === body[1 + 2 * i])!.tables = body[2 + 2 * i]!;
      at = readScan(bytes, at + 2 + length, components, huffman, coefficients, mcusPerLine, mcusPerColumn);
      continue;
    } else kept.push(bytes.subarray(at, at + 2 + length));
    at += 2 + length;
  }
  const out: number[] = [0xff, 0xd8];
  for (const segment of kept) out.push(...segment);
  out.push(...genericTables());
  out.push(0xff, 0xdd, 0x00, 0x04, options.restartInterval >> 8, options.restartInterval & 0xff);
  const scans = options.separateScans ? components.map((c) => [c]) : [components];
  for (const scan of scans) {
    out.push(0xff, 0xda, 0x00, 6 + 2 * scan.length, scan.length);
    for (const c of scan) out.push(c.id, c.tables);
    out.push(0, 63, 0);
    writeScan(out, scan, components, coefficients, scan.length === 1 ? undefined : { mcusPerLine, mcusPerColumn }, options.restartInterval);
  }
  out.push(0xff, 0xd9);
  return Uint8Array.from(out);
}

function readTables(body: Uint8Array, huffman: Map<number, Map<string, number>>): void {
  let at = 0;
  while (at < body.length) {
    const key = body[at]!;
    const counts = body.subarray(at + 1, at + 17);
    const codes = new Map<string, number>();
    let code = 0;
    let index = at + 17;
    for (let length = 1; length <= 16; length++) {
      for (let i = 0; i < counts[length - 1]!; i++) codes.set(`${length}:${code++}`, body[index++]!);
      code <<= 1;
    }
    huffman.set(key, codes);
    at = index;
  }
}

/** Decodes the original scan into zig-zag ordered coefficients per block; returns where its data ends. */
function readScan(bytes: Uint8Array, start: number, components: Component[], huffman: Map<number, Map<string, number>>, coefficients: Int32Array[][], mcusPerLine: number, mcusPerColumn: number): number {
  const data: number[] = [];
  let at = start;
  while (!(bytes[at] === 0xff && bytes[at + 1] !== 0)) {
    data.push(bytes[at]!);
    at += bytes[at] === 0xff ? 2 : 1;
  }
  let bit = 0;
  const readBit = (): number => {
    const value = (data[bit >> 3]! >> (7 - (bit & 7))) & 1;
    bit++;
    return value;
  };
  const decode = (table: Map<string, number>): number => {
    let code = 0;
    for (let length = 1; length <= 16; length++) {
      code = (code << 1) | readBit();
      const symbol = table.get(`${length}:${code}`);
      if (symbol !== undefined) return symbol;
    }
    throw new Error('recodeJpeg: bad Huffman code');
  };
  const receive = (size: number): number => {
    let value = 0;
    for (let i = 0; i < size; i++) value = (value << 1) | readBit();
    return value < 1 << (size - 1) ? value - (1 << size) + 1 : value;
  };
  const predictors = components.map(() => 0);
  const single = components.length === 1;
  const blocks = single ? Math.ceil(components[0]!.width / 8) : mcusPerLine;
  const rows = single ? Math.ceil(components[0]!.height / 8) : mcusPerColumn;
  for (let my = 0; my < rows; my++) {
    for (let mx = 0; mx < blocks; mx++) {
      components.forEach((c, ci) => {
        const h = single ? 1 : c.h;
        const v = single ? 1 : c.v;
        for (let y = 0; y < v; y++) {
          for (let x = 0; x < h; x++) {
            const block = coefficients[ci]![(my * v + y) * c.blocksPerLine + mx * h + x]!;
            const category = decode(huffman.get(c.tables >> 4)!);
            predictors[ci]! += category ? receive(category) : 0;
            block[0] = predictors[ci]!;
            for (let k = 1; k < 64;) {
              const rs = decode(huffman.get(0x10 | (c.tables & 15))!);
              if ((rs & 15) === 0) {
                if (rs !== 0xf0) break;
                k += 16;
                continue;
              }
              k += rs >> 4;
              block[k++] = receive(rs & 15);
            }
          }
        }
      });
    }
  }
  return at;
}

/** DHT for tables 0 and 1 of both classes: DC categories 0..15 in 5 bits, EOB, ZRL and every run/size in 8 bits. */
function genericTables(): number[] {
  const dcSymbols = Array.from({ length: 16 }, (_, i) => i);
  const acSymbols = [0x00, 0xf0];
  for (let run = 0; run < 16; run++) for (let size = 1; size <= 15; size++) acSymbols.push((run << 4) | size);
  const table = (key: number, length: number, symbols: number[]): number[] => {
    const counts = new Array<number>(16).fill(0);
    counts[length - 1] = symbols.length;
    return [key, ...counts, ...symbols];
  };
  const body = [0x00, 0x01].flatMap((id) => [...table(id, 5, dcSymbols), ...table(0x10 | id, 8, acSymbols)]);
  return [0xff, 0xc4, (body.length + 2) >> 8, (body.length + 2) & 0xff, ...body];
}

function writeScan(out: number[], scan: Component[], all: Component[], coefficients: Int32Array[][], interleaved: { mcusPerLine: number; mcusPerColumn: number } | undefined, restartInterval: number): void {
  let byte = 0;
  let filled = 0;
  const writeBits = (value: number, length: number): void => {
    for (let i = length - 1; i >= 0; i--) {
      byte = (byte << 1) | ((value >> i) & 1);
      if (++filled === 8) {
        out.push(byte);
        if (byte === 0xff) out.push(0x00);
        byte = 0;
        filled = 0;
      }
    }
  };
  const category = (value: number): number => 32 - Math.clz32(Math.abs(value)); // bits of |value| (T.81 F.1.2.1)
  const writeValue = (value: number, size: number): void => writeBits(value < 0 ? value + (1 << size) - 1 : value, size);
  const acCode = new Map<number, number>([[0x00, 0], [0xf0, 1]]);
  for (let run = 0, code = 2; run < 16; run++) for (let size = 1; size <= 15; size++) acCode.set((run << 4) | size, code++);
  const predictors = scan.map(() => 0);
  const writeBlock = (block: Int32Array, si: number): void => {
    const diff = block[0]! - predictors[si]!;
    predictors[si] = block[0]!;
    writeBits(category(diff), 5);
    writeValue(diff, category(diff));
    let run = 0;
    for (let k = 1; k < 64; k++) {
      if (block[k] === 0) {
        run++;
        continue;
      }
      for (; run > 15; run -= 16) writeBits(acCode.get(0xf0)!, 8);
      const size = category(block[k]!);
      writeBits(acCode.get((run << 4) | size)!, 8);
      writeValue(block[k]!, size);
      run = 0;
    }
    if (run > 0) writeBits(acCode.get(0x00)!, 8);
  };
  const c0 = scan[0]!;
  const blocksAcross = interleaved ? interleaved.mcusPerLine : Math.ceil(c0.width / 8);
  const mcus = blocksAcross * (interleaved ? interleaved.mcusPerColumn : Math.ceil(c0.height / 8));
  let restarts = 0;
  for (let mcu = 0; mcu < mcus; mcu++) {
    if (mcu > 0 && mcu % restartInterval === 0) {
      if (filled > 0) writeBits(0xff, 8 - filled); // pad the last byte with 1 bits (T.81 F.1.2.3)
      out.push(0xff, 0xd0 + (restarts++ & 7));
      predictors.fill(0);
    }
    const mx = mcu % blocksAcross;
    const my = Math.floor(mcu / blocksAcross);
    scan.forEach((c, si) => {
      const blocks = coefficients[all.indexOf(c)]!;
      const h = interleaved ? c.h : 1;
      const v = interleaved ? c.v : 1;
      for (let y = 0; y < v; y++) for (let x = 0; x < h; x++) writeBlock(blocks[(my * v + y) * c.blocksPerLine + mx * h + x]!, si);
    });
  }
  if (filled > 0) writeBits(0xff, 8 - filled);
}
