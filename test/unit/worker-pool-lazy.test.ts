// Lazy worker threads (the command line): nothing opened at start, a network's sessions opened by the first task
// that runs it, and a network whose graphs onnxruntime cannot open failing its tasks with NETWORK_UNAVAILABLE
// instead of crashing the thread or the process, while the other network goes on.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { NETWORKS } from '../../src/models/network-contract.ts';
import { openRepository } from '../../src/models/repository.ts';
import { WorkerPool } from '../../src/workers/pool.ts';
import type { EncodeTask } from '../../src/workers/protocol.ts';
import { MODELS_DIR } from '../helpers/cases.ts';
import { until } from '../helpers/until.ts';

let dir: string;
before(async () => { dir = await mkdtemp(join(tmpdir(), 'onesam-lazy-')); });
after(async () => { await rm(dir, { recursive: true, force: true }); });

const slice = { height: 32, width: 40, channels: 3 as const, pixels: new Uint8Array(32 * 40 * 3).map((_, i) => i % 251) };
const encodeTask = (network: 'litemedsam' | 'onesam'): EncodeTask => ({
  kind: 'encode', network, slice, embedding: new SharedArrayBuffer(NETWORKS[network].embeddingFloats * 4),
  ...(NETWORKS[network].needsInterm ? { interm: new SharedArrayBuffer(NETWORKS[network].intermFloats * 4) } : {}),
});

test('a lazy pool opens a network in its first task; a network that cannot be opened fails its tasks with a code, the other goes on', async () => {
  const garbage = join(dir, 'garbage.onnx');
  await writeFile(garbage, Buffer.alloc(4096, 0x5a));
  const lite = await (await openRepository(MODELS_DIR)).ensureCompiled('litemedsam-demo');
  const errors: Error[] = [];
  const loaded: { loadMs: number }[] = [];
  const pool = new WorkerPool({
    models: {}, workers: 1, intraOpThreads: 1, queueLimit: 100, lazy: true, cpuMemArena: true,
    events: { threadError: (e) => errors.push(e), workerLoaded: (e) => loaded.push(e) },
  });
  try {
    assert.deepEqual((await pool.ready()).map((p) => p.networks), [[]], 'ready with no session open');
    // The thread's load report and its ping answer travel on different ports: the report may come after ready().
    await until(() => loaded.length === 1, 'the thread to report its (empty) load');
    // A network never provided, then one whose graphs are no ONNX model: both coded, neither kills the thread.
    await assert.rejects(pool.encode(encodeTask('onesam')), (e: unknown) =>
      (e as { code?: string }).code === 'NETWORK_UNAVAILABLE' && /could not load the onesam network: no model files given/.test((e as Error).message));
    pool.provide('onesam', { encoderPath: garbage, decoderPath: garbage });
    for (let i = 0; i < 2; i++) {
      await assert.rejects(pool.encode(encodeTask('onesam')), (e: unknown) =>
        (e as { code?: string }).code === 'NETWORK_UNAVAILABLE' && /could not load the onesam network: .*garbage\.onnx/.test((e as Error).message));
    }
    pool.provide('litemedsam', { encoderPath: lite.encoderPath, decoderPath: lite.decoderPath });
    const result = await pool.encode(encodeTask('litemedsam'));
    assert.equal(result.cancelled, false);
    assert.ok(result.encodeMs > 0);
    assert.equal(pool.failureReason, undefined, 'the pool still serves');
  } finally {
    await pool.close();
  }
  assert.deepEqual(errors, [], 'no thread died');
  await new Promise((r) => setTimeout(r, 300));
});

test('provide() belongs to lazy pools', async () => {
  const pool = new WorkerPool({ models: {}, workers: 1, intraOpThreads: 1, queueLimit: 100 });
  try {
    assert.throws(() => pool.provide('litemedsam', { encoderPath: 'a', decoderPath: 'b' }), /lazy pools/);
  } finally {
    await pool.ready().catch(() => undefined);
    await pool.close();
  }
});
