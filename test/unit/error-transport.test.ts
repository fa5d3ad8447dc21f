// Errors crossing a worker-thread boundary keep their class, stable code, field, detail and message, so the one
// error mapping answers exactly as it would for the error thrown in the main thread. Each error goes through
// structuredClone, the algorithm postMessage uses.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CodedError } from '../../src/errors/coded-error.ts';
import { mapError } from '../../src/errors/grpc-status.ts';
import { packError, unpackError } from '../../src/workers/error-transport.ts';

const acrossThreads = (error: unknown): Error => unpackError(structuredClone(packError(error)));

test('a structured clone alone loses the class and the code: a client mistake would map to INTERNAL', () => {
  const cloned = structuredClone(new CodedError('PAYLOAD_FORMAT', 'is missing', 'npz.imgs'));
  assert.ok(!(cloned instanceof CodedError));
  assert.equal(mapError(cloned).code, 'INTERNAL');
});

test('coded errors of every layer (payload, pipeline, server) come back with the same code, field, detail and mapping', () => {
  const cases: CodedError[] = [
    new CodedError('INTENSITY_INVALID', 'asis needs voxels that are integers in 0..255', 'header.intensity.kind'),
    new CodedError('PAYLOAD_TOO_LARGE', 'decompresses to more than 4096 bytes', 'payload'),
    new CodedError('PROMPT_INVALID', 'lies outside the image', 'npz.boxes[0].box3d'),
    new CodedError('MEMORY_BUDGET_EXCEEDED', 'needs more embedding memory than the budget'),
    new CodedError('PAYLOAD_INCOMPLETE', 'the stream ended early', 'chunk'),
    new CodedError('QUEUE_FULL', 'the worker queue is full; retry later'),
  ];
  for (const original of cases) {
    const revived = acrossThreads(original);
    assert.equal(Object.getPrototypeOf(revived), Object.getPrototypeOf(original), original.name);
    assert.equal(revived.name, original.name);
    assert.equal(revived.message, original.message);
    assert.ok(revived instanceof CodedError);
    assert.deepEqual([revived.code, revived.field, revived.detail], [original.code, original.field, original.detail]);
    assert.equal(revived.stack, original.stack, 'the stack is the one from where it was thrown');
    assert.deepEqual(mapError(revived, 'r1'), mapError(original, 'r1'));
    assert.notEqual(mapError(revived).code, 'INTERNAL');
  }
});

test('other errors keep name, message, stack and string code/field, and map as they would have', () => {
  const typeError = new TypeError("Cannot read properties of null (reading 'length')");
  const zlibError = Object.assign(new Error('incorrect header check'), { code: 'Z_DATA_ERROR', errno: -3 });
  const abort = new DOMException('This operation was aborted', 'AbortError');
  const duckTyped = Object.assign(new Error('the worker queue is full'), { code: 'POOL_SATURATED' });
  for (const original of [typeError, zlibError, abort, duckTyped]) {
    const revived = acrossThreads(original);
    assert.ok(revived instanceof Error);
    assert.equal(revived.name, original.name);
    assert.equal(revived.message, original.message);
    assert.deepEqual(mapError(revived, 'r2'), mapError(original, 'r2'), original.name);
  }
  assert.equal(mapError(acrossThreads(typeError)).code, 'INTERNAL');
  assert.equal((acrossThreads(zlibError) as { code?: unknown }).code, 'Z_DATA_ERROR');
  assert.equal(mapError(acrossThreads(abort)).code, 'REQUEST_CANCELLED');
  assert.equal(mapError(acrossThreads(duckTyped)).code, 'POOL_SATURATED');
});

test('a thrown non-error becomes an INTERNAL Error that says what was thrown', () => {
  const revived = acrossThreads('boom');
  assert.ok(revived instanceof Error);
  assert.match(revived.message, /boom/);
  assert.equal(mapError(revived).code, 'INTERNAL');
});
