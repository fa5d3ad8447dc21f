// The machine's measured fp32 peak in the runtime the encoders run on: large MatMul and Conv graphs through
// onnxruntime-node (MLAS kernels), one session at a time, GFLOP/s (2 FLOP per multiply-add).
//
//   node --import tsx bench/machine-peak.ts [--threads 1] [--runs 7] [--json]
//
// Wall time and the process's CPU time are both reported: on a shared machine the CPU time is what the kernels
// cost, the wall time includes waiting for a core. This is the denominator of the encoder's efficiency in bench/README.md ("encoder-profile"): what the same
// kernels reach on shapes big enough to run near their best, not the CPU's datasheet figure.
import { cpus } from 'node:os';
import { parseArgs } from 'node:util';
import * as ort from 'onnxruntime-node';
import { GraphBuilder } from '../src/models/onnx/graph.ts';
import { workerSessionOptions } from '../src/workers/session-options.ts';

const { values } = parseArgs({ options: {
  threads: { type: 'string', default: '1' }, runs: { type: 'string', default: '7' }, json: { type: 'boolean', default: false },
} });
const threads = Number(values.threads);
const runs = Number(values.runs);
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const filled = (n: number): Float32Array => new Float32Array(n).map((_, i) => ((i * 7919) % 1000) / 1000 - 0.5);

interface Probe { readonly name: string; readonly macs: number; readonly graph: Uint8Array; readonly input: readonly number[]; readonly output: readonly number[] }

function matmul(m: number, k: number, n: number): Probe {
  const g = new GraphBuilder('peak_matmul');
  const x = g.input('x', [m, k]);
  g.output(g.op('MatMul', [x, g.f32('w', filled(k * n), [k, n])]), 'y');
  return { name: `MatMul ${m}x${k}x${n}`, macs: m * k * n, graph: g.toBytes(), input: [m, k], output: [m, n] };
}

function conv(cin: number, cout: number, side: number, k: number): Probe {
  const g = new GraphBuilder('peak_conv');
  const x = g.input('x', [1, cin, side, side]);
  const p = (k - 1) / 2;
  const w = g.f32('w', filled(cout * cin * k * k), [cout, cin, k, k]);
  g.output(g.op('Conv', [x, w, g.f32('b', new Float32Array(cout), [cout])], { kernel_shape: [k, k], pads: [p, p, p, p] }), 'y');
  return { name: `Conv ${cin}->${cout} ${k}x${k} at ${side}x${side}`, macs: cout * cin * k * k * side * side, graph: g.toBytes(), input: [1, cin, side, side], output: [1, cout, side, side] };
}

const probes = [matmul(1024, 1024, 1024), matmul(2048, 512, 512), matmul(1024, 320, 1280), conv(256, 256, 64, 3), conv(320, 256, 64, 1), conv(64, 256, 256, 1)];
const results: { name: string; ms: number; cpuMs: number; gflops: number; cpuGflops: number }[] = [];
for (const p of probes) {
  // The arena on here: the peak is the kernels' speed, not the first-touch cost of fresh output pages.
  const session = await ort.InferenceSession.create(p.graph, { ...workerSessionOptions(threads, 'encoder'), enableCpuMemArena: true });
  const feeds = { x: new ort.Tensor('float32', filled(p.input.reduce((a, b) => a * b, 1)), p.input) };
  // A pre-allocated output: a fresh one per run would be first-touched every run, and on a VM where a page
  // fault costs ~20 us that is measured instead of the kernel.
  const fetches = { y: new ort.Tensor('float32', new Float32Array(p.output.reduce((a, b) => a * b, 1)), p.output) };
  for (let i = 0; i < 2; i++) await session.run(feeds, fetches);
  const times: number[] = [];
  const cpuTimes: number[] = [];
  for (let i = 0; i < runs; i++) {
    const cpu = process.cpuUsage();
    const t = performance.now();
    await session.run(feeds, fetches);
    times.push(performance.now() - t);
    const used = process.cpuUsage(cpu);
    cpuTimes.push((used.user + used.system) / 1000);
  }
  await session.release();
  const ms = median(times);
  const cpuMs = median(cpuTimes);
  results.push({ name: p.name, ms, cpuMs, gflops: (2 * p.macs) / (ms * 1e6), cpuGflops: (2 * p.macs) / (cpuMs * 1e6 * threads) });
}

const cpu = cpus()[0]?.model ?? 'unknown';
if (values.json) {
  process.stdout.write(`${JSON.stringify({ cpu, threads, runs, results })}\n`);
} else {
  process.stdout.write(`${cpu}, ${threads} intra-op thread(s), median of ${runs}\n`);
  process.stdout.write('probe                            wall ms  GFLOP/s   CPU ms  GFLOP/s per thread of CPU time\n');
  for (const r of results) {
    process.stdout.write(`${r.name.padEnd(32)} ${r.ms.toFixed(1).padStart(7)} ${r.gflops.toFixed(1).padStart(8)} ${r.cpuMs.toFixed(1).padStart(8)} ${r.cpuGflops.toFixed(1).padStart(8)}\n`);
  }
}
