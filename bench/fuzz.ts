// The long fuzz run: the cases of test/integration/fuzz.test.ts (test/helpers/fuzz-cases.ts), >= 10,000 of them,
// against `onesam serve` with the embedded demo models, started here as a child process so that a crash is a
// real process exit. Reports statuses by gRPC status and by onesam-error-code, INTERNAL/UNKNOWN calls, property
// violations (with a replayable case), crashes (the server process exited), health checks that were not SERVING,
// the server's RSS before and after (and its peak), the duration, the CPU model and the commit.
//
//   npm run bench:fuzz -- [--cases 10000] [--seed 20261130] [--concurrency 4] [--mix hostile|test]
//                         [--workers W --threads T] [--out result.json] [--json]
//
// --mix test draws cases as the test does (about a quarter end OK, each costing encoder runs); the default
// `hostile` mix weighs damaged families up and undamaged requests down (about one case in thirty is segmented),
// so 10,000 cases take under an hour, not hours, on a loaded 2-core machine. Both mixes use every family. With --out, the
// file is rewritten with the figures so far every 30 s ("partial": true) and with the final ones at the end.
//
// The exit code is 1 when any case broke the property, the server crashed, health left SERVING or the
// known-good request at the end failed.
import { spawn, type ChildProcess } from 'node:child_process';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import * as grpc from '@grpc/grpc-js';
import fc from 'fast-check';
import { loadSegmentationProto } from '../src/protocol/proto.ts';
import {
  DEFAULT_WEIGHTS, FuzzTally, fuzzCaseArbitrary, knownGoodCase, oversizedMessageCase, rawSegmentClient, runCase, type FamilyWeights, type FuzzCase,
} from '../test/helpers/fuzz-cases.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CALL_TIMEOUT_MS = 180_000;
const HEALTH_EVERY = 250;
/** The server's default maxMessageBytes (src/config/schema.ts); the spawned server keeps its defaults. */
const MAX_MESSAGE_BYTES = 8 * 1024 * 1024;
const MIXES: Readonly<Record<string, FamilyWeights>> = Object.freeze({
  test: DEFAULT_WEIGHTS,
  // About 3.4 % of these cases are segmented (measured on 3,000 against the fake segmenter), against 20-25 % in the
  // test's mix: on a loaded 2-core machine a segmentation cost ~7 s of the run's wall time, a refusal ~0.05 s.
  hostile: { valid: 1, headerField: 1, payload: 5, payloadBytes: 1, sequence: 6, headerRandom: 24, rawMessages: 16, formatSwap: 8 },
});

interface Options {
  readonly cases: number;
  readonly seed: number;
  readonly concurrency: number;
  readonly mix: string;
  readonly workers?: number;
  readonly threads?: number;
  readonly out?: string;
  readonly json: boolean;
}

function parseOptions(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      cases: { type: 'string', default: '10000' }, seed: { type: 'string', default: '20261130' }, concurrency: { type: 'string', default: '4' },
      mix: { type: 'string', default: 'hostile' }, workers: { type: 'string' }, threads: { type: 'string' }, out: { type: 'string' }, json: { type: 'boolean', default: false },
    },
  });
  const int = (name: string, text: string | undefined, min: number): number => {
    const n = Number(text);
    if (!Number.isSafeInteger(n) || n < min) throw new Error(`--${name} must be an integer >= ${min}, got ${text}`);
    return n;
  };
  if (!(values.mix! in MIXES)) throw new Error(`--mix must be one of ${Object.keys(MIXES).join(', ')}, got ${values.mix}`);
  return {
    mix: values.mix!,
    cases: int('cases', values.cases, 1), seed: int('seed', values.seed, 0), concurrency: int('concurrency', values.concurrency, 1),
    ...(values.workers ? { workers: int('workers', values.workers, 1) } : {}), ...(values.threads ? { threads: int('threads', values.threads, 1) } : {}),
    ...(values.out ? { out: values.out } : {}), json: values.json,
  };
}

interface Server {
  readonly child: ChildProcess;
  readonly address: string;
  readonly metricsUrl: string;
  readonly describe: string;
  /** Set when the process exited: its code or signal. */
  exit: string | undefined;
  /** Log lines at level error or fatal. */
  readonly errorLines: string[];
  /** 'segment done' lines by network: what the run cost in real segmentations. */
  readonly segmented: Map<string, number>;
  readonly exited: Promise<void>;
}

async function startServer(options: Options): Promise<Server> {
  const args = ['bin/onesam.mjs', 'serve', '--host', '127.0.0.1', '--port', '0', '--metrics-port', '0', '--log-level', 'info'];
  if (options.workers) args.push('--workers', String(options.workers));
  if (options.threads) args.push('--threads', String(options.threads));
  const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
  const server: Partial<Server> & { errorLines: string[]; segmented: Map<string, number>; exit: string | undefined } = { child, errorLines: [], segmented: new Map(), exit: undefined };
  const exited = new Promise<void>((resolve) => child.on('exit', (code, signal) => {
    server.exit = signal ? `signal ${signal}` : `code ${code}`;
    resolve();
  }));
  const ports = await new Promise<{ grpcPort: number; metricsPort: number; workers: number; intraOpThreads: number }>((resolve, reject) => {
    let listening: { grpcPort: number; metricsPort: number; workers: number; intraOpThreads: number } | undefined;
    createInterface({ input: child.stdout! }).on('line', (line) => {
      let entry: Record<string, unknown>;
      try {
        entry = JSON.parse(line) as Record<string, unknown>;
      } catch {
        return;
      }
      if (entry['level'] === 'error' || entry['level'] === 'fatal') server.errorLines.push(line);
      if (entry['msg'] === 'segment done') server.segmented.set(String(entry['network']), (server.segmented.get(String(entry['network'])) ?? 0) + 1);
      if (entry['msg'] === 'listening') listening = entry as unknown as typeof listening;
      if (entry['msg'] === 'serving' && listening) resolve(listening);
    });
    void exited.then(() => reject(new Error(`the server exited (${server.exit}) before serving`)));
  });
  return Object.assign(server, {
    address: `127.0.0.1:${ports.grpcPort}`,
    metricsUrl: `http://127.0.0.1:${ports.metricsPort}/metrics`,
    describe: `onesam serve (child process ${child.pid}), demo models, ${ports.workers} workers x ${ports.intraOpThreads} intra-op threads`,
    exited,
  }) as Server;
}

/** The server's resident set from /proc (covers its worker threads: they share the process). */
function rssMiB(pid: number): number | undefined {
  try {
    const kb = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return kb ? Math.round(Number(kb) / 1024) : undefined;
  } catch {
    return undefined;
  }
}

function health(address: string): Promise<string> {
  const grpcType = loadSegmentationProto().grpcType as unknown as { grpc: { health: { v1: { Health: new (a: string, c: grpc.ChannelCredentials) => grpc.Client & { check(r: { service: string }, o: grpc.CallOptions, cb: (e: grpc.ServiceError | null, r?: { status: string }) => void): void } } } } };
  const client = new grpcType.grpc.health.v1.Health(address, grpc.credentials.createInsecure());
  return new Promise<string>((resolve) => {
    client.check({ service: '' }, { deadline: Date.now() + 10_000 }, (err, res) => {
      client.close();
      resolve(err ? `error ${grpc.status[err.code] ?? err.code}` : res!.status);
    });
  });
}

/** onesam_errors_total by code, and the gauges that explain the server's memory (sessions, embeddings). */
async function scrapeServer(url: string): Promise<{ errors: Record<string, number>; memory: Record<string, number> }> {
  const errors: Record<string, number> = {};
  const memory: Record<string, number> = {};
  try {
    for (const line of (await (await fetch(url)).text()).split('\n')) {
      const m = /^onesam_errors_total\{code="([^"]+)"\} (\S+)$/.exec(line);
      if (m) errors[m[1]!] = Number(m[2]);
      const g = /^(onesam_sessions|onesam_session_volume_bytes|onesam_embedding_bytes) (\S+)$/.exec(line);
      if (g) memory[g[1]!] = Number(g[2]);
    }
  } catch {
    // A dead server has no metrics; the crash is reported on its own.
  }
  return { errors, memory };
}

function commit(): string {
  // A run from an exported tree (git archive) names its commit here.
  if (process.env['ONESAM_COMMIT']) return process.env['ONESAM_COMMIT'];
  try {
    const sha = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no', '--', 'src', 'bin', 'proto'], { cwd: ROOT, encoding: 'utf8' }).trim() !== '';
    return dirty ? `${sha} (with uncommitted changes in src/)` : sha;
  } catch {
    return 'unknown';
  }
}

async function main(): Promise<number> {
  const options = parseOptions(process.argv.slice(2));
  const started = performance.now();
  const server = await startServer(options);
  const client = rawSegmentClient(server.address);
  const tally = new FuzzTally();
  const healthFailures: string[] = [];
  let peakRss = 0;
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, rssMiB(server.child.pid!) ?? 0)), 500);
  try {
    // Warm-up: one known-good request loads every lazy path, so "before" is the serving baseline.
    const warm = await runCase(client, knownGoodCase(), { timeoutMs: CALL_TIMEOUT_MS });
    if (warm.code !== grpc.status.OK) throw new Error(`the known-good request failed before the run: ${warm.details}`);
    const rssBefore = rssMiB(server.child.pid!);
    const memoryBefore = (await scrapeServer(server.metricsUrl)).memory;
    const cases: FuzzCase[] = [oversizedMessageCase(MAX_MESSAGE_BYTES), ...fc.sample(fuzzCaseArbitrary(MIXES[options.mix]), { seed: options.seed, numRuns: options.cases - 1 })];
    const fuzzStart = performance.now();
    let next = 0;
    let lastReport = performance.now();
    const familyMs = new Map<string, { n: number; ms: number }>();
    const worker = async (): Promise<void> => {
      while (next < cases.length && server.exit === undefined) {
        const i = next++;
        const c = cases[i]!;
        cases[i] = undefined as unknown as FuzzCase; // let its bytes go
        const outcome = await runCase(client, c, { timeoutMs: CALL_TIMEOUT_MS });
        const why = tally.add(c, outcome);
        const f = familyMs.get(c.family.replace(/\+cancel$/, '')) ?? { n: 0, ms: 0 };
        familyMs.set(c.family.replace(/\+cancel$/, ''), { n: f.n + 1, ms: f.ms + outcome.ms });
        if (why) process.stderr.write(`case ${i} (${c.family}): ${why}\n`);
        if (tally.cases % HEALTH_EVERY === 0) {
          const h = await health(server.address);
          if (h !== 'SERVING') healthFailures.push(`after ${tally.cases} cases: ${h}`);
        }
        if (!options.json && performance.now() - lastReport > 30_000) {
          lastReport = performance.now();
          process.stderr.write(`${tally.cases}/${cases.length} cases, ${Math.round((performance.now() - fuzzStart) / 1000)} s, ${tally.violations.length} violations, RSS ${rssMiB(server.child.pid!)} MiB\n`);
        }
      }
    };
    const figures = (end: { finalHealth: string; good: string; rssAfter: number | undefined } | undefined): Record<string, unknown> => {
      const fuzzSeconds = (performance.now() - fuzzStart) / 1000;
      return {
        ...(end ? {} : { partial: true }),
        cases: tally.cases,
        seed: options.seed,
        mix: options.mix,
        concurrency: options.concurrency,
        durationSeconds: Math.round(fuzzSeconds),
        casesPerSecond: Math.round((tally.cases / fuzzSeconds) * 10) / 10,
        byStatus: Object.fromEntries([...tally.byStatus].sort((a, b) => b[1] - a[1])),
        byErrorCode: Object.fromEntries([...tally.byCode].sort((a, b) => b[1] - a[1])),
        families: Object.fromEntries([...familyMs].sort((a, b) => b[1].n - a[1].n).map(([k, v]) => [k, { cases: v.n, meanMs: Math.round(v.ms / v.n) }])),
        segmentedByNetwork: Object.fromEntries(server.segmented),
        undamagedOk: `${tally.validOk}/${tally.valid}`,
        internalOrUnknown: (tally.byStatus.get('INTERNAL') ?? 0) + (tally.byStatus.get('UNKNOWN') ?? 0),
        violations: tally.violations.length,
        firstViolations: tally.violations.slice(0, 10),
        crashes: server.exit === undefined ? 0 : 1,
        serverExit: server.exit ?? null,
        healthChecks: { every: HEALTH_EVERY, notServing: healthFailures, ...(end ? { final: end.finalHealth } : {}) },
        ...(end ? { knownGoodAfter: end.good } : {}),
        serverErrorLogLines: server.errorLines.length,
        rssMiB: { before: rssBefore, ...(end ? { after: end.rssAfter } : { now: rssMiB(server.child.pid!) }), peak: peakRss },
        server: server.describe,
        cpu: cpus()[0]?.model ?? 'unknown',
        cores: cpus().length,
        node: process.version,
        commit: commit(),
        wallSeconds: Math.round((performance.now() - started) / 1000),
        at: new Date().toISOString(),
      };
    };
    const snapshots = options.out ? setInterval(() => writeFileSync(options.out!, `${JSON.stringify(figures(undefined), null, 2)}\n`), 30_000) : undefined;
    try {
      await Promise.all(Array.from({ length: options.concurrency }, worker));
    } finally {
      clearInterval(snapshots);
    }
    const finalHealth = server.exit === undefined ? await health(server.address) : `process exited (${server.exit})`;
    const good = server.exit === undefined ? await runCase(client, knownGoodCase(), { timeoutMs: CALL_TIMEOUT_MS }) : undefined;
    const scraped = await scrapeServer(server.metricsUrl);
    const result = {
      ...figures({ finalHealth, good: good ? (grpc.status[good.code] ?? String(good.code)) : 'not run (server gone)', rssAfter: rssMiB(server.child.pid!) }),
      serverErrorsTotal: scraped.errors,
      // Sessions kept by keep_session cases and their cached embeddings are part of the RSS difference.
      memoryGauges: { before: memoryBefore, after: scraped.memory },
    };
    const text = JSON.stringify(result, null, options.json ? undefined : 2);
    process.stdout.write(`${text}\n`);
    if (options.out) writeFileSync(options.out, `${JSON.stringify(result, null, 2)}\n`);
    const ok = tally.violations.length === 0 && server.exit === undefined && healthFailures.length === 0 && finalHealth === 'SERVING' && good?.code === grpc.status.OK;
    return ok ? 0 : 1;
  } finally {
    clearInterval(sampler);
    client.close();
    if (server.exit === undefined) {
      server.child.kill('SIGTERM');
      await server.exited;
    }
  }
}

process.exitCode = await main();
