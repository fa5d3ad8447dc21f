// How client-chosen text may appear in logs: a request id only when it is a random UUID or ULID (loggableClientId), and an unexpected error
// as its class, code and frames with anything quoted taken out of its message (errorForLog).
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { createLogger, errorForLog, loggableClientId, requestLogger } from '../../src/observability/logger.ts';

test('loggableClientId keeps UUIDs and ULIDs, and nothing else: a hash of a file name or an MRN can be reversed', () => {
  assert.equal(loggableClientId('3f2b8c1e-9d4a-4f6b-8e2a-1c0d9b7a6e5f'), '3f2b8c1e-9d4a-4f6b-8e2a-1c0d9b7a6e5f');
  assert.equal(loggableClientId('3F2B8C1E-9D4A-4F6B-8E2A-1C0D9B7A6E5F'), '3F2B8C1E-9D4A-4F6B-8E2A-1C0D9B7A6E5F');
  assert.equal(loggableClientId('01ARZ3NDEKTSV4RRFFQ69G5FAV'), '01ARZ3NDEKTSV4RRFFQ69G5FAV');
  for (const free of ['Patient_DOE_MRN1', 'MRN4711', 'ACC-2026-000123', '3f2b8c1e-9d4a-4f6b-8e2a-1c0d9b7a6e5', '01ARZ3NDEKTSV4RRFFQ69G5FAVU', '']) {
    assert.equal(loggableClientId(free), undefined, free);
  }
});

test('request lines carry the server id, a random client id as sent, and no free-text client id at all', () => {
  const lines: string[] = [];
  const sink = new Writable({ write(chunk, _e, cb) { lines.push(String(chunk)); cb(); } });
  const root = createLogger({ level: 'info', destination: sink });
  requestLogger(root, 'server-uuid', 'Segment', 'Patient_DOE_MRN1').info('segment request');
  requestLogger(root, 'server-uuid-2', 'Segment', '01ARZ3NDEKTSV4RRFFQ69G5FAV').info('segment request');
  const [free, random] = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.equal(free!['requestId'], 'server-uuid');
  assert.ok(!('clientRequestId' in free!));
  assert.ok(!lines[0]!.includes('Patient') && !lines[0]!.includes('MRN1'));
  assert.equal(random!['clientRequestId'], '01ARZ3NDEKTSV4RRFFQ69G5FAV');
});

test('errorForLog keeps class, code and frames, and drops quoted client text from the message', () => {
  const err = Object.assign(new TypeError(`npz[imgs]: unsupported dtype '<PATIENT_X' in "Patient_DOE.npz" \`MRN1\``), { code: 'NPY_BAD_HEADER', field: 'Patient_DOE' });
  const logged = errorForLog(err);
  const text = JSON.stringify(logged);
  assert.equal(logged['type'], 'TypeError');
  assert.equal(logged['code'], 'NPY_BAD_HEADER');
  assert.ok(Array.isArray(logged['stack']) && (logged['stack'] as string[]).every((f) => f.startsWith('at ')));
  assert.match(String(logged['message']), /unsupported dtype \[quoted\] in \[quoted\] \[quoted\]/);
  for (const planted of ['PATIENT_X', 'Patient_DOE', 'MRN1']) assert.ok(!text.includes(planted), `${planted} in ${text}`);
  assert.deepEqual(errorForLog('a string thrown'), { type: 'string' });
});
