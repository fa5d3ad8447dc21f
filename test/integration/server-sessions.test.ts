// Sessions over gRPC (fake Segmenter): a request keeps its volume with keep_session, later requests prompt it by
// session_id without uploading, reuse its embeddings and get the same labels; misuse of the fields, unknown ids,
// CloseSession, the session limit and idle expiry each get their status, code and field; shutdown drops them all.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import type { SegmentInput } from '../../src/client/client.ts';
import { ERROR_CODE_KEY, ERROR_FIELD_KEY } from '../../src/errors/grpc-status.ts';
import { FakeSegmenter } from '../helpers/fake-segmenter.ts';
import { box3d, rawRequest } from '../helpers/requests.ts';
import { grpcError, rawSegmentCall, scrape, startTestService, type TestService } from '../helpers/test-service.ts';

let server: TestService;
const fake = new FakeSegmenter({ sliceMs: 1 });

before(async () => {
  server = await startTestService({ config: { maxSessions: 2 }, createSegmenter: async () => fake });
  await server.service.ready;
});
after(() => server.stop());

/** A request on a kept session: no volume description, no payload. */
function sessionRequest(sessionId: string, prompts = rawRequest().header.prompts): SegmentInput {
  return { header: { requestId: 'in-session', sessionId, prompts }, payload: new Uint8Array(0) };
}

async function keep(modality = 'CT', on: TestService = server): Promise<{ id: string; labels: Uint8Array; encoded: number }> {
  const outcome = await on.client().segment(rawRequest({ keepSession: true, modality }));
  const id = outcome.accepted.session?.sessionId ?? '';
  assert.match(id, /^[0-9a-f-]{36}$/);
  assert.equal(outcome.summary.session?.sessionId, id);
  return { id, labels: outcome.labels, encoded: outcome.summary.slicesEncoded.reduce((n, s) => n + s.slices, 0) };
}

async function expectCode(promise: Promise<unknown>, status: grpc.status, code: string, field?: string): Promise<void> {
  const err = await promise.then(() => assert.fail(`expected ${code}`), grpcError);
  assert.equal(err.code, status, err.details);
  assert.deepEqual(err.metadata.get(ERROR_CODE_KEY), [code]);
  if (field) assert.deepEqual(err.metadata.get(ERROR_FIELD_KEY), [field]);
}

test('a kept volume is prompted again without uploading: same labels, embeddings reused, modality remembered', async () => {
  const kept = await keep('CT');
  assert.ok(kept.encoded > 0);
  const received = await scrape(server.metricsUrl);
  const again = await server.client().segment(sessionRequest(kept.id));
  assert.ok(Buffer.from(again.labels).equals(Buffer.from(kept.labels)), 'same labels as the uploading request');
  assert.deepEqual(again.summary.slicesEncoded, [], 'nothing encoded again');
  assert.equal(again.summary.slicesReused.reduce((n, s) => n + s.slices, 0), kept.encoded);
  assert.equal(again.accepted.modality, 'CT', 'the session modality routes the request');
  assert.equal(again.accepted.session?.sessionId, kept.id);
  assert.equal(again.summary.session?.idleSeconds, 600);
  const after = await scrape(server.metricsUrl);
  assert.equal(after.get('onesam_received_bytes_total'), received.get('onesam_received_bytes_total'), 'no payload bytes moved');
  assert.equal((after.get('onesam_slices_reused_total{network="onesam"}') ?? 0) - (received.get('onesam_slices_reused_total{network="onesam"}') ?? 0), kept.encoded);

  // A new prompt on the same session encodes only the slices it has not seen.
  const wider = await server.client().segment(sessionRequest(kept.id, [box3d(1, 4, 5, 0, 20, 22, 5)]));
  assert.equal(wider.summary.slicesReused.reduce((n, s) => n + s.slices, 0), kept.encoded);
  assert.equal(wider.summary.slicesEncoded.reduce((n, s) => n + s.slices, 0), 6 - kept.encoded);
  await server.client().closeSession(kept.id);
});

test('keep_session without prompts keeps the volume ahead of the first prompt: accepted and summary, no labels', async () => {
  const uploadOnly = await server.client().segment(rawRequest({ keepSession: true, prompts: [] }));
  const id = uploadOnly.accepted.session?.sessionId ?? '';
  assert.match(id, /^[0-9a-f-]{36}$/);
  assert.deepEqual(uploadOnly.accepted.objects, []);
  assert.equal(uploadOnly.labels.length, 0);
  assert.equal(uploadOnly.summary.labelBytes, 0);
  assert.deepEqual(uploadOnly.summary.slicesEncoded, []);
  assert.deepEqual(uploadOnly.summary.labelShape, [6, 40, 48]);
  const first = await server.client().segment(sessionRequest(id));
  assert.ok(first.summary.slicesEncoded.length > 0, 'the first prompt encodes');
  assert.equal(first.summary.objects[0]!.voxels > 0, true);
  await server.client().closeSession(id);
});

test('prompt errors on a session request name the header field, and the session survives them', async () => {
  const kept = await keep();
  await expectCode(server.client().segment(sessionRequest(kept.id, [box3d(1, 4, 5, 1, 200, 22, 4)])), grpc.status.INVALID_ARGUMENT, 'PROMPT_INVALID', 'header.prompts[0].box3d');
  assert.equal((await server.client().segment(sessionRequest(kept.id))).summary.objects.length, 1);
  await server.client().closeSession(kept.id);
});

test('session fields are checked: a volume description, keep_session or a chunk next to session_id is refused', async () => {
  const kept = await keep();
  const base = sessionRequest(kept.id);
  const INVALID = grpc.status.INVALID_ARGUMENT;
  await expectCode(server.client().segment({ header: { ...base.header, format: 'PAYLOAD_FORMAT_RAW' }, payload: base.payload }), INVALID, 'HEADER_INVALID', 'header.format');
  await expectCode(server.client().segment({ header: { ...base.header, raw: { shape: [6, 40, 48], dtype: 'VOXEL_TYPE_UINT8' } }, payload: base.payload }), INVALID, 'HEADER_INVALID', 'header.raw');
  await expectCode(server.client().segment({ header: { ...base.header, intensity: { asis: {} } }, payload: base.payload }), INVALID, 'HEADER_INVALID', 'header.intensity');
  await expectCode(server.client().segment({ header: { ...base.header, keepSession: true }, payload: base.payload }), INVALID, 'HEADER_INVALID', 'header.keep_session');
  await expectCode(server.client().segment({ header: { ...base.header, sessionId: 'has space' }, payload: base.payload }), INVALID, 'HEADER_INVALID', 'header.session_id');
  await expectCode(server.client().segment({ header: base.header, payload: new Uint8Array(10) }), INVALID, 'HEADER_INVALID', 'header.payload_bytes');
  // A chunk after a session header, sent by hand (the client would declare its size).
  const raw = rawSegmentCall(server.address);
  raw.call.write({ header: { sessionId: kept.id, prompts: base.header.prompts } });
  raw.call.write({ chunk: { data: new Uint8Array(8) } });
  raw.call.end();
  const { status } = await raw.result;
  raw.close();
  assert.equal(status.code, INVALID);
  assert.deepEqual(status.metadata.get(ERROR_CODE_KEY), ['STREAM_INVALID']);
  await server.client().closeSession(kept.id);
});

test('unknown and closed sessions are NOT_FOUND; CloseSession reports what the session held', async () => {
  await expectCode(server.client().segment(sessionRequest('0c7d-unknown')), grpc.status.NOT_FOUND, 'SESSION_NOT_FOUND', 'header.session_id');
  const kept = await keep();
  const cachesBefore = fake.caches.length;
  const closed = await server.client().closeSession(kept.id);
  assert.ok(closed.slicesCached.length > 0);
  assert.ok(fake.caches[cachesBefore - 1]!.disposed, 'the session cache was released');
  await expectCode(server.client().segment(sessionRequest(kept.id)), grpc.status.NOT_FOUND, 'SESSION_NOT_FOUND', 'header.session_id');
  await expectCode(server.client().closeSession(kept.id), grpc.status.NOT_FOUND, 'SESSION_NOT_FOUND', 'session_id');
});

test('a refused request keeps nothing: keep_session with a bad prompt opens no session', async () => {
  const before = server.service.sessions.count;
  await expectCode(server.client().segment(rawRequest({ keepSession: true, prompts: [box3d(1, 4, 5, 1, 200, 22, 4)] })), grpc.status.INVALID_ARGUMENT, 'PROMPT_INVALID');
  assert.equal(server.service.sessions.count, before);
});

test('beyond maxSessions the least recently used session is dropped', async () => {
  const a = await keep();
  const b = await keep();
  await server.client().segment(sessionRequest(a.id)); // a is now the more recent
  const c = await keep();
  await expectCode(server.client().segment(sessionRequest(b.id)), grpc.status.NOT_FOUND, 'SESSION_NOT_FOUND');
  const metrics = await scrape(server.metricsUrl);
  assert.ok((metrics.get('onesam_sessions_dropped_total{reason="evicted"}') ?? 0) >= 1);
  assert.equal(metrics.get('onesam_sessions'), 2);
  assert.equal((await server.client().segment(sessionRequest(a.id))).summary.session?.sessionId, a.id);
  await server.client().closeSession(a.id);
  await server.client().closeSession(c.id);
});

test('a session idle for sessionIdleSeconds is dropped', async () => {
  // A server of its own: a 1 s idle time on the shared one would race the other tests on a slow machine.
  const local = await startTestService({ config: { sessionIdleSeconds: 1 }, createSegmenter: async () => new FakeSegmenter({ sliceMs: 1 }) });
  try {
    await local.service.ready;
    const kept = await keep('CT', local);
    await new Promise((r) => setTimeout(r, 1_100));
    const err = await local.client().segment(sessionRequest(kept.id)).then(() => assert.fail('expected NOT_FOUND'), grpcError);
    assert.equal(err.code, grpc.status.NOT_FOUND);
    assert.equal(local.service.sessions.count, 0);
    assert.ok(local.logs.some((l) => l['msg'] === 'session dropped' && l['reason'] === 'expired'));
  } finally {
    await local.stop();
  }
});

test('shutdown drops every session and releases its embeddings', async () => {
  const local = await startTestService({ createSegmenter: async () => new FakeSegmenter({ sliceMs: 1 }) });
  await local.service.ready;
  const outcome = await local.client().segment(rawRequest({ keepSession: true }));
  assert.ok(outcome.accepted.session?.sessionId);
  assert.equal(local.service.sessions.count, 1);
  await local.stop();
  assert.equal(local.service.sessions.count, 0);
  assert.ok(local.logs.some((l) => l['msg'] === 'session dropped' && l['reason'] === 'shutdown'));
});
