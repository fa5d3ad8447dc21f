// multipart/related reading and writing (src/pacs/multipart.ts) without a network: what writeMultipart writes reads
// back part for part whatever the chunking, the syntax's corners (preamble, epilogue, no headers, whitespace after a
// delimiter, boundary-like bytes inside a body), the limits biting while parts stream in, and malformed bodies.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { newBoundary, parseMediaType, readMultipart, writeMultipart, type MultipartLimits } from '../../src/pacs/multipart.ts';

class TooLarge extends Error {}
class Malformed extends Error {}
const LIMITS: MultipartLimits = { maxBytes: 1 << 30, maxParts: 1000, tooLarge: (w) => new TooLarge(w), malformed: (w) => new Malformed(w) };

async function* chunked(bytes: Uint8Array, sizes: readonly number[]): AsyncGenerator<Uint8Array> {
  let at = 0;
  for (let i = 0; at < bytes.length; i++) {
    const n = Math.max(1, sizes.length ? sizes[i % sizes.length]! : bytes.length);
    yield bytes.subarray(at, at + n);
    at += n;
  }
}

async function read(bytes: Uint8Array | string, boundary: string, sizes: readonly number[] = [], limits = LIMITS) {
  const body = typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : bytes;
  const parts = [];
  for await (const p of readMultipart(chunked(body, sizes), boundary, limits)) parts.push({ headers: Object.fromEntries(p.headers), body: Buffer.from(p.body).toString('latin1') });
  return parts;
}

test('what writeMultipart writes reads back, in any chunking, bodies holding CRLF, dashes and boundary prefixes', async () => {
  await fc.assert(fc.asyncProperty(
    fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 6 }),
    fc.array(fc.integer({ min: 1, max: 97 }), { maxLength: 5 }),
    async (bodies, sizes) => {
      const boundary = 'b0und';
      // Bodies that nearly contain the delimiter: its prefix, and the boundary without the CRLF before it.
      const tricky = bodies.map((b, i) => (i % 2 ? Buffer.concat([b, Buffer.from('\r\n--b0un'), b]) : Buffer.concat([Buffer.from('--b0und'), b])));
      // A writer picks a boundary its bodies do not hold (newBoundary is random); these ones must not either.
      fc.pre(tricky.every((b) => !b.includes('\r\n--b0und')));
      const written = writeMultipart(tricky.map((body) => ({ contentType: 'application/dicom', body })), boundary);
      const parts = await read(written, boundary, sizes);
      assert.equal(parts.length, tricky.length);
      parts.forEach((p, i) => {
        assert.equal(p.body, Buffer.from(tricky[i]!).toString('latin1'));
        assert.equal(p.headers['content-type'], 'application/dicom');
        assert.equal(p.headers['content-length'], String(tricky[i]!.length));
      });
    },
  ), { numRuns: 150 });
});

test('preamble and epilogue are ignored; a part may have no headers; whitespace may follow a delimiter', async () => {
  const body = 'This is the preamble.\r\n--xyz  \r\n\r\nfirst\r\n--xyz\r\ncontent-type: Application/DICOM\r\nX-Other:  v \r\n\r\nsecond\r\n--xyz--\r\nepilogue --xyz\r\n';
  assert.deepEqual(await read(body, 'xyz', [3]), [
    { headers: {}, body: 'first' },
    { headers: { 'content-type': 'Application/DICOM', 'x-other': 'v' }, body: 'second' },
  ]);
  // Orthanc starts the body with the delimiter at once, without a CRLF.
  assert.deepEqual(await read('--q\r\nContent-Type: application/dicom\r\n\r\nDICM\r\n--q--', 'q'), [{ headers: { 'content-type': 'application/dicom' }, body: 'DICM' }]);
  assert.deepEqual(await read('--q--\r\n', 'q'), []);
});

test('the byte and part limits bite while the parts stream in', async () => {
  const big = writeMultipart([{ contentType: 'application/dicom', body: new Uint8Array(10_000) }, { contentType: 'application/dicom', body: new Uint8Array(10) }], 'b');
  await assert.rejects(read(big, 'b', [512], { ...LIMITS, maxBytes: 5_000 }), (e) => e instanceof TooLarge && /more than 5000 bytes/.test(e.message));
  await assert.rejects(read(big, 'b', [512], { ...LIMITS, maxBytes: 10_005 }), (e) => e instanceof TooLarge && /more than 10005 bytes/.test(e.message));
  await assert.rejects(read(big, 'b', [], { ...LIMITS, maxParts: 1 }), (e) => e instanceof TooLarge && /more than 1 parts/.test(e.message));
  assert.equal((await read(big, 'b', [], { ...LIMITS, maxBytes: 10_010, maxParts: 2 })).length, 2);
  // A part that never ends is refused once it passes the limit, not after the stream ends.
  let pulled = 0;
  async function* endless(): AsyncGenerator<Uint8Array> {
    yield Buffer.from('--b\r\n\r\n');
    for (;;) {
      pulled++;
      yield new Uint8Array(1024);
    }
  }
  await assert.rejects(async () => {
    for await (const p of readMultipart(endless(), 'b', { ...LIMITS, maxBytes: 100_000 })) void p;
  }, TooLarge);
  assert.ok(pulled < 200, `read ${pulled} KiB before refusing`);
});

test('malformed bodies are refused with what is wrong', async () => {
  const cases: [string, RegExp][] = [
    ['no delimiter at all', /ends before its closing delimiter/],
    ['--b\r\nContent-Type: application/dicom\r\n\r\ntruncated', /ends inside a part/],
    ['--b\r\nContent-Type: application/dicom', /ends inside the headers/],
    ['--b\r\nnot a header\r\n\r\nx\r\n--b--', /header line without a name/],
    ['--bjunk\r\n\r\nx\r\n--b--', /text after a delimiter/],
    ['--b', /ends right after a delimiter/],
  ];
  for (const [body, message] of cases) await assert.rejects(read(body, 'b'), (e) => e instanceof Malformed && message.test(e.message), body);
});

test('Content-Type parameters: quoted, unquoted, case, and malformed values', () => {
  const t = parseMediaType('Multipart/Related; type="application/dicom"; Boundary=abc-123; transfer-syntax=*')!;
  assert.equal(t.type, 'multipart/related');
  assert.deepEqual(Object.fromEntries(t.params), { type: 'application/dicom', boundary: 'abc-123', 'transfer-syntax': '*' });
  assert.equal(parseMediaType('multipart/related; boundary="a \\"q\\" b";')!.params.get('boundary'), 'a "q" b');
  assert.equal(parseMediaType('application/dicom+json')!.params.size, 0);
  for (const bad of [undefined, '', 'nonsense', 'a/b; =x', 'a/b; x="unterminated']) assert.equal(parseMediaType(bad), undefined, String(bad));
  const b = newBoundary();
  assert.ok(b.length <= 70 && /^[A-Za-z0-9-]+$/.test(b) && b !== newBoundary());
});
