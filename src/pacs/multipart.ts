// multipart/related (RFC 2387 over RFC 2046's multipart syntax), the body of WADO-RS answers and STOW-RS requests.
// The reader walks the body as it streams in and hands out each part as soon as its closing delimiter arrives, so
// a series is never held twice in the parser, and the byte and part limits bite while reading, not afterwards.
// Only what DICOMweb needs: parts with headers and a body, no nesting, no transfer encodings (PS3.18 forbids them).
import { randomBytes } from 'node:crypto';

export interface MediaType {
  /** Lower-cased `type/subtype`. */
  readonly type: string;
  /** Parameter names lower-cased, quoted values unquoted. */
  readonly params: ReadonlyMap<string, string>;
}

/** Parses a Content-Type value (`multipart/related; type="application/dicom"; boundary=abc`); undefined when malformed. */
export function parseMediaType(value: string | undefined): MediaType | undefined {
  if (value === undefined) return undefined;
  const m = /^\s*([!#$%&'*+.^_`|~0-9A-Za-z-]+\/[!#$%&'*+.^_`|~0-9A-Za-z-]+)\s*/.exec(value);
  if (!m) return undefined;
  const params = new Map<string, string>();
  // name=token or name="quoted string", separated by semicolons.
  const param = /;\s*([!#$%&'*+.^_`|~0-9A-Za-z-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^;\s"]*))\s*/y;
  param.lastIndex = m[0].length;
  while (param.lastIndex < value.length) {
    const at = param.lastIndex;
    const p = param.exec(value);
    if (!p) {
      // A trailing ";" is tolerated; anything else is malformed. (A failed sticky exec resets lastIndex.)
      if (/^;?\s*$/.test(value.slice(at))) break;
      return undefined;
    }
    params.set(p[1]!.toLowerCase(), p[2] !== undefined ? p[2].replace(/\\(.)/g, '$1') : p[3]!);
  }
  return { type: m[1]!.toLowerCase(), params };
}

export interface MultipartPart {
  /** Header names lower-cased. */
  readonly headers: ReadonlyMap<string, string>;
  /** The part's bytes, in an ArrayBuffer of their own. */
  readonly body: Uint8Array;
}

export interface MultipartLimits {
  /** Most body bytes all parts may hold together; more throws `tooLarge`. */
  readonly maxBytes: number;
  readonly maxParts: number;
  /** What to throw when a limit is passed (the caller's coded error). */
  readonly tooLarge: (what: string) => Error;
  /** What to throw when the body does not follow the syntax. */
  readonly malformed: (what: string) => Error;
}

/** Headers of one part are short (Content-Type, Content-Length, Content-Location): more is not multipart. */
const MAX_PART_HEADER_BYTES = 16 * 1024;
const CRLF = Buffer.from('\r\n');
const HEADER_END = Buffer.from('\r\n\r\n');

/**
 * The parts of a multipart body whose boundary is `boundary`, in order, as they arrive from `body`. Anything before
 * the first delimiter (the preamble) and after the closing one (the epilogue) is ignored, as RFC 2046 says.
 */
export async function* readMultipart(body: AsyncIterable<Uint8Array>, boundary: string, limits: MultipartLimits): AsyncGenerator<MultipartPart> {
  // Every delimiter but a first one at the very start is CRLF "--" boundary: a CRLF before the body makes them alike.
  const delimiter = Buffer.from(`\r\n--${boundary}`);
  const buffer = new GrowingBuffer();
  buffer.append(CRLF);
  let state: 'preamble' | 'after-delimiter' | 'headers' | 'body' | 'done' = 'preamble';
  // Read through a function: the state changes inside step(), which TypeScript's narrowing cannot see.
  const done = (): boolean => state === 'done';
  let headers: Map<string, string> | undefined;
  /** Where the delimiter search resumes: bytes before it were searched already. */
  let searchFrom = 0;
  let parts = 0;
  let bytes = 0;
  const step = (final: boolean): MultipartPart | 'more' | 'done' => {
    for (;;) {
      switch (state) {
        case 'preamble': {
          const at = buffer.indexOf(delimiter, searchFrom);
          if (at < 0) {
            searchFrom = Math.max(0, buffer.length - delimiter.length + 1);
            return 'more';
          }
          buffer.consume(at + delimiter.length);
          searchFrom = 0;
          state = 'after-delimiter';
          break;
        }
        case 'after-delimiter': {
          // "--" closes the body; otherwise optional whitespace, then CRLF, then the part's headers.
          if (buffer.length < 2) return final ? fail('ends right after a delimiter') : 'more';
          if (buffer.at(0) === 0x2d && buffer.at(1) === 0x2d) {
            state = 'done';
            return 'done';
          }
          const eol = buffer.indexOf(CRLF, 0);
          if (eol < 0) {
            if (buffer.length > 1024) return fail('has text after a delimiter instead of a line end');
            return final ? fail('ends inside a delimiter line') : 'more';
          }
          if (!/^[ \t]*$/.test(buffer.text(0, eol))) return fail('has text after a delimiter instead of a line end');
          buffer.consume(eol + 2);
          state = 'headers';
          break;
        }
        case 'headers': {
          // A part without headers starts with the empty line at once.
          let end: number;
          let skip: number;
          if (buffer.length >= 2 && buffer.at(0) === 0x0d && buffer.at(1) === 0x0a) {
            end = 0;
            skip = 2;
          } else {
            end = buffer.indexOf(HEADER_END, 0);
            skip = 4;
          }
          if (end < 0) {
            if (buffer.length > MAX_PART_HEADER_BYTES) return fail(`has a part whose headers run past ${MAX_PART_HEADER_BYTES} bytes`);
            return final ? fail('ends inside the headers of a part') : 'more';
          }
          headers = parseHeaders(buffer.text(0, end), fail);
          buffer.consume(end + skip);
          searchFrom = 0;
          state = 'body';
          break;
        }
        case 'body': {
          const at = buffer.indexOf(delimiter, searchFrom);
          if (at < 0) {
            // The body so far counts against the limit before it is complete: a hostile part cannot grow unbounded.
            if (bytes + buffer.length - delimiter.length > limits.maxBytes) throw limits.tooLarge(`more than ${limits.maxBytes} bytes`);
            searchFrom = Math.max(0, buffer.length - delimiter.length + 1);
            return final ? fail('ends inside a part (no closing delimiter)') : 'more';
          }
          if (parts >= limits.maxParts) throw limits.tooLarge(`more than ${limits.maxParts} parts`);
          if (bytes + at > limits.maxBytes) throw limits.tooLarge(`more than ${limits.maxBytes} bytes`);
          const part = { headers: headers!, body: buffer.take(at) };
          buffer.consume(delimiter.length);
          parts++;
          bytes += at;
          searchFrom = 0;
          state = 'after-delimiter';
          return part;
        }
        case 'done':
          return 'done';
      }
    }
  };
  const fail = (what: string): never => {
    throw limits.malformed(what);
  };
  for await (const chunk of body) {
    if (done()) continue;
    buffer.append(chunk);
    for (let next = step(false); next !== 'more'; next = step(false)) {
      if (next === 'done') break;
      yield next;
    }
  }
  if (done()) return;
  for (let next = step(true); next !== 'done'; next = step(true)) {
    if (next === 'more') return fail('ends before its closing delimiter');
    yield next;
  }
}

function parseHeaders(text: string, fail: (what: string) => never): Map<string, string> {
  const headers = new Map<string, string>();
  if (text === '') return headers;
  for (const line of text.split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon <= 0) return fail('has a part header line without a name');
    headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
  }
  return headers;
}

/** A body for STOW-RS: each part with its Content-Type, between delimiters of a fresh boundary. */
export function writeMultipart(parts: readonly { readonly contentType: string; readonly body: Uint8Array }[], boundary: string): Uint8Array {
  const pieces: Uint8Array[] = [];
  for (const part of parts) {
    pieces.push(Buffer.from(`--${boundary}\r\nContent-Type: ${part.contentType}\r\nContent-Length: ${part.body.length}\r\n\r\n`), part.body, CRLF);
  }
  pieces.push(Buffer.from(`--${boundary}--\r\n`));
  return Buffer.concat(pieces);
}

/** A boundary no DICOM body will contain by chance (RFC 2046: at most 70 characters). */
export function newBoundary(): string {
  return `onesam-${randomBytes(24).toString('hex')}`;
}

/**
 * A byte buffer that grows by doubling and gives back its head: appending a chunk costs its own length, not the
 * buffer's, so a part of hundreds of megabytes arriving in 64 KiB chunks is copied about twice, not once per chunk.
 */
class GrowingBuffer {
  private bytes = new Uint8Array(64 * 1024);
  private start = 0;
  private end = 0;

  get length(): number {
    return this.end - this.start;
  }

  at(i: number): number {
    return this.bytes[this.start + i]!;
  }

  append(chunk: Uint8Array): void {
    if (this.end + chunk.length > this.bytes.length) {
      const needed = this.length + chunk.length;
      if (needed <= this.bytes.length / 2) {
        this.bytes.copyWithin(0, this.start, this.end);
      } else {
        let size = this.bytes.length;
        while (size < needed) size *= 2;
        const grown = new Uint8Array(size);
        grown.set(this.bytes.subarray(this.start, this.end));
        this.bytes = grown;
      }
      this.end = this.length;
      this.start = 0;
    }
    this.bytes.set(chunk, this.end);
    this.end += chunk.length;
  }

  indexOf(needle: Uint8Array, from: number): number {
    const view = Buffer.from(this.bytes.buffer, this.bytes.byteOffset + this.start, this.length);
    return view.indexOf(needle, from);
  }

  text(from: number, to: number): string {
    return Buffer.from(this.bytes.buffer, this.bytes.byteOffset + this.start + from, to - from).toString('latin1');
  }

  /** The first n bytes, copied out into an ArrayBuffer of their own, and dropped from the buffer. */
  take(n: number): Uint8Array {
    const out = this.bytes.slice(this.start, this.start + n);
    this.start += n;
    return out;
  }

  consume(n: number): void {
    this.start += n;
    if (this.start === this.end) this.start = this.end = 0;
  }
}
