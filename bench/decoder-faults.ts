// CPU time, minor page faults and RSS per prompt decode, for session-option variants of the decoder sessions,
// alternated run by run in one process (the machine is shared: only interleaved A/B figures compare).
//
//   node --import tsx bench/decoder-faults.ts [--rounds 5] [--batches 1,8] [--variants old,split,shipped,noarenasplit,nopattern] [--network both|litemedsam|onesam] [--json]
//
// Variants: shipped = workerSessionOptions(1, 'decoder') as the workers create it, the batch in one run;
// split = the same options, one run per box, as the worker decodes (splitN: runs of N boxes); old = the options
// before 2026-11-30's decoder change (arena off, memory pattern on) with the batch in one run; noarenasplitN =
// old options, runs of N boxes; nopattern = arena and memory pattern off. Figures are per decode of B boxes.
// RSS ("max so far") is the process's; compare variants' memory in separate processes (--variants one at a time).
import { join } from 'node:path';
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import * as ort from 'onnxruntime-node';
import { loadCheckpoint } from '../src/models/checkpoint/load.ts';
import { PROMPT_DECODER_IO as IO } from '../src/models/network-contract.ts';
import { buildPromptDecoder } from '../src/models/networks/prompt-decoder.ts';
import { workerSessionOptions } from '../src/workers/session-options.ts';

const { values } = parseArgs({ options: {
  rounds: { type: 'string', default: '5' }, batches: { type: 'string', default: '1,8' },
  variants: { type: 'string', default: 'old,split' }, network: { type: 'string', default: 'both' },
  json: { type: 'boolean', default: false },
} });
const rounds = Number(values.rounds);
const batches = values.batches.split(',').map(Number);
const variants = values.variants.split(',');
const weightsDir = fileURLToPath(new URL('../models', import.meta.url));

const overrides = (v: string): ort.InferenceSession.SessionOptions =>
  v === 'old' || v.startsWith('noarena') ? { enableCpuMemArena: false } : v === 'nopattern' ? { enableCpuMemArena: false, enableMemPattern: false } : {};

// The image inputs are made once: a worker reuses its scratch buffers for them, and making them per call would
// add V8 allocations (and their faults) that scale with the number of calls, not with the decoder.
const imageFeeds = {
  embeddings: new ort.Tensor('float32', new Float32Array(256 * 64 * 64).map((_, i) => Math.sin(i * 0.37)), [1, 256, 64, 64]),
  interm: new ort.Tensor('float32', new Float32Array(64 * 64 * 160).map((_, i) => Math.cos(i * 0.11)), [1, 64, 64, 160]),
};

function feeds(b: number, hq: boolean): Record<string, ort.Tensor> {
  const coords = new Float32Array(b * 4);
  const labels = new Float32Array(b * 2);
  for (let i = 0; i < b; i++) {
    coords.set([20 + 10 * i, 30 + 5 * i, 120 + 12 * i, 140 + 9 * i], i * 4);
    labels.set([2, 3], i * 2);
  }
  const f: Record<string, ort.Tensor> = {
    [IO.imageEmbeddings]: imageFeeds.embeddings,
    [IO.pointCoords]: new ort.Tensor('float32', coords, [b, 2, 2]),
    [IO.pointLabels]: new ort.Tensor('float32', labels, [b, 2]),
    [IO.maskInput]: new ort.Tensor('float32', new Float32Array(b * 256 * 256), [b, 1, 256, 256]),
    [IO.hasMaskInput]: new ort.Tensor('float32', new Float32Array(b), [b]),
  };
  if (hq) f[IO.intermEmbeddings] = imageFeeds.interm;
  return f;
}

/** splitN / noarenasplitN: decodes of N boxes (N = 1 when omitted); other variants run the batch whole. */
function splitOf(v: string): number | undefined {
  const m = /^(?:noarena)?split(\d*)$/.exec(v);
  return m ? Number(m[1] || 1) : undefined;
}

interface Sample { cpuMs: number; faults: number; rssMiB: number }
const median = (xs: number[]): number => { const s = [...xs].sort((a, b) => a - b); return s[s.length >> 1]!; };

async function measure(run: () => Promise<void>): Promise<Sample> {
  const cpu = process.cpuUsage();
  const faults = process.resourceUsage().minorPageFault;
  await run();
  const used = process.cpuUsage(cpu);
  return { cpuMs: (used.user + used.system) / 1000, faults: process.resourceUsage().minorPageFault - faults, rssMiB: process.memoryUsage().rss / 2 ** 20 };
}

const out: Record<string, Record<string, { cpuMs: number; faults: number; rssMiB: number; runs: number[] }>> = {};
const nets = [['litemedsam', 'litemedsam-demo/litemedsam_demo.safetensors', false], ['onesam', 'onesam-demo/onesam_demo.safetensors', true]] as const;
for (const [network, file, hq] of nets) {
  if (values.network !== 'both' && values.network !== network) continue;
  const graph = buildPromptDecoder(await loadCheckpoint(join(weightsDir, file)), { hq });
  const sessions = new Map<string, ort.InferenceSession>();
  for (const v of variants) sessions.set(v, await ort.InferenceSession.create(graph, { ...workerSessionOptions(1, 'decoder'), ...overrides(v) }));
  const samples = new Map<string, Sample[]>();
  const once = async (v: string, b: number): Promise<void> => {
    const s = sessions.get(v)!;
    const chunk = splitOf(v) ?? b;
    if (chunk < b) {
      for (let i = 0; i < b; i += chunk) for (const t of Object.values(await s.run(feeds(Math.min(chunk, b - i), hq)))) t.dispose();
    } else {
      for (const t of Object.values(await s.run(feeds(b, hq)))) t.dispose();
    }
  };
  for (const v of variants) for (const b of batches) await once(v, b); // warm-up: kernel selection, first allocations
  for (let r = 0; r < rounds; r++) {
    for (const b of batches) {
      for (const v of variants) {
        const split = splitOf(v);
        if (split !== undefined && split >= b) continue; // the same runs as the whole batch
        const key = `${v} B=${b}`;
        samples.set(key, [...samples.get(key) ?? [], await measure(() => once(v, b))]);
      }
    }
  }
  out[network] = Object.fromEntries([...samples].map(([k, s]) => [k, {
    cpuMs: median(s.map((x) => x.cpuMs)), faults: median(s.map((x) => x.faults)), rssMiB: Math.max(...s.map((x) => x.rssMiB)),
    runs: s.map((x) => Math.round(x.cpuMs)),
  }]));
  for (const s of sessions.values()) await s.release();
}

if (values.json) process.stdout.write(`${JSON.stringify({ cpu: cpus()[0]?.model, rounds, out })}\n`);
else {
  process.stdout.write(`${cpus()[0]?.model}, 1 intra-op thread, ${rounds} rounds alternating, medians per decode call\n`);
  for (const [network, rows] of Object.entries(out)) {
    process.stdout.write(`\n${network}\n| variant | CPU ms | minor faults | max RSS MiB so far | CPU ms per run |\n| --- | --- | --- | --- | --- |\n`);
    for (const [k, r] of Object.entries(rows)) process.stdout.write(`| ${k} | ${r.cpuMs.toFixed(1)} | ${r.faults} | ${r.rssMiB.toFixed(0)} | ${r.runs.join(' ')} |\n`);
  }
}
