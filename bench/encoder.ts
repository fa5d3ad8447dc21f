// Encoder benchmark: graph build and session creation time per network, then per-slice encoder latency and
// throughput for each workers x intra-op-threads split of the cores (workers x threads <= cores).
//
//   node --import tsx bench/encoder.ts [--runs 8] [--json]
//
// Latency: one worker (one session) with all cores, median of --runs single-slice runs after a warm-up run.
// Throughput: W concurrent sessions in W worker threads, each with T threads, slices/s over --runs slices each.
import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import { Worker } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { loadCheckpoint } from '../src/models/checkpoint/load.ts';
import { buildImageEncoder } from '../src/models/networks/image-encoder.ts';
import { buildPromptDecoder } from '../src/models/networks/prompt-decoder.ts';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '8' }, json: { type: 'boolean', default: false } } });
const runs = Number(values.runs);
const cores = availableParallelism();
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const weightsDir = fileURLToPath(new URL('../models', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'onesam-bench-'));
const image = new Float32Array(3 * 256 * 256).map((_, i) => (i % 251) / 251);

interface NetworkFigures { readMs: number; encoderBuildMs: number; decoderBuildMs: number; encoderSessionMs: number; decoderSessionMs: number; latencyMs: number; throughput: Record<string, number> }
const results: Record<string, NetworkFigures> = {};

for (const [network, file, adapter] of [['litemedsam', 'litemedsam-demo/litemedsam_demo.safetensors', false], ['onesam', 'onesam-demo/onesam_demo.safetensors', true]] as const) {
  let t = performance.now();
  const weights = await loadCheckpoint(join(weightsDir, file));
  const readMs = performance.now() - t;
  t = performance.now();
  const encoder = buildImageEncoder(weights, { adapter });
  const encoderBuildMs = performance.now() - t;
  t = performance.now();
  const decoder = buildPromptDecoder(weights, { hq: adapter });
  const decoderBuildMs = performance.now() - t;
  const encoderPath = join(dir, `${network}-encoder.onnx`);
  writeFileSync(encoderPath, encoder);
  const options: ort.InferenceSession.SessionOptions = { intraOpNumThreads: cores, interOpNumThreads: 1, graphOptimizationLevel: 'all' };
  t = performance.now();
  const session = await ort.InferenceSession.create(encoder, options);
  const encoderSessionMs = performance.now() - t;
  t = performance.now();
  const decSession = await ort.InferenceSession.create(decoder, options);
  const decoderSessionMs = performance.now() - t;
  await decSession.release();
  const feeds = { image: new ort.Tensor('float32', image, [1, 3, 256, 256]) };
  await session.run(feeds);
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    t = performance.now();
    await session.run(feeds);
    times.push(performance.now() - t);
  }
  await session.release();
  const throughput: Record<string, number> = {};
  for (let threads = 1; threads <= cores; threads *= 2) {
    const workers = Math.floor(cores / threads);
    throughput[`${workers}x${threads}`] = await measureThroughput(encoderPath, workers, threads);
  }
  results[network] = { readMs, encoderBuildMs, decoderBuildMs, encoderSessionMs, decoderSessionMs, latencyMs: median(times), throughput };
}

async function measureThroughput(path: string, workers: number, threads: number): Promise<number> {
  const source = `
    const { parentPort, workerData } = require('node:worker_threads');
    const ort = require('onnxruntime-node');
    (async () => {
      const s = await ort.InferenceSession.create(workerData.path, { intraOpNumThreads: workerData.threads, interOpNumThreads: 1, graphOptimizationLevel: 'all' });
      const feeds = { image: new ort.Tensor('float32', new Float32Array(3 * 256 * 256).fill(0.5), [1, 3, 256, 256]) };
      await s.run(feeds);
      parentPort.postMessage('ready');
      await new Promise((r) => parentPort.once('message', r));
      for (let i = 0; i < workerData.runs; i++) await s.run(feeds);
      parentPort.postMessage('done');
    })();`;
  const pool = Array.from({ length: workers }, () => new Worker(source, { eval: true, workerData: { path, threads, runs } }));
  await Promise.all(pool.map((w) => new Promise((r) => w.once('message', r))));
  const t = performance.now();
  const done = pool.map((w) => new Promise((r) => w.once('message', r)));
  for (const w of pool) w.postMessage('go');
  await Promise.all(done);
  const seconds = (performance.now() - t) / 1000;
  await Promise.all(pool.map((w) => w.terminate()));
  return (workers * runs) / seconds;
}

if (values.json) {
  process.stdout.write(`${JSON.stringify({ cores, runs, results })}\n`);
} else {
  const r1 = (x: number): string => x.toFixed(0);
  process.stdout.write(`cores ${cores}, ${runs} runs\n`);
  process.stdout.write('network     read  build(enc/dec)  session(enc/dec)  latency/slice  throughput slices/s (workers x threads)\n');
  for (const [name, f] of Object.entries(results)) {
    process.stdout.write(`${name.padEnd(11)} ${r1(f.readMs).padStart(4)}  ${r1(f.encoderBuildMs).padStart(5)}/${r1(f.decoderBuildMs).padEnd(9)} ${r1(f.encoderSessionMs).padStart(6)}/${r1(f.decoderSessionMs).padEnd(10)} ${r1(f.latencyMs).padStart(8)} ms   ${Object.entries(f.throughput).map(([k, v]) => `${k}: ${v.toFixed(2)}`).join('  ')}\n`);
  }
}
