// Worker faults and the graph cache check, measured on one server on loopback with the demo models.
//
// 1. Graph cache check: the demo models compiled into a fresh cache dir, then opened again `--checks` times; the
//    repository's verifyMs (reading and SHA-256 hashing both graphs of a model, page cache warm) per model.
// 2. Worker faults: a real server (real pipeline, `--workers` threads) with the test-only fault switch. For each
//    fault (`exit`: the thread exits mid-task; `crash`: it dies of an uncaught exception; `ort-error`: onnxruntime
//    rejects a run), `--repeat` times: arm it, send a 2D request (it fails), then at once send the next one. Reported:
//    fault -> failed status, fault -> next request served, fault -> pool back at full size (the replacement thread
//    has loaded and warmed up its sessions), and the replacement's own load time.
//
//   node --import tsx bench/worker-fault.ts [--workers 2] [--repeat 3] [--checks 5] [--checks-only]
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { SegmentationClient, type SegmentInput } from '../src/client/client.ts';
import { loadConfig } from '../src/config/load.ts';
import { pipelineSegmenterWith, startService } from '../src/main.ts';
import { openRepository } from '../src/models/repository.ts';
import { createLogger } from '../src/observability/logger.ts';
import { WorkerFaultSwitch, type WorkerFault } from '../src/workers/protocol.ts';

const { values } = parseArgs({ options: {
  workers: { type: 'string', default: '2' }, repeat: { type: 'string', default: '3' }, checks: { type: 'string', default: '5' },
  'checks-only': { type: 'boolean', default: false },
} });
const MODELS = fileURLToPath(new URL('../models', import.meta.url));
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const cacheDir = await mkdtemp(join(tmpdir(), 'onesam-bench-fault-'));

// --- 1. graph cache check ---
for (const name of ['litemedsam-demo', 'onesam-demo']) await (await openRepository(MODELS, { cacheDir })).ensureCompiled(name);
console.log('graph cache check (cached start, page cache warm):');
for (const name of ['litemedsam-demo', 'onesam-demo']) {
  const verify: number[] = [];
  const read: number[] = [];
  for (let i = 0; i < Number(values.checks); i++) {
    const m = await (await openRepository(MODELS, { cacheDir })).ensureCompiled(name);
    if (!m.cached) throw new Error('expected a cached build');
    verify.push(m.timings.verifyMs);
    read.push(m.timings.readMs);
  }
  console.log(`  ${name}: verify graphs median ${median(verify).toFixed(0)} ms, min ${Math.min(...verify).toFixed(0)} ms (weights read+hash median ${median(read).toFixed(0)} ms)`);
}
if (values['checks-only']) {
  await rm(cacheDir, { recursive: true, force: true });
  process.exit(0);
}

// --- 2. worker faults ---
const lines: Record<string, unknown>[] = [];
const sink = new Writable({ write(chunk, _e, cb) { for (const l of String(chunk).split('\n')) if (l) lines.push(JSON.parse(l) as Record<string, unknown>); cb(); } });
const { config } = loadConfig({ env: {}, flags: { host: '127.0.0.1', port: '0', 'metrics-port': '0', workers: values.workers!, threads: '1' } });
const faults = new WorkerFaultSwitch();
const service = await startService({
  config: { ...config, cacheDir }, logger: createLogger({ level: 'info', destination: sink }),
  createSegmenter: pipelineSegmenterWith({ faultSwitch: faults.buffer }), defaultMetrics: false,
});
await service.ready;
const client = new SegmentationClient(`127.0.0.1:${service.grpcPort}`);

/** A 256 x 256 2D image with one box: one encode and one decode on one network. */
function request(id: string): SegmentInput {
  const pixels = new Uint8Array(256 * 256);
  for (let i = 0; i < pixels.length; i++) pixels[i] = (i * 13) & 0xff;
  return {
    header: {
      requestId: id, format: 'PAYLOAD_FORMAT_RAW', raw: { shape: [1, 256, 256], dtype: 'VOXEL_TYPE_UINT8' },
      prompts: [{ label: 1, box2d: { xMin: 40, yMin: 50, xMax: 180, yMax: 200, z: 0 } }],
    },
    payload: pixels,
  };
}

async function waitForLine(msg: string, from: number, timeoutMs = 300_000): Promise<Record<string, unknown>> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const hit = lines.slice(from).find((l) => l['msg'] === msg);
    if (hit) return hit;
    if (Date.now() > end) throw new Error(`no "${msg}" line`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

await client.segment(request('warm-up'));
const warm: number[] = [];
for (let i = 0; i < 3; i++) { const t = performance.now(); await client.segment(request(`warm-${i}`)); warm.push(performance.now() - t); }
console.log(`\nworker faults, ${values.workers} worker(s) x 1 thread; a healthy 2D request takes ${median(warm).toFixed(0)} ms (median of 3)`);
console.log('| fault | fault -> failed status (ms) | fault -> next request served (ms) | fault -> pool at full size (ms) | replacement load (ms) | code |');
console.log('| --- | --- | --- | --- | --- | --- |');
for (const fault of ['exit', 'crash', 'ort-error'] as WorkerFault[]) {
  for (let r = 0; r < Number(values.repeat); r++) {
    const from = lines.length;
    faults.arm(fault);
    const t0 = performance.now();
    let code = 'OK';
    try {
      await client.segment(request(`${fault}-${r}`));
    } catch (err) {
      code = String((err as { metadata?: { get(k: string): unknown[] } }).metadata?.get('onesam-error-code')[0] ?? (err as Error).message);
    }
    const failed = performance.now() - t0;
    // Watch for the replacement while the next request runs (with one worker, that request waits for it).
    const replaced = fault === 'ort-error' ? undefined : waitForLine('replacement worker thread loaded', from).then((line) => ({ line, at: performance.now() - t0 }));
    await client.segment(request(`${fault}-${r}-next`));
    const next = performance.now() - t0;
    const full = replaced ? (await replaced).at.toFixed(0) : '-';
    const load = replaced ? Number((await replaced).line['loadMs']).toFixed(0) : '-';
    console.log(`| ${fault} | ${failed.toFixed(0)} | ${next.toFixed(0)} | ${full} | ${load} | ${code} |`);
  }
}
client.close();
await service.shutdown();
await rm(cacheDir, { recursive: true, force: true });
