// Bounded load generator: a fixed number of 3D Segment calls at a fixed concurrency against a server on the
// loopback interface, reporting throughput, latency percentiles and the server's peak resident memory (sampled
// from its /metrics process_resident_memory_bytes, which covers the worker threads: they share the process).
//
//   npm run bench:load -- [--requests 8] [--concurrency 2] [--size 24x200x200] [--slices 11] [--objects 1]
//                         [--network route|litemedsam|onesam|fuse] [--modality CT] [--workers W --threads T]
//                         [--server 127.0.0.1:PORT --metrics http://127.0.0.1:PORT/metrics] [--json]
//
// Without --server it starts `onesam serve` on 127.0.0.1 with free ports and the embedded demo models, waits for
// SERVING, runs the load, then stops it with SIGTERM. Requests are synthetic phantoms (a bright ellipsoid in
// noise, a 3D box around it), different per request so nothing is shared between them.
import { spawn, type ChildProcess } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { SegmentationClient, type SegmentInput } from '../src/client/client.ts';
import type { Prompt } from '../src/generated/onesam/v1/Prompt.ts';
import type { EnsembleMode } from '../src/generated/onesam/v1/EnsembleMode.ts';

interface Options {
  readonly requests: number;
  readonly concurrency: number;
  readonly depth: number;
  readonly height: number;
  readonly width: number;
  readonly slices: number;
  readonly objects: number;
  readonly network: string;
  readonly modality: string;
  readonly workers?: number;
  readonly threads?: number;
  readonly server?: string;
  readonly metrics?: string;
  readonly json: boolean;
}

interface Target {
  readonly address: string;
  readonly metricsUrl?: string;
  readonly describe: string;
  stop(): Promise<void>;
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]', '::1']);
const ROOT = fileURLToPath(new URL('..', import.meta.url));

function parseOptions(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      requests: { type: 'string', default: '8' }, concurrency: { type: 'string', default: '2' }, size: { type: 'string', default: '24x200x200' },
      slices: { type: 'string', default: '11' }, objects: { type: 'string', default: '1' }, network: { type: 'string', default: 'route' },
      modality: { type: 'string', default: 'CT' }, workers: { type: 'string' }, threads: { type: 'string' }, server: { type: 'string' },
      metrics: { type: 'string' }, json: { type: 'boolean', default: false },
    },
  });
  const int = (name: string, text: string | undefined, min: number): number => {
    const n = Number(text);
    if (!Number.isInteger(n) || n < min) throw new Error(`--${name} must be an integer >= ${min}, got "${text}"`);
    return n;
  };
  const size = /^(\d+)x(\d+)x(\d+)$/.exec(values.size!);
  if (!size) throw new Error(`--size must be DxHxW, got "${values.size}"`);
  const [depth, height, width] = [Number(size[1]), Number(size[2]), Number(size[3])];
  const slices = int('slices', values.slices, 2);
  if (slices > depth) throw new Error(`--slices ${slices} exceeds the depth ${depth}`);
  if (height < 32 || width < 32) throw new Error('--size needs at least 32x32 slices');
  if (values.server) {
    const host = values.server.slice(0, values.server.lastIndexOf(':'));
    if (!LOOPBACK.has(host)) throw new Error(`--server must be on the loopback interface (127.0.0.1, localhost, [::1]), got "${values.server}"`);
    if (values.metrics && !LOOPBACK.has(new URL(values.metrics).hostname)) throw new Error('--metrics must be on the loopback interface');
  }
  return {
    requests: int('requests', values.requests, 1), concurrency: int('concurrency', values.concurrency, 1), depth, height, width, slices,
    objects: int('objects', values.objects, 1), network: values.network!, modality: values.modality!,
    ...(values.workers ? { workers: int('workers', values.workers, 1) } : {}), ...(values.threads ? { threads: int('threads', values.threads, 1) } : {}),
    ...(values.server ? { server: values.server } : {}), ...(values.metrics ? { metrics: values.metrics } : {}), json: values.json!,
  };
}

/** Starts `onesam serve` on 127.0.0.1 with free ports and waits until its health is SERVING (its 'serving' log line). */
async function startServer(options: Options): Promise<Target> {
  // Info level: the 'listening' and 'serving' lines tell us the ports and when the models are loaded.
  const args = ['bin/onesam.mjs', 'serve', '--host', '127.0.0.1', '--port', '0', '--metrics-port', '0', '--log-level', 'info'];
  if (options.workers) args.push('--workers', String(options.workers));
  if (options.threads) args.push('--threads', String(options.threads));
  const env = { ...process.env, ONESAM_MAX_CONCURRENT_REQUESTS: String(Math.max(8, options.concurrency)) };
  const child: ChildProcess = spawn(process.execPath, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
  const ports = await new Promise<{ grpcPort: number; metricsPort: number; workers: number; intraOpThreads: number }>((resolve, reject) => {
    let listening: { grpcPort: number; metricsPort: number; workers: number; intraOpThreads: number } | undefined;
    createInterface({ input: child.stdout! }).on('line', (line) => {
      let entry: Record<string, unknown>;
      try {
        entry = JSON.parse(line) as Record<string, unknown>;
      } catch {
        return;
      }
      if (entry['msg'] === 'listening') listening = entry as unknown as typeof listening;
      if (entry['msg'] === 'serving' && listening) resolve(listening);
    });
    void exited.then((code) => reject(new Error(`the server exited (${code}) before serving`)));
  });
  return {
    address: `127.0.0.1:${ports.grpcPort}`,
    metricsUrl: `http://127.0.0.1:${ports.metricsPort}/metrics`,
    describe: `spawned onesam serve, ${ports.workers} workers x ${ports.intraOpThreads} intra-op threads, ${availableParallelism()} cores`,
    async stop() {
      child.kill('SIGTERM');
      const code = await exited;
      if (code !== 0) throw new Error(`the server exited with ${code} after SIGTERM`);
    },
  };
}

/** Deterministic per-request phantom: noise around 40, an ellipsoid of ~180 whose centre moves with the seed. */
function phantom(options: Options, seed: number): SegmentInput {
  const { depth, height, width, slices } = options;
  let state = (seed * 2654435761) >>> 0 || 1;
  const random = (): number => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 2 ** 32;
  };
  const data = new Uint8Array(depth * height * width);
  const z0 = Math.floor((depth - slices) / 2);
  const prompts: Prompt[] = [];
  const blobs = Array.from({ length: options.objects }, (_, i) => {
    const ry = height / (4 + 2 * options.objects);
    const rx = width / (4 + 2 * options.objects);
    const cy = height * (0.3 + 0.4 * random());
    const cx = width * ((i + 0.5) / options.objects) + (random() - 0.5) * rx * 0.5;
    prompts.push({
      label: i + 1,
      box3d: {
        xMin: Math.max(0, Math.floor(cx - rx - 3)), yMin: Math.max(0, Math.floor(cy - ry - 3)), zMin: z0,
        xMax: Math.min(width, Math.ceil(cx + rx + 3)), yMax: Math.min(height, Math.ceil(cy + ry + 3)), zMax: z0 + slices - 1,
      },
    });
    return { cx, cy, rx, ry };
  });
  const cz = z0 + (slices - 1) / 2;
  const rz = slices / 2;
  for (let z = 0; z < depth; z++) {
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        let v = 40 + (random() - 0.5) * 30;
        for (const b of blobs) {
          const d = ((x - b.cx) / b.rx) ** 2 + ((y - b.cy) / b.ry) ** 2 + ((z - cz) / rz) ** 2;
          if (d <= 1) v = 180 + (random() - 0.5) * 30;
        }
        data[(z * height + y) * width + x] = Math.max(0, Math.min(255, Math.round(v)));
      }
    }
  }
  return {
    header: {
      requestId: `load-${seed}`, modality: options.modality, format: 'PAYLOAD_FORMAT_RAW',
      raw: { shape: [depth, height, width], dtype: 'VOXEL_TYPE_UINT8', spacing: [2.5, 0.8, 0.8] },
      prompts, network: `ENSEMBLE_MODE_${options.network.toUpperCase()}` as EnsembleMode,
    },
    payload: data,
  };
}

/** Peak process_resident_memory_bytes seen while `work` runs, sampled every 100 ms. */
async function sampleRss<T>(metricsUrl: string | undefined, work: () => Promise<T>): Promise<{ result: T; idleRss?: number; peakRss?: number }> {
  if (!metricsUrl) return { result: await work() };
  const read = async (): Promise<number | undefined> => {
    try {
      const text = await (await fetch(metricsUrl)).text();
      const line = text.split('\n').find((l) => l.startsWith('process_resident_memory_bytes '));
      return line ? Number(line.split(' ')[1]) : undefined;
    } catch {
      return undefined;
    }
  };
  const idleRss = await read();
  let peakRss = idleRss ?? 0;
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      peakRss = Math.max(peakRss, (await read()) ?? 0);
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
  try {
    const result = await work();
    return { result, ...(idleRss !== undefined ? { idleRss } : {}), peakRss: Math.max(peakRss, (await read()) ?? 0) };
  } finally {
    sampling = false;
    await sampler;
  }
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

interface RunResult {
  readonly latenciesMs: number[];
  readonly failures: Map<string, number>;
  readonly slicesEncoded: number;
  readonly wallMs: number;
}

async function runLoad(target: Target, options: Options): Promise<RunResult> {
  const inputs = Array.from({ length: options.requests }, (_, i) => phantom(options, i + 1));
  const client = new SegmentationClient(target.address);
  const latenciesMs: number[] = [];
  const failures = new Map<string, number>();
  let slicesEncoded = 0;
  let next = 0;
  const started = performance.now();
  const worker = async (): Promise<void> => {
    while (next < inputs.length) {
      const input = inputs[next++]!;
      const t0 = performance.now();
      try {
        const outcome = await client.segment(input, { deadline: Date.now() + 600_000 });
        latenciesMs.push(performance.now() - t0);
        slicesEncoded += outcome.summary.slicesEncoded.reduce((sum, s) => sum + s.slices, 0);
      } catch (err) {
        const key = (err as { details?: string }).details ?? (err as Error).message;
        failures.set(key, (failures.get(key) ?? 0) + 1);
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: options.concurrency }, worker));
  } finally {
    client.close();
  }
  return { latenciesMs, failures, slicesEncoded, wallMs: performance.now() - started };
}

async function main(): Promise<number> {
  const options = parseOptions(process.argv.slice(2));
  const target: Target = options.server
    ? { address: options.server, ...(options.metrics ? { metricsUrl: options.metrics } : {}), describe: `server at ${options.server}`, stop: async () => undefined }
    : await startServer(options);
  let report;
  try {
    const { result, idleRss, peakRss } = await sampleRss(target.metricsUrl, () => runLoad(target, options));
    const sorted = [...result.latenciesMs].sort((a, b) => a - b);
    const seconds = result.wallMs / 1000;
    const mib = (b: number | undefined): number | null => (b === undefined ? null : Math.round(b / 2 ** 20));
    report = {
      server: target.describe,
      volume: `${options.depth}x${options.height}x${options.width} uint8`,
      objects: options.objects, slicesPerObject: options.slices, network: options.network, modality: options.modality,
      requests: options.requests, concurrency: options.concurrency,
      ok: result.latenciesMs.length, failed: Object.fromEntries(result.failures),
      wallSeconds: Math.round(seconds * 10) / 10,
      requestsPerSecond: Math.round((result.latenciesMs.length / seconds) * 1000) / 1000,
      slicesPerSecond: Math.round((result.slicesEncoded / seconds) * 100) / 100,
      latencyMs: Object.fromEntries([50, 90, 99, 100].map((p) => [p === 100 ? 'max' : `p${p}`, Math.round(percentile(sorted, p))])),
      serverRssMiB: { idle: mib(idleRss), peak: mib(peakRss) },
    };
  } finally {
    await target.stop();
  }
  if (options.json) {
    process.stdout.write(`${JSON.stringify(report)}\n`);
  } else {
    const r = report;
    process.stdout.write([
      `server      ${r.server}`,
      `load        ${r.requests} requests, concurrency ${r.concurrency}; ${r.volume}, ${r.objects} box(es) over ${r.slicesPerObject} slices, network ${r.network}, modality ${r.modality}`,
      `result      ${r.ok} ok, ${Object.values(r.failed).reduce((a, b) => a + b, 0)} failed${Object.keys(r.failed).length ? ` ${JSON.stringify(r.failed)}` : ''}, ${r.wallSeconds} s`,
      `throughput  ${r.requestsPerSecond} requests/s, ${r.slicesPerSecond} slices encoded/s`,
      `latency ms  p50 ${r.latencyMs['p50']}  p90 ${r.latencyMs['p90']}  p99 ${r.latencyMs['p99']}  max ${r.latencyMs['max']}`,
      `server RSS  idle ${r.serverRssMiB.idle ?? 'n/a'} MiB, peak ${r.serverRssMiB.peak ?? 'n/a'} MiB`,
      '',
    ].join('\n'));
  }
  return Object.keys(report.failed).length === 0 ? 0 : 1;
}

main().then((code) => { process.exitCode = code; }, (err: unknown) => {
  process.stderr.write(`bench/load: ${(err as Error).message}\n`);
  process.exitCode = 2;
});
