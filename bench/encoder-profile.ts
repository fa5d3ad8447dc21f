// Per-operator profile of the image encoders: onnxruntime's own profiler on the graphs the service builds, with
// the workers' session options (arena off, no spinning), time per operator type and the slowest nodes, against
// the encoder's multiply-accumulate count (bench/encoder-macs.ts).
//
//   node --import tsx bench/encoder-profile.ts [--threads 1] [--runs 5] [--top 12] [--arena] [--json]
//
// Sessions get the workers' options (src/workers/session-options.ts); --arena turns the CPU arena on. The first run after session creation is left out (kernel selection, first allocations). Times are the
// profiler's per-kernel durations averaged over the remaining runs; "other" in the total is what the runtime
// spends between kernels (allocation, the executor).
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import * as ort from 'onnxruntime-node';
import { loadCheckpoint } from '../src/models/checkpoint/load.ts';
import { buildImageEncoder } from '../src/models/networks/image-encoder.ts';
import { workerSessionOptions } from '../src/workers/session-options.ts';
import { encoderMacs } from './encoder-macs.ts';

const { values } = parseArgs({ options: {
  threads: { type: 'string', default: '1' }, runs: { type: 'string', default: '5' }, top: { type: 'string', default: '12' },
  arena: { type: 'boolean', default: false }, json: { type: 'boolean', default: false },
} });
const runs = Number(values.runs);
const weightsDir = fileURLToPath(new URL('../models', import.meta.url));
const image = new Float32Array(3 * 256 * 256).map((_, i) => (i % 251) / 251);

interface ProfileEvent { cat: string; name: string; ts: number; dur: number; args?: { op_name?: string } }
interface NetworkProfile { cpuMs: number; runMs: number; kernelMs: number; gmac: number; byOp: [string, number, number][]; topNodes: [string, string, number][] }

async function profile(graph: Uint8Array): Promise<Omit<NetworkProfile, 'gmac'>> {
  const dir = mkdtempSync(join(tmpdir(), 'onesam-profile-'));
  const session = await ort.InferenceSession.create(graph, {
    ...workerSessionOptions(Number(values.threads), 'encoder'), ...(values.arena ? { enableCpuMemArena: true } : {}),
    enableProfiling: true, profileFilePrefix: join(dir, 'encoder'),
  });
  const feeds = { image: new ort.Tensor('float32', image, [1, 3, 256, 256]) };
  for (const t of Object.values(await session.run(feeds))) t.dispose();
  // CPU time of the measured runs: on a shared machine the profiler's wall-clock durations include waiting for a
  // core; the CPU time per run is what the work costs, and the shares below apportion it.
  const cpu = process.cpuUsage();
  for (let i = 0; i < runs; i++) for (const t of Object.values(await session.run(feeds))) t.dispose();
  const used = process.cpuUsage(cpu);
  const cpuMs = (used.user + used.system) / 1000 / runs;
  session.endProfiling();
  await session.release();
  const file = readdirSync(dir).find((f) => f.endsWith('.json'))!;
  const events = JSON.parse(readFileSync(join(dir, file), 'utf8')) as ProfileEvent[];
  rmSync(dir, { recursive: true, force: true });

  const modelRuns = events.filter((e) => e.name === 'model_run').sort((a, b) => a.ts - b.ts);
  const measured = modelRuns.slice(1);
  const firstTs = measured[0]!.ts;
  const byOp = new Map<string, [number, number]>();
  const byNode = new Map<string, [string, number]>();
  let kernelUs = 0;
  for (const e of events) {
    if (e.cat !== 'Node' || !e.name.endsWith('_kernel_time') || e.ts < firstTs) continue;
    const op = e.args?.op_name ?? '?';
    const node = e.name.slice(0, -'_kernel_time'.length);
    const o = byOp.get(op) ?? [0, 0];
    byOp.set(op, [o[0] + e.dur, o[1] + 1]);
    const n = byNode.get(node) ?? [op, 0];
    byNode.set(node, [op, n[1] + e.dur]);
    kernelUs += e.dur;
  }
  const per = (us: number): number => us / 1000 / measured.length;
  return {
    cpuMs,
    runMs: per(measured.reduce((a, e) => a + e.dur, 0)),
    kernelMs: per(kernelUs),
    byOp: [...byOp].map(([op, [us, n]]): [string, number, number] => [op, per(us), n / measured.length]).sort((a, b) => b[1] - a[1]),
    topNodes: [...byNode].map(([node, [op, us]]): [string, string, number] => [node, op, per(us)]).sort((a, b) => b[2] - a[2]).slice(0, Number(values.top)),
  };
}

const results: Record<string, NetworkProfile> = {};
for (const [network, file, adapter] of [['litemedsam', 'litemedsam-demo/litemedsam_demo.safetensors', false], ['onesam', 'onesam-demo/onesam_demo.safetensors', true]] as const) {
  const graph = buildImageEncoder(await loadCheckpoint(join(weightsDir, file)), { adapter });
  results[network] = { ...await profile(graph), gmac: encoderMacs({ adapter }).total / 1e9 };
}

if (values.json) {
  process.stdout.write(`${JSON.stringify({ cpu: cpus()[0]?.model, threads: Number(values.threads), runs, arena: values.arena, results })}\n`);
} else {
  for (const [network, p] of Object.entries(results)) {
    process.stdout.write(`\n${network}: ${p.runMs.toFixed(1)} ms wall per run (${p.kernelMs.toFixed(1)} in kernels), ${p.cpuMs.toFixed(1)} ms CPU; `
      + `${p.gmac.toFixed(2)} GMAC -> ${(2 * p.gmac / p.cpuMs * 1000).toFixed(1)} GFLOP/s of CPU time, ${values.threads} thread(s)\n`);
    process.stdout.write('| operator | ms per run | share | nodes |\n| --- | --- | --- | --- |\n');
    for (const [op, ms, n] of p.byOp) process.stdout.write(`| ${op} | ${ms.toFixed(1)} | ${(100 * ms / p.runMs).toFixed(1)} % | ${n} |\n`);
    process.stdout.write('slowest nodes:\n');
    for (const [node, op, ms] of p.topNodes) process.stdout.write(`  ${ms.toFixed(1).padStart(7)} ms  ${op.padEnd(22)} ${node}\n`);
  }
}
