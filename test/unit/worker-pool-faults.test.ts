// The worker pool's fault paths that need no model: threads whose sessions cannot be created report it instead of
// crashing (piscina would otherwise emit an unhandled 'error' and abort the process), ready() says why once every
// thread has settled, and close() then shuts the threads down cleanly. The fault-injection switch is one-shot.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { CodedError } from '../../src/errors/coded-error.ts';
import { WorkerPool } from '../../src/workers/pool.ts';
import { takeInjectedFault, WorkerFaultSwitch } from '../../src/workers/protocol.ts';

let dir: string;
before(async () => { dir = await mkdtemp(join(tmpdir(), 'onesam-pool-')); });
after(async () => { await rm(dir, { recursive: true, force: true }); });

test('threads whose graphs onnxruntime cannot parse: ready() rejects with its message, close() is clean, no abort', async () => {
  const garbage = join(dir, 'garbage.onnx');
  await writeFile(garbage, Buffer.alloc(4096, 0x5a));
  const errors: Error[] = [];
  const loaded: unknown[] = [];
  const pool = new WorkerPool({
    models: { litemedsam: { encoderPath: garbage, decoderPath: garbage } },
    workers: 2,
    intraOpThreads: 1,
    queueLimit: 100,
    events: { threadError: (e) => errors.push(e), workerLoaded: (e) => loaded.push(e) },
  });
  await assert.rejects(pool.ready(), (e: unknown) =>
    e instanceof CodedError && e.code === 'NETWORK_UNAVAILABLE' && /a worker thread could not load the networks: .*garbage\.onnx/.test(e.message));
  assert.match(pool.failureReason ?? '', /garbage\.onnx/);
  // New work is refused with a coded error rather than queued for threads that will never run it.
  await assert.rejects(pool.encode({ kind: 'encode', network: 'litemedsam', slice: { height: 1, width: 1, channels: 1, pixels: new Uint8Array(1) }, embedding: new SharedArrayBuffer(4) }),
    (e: unknown) => (e as { code?: string }).code === 'NETWORK_UNAVAILABLE');
  await pool.close();
  assert.deepEqual(errors, [], 'no thread died: the load failure was reported, not thrown');
  assert.deepEqual(loaded, [], 'no thread loaded');
  // The process is still here, and a little later too (piscina would emit its error asynchronously).
  await new Promise((r) => setTimeout(r, 300));
});

test('missing graph files are a load failure with the path, not a crash', async () => {
  const pool = new WorkerPool({ models: { onesam: { encoderPath: join(dir, 'nope-encoder.onnx'), decoderPath: join(dir, 'nope-decoder.onnx') } }, workers: 1, intraOpThreads: 1, queueLimit: 100 });
  await assert.rejects(pool.ready(), /nope-encoder\.onnx/);
  await pool.close();
});

test('the fault switch is armed by in-process code only and fires exactly once', () => {
  const faults = new WorkerFaultSwitch();
  assert.equal(takeInjectedFault(faults.buffer), undefined);
  assert.equal(takeInjectedFault(undefined), undefined);
  faults.arm('exit');
  assert.equal(faults.armed, true);
  assert.equal(takeInjectedFault(faults.buffer), 'exit');
  assert.equal(takeInjectedFault(faults.buffer), undefined);
  assert.equal(faults.armed, false);
  faults.arm('ort-error');
  assert.equal(takeInjectedFault(faults.buffer), 'ort-error');
});
