// How client-chosen text may appear in logs: as a short SHA-256 prefix (clientTextHash), and an unexpected error
// as its class, code and frames with anything quoted taken out of its message (errorForLog).
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { clientTextHash, createLogger, errorForLog, requestLogger } from '../../src/observability/logger.ts';

test('clientTextHash is the first 16 hex digits of SHA-256 over UTF-8, what a gateway computes from its own id', () => {
  assert.equal(clientTextHash('abc'), 'ba7816bf8f01cfea');
  const id = 'Ünïcode-Patient_DOE';
  assert.equal(clientTextHash(id), createHash('sha256').update(Buffer.from(id, 'utf8')).digest('hex').slice(0, 16));
});

test('request lines carry the server id and the client id only as its hash', () => {
  const lines: string[] = [];
  const sink = new Writable({ write(chunk, _e, cb) { lines.push(String(chunk)); cb(); } });
  const log = requestLogger(createLogger({ level: 'info', destination: sink }), 'server-uuid', 'Segment', 'Patient_DOE_MRN1');
  log.info('segment request');
  const line = JSON.parse(lines[0]!) as Record<string, unknown>;
  assert.equal(line['requestId'], 'server-uuid');
  assert.equal(line['clientRequestId'], clientTextHash('Patient_DOE_MRN1'));
  assert.ok(!lines[0]!.includes('Patient'));
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
