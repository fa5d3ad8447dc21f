// Patient identifiers never reach the server's log, and label files never carry the input's free text. Each test
// plants identifiers where clients and scanners really put them (request_id = the file name, modality text,
// session ids, npz key names and npy headers, NIfTI descrip/aux_file/intent_name/db_name, the CLI's input file
// name), runs them through a real server (fake segmenter: the log and the codec are real), then greps every log
// line the run wrote for them. The client still reads its own request id back.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { gunzipSync } from 'node:zlib';
import { after, before, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { zipSync } from 'fflate';
import { ERROR_CODE_KEY, REQUEST_ID_KEY, SERVER_REQUEST_ID_KEY } from '../../src/errors/grpc-status.ts';
import { readNifti } from '../../src/volume/nifti.ts';
import type { NdArray } from '../../src/volume/npy.ts';
import { writeNpz } from '../../src/volume/npz.ts';
import { FakeSegmenter } from '../helpers/fake-segmenter.ts';
import { buildNifti } from '../helpers/nifti-builder.ts';
import { box2d, box3d, rawRequest } from '../helpers/requests.ts';
import { grpcError, rawSegmentCall, startTestService, type TestService } from '../helpers/test-service.ts';

const BIN = fileURLToPath(new URL('../../bin/onesam.mjs', import.meta.url));
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Every identifier planted below; none may appear in any log line. */
const PLANTED = {
  requestId: 'Patient_DOE_JOHNATHAN_MRN4711X.npz',
  modality: 'PatientName=ROE^RICHARD',
  sessionId: 'MRN0042424-SESSION',
  closeSessionId: 'DOE^JANE-MRN-CLOSE-77',
  npzKey: 'Patient_SMITH_MRN1234',
  npyDescr: 'PATIENT-MRN-DESCR-9',
  descrip: 'PatientName=DOE^JANE PatientID=MRN998877',
  auxFile: 'AUX-MRN-556677',
  intentName: 'INTENT-MRN-13',
  dbName: 'DBNAME-MRN-2468',
  dataType: 'DTYPE-MRN',
  fileName: 'Patient_ROE_MARGARET_MRN5150Z.npz',
} as const;

/** The person names among the planted strings, checked on their own as well. */
const NAMES = ['JOHNATHAN', 'RICHARD', 'MARGARET', 'SMITH'];

let server: TestService;
before(async () => {
  server = await startTestService({ createSegmenter: async () => new FakeSegmenter() });
  await server.service.ready;
});
after(() => server?.stop());

function assertLogClean(...planted: string[]): void {
  const text = server.logText();
  assert.ok(text.length > 0, 'the run wrote log lines');
  for (const p of planted) {
    assert.ok(!text.includes(p), `the log contains the planted identifier ${JSON.stringify(p)}`);
    // Pieces too: a log that cut the id at a separator would still leak the name or the record number.
    for (const piece of p.split(/[_=^ .-]/).filter((x) => NAMES.includes(x) || (x.length >= 6 && /\d/.test(x)))) {
      assert.ok(!text.includes(piece), `the log contains ${JSON.stringify(piece)} (of ${p})`);
    }
  }
}

function segmentLines(): Record<string, unknown>[] {
  return server.logs.filter((l) => l['method'] === 'Segment');
}

/** A version 1.0 .npy file: magic, header padded to a multiple of 64 with a final newline, `dataBytes` zeros. */
function npy(header: string, dataBytes: number): Uint8Array {
  const padded = header.padEnd(Math.ceil((header.length + 11) / 64) * 64 - 11, ' ') + '\n';
  const out = new Uint8Array(10 + padded.length + dataBytes);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
  new DataView(out.buffer).setUint16(8, padded.length, true);
  out.set(new TextEncoder().encode(padded), 10);
  return out;
}

async function failing(promise: Promise<unknown>): Promise<grpc.ServiceError> {
  try {
    await promise;
  } catch (err) {
    return grpcError(err);
  }
  assert.fail('expected the call to fail');
}

test('a client request_id comes back to the client; the log has the server UUID, sent back in a header, and not the id', async () => {
  const outcome = await server.client().segment(rawRequest({ requestId: PLANTED.requestId }));
  assert.equal(outcome.accepted.requestId, PLANTED.requestId, 'accepted echoes the client id');
  assert.equal(outcome.summary.requestId, PLANTED.requestId, 'summary echoes the client id');

  // Not even a hash of free text is logged (a hash of an MRN is reversed by enumeration); a gateway finds its lines
  // by the server's id, which the response header carries.
  const serverIds: string[] = [];
  const { header, payload } = rawRequest({ requestId: PLANTED.requestId });
  const call = rawSegmentCall(server.address);
  call.call.on('metadata', (md) => serverIds.push(...md.get(SERVER_REQUEST_ID_KEY).map(String)));
  call.call.write({ header: { ...header, payloadBytes: payload.length } });
  call.call.write({ chunk: { data: payload } });
  call.call.end();
  assert.equal((await call.result).status.code, grpc.status.OK);
  call.close();
  assert.match(serverIds[0] ?? '', UUID);
  const lines = segmentLines().filter((l) => l['requestId'] === serverIds[0]);
  assert.ok(lines.some((l) => l['msg'] === 'segment request') && lines.some((l) => l['msg'] === 'segment done'), 'a gateway finds the lines by the server id');
  const hash = createHash('sha256').update(PLANTED.requestId).digest('hex').slice(0, 16);
  for (const l of segmentLines()) assert.ok(!('clientRequestId' in l) && !JSON.stringify(l).includes(hash), 'no trace of the free-text id');

  // A request refused after its header echoes the id in its trailers.
  const err = await failing(server.client().segment({ header: { requestId: PLANTED.requestId, format: 'PAYLOAD_FORMAT_NPZ', prompts: [box2d(1, 1, 1, 8, 8)] }, payload: new Uint8Array(64).fill(7) }));
  assert.equal(err.metadata.get(ERROR_CODE_KEY)[0], 'PAYLOAD_FORMAT');
  assert.equal(err.metadata.get(REQUEST_ID_KEY)[0], PLANTED.requestId);
  assertLogClean(PLANTED.requestId);
});

test('modality text quoted in a refusal goes to the client only', async () => {
  const err = await failing(server.client().segment(rawRequest({ requestId: PLANTED.requestId, modality: PLANTED.modality })));
  assert.equal(err.code, grpc.status.INVALID_ARGUMENT);
  assert.match(err.details, /unknown modality "PatientName=ROE\^RICHARD"/);
  assert.ok(server.logs.some((l) => l['code'] === 'HEADER_INVALID' && l['field'] === 'header.modality'), 'the refusal is logged by code and field');
  assertLogClean(PLANTED.requestId, PLANTED.modality);
});

test('session ids a client made up reach the client in NOT_FOUND, never the log (Segment and CloseSession)', async () => {
  const err = await failing(server.client().segment({ header: { sessionId: PLANTED.sessionId, prompts: [box3d(1, 4, 5, 1, 20, 22, 4)] }, payload: new Uint8Array(0) }));
  assert.equal(err.code, grpc.status.NOT_FOUND);
  assert.match(err.details, new RegExp(PLANTED.sessionId));
  const closed = await failing(server.client().closeSession(PLANTED.closeSessionId));
  assert.equal(closed.code, grpc.status.NOT_FOUND);
  assert.ok(server.logs.some((l) => l['method'] === 'CloseSession' && l['code'] === 'SESSION_NOT_FOUND'), 'the failure is still logged, by code');
  assertLogClean(PLANTED.sessionId, PLANTED.closeSessionId);
});

test('npz key names and npy header text quoted in errors go to the client only', async () => {
  const imgs: NdArray = { dtype: 'uint8', shape: [16, 16], data: new Uint8Array(256) };
  const noImgs = writeNpz(new Map([[PLANTED.npzKey, imgs]]));
  const err = await failing(server.client().segment({ header: { format: 'PAYLOAD_FORMAT_NPZ', prompts: [box2d(1, 1, 1, 8, 8)] }, payload: noImgs }));
  assert.equal(err.metadata.get(ERROR_CODE_KEY)[0], 'PAYLOAD_FORMAT');

  // An npy header whose dtype is client text: the reader quotes it (and the whole header) in its message.
  const bad = zipSync({ 'imgs.npy': [npy(`{'descr': '<${PLANTED.npyDescr}', 'fortran_order': False, 'shape': (16, 16), }`, 256), { level: 0 }] });
  const err2 = await failing(server.client().segment({ header: { format: 'PAYLOAD_FORMAT_NPZ', prompts: [box2d(1, 1, 1, 8, 8)] }, payload: bad }));
  assert.equal(err2.code, grpc.status.INVALID_ARGUMENT);
  assert.match(err2.details, new RegExp(PLANTED.npyDescr), 'the client reads which dtype was refused');

  // Extra keys in an accepted npz are not logged either.
  await server.client().segment({ header: { format: 'PAYLOAD_FORMAT_NPZ', prompts: [box2d(1, 1, 1, 8, 8)] }, payload: writeNpz(new Map([['imgs', imgs], [PLANTED.npzKey, imgs]])) });
  assertLogClean(PLANTED.npzKey, PLANTED.npyDescr);
});

for (const version of [1, 2] as const) {
  for (const gzip of [false, true]) {
    test(`NIfTI-${version} labels${gzip ? ' (.nii.gz)' : ''} keep the input's geometry but none of its free-text fields`, async () => {
      const input = buildNifti({
        version, size: [24, 20, 5], withAffine: true,
        descrip: PLANTED.descrip, auxFile: PLANTED.auxFile, intentName: PLANTED.intentName, dbName: PLANTED.dbName, dataType: PLANTED.dataType,
      });
      assert.ok(Buffer.from(input).includes(PLANTED.descrip), 'the input carries the planted descrip');
      const outcome = await server.client().segment({
        header: { format: 'PAYLOAD_FORMAT_NIFTI', prompts: [box3d(3, 2, 2, 1, 15, 12, 3)], output: { format: 'LABEL_FORMAT_NIFTI', gzip } },
        payload: input,
      });
      const labels = gzip ? new Uint8Array(gunzipSync(outcome.labels)) : outcome.labels;
      const bytes = Buffer.from(labels);
      for (const p of [PLANTED.descrip, PLANTED.auxFile, PLANTED.intentName, PLANTED.dbName, PLANTED.dataType, 'MRN']) {
        assert.ok(!bytes.includes(p), `the label file carries ${JSON.stringify(p)}`);
      }
      const out = readNifti(labels);
      const inp = readNifti(input);
      assert.deepEqual(out.geometry.dim, inp.geometry.dim);
      assert.deepEqual(out.geometry.affine, inp.geometry.affine);
      assert.deepEqual(out.geometry.spacing, inp.geometry.spacing);
      assert.equal(out.geometry.axisCodes, inp.geometry.axisCodes);
      assert.equal(out.voxels[0 + 2 * 24 * 20 + 2 * 24 + 3], 3, 'the box is painted with its label');
      assertLogClean(PLANTED.descrip, PLANTED.auxFile, PLANTED.intentName, PLANTED.dbName);
    });
  }
}

test('`onesam segment --server` sends a random request id, not the file name', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'onesam-patient-'));
  const path = join(dir, PLANTED.fileName);
  writeFileSync(path, writeNpz(new Map<string, NdArray>([
    ['imgs', { dtype: 'uint8', shape: [20, 24, 3], data: new Uint8Array(20 * 24 * 3).fill(90) }],
    ['boxes', { dtype: 'int64', shape: [1, 4], data: BigInt64Array.of(2n, 3n, 12n, 15n) }],
  ])));
  const before = segmentLines().length;
  const { stdout } = await promisify(execFile)(process.execPath, [BIN, 'segment', path, '-o', join(dir, 'out.npz'), '--server', server.address, '--json'], { timeout: 120_000 });
  assert.equal((JSON.parse(stdout) as { objects: unknown[] }).objects.length, 1, 'the CLI run succeeded');
  const lines = segmentLines().slice(before);
  const done = lines.find((l) => l['msg'] === 'segment done');
  assert.ok(done, 'the server served the CLI request');
  const hashOfName = createHash('sha256').update(PLANTED.fileName).digest('hex').slice(0, 16);
  assert.notEqual(done['clientRequestId'], hashOfName, 'the request id is not the file name');
  assertLogClean(PLANTED.fileName);
  assert.ok(readFileSync(join(dir, 'out.npz')).length > 0);
});
