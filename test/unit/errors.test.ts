import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { status } from '@grpc/grpc-js';
import { CodedError } from '../../src/errors/coded-error.ts';
import { fieldUnder, rebaseField } from '../../src/errors/field-path.ts';
import { ERROR_CODE_KEY, ERROR_FIELD_KEY, mapError, toStatusObject } from '../../src/errors/grpc-status.ts';
import { ERROR_REGISTRY } from '../../src/errors/registry.ts';

const DOC = readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8');

/** Rows `| `CODE` | STATUS | level | meaning |` of docs/errors.md. */
function documentedCodes(): Map<string, { status: string; level: string }> {
  const rows = new Map<string, { status: string; level: string }>();
  for (const line of DOC.split('\n')) {
    const m = /^\| `([A-Z_]+)` \| ([A-Z_]+) \| (\w+) \|/.exec(line);
    if (m) {
      assert.ok(!rows.has(m[1]!), `docs/errors.md lists ${m[1]} twice`);
      rows.set(m[1]!, { status: m[2]!, level: m[3]! });
    }
  }
  return rows;
}

test('docs/errors.md lists exactly the registry codes, with their status and log level', () => {
  const documented = documentedCodes();
  assert.deepEqual([...documented.keys()].sort(), Object.keys(ERROR_REGISTRY).sort());
  for (const [code, info] of Object.entries(ERROR_REGISTRY)) {
    assert.deepEqual(documented.get(code), { status: info.status, level: info.logLevel }, code);
  }
});

test('every registry status is a real gRPC status', () => {
  for (const [code, info] of Object.entries(ERROR_REGISTRY)) assert.equal(typeof status[info.status], 'number', code);
});

test('a coded error keeps code, field path and detail apart; its message is "field: detail"', () => {
  const error = new CodedError('PROMPT_INVALID', 'x_min 5 must be less than x_max 3', 'prompts[2].box2d');
  assert.deepEqual([error.code, error.field, error.detail], ['PROMPT_INVALID', 'prompts[2].box2d', 'x_min 5 must be less than x_max 3']);
  assert.equal(error.message, 'prompts[2].box2d: x_min 5 must be less than x_max 3');
  assert.equal(new CodedError('MODELS_LOADING', 'the networks are still loading').message, 'the networks are still loading');
});

test('a field path is composed under another, never cut out of the message', () => {
  const error = new CodedError('PROMPT_INVALID', 'lies outside the image', 'prompts[2].box2d');
  const header = error.rebased('prompts', 'header.prompts');
  assert.deepEqual([header.code, header.field, header.detail], ['PROMPT_INVALID', 'header.prompts[2].box2d', 'lies outside the image']);
  assert.equal(header.message, 'header.prompts[2].box2d: lies outside the image');
  assert.equal(fieldUnder('npz', 'boxes[0].box3d'), 'npz.boxes[0].box3d');
  assert.equal(fieldUnder('npz.boxes', '[0].box3d'), 'npz.boxes[0].box3d');
  const npz = error.rebased('prompts', 'npz.boxes');
  assert.equal(npz.message, 'npz.boxes[2].box2d: lies outside the image');
  assert.equal(new CodedError('PROMPT_INVALID', 'too many', 'prompts').rebased('prompts', 'header.prompts').field, 'header.prompts');
  // Only whole leading segments move: `promptsX` and fields elsewhere stay where they are.
  for (const field of ['promptsX[0]', 'header.prompts[0]', undefined]) {
    const other = new CodedError('PROMPT_INVALID', 'bad', field);
    assert.equal(other.rebased('prompts', 'npz.boxes'), other);
  }
  assert.equal(rebaseField('routing.MR', 'routing', 'config.routing'), 'config.routing.MR');
});

test('a pipeline prompt error is INVALID_ARGUMENT with its field path', () => {
  const mapped = mapError(new CodedError('PROMPT_INVALID', 'x_min 5 must be less than x_max 3', 'prompts[2].box2d'));
  assert.equal(mapped.status, status.INVALID_ARGUMENT);
  assert.equal(mapped.code, 'PROMPT_INVALID');
  assert.equal(mapped.field, 'prompts[2].box2d');
  assert.equal(mapped.details, 'prompts[2].box2d: x_min 5 must be less than x_max 3');
  const object = toStatusObject(mapped, 'req-1');
  assert.deepEqual(object.metadata.get(ERROR_CODE_KEY), ['PROMPT_INVALID']);
  assert.deepEqual(object.metadata.get(ERROR_FIELD_KEY), ['prompts[2].box2d']);
});

test('volume errors keep their status: size problems RESOURCE_EXHAUSTED, format problems INVALID_ARGUMENT', () => {
  assert.equal(mapError(new CodedError('PAYLOAD_TOO_LARGE', 'decodes to 9 GB', 'payload')).status, status.RESOURCE_EXHAUSTED);
  const format = mapError(new CodedError('PAYLOAD_FORMAT', 'must have 2 or 3 axes', 'header.raw.shape'));
  assert.equal(format.status, status.INVALID_ARGUMENT);
  assert.equal(format.field, 'header.raw.shape');
});

test('overload maps to RESOURCE_EXHAUSTED: piscina queue, pool saturation, memory budget, concurrency', () => {
  const piscina = mapError(new CodedError('QUEUE_FULL', 'the worker queue is full; retry later'));
  assert.equal(piscina.status, status.RESOURCE_EXHAUSTED);
  assert.equal(piscina.code, 'QUEUE_FULL');
  assert.equal(piscina.details, 'the worker queue is full; retry later');
  const pool = Object.assign(new Error('the worker pool queue is full (10 tasks waiting)'), { code: 'POOL_SATURATED' });
  assert.equal(mapError(pool).status, status.RESOURCE_EXHAUSTED);
  assert.equal(mapError(new CodedError('MEMORY_BUDGET_EXCEEDED', 'needs 2 GiB')).status, status.RESOURCE_EXHAUSTED);
  assert.equal(mapError(new CodedError('TOO_MANY_REQUESTS', 'busy')).status, status.RESOURCE_EXHAUSTED);
});

test('loading and shutdown are UNAVAILABLE, cancellation CANCELLED', () => {
  assert.equal(mapError(new CodedError('NETWORK_UNAVAILABLE', 'loading')).status, status.UNAVAILABLE);
  assert.equal(mapError(new CodedError('MODELS_LOADING', 'loading')).status, status.UNAVAILABLE);
  assert.equal(mapError(new CodedError('REQUEST_CANCELLED', 'request cancelled')).status, status.CANCELLED);
  const abort = new DOMException('This operation was aborted', 'AbortError');
  assert.equal(mapError(abort).code, 'REQUEST_CANCELLED');
});

test('unknown errors become INTERNAL with a generic message that leaks nothing', () => {
  const secret = new TypeError("Cannot read properties of undefined (reading 'data') at /srv/app/src/x.ts:12");
  const mapped = mapError(secret, 'req-42');
  assert.equal(mapped.status, status.INTERNAL);
  assert.equal(mapped.code, 'INTERNAL');
  assert.equal(mapped.logLevel, 'error');
  assert.match(mapped.details, /req-42/);
  assert.doesNotMatch(mapped.details, /undefined|\/srv|TypeError/);
  // Node system errors carry codes too, but not ours.
  assert.equal(mapError(Object.assign(new Error('ENOENT: /models/x'), { code: 'ENOENT' })).code, 'INTERNAL');
  for (const thrown of [undefined, null, 'a string', 42, { message: 'plain object' }]) assert.equal(mapError(thrown).code, 'INTERNAL');
});

test('an error claiming the INTERNAL code still gets the generic message', () => {
  const mapped = mapError(new CodedError('INTERNAL', 'stack details'));
  assert.equal(mapped.code, 'INTERNAL');
  assert.doesNotMatch(mapped.details, /stack details/);
});

test('very long messages are cut and metadata stays printable ASCII', () => {
  const mapped = mapError(new CodedError('PROMPT_INVALID', 'x'.repeat(5000), 'prompts[0].label'));
  assert.ok(mapped.details.length <= 1024);
  const object = toStatusObject(mapped, 'réq\n1');
  assert.deepEqual(object.metadata.get('onesam-request-id'), ['r?q?1']);
});
