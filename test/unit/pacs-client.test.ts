// The DICOMweb client (src/pacs/client.ts) against a scripted HTTP server on 127.0.0.1: each PACS behaviour becomes
// one precise code (PACS_UNREACHABLE after the retries, PACS_REFUSED at once, PACS_NOT_FOUND, PACS_RESPONSE_INVALID,
// PACS_SERIES_TOO_LARGE, PACS_STORE_REJECTED with the PACS's reason); credentials go out as configured and are read
// again for each request; the observer sees every operation with its attempts and bytes.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { CodedError } from '../../src/errors/coded-error.ts';
import { DicomwebClient, type PacsOperationEvent } from '../../src/pacs/client.ts';
import { PACS_ENDPOINT_DEFAULTS, type PacsAuth, type PacsEndpoint } from '../../src/pacs/endpoint.ts';
import { readMultipart, writeMultipart } from '../../src/pacs/multipart.ts';
import { makeTestPki } from '../helpers/tls.ts';

type Handler = (req: IncomingMessage, res: ServerResponse, body: Buffer) => void;
let handler: Handler = (_req, res) => res.end();
const seen: { method: string; url: string; headers: IncomingMessage['headers'] }[] = [];
let server: Server;
let base: string;
const dir = mkdtempSync(join(tmpdir(), 'onesam-pacs-client-'));

before(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      seen.push({ method: req.method!, url: req.url!, headers: req.headers });
      handler(req, res, Buffer.concat(chunks));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/dicom-web`;
});
after(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  rmSync(dir, { recursive: true, force: true });
});

const events: PacsOperationEvent[] = [];
const retries: string[] = [];
function client(options: Partial<PacsEndpoint> & { auth?: PacsAuth } = {}): DicomwebClient {
  seen.length = 0;
  events.length = 0;
  retries.length = 0;
  return new DicomwebClient(
    { name: 'test-pacs', url: base, auth: { type: 'none' }, ...PACS_ENDPOINT_DEFAULTS, retryDelayMs: 1, ...options },
    { operation: (e) => events.push(e), retry: (e) => retries.push(`${e.operation}#${e.attempt}: ${e.reason}`) },
  );
}

const ST = '1.2.3';
const SE = '1.2.3.4';
const INSTANCES = [Buffer.from('first instance'), Buffer.alloc(70_000, 7), Buffer.from('third')];
function sendSeries(res: ServerResponse, parts = INSTANCES): void {
  const body = Buffer.from(writeMultipart(parts.map((b) => ({ contentType: 'application/dicom', body: b })), 'bnd'));
  res.writeHead(200, { 'content-type': 'multipart/related; type="application/dicom"; boundary=bnd' });
  // In pieces, as a PACS streams a series.
  for (let at = 0; at < body.length; at += 4096) res.write(body.subarray(at, at + 4096));
  res.end();
}
const retrieveOptions = { maxBytes: 1 << 20, maxInstances: 100 };

async function codedFailure(run: Promise<unknown>, code: string, message: RegExp): Promise<CodedError> {
  try {
    await run;
  } catch (err) {
    assert.ok(err instanceof CodedError, `expected a CodedError, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    assert.match(err.message, message);
    return err;
  }
  assert.fail(`expected ${code}`);
}

test('retrieve: the series streams in part by part, as stored, with the stored-bytes Accept', async () => {
  handler = (_req, res) => sendSeries(res);
  const c = client();
  const progress: string[] = [];
  const instances = await c.retrieveSeries(ST, SE, { ...retrieveOptions, onProgress: (n, bytes) => progress.push(`${n}:${bytes}`) });
  assert.deepEqual(instances.map((b) => Buffer.from(b)), INSTANCES);
  assert.deepEqual(progress, ['1:14', '2:70014', '3:70019']);
  assert.equal(seen[0]!.url, `/dicom-web/studies/${ST}/series/${SE}`);
  assert.equal(seen[0]!.headers.accept, 'multipart/related; type="application/dicom"; transfer-syntax=*');
  assert.equal(seen[0]!.headers.authorization, undefined);
  assert.equal(events.length, 1);
  assert.deepEqual({ ...events[0]!, ms: 0 }, { endpoint: 'test-pacs', operation: 'retrieve', outcome: 'ok', ms: 0, bytes: events[0]!.bytes, attempts: 1 });
  assert.ok(events[0]!.bytes > 70_019);
  c.close();
});

test('transient answers are retried with backoff: 503, 429 with Retry-After, then the series', async () => {
  let n = 0;
  handler = (_req, res) => {
    n++;
    if (n === 1) res.writeHead(503).end('restarting');
    else if (n === 2) res.writeHead(429, { 'retry-after': '0' }).end();
    else sendSeries(res);
  };
  const c = client({ retries: 2 });
  assert.equal((await c.retrieveSeries(ST, SE, retrieveOptions)).length, 3);
  assert.deepEqual(retries, ['retrieve#1: answered the retrieve with HTTP 503', 'retrieve#2: answered the retrieve with HTTP 429']);
  assert.equal(events[0]!.attempts, 3);
  c.close();
});

test('PACS_UNREACHABLE once the retries are spent: 5xx, a refused connection, a PACS gone silent mid-series', async () => {
  handler = (_req, res) => res.writeHead(502).end();
  const c = client({ retries: 1 });
  await codedFailure(c.retrieveSeries(ST, SE, retrieveOptions), 'PACS_UNREACHABLE', /^PACS endpoint "test-pacs" answered the retrieve with HTTP 502 \(2 attempts\)$/);
  assert.equal(seen.length, 2);
  assert.equal(events[0]!.outcome, 'PACS_UNREACHABLE');
  c.close();

  const closed = createServer();
  await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
  const port = (closed.address() as AddressInfo).port;
  await new Promise((resolve) => closed.close(resolve));
  const refused = new DicomwebClient({ name: 'gone', url: `http://127.0.0.1:${port}/dicom-web`, auth: { type: 'none' }, ...PACS_ENDPOINT_DEFAULTS, retries: 2, retryDelayMs: 1 });
  await codedFailure(refused.searchStudies(), 'PACS_UNREACHABLE', /^PACS endpoint "gone" refused the connection \(ECONNREFUSED\) \(3 attempts\)$/);
  refused.close();

  handler = (_req, res) => {
    res.writeHead(200, { 'content-type': 'multipart/related; type="application/dicom"; boundary=bnd' });
    res.write('--bnd\r\nContent-Type: application/dicom\r\n\r\npartial');
    // ... and nothing more.
  };
  const silent = client({ retries: 1, responseTimeoutMs: 200 });
  await codedFailure(silent.retrieveSeries(ST, SE, retrieveOptions), 'PACS_UNREACHABLE', /was silent for 200 ms \(responseTimeoutMs\) \(2 attempts\)/);
  silent.close();
});

test('refusals, absences and unreadable answers fail at once with their own code', async () => {
  const cases: [Handler, string, RegExp][] = [
    [(_q, r) => r.writeHead(401, { 'www-authenticate': 'Basic realm="x"' }).end(), 'PACS_REFUSED', /refused this server's credentials for the retrieve of series 1\.2\.3\.4 of study 1\.2\.3 \(HTTP 401\)/],
    [(_q, r) => r.writeHead(403).end(), 'PACS_REFUSED', /HTTP 403/],
    [(_q, r) => r.writeHead(404).end('{"Message":"Accessing an inexistent item"}'), 'PACS_NOT_FOUND', /holds no series 1\.2\.3\.4 of study 1\.2\.3 \(HTTP 404\)/],
    [(_q, r) => r.writeHead(406).end('no transfer-syntax=* here'), 'PACS_RESPONSE_INVALID', /HTTP 406 \(no transfer-syntax=\* here\)/],
    [(_q, r) => r.writeHead(200, { 'content-type': 'application/json' }).end('[]'), 'PACS_RESPONSE_INVALID', /Content-Type "application\/json", not multipart\/related/],
    [(_q, r) => r.writeHead(200, { 'content-type': 'multipart/related; type="image/jpeg"; boundary=b' }).end(), 'PACS_RESPONSE_INVALID', /parts of type "image\/jpeg"/],
    [(_q, r) => r.writeHead(200, { 'content-type': 'multipart/related; boundary=b' }).end('--b\r\nContent-Type: image/png\r\n\r\nx\r\n--b--'), 'PACS_RESPONSE_INVALID', /a part of type image\/png/],
    [(_q, r) => r.writeHead(200, { 'content-type': 'multipart/related; boundary=b' }).end('--b\r\n\r\ncut short'), 'PACS_RESPONSE_INVALID', /ends inside a part/],
    [(_q, r) => r.writeHead(200, { 'content-type': 'multipart/related; boundary=b' }).end('--b--'), 'PACS_NOT_FOUND', /holds no instance of series/],
    [(_q, r) => sendSeries(r), 'PACS_SERIES_TOO_LARGE', /holds more than 50000 bytes: a series may hold at most 50000 bytes \(maxPayloadBytes\)/],
  ];
  for (const [h, code, message] of cases) {
    handler = h;
    const c = client({ retries: 3 });
    await codedFailure(c.retrieveSeries(ST, SE, { ...retrieveOptions, maxBytes: 50_000 }), code, message);
    assert.equal(seen.length, 1, `${code} is not retried`);
    assert.equal(events[0]!.outcome, code);
    c.close();
  }
  handler = (_q, r) => sendSeries(r);
  const c = client();
  await codedFailure(c.retrieveSeries(ST, SE, { ...retrieveOptions, maxInstances: 2 }), 'PACS_SERIES_TOO_LARGE', /more than 2 parts/);
  c.close();
});

test('credentials: basic and bearer from their files, read again for each request; an unreadable file is PACS_REFUSED', async () => {
  const password = join(dir, 'password');
  writeFileSync(password, 's3cret\n');
  handler = (_req, res) => res.writeHead(200, { 'content-type': 'application/dicom+json' }).end('[]');
  const basic = client({ auth: { type: 'basic', username: 'it', passwordFile: password } });
  await basic.searchStudies();
  assert.equal(seen[0]!.headers.authorization, `Basic ${Buffer.from('it:s3cret').toString('base64')}`);
  basic.close();

  const token = join(dir, 'token');
  writeFileSync(token, 'first-token\n');
  const bearer = client({ auth: { type: 'bearer', tokenFile: token } });
  await bearer.searchStudies();
  writeFileSync(token, 'rotated-token');
  await bearer.searchStudies();
  assert.deepEqual(seen.map((s) => s.headers.authorization), ['Bearer first-token', 'Bearer rotated-token']);
  rmSync(token);
  await codedFailure(bearer.searchStudies(), 'PACS_REFUSED', /^PACS endpoint "test-pacs" cannot be used: this server's credentials file for it cannot be read \(ENOENT\)$/);
  bearer.close();
});

test('search: QIDO-RS matches with their keys and limit; 204 is no match; anything but a JSON array is refused', async () => {
  handler = (_req, res) => res.writeHead(200, { 'content-type': 'application/dicom+json' }).end(JSON.stringify([{
    '0020000D': { vr: 'UI', Value: [ST] }, '00100020': { vr: 'LO', Value: ['98890234'] }, '00100010': { vr: 'PN', Value: [{ Alphabetic: 'Doe^Peter' }] },
    '00080061': { vr: 'CS', Value: ['CT', 'SEG'] }, '00201206': { vr: 'IS', Value: [2] }, '00080020': { vr: 'DA', Value: ['20010101'] },
  }]));
  const c = client();
  const studies = await c.searchStudies({ match: { PatientID: '9889*', ModalitiesInStudy: 'CT' }, limit: 5 });
  assert.deepEqual(studies, [{ studyInstanceUid: ST, patientId: '98890234', patientName: 'Doe^Peter', studyDate: '20010101', accessionNumber: '', description: '', modalities: ['CT', 'SEG'], series: 2 }]);
  assert.equal(seen[0]!.url, '/dicom-web/studies?PatientID=9889*&ModalitiesInStudy=CT&limit=5');
  assert.equal(seen[0]!.headers.accept, 'application/dicom+json');
  handler = (_req, res) => res.writeHead(200).end(JSON.stringify([{ '0020000E': { vr: 'UI', Value: [SE] }, '00080060': { vr: 'CS', Value: ['CT'] }, '00200011': { vr: 'IS', Value: [5] }, '00201209': { vr: 'IS', Value: [5] } }]));
  assert.deepEqual(await c.searchSeries(ST), [{ studyInstanceUid: ST, seriesInstanceUid: SE, modality: 'CT', seriesNumber: 5, description: '', instances: 5 }]);
  handler = (_req, res) => res.writeHead(204).end();
  assert.deepEqual(await c.searchStudies(), []);
  handler = (_req, res) => res.writeHead(200).end('<html>login</html>');
  await codedFailure(c.searchStudies(), 'PACS_RESPONSE_INVALID', /something other than a DICOM JSON array \(<html>login<\/html>\)/);
  await assert.rejects(c.searchSeries('1.2/../x'), RangeError);
  await assert.rejects(c.searchStudies({ match: { 'a&b': 'x' } }), RangeError);
  c.close();
});

test('store: one multipart/related request; stored instances come back; a refusal carries the PACS\'s Failure Reason', async () => {
  const seg = Buffer.from('a segmentation');
  let received: Buffer[] = [];
  handler = (req, res, body) => {
    const boundary = /boundary=([^;]+)/.exec(req.headers['content-type']!)![1]!;
    void (async () => {
      received = [];
      for await (const p of readMultipart((async function* () { yield body; })(), boundary, { maxBytes: 1e6, maxParts: 10, tooLarge: Error as never, malformed: Error as never })) received.push(Buffer.from(p.body));
      res.writeHead(200, { 'content-type': 'application/dicom+json' }).end(JSON.stringify({
        '00081190': { vr: 'UR', Value: [`${base}/studies/${ST}`] },
        '00081199': { vr: 'SQ', Value: [{ '00081150': { vr: 'UI', Value: ['1.2.840.10008.5.1.4.1.1.66.4'] }, '00081155': { vr: 'UI', Value: ['9.8.7'] }, '00081190': { vr: 'UR', Value: [`${base}/studies/${ST}/series/9.8/instances/9.8.7`] } }] },
      }));
    })();
  };
  const c = client();
  const stored = await c.store([seg], { studyUid: ST });
  assert.deepEqual(received, [seg]);
  assert.equal(seen[0]!.method, 'POST');
  assert.equal(seen[0]!.url, `/dicom-web/studies/${ST}`);
  assert.match(seen[0]!.headers['content-type']!, /^multipart\/related; type="application\/dicom"; boundary=onesam-[0-9a-f]+$/);
  assert.deepEqual(stored, { retrieveUrl: `${base}/studies/${ST}`, stored: [{ sopClassUid: '1.2.840.10008.5.1.4.1.1.66.4', sopInstanceUid: '9.8.7', retrieveUrl: `${base}/studies/${ST}/series/9.8/instances/9.8.7` }] });
  assert.equal(events[0]!.operation, 'store');
  assert.ok(events[0]!.bytes > seg.length);

  handler = (_req, res) => res.writeHead(409, { 'content-type': 'application/dicom+json' }).end(JSON.stringify({
    '00081198': { vr: 'SQ', Value: [{ '00081155': { vr: 'UI', Value: ['9.8.7'] }, '00081197': { vr: 'US', Value: [272] } }] },
  }));
  await codedFailure(c.store([seg]), 'PACS_STORE_REJECTED', /^PACS endpoint "test-pacs" did not store the Segmentation: HTTP 409, Failure Reason 0x0110 \(processing failure\)$/);
  handler = (_req, res) => res.writeHead(200, { 'content-type': 'application/dicom+json' }).end(JSON.stringify({
    '00081198': { vr: 'SQ', Value: [{ '00081197': { vr: 'US', Value: [0xa900] } }] },
  }));
  await codedFailure(c.store([seg]), 'PACS_STORE_REJECTED', /HTTP 200, Failure Reason 0xA900 \(data set does not match the SOP class\)/);
  handler = (_req, res) => res.writeHead(415).end('{"Message":"Bad content type"}');
  await codedFailure(c.store([seg]), 'PACS_STORE_REJECTED', /HTTP 415 \(\{"Message":"Bad content type"\}\)/);
  handler = (_req, res) => res.writeHead(403).end();
  await codedFailure(c.store([seg]), 'PACS_REFUSED', /credentials for the store \(HTTP 403\)/);
  c.close();
});

test('https: the endpoint\'s caFile is the trust; another CA fails the handshake at once, without retries', async () => {
  const pki = makeTestPki();
  const tls = createHttpsServer({ cert: pki.read(pki.serverCert), key: pki.read(pki.serverKey) }, (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/dicom+json' }).end('[]');
  });
  await new Promise<void>((resolve) => tls.listen(0, '127.0.0.1', resolve));
  const url = `https://127.0.0.1:${(tls.address() as AddressInfo).port}/dicom-web`;
  try {
    const trusted = new DicomwebClient({ name: 'tls', url, auth: { type: 'none' }, caFile: pki.caCert, ...PACS_ENDPOINT_DEFAULTS, retryDelayMs: 1 });
    assert.deepEqual(await trusted.searchStudies(), []);
    trusted.close();
    const tries: string[] = [];
    const stranger = new DicomwebClient({ name: 'tls', url, auth: { type: 'none' }, caFile: pki.otherCaCert, ...PACS_ENDPOINT_DEFAULTS, retries: 3, retryDelayMs: 1 }, { retry: (e) => tries.push(e.reason) });
    await codedFailure(stranger.searchStudies(), 'PACS_UNREACHABLE', /^PACS endpoint "tls" failed the TLS handshake \([A-Z_]+\); is the endpoint's caFile the CA that signed its certificate\?$/);
    assert.deepEqual(tries, []);
    stranger.close();
  } finally {
    tls.closeAllConnections();
    await new Promise((resolve) => tls.close(resolve));
    rmSync(pki.dir, { recursive: true, force: true });
  }
});
