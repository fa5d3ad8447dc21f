// Huffman-coded entropy data of a sequential DCT JPEG (ITU T.81 annex C and F.2.2): code tables from DHT, and the
// bit reader of one entropy-coded segment. It never reads past the stream: at a marker or the end it supplies zero
// bits and counts them, so the decoder can tell that a block needed data the stream does not have.

/** A stream that breaks T.81 (or ends early): the frame cannot be decoded. */
export class JpegError extends Error {}

export interface HuffmanTable {
  /** By the next LOOKUP_BITS bits: (code length << 8) | symbol for codes of up to LOOKUP_BITS bits, 0 for longer. */
  readonly lookup: Uint16Array;
  /** By code length: the largest code (-1: none), and what to add to a code for its index in `symbols`. */
  readonly maxCode: Int32Array;
  readonly offset: Int32Array;
  readonly symbols: Uint8Array;
  /** The largest symbol (libjpeg refuses a DC table with a symbol over 15 when a scan uses it). */
  readonly maxSymbol: number;
}

const LOOKUP_BITS = 9;

/** The name of a marker code (the byte after 0xFF), as 0xFFD3. */
export function markerName(code: number): string {
  return `0xFF${code.toString(16).toUpperCase().padStart(2, '0')}`;
}

/** Decoding tables for the code counts by length 1..16 and the symbols of a DHT table (T.81 annex C). */
export function huffmanTable(counts: Uint8Array, symbols: Uint8Array): HuffmanTable {
  const lookup = new Uint16Array(1 << LOOKUP_BITS);
  const maxCode = new Int32Array(17).fill(-1);
  const offset = new Int32Array(17);
  let code = 0;
  let index = 0;
  for (let length = 1; length <= 16; length++) {
    const n = counts[length - 1]!;
    // Codes of each length must fit in it, the all-ones code excluded (T.81 C.2; libjpeg refuses such a table).
    if (code + n >= 2 ** length) throw new JpegError('a Huffman table has more codes than its code lengths allow');
    offset[length] = index - code;
    for (let i = 0; i < n; i++, code++, index++) {
      if (length <= LOOKUP_BITS) {
        const shift = LOOKUP_BITS - length;
        lookup.fill((length << 8) | symbols[index]!, code << shift, (code + 1) << shift);
      }
    }
    if (n > 0) maxCode[length] = code - 1;
    code <<= 1;
  }
  return { lookup, maxCode, offset, symbols, maxSymbol: symbols.reduce((m, s) => Math.max(m, s), 0) };
}

/**
 * Bits of one entropy-coded segment, most significant first, with stuffed zero bytes removed (T.81 F.1.2.3). At a
 * marker or the end of the stream it supplies zero bits and counts them: a block that used them was cut short.
 */
export class EntropyReader {
  private bits = 0;
  private count = 0;
  private padding = 0;
  /** Where the marker that ends the segment starts (its first 0xFF), or -1 before the reader reaches it. */
  private markerAt = -1;

  constructor(private readonly bytes: Uint8Array, private at: number) {}

  /** Tops the buffer up to more than 24 bits (bytes are appended whole; `bits` keeps the low 32). */
  private fill(): void {
    const bytes = this.bytes;
    while (this.count <= 24) {
      let byte = 0;
      if (this.markerAt < 0 && this.at < bytes.length) {
        byte = bytes[this.at]!;
        if (byte !== 0xff) this.at++;
        else {
          // 0xFF 0x00 is a data byte 0xFF; 0xFF then anything else (after fill bytes) is a marker. libjpeg also
          // reads 0xFF 0xFF ... 0x00 as one data byte, and so do we.
          let next = this.at + 1;
          while (next < bytes.length && bytes[next] === 0xff) next++;
          if (next < bytes.length && bytes[next] === 0) this.at = next + 1;
          else {
            this.markerAt = this.at;
            byte = 0;
          }
        }
      } else if (this.markerAt < 0) this.markerAt = bytes.length;
      if (this.markerAt >= 0) this.padding += 8;
      this.bits = ((this.bits << 8) | byte) >>> 0;
      this.count += 8;
    }
  }

  /** Whether a block used bits beyond the segment's data. */
  pastEnd(): boolean {
    return this.padding > this.count;
  }

  /** The next Huffman-coded symbol of `table` (T.81 F.2.2.3). */
  decode(table: HuffmanTable): number {
    if (this.count < 16) this.fill();
    const entry = table.lookup[(this.bits >>> (this.count - LOOKUP_BITS)) & ((1 << LOOKUP_BITS) - 1)]!;
    if (entry !== 0) {
      this.count -= entry >> 8;
      return entry & 0xff;
    }
    for (let length = LOOKUP_BITS + 1; length <= 16; length++) {
      const code = (this.bits >>> (this.count - length)) & ((1 << length) - 1);
      if (code <= table.maxCode[length]!) {
        this.count -= length;
        return table.symbols[table.offset[length]! + code]!;
      }
    }
    throw new JpegError('a Huffman code that the table does not define');
  }

  /** The next `size` bits (1..15) as a signed value (T.81 F.2.2.1, EXTEND). */
  receiveExtend(size: number): number {
    if (this.count < size) this.fill();
    this.count -= size;
    const value = (this.bits >>> this.count) & ((1 << size) - 1);
    return value < 1 << (size - 1) ? value - (1 << size) + 1 : value;
  }

  /** At the end of a restart interval: the rest of the byte is padding, and RST`number` must follow. */
  restart(number: number): void {
    const at = this.nextMarker();
    let code = at;
    while (code < this.bytes.length && this.bytes[code] === 0xff) code++;
    if (code >= this.bytes.length || this.bytes[code] !== 0xd0 + number) {
      const found = code >= this.bytes.length ? 'the end of the stream' : `marker ${markerName(this.bytes[code]!)}`;
      throw new JpegError(`restart marker RST${number} expected, found ${found}`);
    }
    this.at = code + 1;
    this.bits = 0;
    this.count = 0;
    this.padding = 0;
    this.markerAt = -1;
  }

  /**
   * Where the marker after the data read so far starts. Bytes between the last block and the marker (none in a
   * valid stream) are skipped, as libjpeg skips them.
   */
  nextMarker(): number {
    if (this.markerAt >= 0) return this.markerAt;
    const bytes = this.bytes;
    let at = this.at;
    while (at < bytes.length) {
      if (bytes[at] !== 0xff) {
        at++;
        continue;
      }
      let next = at + 1;
      while (next < bytes.length && bytes[next] === 0xff) next++;
      if (next >= bytes.length || bytes[next] !== 0) return at;
      at = next + 1;
    }
    return bytes.length;
  }
}
