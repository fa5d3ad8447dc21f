// Soak: one real server (a child `onesam serve` with the embedded demo models) driven for a long time by a mixed
// client, to see whether anything grows: the server's resident memory, its open file descriptors, its event-loop
// lag. The client runs `--concurrency` loops, each picking at random (seeded) a 2D or 3D public challenge case,
// sometimes cancelling it at a random point (during the upload, during the computation, while the labels
// stream), and sometimes a session (an upload kept with keep_session, follow-ups on it, then CloseSession or
// left to expire).
//
//   npm run bench:soak -- [--minutes 30] [--warmup-minutes 5] [--concurrency 4] [--sample-seconds 5]
//                         [--share-2d 0.6] [--cancel-share 0.2] [--session-share 0.08] [--seed 1]
//                         [--session-idle-seconds 120] [--windows 5] [--tail-seconds 120] [--workers W --threads T] [--out DIR] [--cases DIR]
//
// Every `--sample-seconds` it records, from /proc/<pid> (Linux), the server's RSS and open fds, and from its
// /metrics the event-loop delay of the last interval (prom-client's monitorEventLoopDelay p99/max, reset at each
// scrape), the main thread's heap and external memory, requests in flight, sessions and the worker queue.
// Writes samples.csv, requests.csv, server.log and summary.json under --out (default $TMPDIR/onesam-soak-<time>) and prints
// the summary. Memory is judged after the warm-up only: the first minutes fill glibc's heap, onnxruntime's
// per-shape caches and the session registry, which is expected growth, not a leak.
import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import * as grpc from '@grpc/grpc-js';
import { requestHeader } from '../src/client/segment-remote.ts';
import { ERROR_CODE_KEY } from '../src/errors/grpc-status.ts';
import type { Prompt } from '../src/generated/onesam/v1/Prompt.ts';
import type { RequestHeader } from '../src/generated/onesam/v1/RequestHeader.ts';
import type { SegmentRequest } from '../src/generated/onesam/v1/SegmentRequest.ts';
import type { SegmentResponse__Output } from '../src/generated/onesam/v1/SegmentResponse.ts';
import type { SegmentationClient as Stub } from '../src/generated/onesam/v1/Segmentation.ts';
import { challengeCase } from '../src/volume/challenge.ts';
import { modalityFromFileName } from '../src/pipeline/router.ts';
import { loadSegmentationProto } from '../src/protocol/proto.ts';
import { readNpz } from '../src/volume/npz.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

// ---------------------------------------------------------------------------------------------------- options

interface Options {
  readonly minutes: number;
  readonly warmupMinutes: number;
  readonly concurrency: number;
  readonly sampleSeconds: number;
  readonly share2d: number;
  readonly cancelShare: number;
  readonly sessionShare: number;
  readonly seed: number;
  readonly sessionIdleSeconds: number;
  /** Equal windows after the warm-up whose RSS median, floor and peak are compared. */
  readonly windows: number;
  readonly tailSeconds: number;
  readonly workers?: number;
  readonly threads?: number;
  readonly out: string;
  readonly cases: string;
}

function parseOptions(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv, strict: true,
    options: {
      minutes: { type: 'string', default: '30' }, 'warmup-minutes': { type: 'string', default: '5' },
      concurrency: { type: 'string', default: '4' }, 'sample-seconds': { type: 'string', default: '5' },
      'share-2d': { type: 'string', default: '0.6' }, 'cancel-share': { type: 'string', default: '0.2' },
      'session-share': { type: 'string', default: '0.08' }, seed: { type: 'string', default: '1' },
      'session-idle-seconds': { type: 'string', default: '120' }, windows: { type: 'string', default: '5' }, 'tail-seconds': { type: 'string', default: '120' }, workers: { type: 'string' }, threads: { type: 'string' },
      out: { type: 'string' },
      cases: { type: 'string', default: join(ROOT, '..', 'shared', 'reference', 'cases', 'public', 'imgs') },
    },
  });
  const num = (name: string, min: number, max = Number.POSITIVE_INFINITY): number => {
    const n = Number(values[name as keyof typeof values]);
    if (!Number.isFinite(n) || n < min || n > max) throw new Error(`--${name} must be a number in [${min}, ${max}], got "${values[name as keyof typeof values]}"`);
    return n;
  };
  const int = (name: string, min: number): number => {
    const n = num(name, min);
    if (!Number.isInteger(n)) throw new Error(`--${name} must be an integer`);
    return n;
  };
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  return {
    minutes: num('minutes', 0.1), warmupMinutes: num('warmup-minutes', 0), concurrency: int('concurrency', 1),
    sampleSeconds: num('sample-seconds', 0.5), share2d: num('share-2d', 0, 1), cancelShare: num('cancel-share', 0, 1),
    sessionShare: num('session-share', 0, 1), seed: int('seed', 1), sessionIdleSeconds: int('session-idle-seconds', 1), windows: int('windows', 1), tailSeconds: num('tail-seconds', 0),
    ...(values.workers ? { workers: int('workers', 1) } : {}), ...(values.threads ? { threads: int('threads', 1) } : {}),
    out: values.out ?? join(tmpdir(), `onesam-soak-${stamp}`), cases: values.cases!,
  };
}

/** xorshift32: the same seed gives the same sequence of choices (not the same timings: those are the machine's). */
function seededRandom(seed: number): () => number {
  let state = (seed * 2654435761) >>> 0 || 1;
  return () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 2 ** 32;
  };
}

// ----------------------------------------------------------------------------------------------------- server

interface Server {
  readonly pid: number;
  readonly address: string;
  readonly metricsUrl: string;
  readonly describe: string;
  /** Log lines at error level or above, by message and code (no payload data is ever logged). */
  readonly errorLogs: Map<string, number>;
  stop(): Promise<{ code: number | null; ms: number }>;
}

/** `onesam serve` on 127.0.0.1, free ports; resolves once its 'serving' line is logged. */
async function startServer(options: Options): Promise<Server> {
  const args = ['bin/onesam.mjs', 'serve', '--host', '127.0.0.1', '--port', '0', '--metrics-port', '0', '--log-level', 'info'];
  if (options.workers) args.push('--workers', String(options.workers));
  if (options.threads) args.push('--threads', String(options.threads));
  const env = { ...process.env, ONESAM_SESSION_IDLE_SECONDS: String(options.sessionIdleSeconds) };
  const child: ChildProcess = spawn(process.execPath, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
  const errorLogs = new Map<string, number>();
  // The server's log, kept for investigation (the public challenge cases carry no patient data).
  const logFile = join(options.out, 'server.log');
  type Listening = { grpcPort: number; metricsPort: number; workers: number; intraOpThreads: number };
  const listening = await new Promise<Listening>((resolve, reject) => {
    let seen: Listening | undefined;
    // Keep reading for the whole run: an unread pipe would block the server's logger.
    createInterface({ input: child.stdout! }).on('line', (line) => {
      appendFileSync(logFile, `${line}\n`);
      let entry: Record<string, unknown>;
      try {
        entry = JSON.parse(line) as Record<string, unknown>;
      } catch {
        return;
      }
      if (entry['msg'] === 'listening') seen = entry as unknown as Listening;
      if (entry['msg'] === 'serving' && seen) resolve(seen);
      const level = typeof entry['level'] === 'number' ? entry['level'] : ({ error: 50, fatal: 60 } as Record<string, number>)[String(entry['level'])] ?? 0;
      if (level >= 50) {
        const err = entry['err'] as { message?: string } | undefined;
        const key = `${String(entry['msg'])}${entry['code'] ? ` (${String(entry['code'])})` : ''}${err?.message ? `: ${err.message.slice(0, 160)}` : ''}`;
        errorLogs.set(key, (errorLogs.get(key) ?? 0) + 1);
      }
    });
    void exited.then((code) => reject(new Error(`the server exited (${code}) before serving`)));
  });
  return {
    pid: child.pid!,
    address: `127.0.0.1:${listening.grpcPort}`,
    metricsUrl: `http://127.0.0.1:${listening.metricsPort}/metrics`,
    describe: `onesam serve (child process), ${listening.workers} workers x ${listening.intraOpThreads} intra-op threads`,
    errorLogs,
    async stop() {
      const t0 = performance.now();
      child.kill('SIGTERM');
      const code = await exited;
      return { code, ms: Math.round(performance.now() - t0) };
    },
  };
}

// ---------------------------------------------------------------------------------------------------- sampling

type Scrape = Map<string, number>;

/** Prometheus text format -> `name{labels}` -> value (the label text kept verbatim, as the server writes it). */
function parseExposition(text: string): Scrape {
  const out: Scrape = new Map();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const at = line.lastIndexOf(' ');
    out.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return out;
}

async function scrape(url: string): Promise<Scrape | undefined> {
  try {
    return parseExposition(await (await fetch(url, { signal: AbortSignal.timeout(10_000) })).text());
  } catch {
    return undefined;
  }
}

/** Sum of every series of `name` whose label text contains `match` (e.g. 'status="OK"'). */
function sumOf(s: Scrape | undefined, name: string, match = ''): number {
  if (!s) return 0;
  let total = 0;
  for (const [key, value] of s) {
    const brace = key.indexOf('{');
    const base = brace < 0 ? key : key.slice(0, brace);
    if (base === name && key.includes(match)) total += value;
  }
  return total;
}

/** Per-label-value totals of `name` for one label (e.g. errors by code). */
function byLabel(s: Scrape | undefined, name: string, label: string): Record<string, number> {
  const out: Record<string, number> = {};
  if (!s) return out;
  const re = new RegExp(`${label}="([^"]*)"`);
  for (const [key, value] of s) {
    if (!key.startsWith(`${name}{`)) continue;
    const m = re.exec(key);
    if (m && value > 0) out[m[1]!] = (out[m[1]!] ?? 0) + value;
  }
  return out;
}

function procRssBytes(pid: number): number {
  const m = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : Number.NaN;
}

/** utime + stime of the whole process (every thread), in seconds; Linux counts them in USER_HZ = 100 ticks. */
function procCpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

function procFds(pid: number): number {
  return readdirSync(`/proc/${pid}/fd`).length;
}

interface Sample {
  readonly t: number;
  readonly rssMiB: number;
  readonly fds: number;
  readonly heapUsedMiB: number;
  readonly externalMiB: number;
  readonly lagP99Ms: number;
  readonly lagMaxMs: number;
  readonly inflight: number;
  readonly sessions: number;
  readonly sessionMiB: number;
  /** Slice embeddings held in the embedding budget (onesam_embedding_bytes). */
  readonly embeddingMiB: number;
  readonly poolQueued: number;
  readonly done: number;
  /** The machine's 1-minute load average: on a shared machine it explains much of the latency. */
  readonly load1: number;
  /** CPU seconds the server process used since it started (all threads). */
  readonly cpuS: number;
}

const SAMPLE_COLUMNS = ['t_s', 'rss_mib', 'fds', 'heap_used_mib', 'external_mib', 'lag_p99_ms', 'lag_max_ms', 'inflight', 'sessions', 'session_mib', 'embedding_mib', 'pool_queued', 'requests_done', 'load1', 'server_cpu_s'];

// ----------------------------------------------------------------------------------------------------- requests

interface Case {
  readonly name: string;
  readonly is3d: boolean;
  readonly header: Omit<RequestHeader, 'payloadBytes'>;
  readonly payload: Uint8Array;
  readonly width: number;
  readonly height: number;
}

function loadCases(dir: string): Case[] {
  return readdirSync(dir).filter((f) => f.endsWith('.npz')).sort().map((name) => {
    const kase = challengeCase(readNpz(new Uint8Array(readFileSync(join(dir, name))), name), name);
    const modality = modalityFromFileName(name);
    const header = requestHeader({ requestId: 'soak', image: kase.image, objects: kase.objects, mode: 'route', ...(modality ? { modality } : {}) });
    return { name, is3d: kase.image.depth > 1, header, payload: kase.image.data, width: kase.image.width, height: kase.image.height };
  });
}

/** The case's boxes moved by `d` pixels inside the image (a reader nudging a box on a session). */
function nudged(prompts: readonly Prompt[], d: number, width: number, height: number): Prompt[] {
  const cx = (v: unknown): number => Math.min(Math.max(Number(v) + d, 0), width);
  const cy = (v: unknown): number => Math.min(Math.max(Number(v) - d, 0), height);
  return prompts.map((p) => {
    if (p.box2d) return { ...p, box2d: { ...p.box2d, xMin: cx(p.box2d.xMin), xMax: cx(p.box2d.xMax), yMin: cy(p.box2d.yMin), yMax: cy(p.box2d.yMax) } };
    if (p.box3d) return { ...p, box3d: { ...p.box3d, xMin: cx(p.box3d.xMin), xMax: cx(p.box3d.xMax), yMin: cy(p.box3d.yMin), yMax: cy(p.box3d.yMax) } };
    return p;
  });
}

type CancelAt = 'none' | 'upload' | 'compute' | 'labels';

interface CallPlan {
  readonly header: Omit<RequestHeader, 'payloadBytes'>;
  readonly payload: Uint8Array;
  readonly cancelAt: CancelAt;
  /**
   * A point in [0, 1): upload: the share of the chunks sent before the pause and cancel; compute: for 3D the share
   * of the walk's slices encoded (from the progress messages), for 2D the share of 2 s after the acceptance.
   */
  readonly at: number;
  readonly is3d: boolean;
  /** Aborted when the soak's time is up and its grace for calls in flight has passed. */
  readonly stop: AbortSignal;
}

interface CallResult {
  /**
   * ok | cancelled | late (the planned cancel came after the OK) | stopped (cancelled when the soak ended) | the
   * server's error code (or the gRPC status name).
   */
  readonly outcome: string;
  readonly ms: number;
  readonly slicesEncoded: number;
  readonly sessionId?: string;
}

const UPLOAD_CHUNK = 256 * 1024;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * One Segment call on the raw stub, so that it can stop at an exact point: after part of the upload (the call
 * then waits a moment, as a client whose user pressed cancel would, and cancels), a while after the acceptance
 * (the computation is running), or at the first label chunk.
 */
function segmentCall(stub: Stub, plan: CallPlan): Promise<CallResult> {
  const t0 = performance.now();
  const call = stub.segment({ deadline: Date.now() + 15 * 60_000 }) as grpc.ClientDuplexStream<SegmentRequest, SegmentResponse__Output>;
  let cancelled = false;
  let stopped = false;
  const cancel = (): void => {
    if (cancelled) return;
    cancelled = true;
    call.cancel();
  };
  const onStop = (): void => {
    stopped = !cancelled;
    cancel();
  };
  if (plan.stop.aborted) onStop();
  plan.stop.addEventListener('abort', onStop, { once: true });
  return new Promise<CallResult>((resolve) => {
    let slicesEncoded = 0;
    let sessionId: string | undefined;
    let computeTimer: NodeJS.Timeout | undefined;
    call.on('data', (m: SegmentResponse__Output) => {
      if (m.message === 'accepted') {
        sessionId = m.accepted?.session?.sessionId || undefined;
        if (plan.cancelAt === 'compute' && !plan.is3d) computeTimer = setTimeout(cancel, plan.at * 2000);
      } else if (m.message === 'progress' && plan.cancelAt === 'compute' && plan.is3d) {
        const p = m.progress!;
        if (p.slicesTotal > 0 && p.slicesEncoded >= Math.max(1, Math.ceil(plan.at * p.slicesTotal))) cancel();
      } else if (m.message === 'labels' && plan.cancelAt === 'labels') {
        cancel();
      } else if (m.message === 'summary') {
        slicesEncoded = (m.summary?.slicesEncoded ?? []).reduce((n, s) => n + s.slices, 0);
      }
    });
    call.on('error', () => undefined); // the status below says how it ended
    call.on('status', (status: grpc.StatusObject) => {
      clearTimeout(computeTimer);
      plan.stop.removeEventListener('abort', onStop);
      const ms = performance.now() - t0;
      const code = status.metadata?.get(ERROR_CODE_KEY)[0];
      let outcome: string;
      if (status.code === grpc.status.OK) outcome = plan.cancelAt !== 'none' && !cancelled ? 'late' : 'ok';
      else if (stopped && status.code === grpc.status.CANCELLED) outcome = 'stopped';
      else if (cancelled && status.code === grpc.status.CANCELLED) outcome = 'cancelled';
      else outcome = code ? String(code) : `status ${grpc.status[status.code]}`;
      resolve({ outcome, ms, slicesEncoded, ...(sessionId ? { sessionId } : {}) });
    });
    void (async () => {
      const write = async (message: SegmentRequest): Promise<void> => {
        if (!call.write(message)) await new Promise<void>((r) => { call.once('drain', r); call.once('status', () => r()); });
      };
      await write({ header: { ...plan.header, payloadBytes: plan.payload.length } });
      const chunks = Math.ceil(plan.payload.length / UPLOAD_CHUNK);
      const stopAfter = plan.cancelAt === 'upload' ? Math.floor(plan.at * chunks) : chunks;
      for (let i = 0; i < stopAfter && !cancelled; i++) {
        await write({ chunk: { data: plan.payload.subarray(i * UPLOAD_CHUNK, Math.min((i + 1) * UPLOAD_CHUNK, plan.payload.length)) } });
      }
      if (plan.cancelAt === 'upload') {
        await sleep(50 + 200 * plan.at);
        cancel();
      } else if (!cancelled) {
        call.end();
      }
    })();
  });
}

function closeSession(stub: Stub, sessionId: string): Promise<string> {
  return new Promise((resolve) => {
    stub.closeSession({ sessionId }, { deadline: Date.now() + 30_000 }, (err) => {
      resolve(err ? String(err.metadata?.get(ERROR_CODE_KEY)[0] ?? grpc.status[err.code]) : 'ok');
    });
  });
}

interface RequestRecord extends CallResult {
  readonly t: number;
  readonly kind: '2d' | '3d' | 'session-upload' | 'session-prompt' | 'close-session';
  readonly caseName: string;
  readonly cancelAt: CancelAt;
}

// -------------------------------------------------------------------------------------------------- statistics

function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

/** Least-squares slope of y over x. */
function slope(xs: readonly number[], ys: readonly number[]): number {
  const n = xs.length;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    num += (xs[i]! - mx) * (ys[i]! - my);
    den += (xs[i]! - mx) ** 2;
  }
  return den === 0 ? 0 : num / den;
}

const round = (x: number, digits = 1): number => Math.round(x * 10 ** digits) / 10 ** digits;

// -------------------------------------------------------------------------------------------------------- main

async function main(): Promise<number> {
  const options = parseOptions(process.argv.slice(2));
  mkdirSync(options.out, { recursive: true });
  const cases = loadCases(options.cases);
  const cases2d = cases.filter((c) => !c.is3d);
  const cases3d = cases.filter((c) => c.is3d);
  if (cases2d.length === 0 || cases3d.length === 0) throw new Error(`${options.cases} needs 2D and 3D cases`);
  const random = seededRandom(options.seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;

  const server = await startServer(options);
  process.stderr.write(`soak: ${server.describe}, pid ${server.pid}; ${options.minutes} min at concurrency ${options.concurrency}; writing ${options.out}\n`);
  const { grpcType } = loadSegmentationProto();
  const stub = new grpcType.onesam.v1.Segmentation(server.address, grpc.credentials.createInsecure(), { 'grpc.max_receive_message_length': 16 * 1024 * 1024 }) as unknown as Stub;

  const samplesCsv = join(options.out, 'samples.csv');
  const requestsCsv = join(options.out, 'requests.csv');
  writeFileSync(samplesCsv, `${SAMPLE_COLUMNS.join(',')}\n`);
  writeFileSync(requestsCsv, 't_s,kind,case,cancel_at,outcome,ms,slices_encoded\n');

  const started = performance.now();
  const elapsed = (): number => (performance.now() - started) / 1000;
  const endAt = started + options.minutes * 60_000;
  const records: RequestRecord[] = [];
  const record = (r: RequestRecord): void => {
    records.push(r);
    appendFileSync(requestsCsv, `${round(r.t)},${r.kind},${r.caseName},${r.cancelAt},${r.outcome},${Math.round(r.ms)},${r.slicesEncoded}\n`);
  };

  // Sampler: /proc for RSS and fds (exact, this pid only), /metrics for the loop delay and the server's own view.
  const samples: Sample[] = [];
  const firstScrape = await scrape(server.metricsUrl);
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      const s = await scrape(server.metricsUrl);
      const mib = (name: string): number => round(sumOf(s, name) / 2 ** 20);
      const sample: Sample = {
        t: round(elapsed()), rssMiB: round(procRssBytes(server.pid) / 2 ** 20), fds: procFds(server.pid),
        heapUsedMiB: mib('nodejs_heap_size_used_bytes'), externalMiB: mib('nodejs_external_memory_bytes'),
        lagP99Ms: round(sumOf(s, 'nodejs_eventloop_lag_p99_seconds') * 1000), lagMaxMs: round(sumOf(s, 'nodejs_eventloop_lag_max_seconds') * 1000),
        inflight: sumOf(s, 'onesam_inflight_requests'), sessions: sumOf(s, 'onesam_sessions'), sessionMiB: mib('onesam_session_volume_bytes'),
        embeddingMiB: mib('onesam_embedding_bytes'),
        poolQueued: sumOf(s, 'onesam_pool_queue_depth'), done: records.length, load1: round(loadavg()[0]!, 2), cpuS: round(procCpuSeconds(server.pid)),
      };
      samples.push(sample);
      appendFileSync(samplesCsv, `${Object.values(sample).join(',')}\n`);
      await sleep(options.sampleSeconds * 1000);
    }
  })();

  const progressTimer = setInterval(() => {
    const last = samples.at(-1);
    if (last) process.stderr.write(`soak: ${Math.round(elapsed())} s, ${records.length} calls, RSS ${last.rssMiB} MiB, fds ${last.fds}, lag p99 ${last.lagP99Ms} ms\n`);
  }, 60_000);

  const cancelPlan = (): { cancelAt: CancelAt; at: number } => {
    if (random() >= options.cancelShare) return { cancelAt: 'none', at: 0 };
    const where = pick(['upload', 'compute', 'labels'] as const);
    return { cancelAt: where, at: random() };
  };

  const oneRequest = async (): Promise<void> => {
    const { cancelAt, at } = cancelPlan();
    // Cancelling while labels stream needs more than one label message: 3D, labels as uint16 (> 1 MiB each).
    const is3d = cancelAt === 'labels' || random() >= options.share2d;
    const kase = pick(is3d ? cases3d : cases2d);
    const header = cancelAt === 'labels' ? { ...kase.header, output: { format: 'LABEL_FORMAT_RAW' as const, gzip: false, forceUint16: true } } : kase.header;
    const t = elapsed();
    const result = await segmentCall(stub, { header: { ...header, requestId: `soak-${records.length}` }, payload: kase.payload, cancelAt, at, is3d, stop: stopSignal });
    record({ t, kind: is3d ? '3d' : '2d', caseName: kase.name, cancelAt, ...result });
  };

  /** keep_session upload, two nudged follow-ups on the session, then CloseSession (or, one time in three, left to expire). */
  const sessionFlow = async (): Promise<void> => {
    const kase = pick(random() < 0.5 ? cases3d : cases2d);
    const t = elapsed();
    const first = await segmentCall(stub, { header: { ...kase.header, requestId: `soak-${records.length}`, keepSession: true }, payload: kase.payload, cancelAt: 'none', at: 0, is3d: kase.is3d, stop: stopSignal });
    record({ t, kind: 'session-upload', caseName: kase.name, cancelAt: 'none', ...first });
    if (!first.sessionId) return;
    for (let i = 1; i <= 2 && !stopSignal.aborted; i++) {
      const ti = elapsed();
      const header = { requestId: `soak-${records.length}`, sessionId: first.sessionId, prompts: nudged(kase.header.prompts ?? [], 2 * i, kase.width, kase.height), network: kase.header.network };
      const r = await segmentCall(stub, { header, payload: new Uint8Array(0), cancelAt: 'none', at: 0, is3d: kase.is3d, stop: stopSignal });
      record({ t: ti, kind: 'session-prompt', caseName: kase.name, cancelAt: 'none', ...r });
    }
    if (random() < 2 / 3) {
      const tc = elapsed();
      const outcome = await closeSession(stub, first.sessionId);
      record({ t: tc, kind: 'close-session', caseName: kase.name, cancelAt: 'none', outcome, ms: (elapsed() - tc) * 1000, slicesEncoded: 0 });
    }
  };

  const loop = async (): Promise<void> => {
    while (performance.now() < endAt) {
      if (random() < options.sessionShare) await sessionFlow();
      else await oneRequest();
    }
  };
  let stop: { code: number | null; ms: number } | undefined;
  let lastScrape: Scrape | undefined;
  /** The server once every call has settled: what it keeps when idle (sessions may still hold embeddings). */
  let idle: { rssMiB: number; fds: number; embeddingMiB: number; sessions: number; inflight: number } | undefined;
  // No new calls after --minutes; calls in flight get --tail-seconds to finish, then are cancelled ('stopped').
  const stopper = new AbortController();
  const stopSignal = stopper.signal;
  const stopTimer = setTimeout(() => stopper.abort(), Math.max(0, endAt - performance.now()) + options.tailSeconds * 1000);
  try {
    await Promise.all(Array.from({ length: options.concurrency }, loop));
    clearTimeout(stopTimer);
    // A cancelled call settles on the server only once its slices in flight are done: wait until nothing is in
    // flight (at most 3 minutes) so the final counters include every call, and the idle reading means idle.
    for (let waited = 0; waited < 180_000; waited += 1000) {
      lastScrape = await scrape(server.metricsUrl);
      if (sumOf(lastScrape, 'onesam_inflight_requests') === 0) break;
      await sleep(1000);
    }
    await sleep(options.sampleSeconds * 1000);
    lastScrape = await scrape(server.metricsUrl);
    idle = { rssMiB: round(procRssBytes(server.pid) / 2 ** 20), fds: procFds(server.pid), embeddingMiB: round(sumOf(lastScrape, 'onesam_embedding_bytes') / 2 ** 20), sessions: sumOf(lastScrape, 'onesam_sessions'), inflight: sumOf(lastScrape, 'onesam_inflight_requests') };
  } finally {
    clearInterval(progressTimer);
    sampling = false;
    await sampler;
    stub.close();
    stop = await server.stop();
  }

  // ------------------------------------------------------------------------------------------------ summary
  const wallS = elapsed();
  const outcomes: Record<string, number> = {};
  for (const r of records) {
    const key = `${r.kind}${r.cancelAt !== 'none' ? ` cancel@${r.cancelAt}` : ''}: ${r.outcome}`;
    outcomes[key] = (outcomes[key] ?? 0) + 1;
  }
  const okOf = (kind: RequestRecord['kind']): number[] => records.filter((r) => r.kind === kind && (r.outcome === 'ok' || r.outcome === 'late')).map((r) => r.ms);
  const latency = (xs: number[]): { n: number; p50: number; p90: number; max: number } => ({ n: xs.length, p50: Math.round(percentile(xs, 50)), p90: Math.round(percentile(xs, 90)), max: Math.round(percentile(xs, 100)) });
  const completed = records.filter((r) => r.kind !== 'close-session' && (r.outcome === 'ok' || r.outcome === 'late'));
  const slicesEncoded = completed.reduce((n, r) => n + r.slicesEncoded, 0);

  const warm = samples.filter((s) => s.t >= options.warmupMinutes * 60);
  const rss = warm.map((s) => s.rssMiB);
  const rssMin = Math.min(...rss);
  const rssMax = Math.max(...rss);
  const windowN = Math.max(1, Math.floor(warm.length / 10));
  const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
  const rssFirst = mean(rss.slice(0, windowN));
  const rssLast = mean(rss.slice(-windowN));
  const rssSlopePerHour = slope(warm.map((s) => s.t), rss) * 3600;
  // RSS moves with the requests in flight (a 3D walk holds more than a 2D slice), so single samples are noisy:
  // compare equal windows after the warm-up by their floor, median and peak instead.
  const windowCount = Math.min(options.windows, Math.max(1, warm.length));
  const windowLength = Math.ceil(warm.length / windowCount);
  const windows = Array.from({ length: windowCount }, (_, i) => warm.slice(i * windowLength, (i + 1) * windowLength)).filter((w) => w.length > 0).map((w) => {
    const r = w.map((s) => s.rssMiB);
    return { fromS: Math.round(w[0]!.t), toS: Math.round(w.at(-1)!.t), min: Math.min(...r), median: percentile(r, 50), max: Math.max(...r), fdsMax: Math.max(...w.map((s) => s.fds)) };
  });
  const medians = windows.map((w) => w.median);
  const medianSpreadPercent = round(((Math.max(...medians) - Math.min(...medians)) / Math.min(...medians)) * 100);
  const lagP99 = samples.map((s) => s.lagP99Ms);
  const unexpected = records.filter((r) => !['ok', 'cancelled', 'late', 'stopped'].includes(r.outcome));
  const errorsByCode = byLabel(lastScrape, 'onesam_errors_total', 'code');
  const summary = {
    server: server.describe, pid: server.pid, options,
    wallSeconds: Math.round(wallS),
    calls: records.length, outcomes,
    unexpectedOutcomes: unexpected.length,
    throughput: {
      completedPerSecond: round(completed.length / wallS, 3),
      slicesEncodedPerSecond: round(slicesEncoded / wallS, 2),
      serverSlicesEncodedPerSecond: round((sumOf(lastScrape, 'onesam_slices_encoded_total') - sumOf(firstScrape, 'onesam_slices_encoded_total')) / wallS, 2),
    },
    latencyMs: { '2d': latency(okOf('2d')), '3d': latency(okOf('3d')), sessionUpload: latency(okOf('session-upload')), sessionPrompt: latency(okOf('session-prompt')) },
    rssMiB: {
      start: samples[0]?.rssMiB, peakOverall: Math.max(...samples.map((s) => s.rssMiB)),
      afterWarmup: { samples: warm.length, min: rssMin, max: rssMax, spreadPercent: round(((rssMax - rssMin) / rssMin) * 100), firstTenthMean: round(rssFirst), lastTenthMean: round(rssLast), driftPercent: round(((rssLast - rssFirst) / rssFirst) * 100), slopeMiBPerHour: round(rssSlopePerHour),
        windows, windowMedianSpreadPercent: medianSpreadPercent, flatWithin10Percent: medianSpreadPercent <= 10 },
      end: samples.at(-1)?.rssMiB,
    },
    idleAtEnd: idle,
    heapUsedMiB: { afterWarmupMin: Math.min(...warm.map((s) => s.heapUsedMiB)), afterWarmupMax: Math.max(...warm.map((s) => s.heapUsedMiB)) },
    embeddingMiB: { afterWarmupMin: Math.min(...warm.map((s) => s.embeddingMiB)), afterWarmupMax: Math.max(...warm.map((s) => s.embeddingMiB)), end: samples.at(-1)?.embeddingMiB },
    externalMiB: { afterWarmupMin: Math.min(...warm.map((s) => s.externalMiB)), afterWarmupMax: Math.max(...warm.map((s) => s.externalMiB)) },
    fds: { min: Math.min(...samples.map((s) => s.fds)), max: Math.max(...samples.map((s) => s.fds)), afterWarmupMin: Math.min(...warm.map((s) => s.fds)), afterWarmupMax: Math.max(...warm.map((s) => s.fds)), end: samples.at(-1)?.fds },
    // How much of the 2 cores the server got: with other work on the machine, less than workers x threads.
    serverCpuCoresUsed: samples.length > 1 ? round((samples.at(-1)!.cpuS - samples[0]!.cpuS) / (samples.at(-1)!.t - samples[0]!.t), 2) : null,
    loadAverage1m: { min: Math.min(...samples.map((s) => s.load1)), median: percentile(samples.map((s) => s.load1), 50), max: Math.max(...samples.map((s) => s.load1)) },
    eventLoopLagMs: { p99OfIntervalP99s: round(percentile(lagP99, 99)), medianOfIntervalP99s: round(percentile(lagP99, 50)), max: Math.max(...samples.map((s) => s.lagMaxMs)) },
    server_counters: {
      requestsByStatus: byLabel(lastScrape, 'onesam_request_duration_seconds_count', 'status'),
      cancelled: sumOf(lastScrape, 'onesam_requests_cancelled_total'),
      errorsByCode, sessionsOpened: sumOf(lastScrape, 'onesam_sessions_opened_total'),
      sessionsDropped: byLabel(lastScrape, 'onesam_sessions_dropped_total', 'reason'),
    },
    serverErrorLogLines: Object.fromEntries(server.errorLogs),
    shutdown: stop,
    files: { samples: samplesCsv, requests: requestsCsv, serverLog: join(options.out, 'server.log') },
  };
  writeFileSync(join(options.out, 'summary.json'), `${JSON.stringify(summary, null, 2)}\n`);
  process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
  const clean = unexpected.length === 0 && stop?.code === 0 && server.errorLogs.size === 0;
  return clean ? 0 : 1;
}

main().then((code) => { process.exitCode = code; }, (err: unknown) => {
  process.stderr.write(`bench/soak: ${(err as Error).stack ?? String(err)}\n`);
  process.exitCode = 2;
});
