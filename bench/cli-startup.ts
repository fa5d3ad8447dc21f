// `onesam segment` end to end, cold process each (issue 13): a single 2D case, the public cases as one folder, one
// 3D case, for one build or two side by side, run in turn (A B A B ...) so a drifting machine hits both alike; and
// the parts of a start-up, measured inside one fresh process.
//
//   node --import tsx bench/cli-startup.ts [--before OTHER/bin/onesam.mjs] [--repeat 3] [--parts] [--json]
//
// --before: another checkout's bin/onesam.mjs (e.g. main before this change). A build whose `segment` takes one
// input runs the folder as one process per case, and its folder time is their sum: what a person had to do.
// Peak RSS comes from /usr/bin/time -f %M when that exists (the largest process of the run).
import { execFile, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync } from 'node:fs';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs, promisify } from 'node:util';

const { values } = parseArgs({
  options: {
    before: { type: 'string' },
    after: { type: 'string', default: fileURLToPath(new URL('../bin/onesam.mjs', import.meta.url)) },
    repeat: { type: 'string', default: '3' },
    cases: { type: 'string', default: fileURLToPath(new URL('../../shared/reference/cases/public/imgs', import.meta.url)) },
    single: { type: 'string', default: '2DBox_US_0004.npz' },
    volume: { type: 'string', default: '3DBox_CT_0003.npz' },
    parts: { type: 'boolean', default: false },
    'parts-only': { type: 'boolean', default: false },
    'part-probe': { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
  },
});

const exec = promisify(execFile);
const TIME = '/usr/bin/time';
const hasTime = existsSync(TIME);
const median = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)]!;

interface Run { readonly wallS: number; readonly rssMb?: number; readonly code: number }

/** One cold process: wall time from spawn to exit, and its peak RSS. */
async function timed(bin: string, args: readonly string[]): Promise<Run> {
  const rssFile = join(out, `rss-${process.hrtime.bigint()}`);
  const [cmd, argv] = hasTime ? [TIME, ['-f', '%M', '-o', rssFile, process.execPath, bin, ...args]] : [process.execPath, [bin, ...args]];
  const t0 = performance.now();
  let code = 0;
  try {
    await exec(cmd, argv, { maxBuffer: 64 * 1024 * 1024 });
  } catch (e) {
    code = (e as { code?: number }).code ?? 1;
  }
  const wallS = (performance.now() - t0) / 1000;
  const rss = hasTime ? Number((await import('node:fs')).readFileSync(rssFile, 'utf8').trim().split('\n').pop()) / 1024 : undefined;
  return { wallS, code, ...(rss !== undefined && Number.isFinite(rss) ? { rssMb: rss } : {}) };
}

/** Whether a build's `segment` takes several inputs (this change) or one. */
function takesBatches(bin: string): boolean {
  const probe = spawnSync(process.execPath, [bin, 'segment', values.cases!, values.cases!, '-o', join(out, 'probe'), '--workers', 'x'], { encoding: 'utf8' });
  return !/exactly one input/.test(probe.stderr);
}

async function scenario(bin: string, name: 'single-2d' | 'folder' | 'volume-3d', tag: string): Promise<Run> {
  const cases = values.cases!;
  if (name === 'single-2d') return timed(bin, ['segment', join(cases, values.single!), '-o', join(out, `${tag}-single.npz`)]);
  if (name === 'volume-3d') return timed(bin, ['segment', join(cases, values.volume!), '-o', join(out, `${tag}-volume.npz`)]);
  if (batches.get(bin)) return timed(bin, ['segment', cases, '-o', join(out, `${tag}-segs`)]);
  // One process per case, as a folder had to be run before batches.
  const runs: Run[] = [];
  for (const file of readdirSync(cases).filter((f) => f.endsWith('.npz')).sort()) {
    runs.push(await timed(bin, ['segment', join(cases, file), '-o', join(out, `${tag}-${file}`)]));
  }
  return { wallS: runs.reduce((a, r) => a + r.wallS, 0), code: Math.max(...runs.map((r) => r.code)), ...(hasTime ? { rssMb: Math.max(...runs.map((r) => r.rssMb ?? 0)) } : {}) };
}

/** Inside one fresh process: the parts of a start-up (what `--parts` prints), as JSON on stdout. */
async function probe(): Promise<void> {
  const parts: Record<string, number> = {};
  // Node's own start and the TypeScript loader, up to this module's first line.
  parts['node + loader start'] = performance.now();
  let t = performance.now();
  await import('../src/cli/segment.ts');
  parts['import the command and pipeline modules'] = performance.now() - t;
  const { openRepository } = await import('../src/models/repository.ts');
  const { DEFAULT_MODELS } = await import('../src/pipeline/serving.ts');
  const modelsDir = fileURLToPath(new URL('../models', import.meta.url));
  t = performance.now();
  const repo = await openRepository(modelsDir);
  parts['open the model repository (manifests)'] = performance.now() - t;
  const compiled = [];
  for (const [network, model] of Object.entries(DEFAULT_MODELS)) {
    const c = await repo.ensureCompiled(model);
    compiled.push(c);
    parts[`${network}: weights read + SHA-256`] = c.timings.readMs;
    parts[`${network}: graph cache check (graphs re-hashed)`] = c.timings.verifyMs;
  }
  const { WorkerPool } = await import('../src/workers/pool.ts');
  const { NETWORKS } = await import('../src/models/network-contract.ts');
  const cores = availableParallelism();
  t = performance.now();
  const pool = new WorkerPool({ models: {}, workers: 1, intraOpThreads: cores, queueLimit: 100, lazy: true });
  await pool.ready();
  parts[`lazy worker ready (thread, loader, onnxruntime import), 1 x ${cores}`] = performance.now() - t;
  const slice = { height: 480, width: 560, channels: 3 as const, pixels: new Uint8Array(480 * 560 * 3).map((_, i) => i % 251) };
  for (const c of compiled) {
    const network = c.manifest.architecture;
    pool.provide(network, { encoderPath: c.encoderPath, decoderPath: c.decoderPath });
    const contract = NETWORKS[network];
    const encode = async (): Promise<number> => {
      const t0 = performance.now();
      await pool.encode({
        kind: 'encode', network, slice, embedding: new SharedArrayBuffer(contract.embeddingFloats * 4),
        ...(contract.needsInterm ? { interm: new SharedArrayBuffer(contract.intermFloats * 4) } : {}),
      });
      return performance.now() - t0;
    };
    const first = await encode();
    const warm = median([await encode(), await encode(), await encode()]);
    parts[`${network}: sessions + first encode (cold)`] = first;
    parts[`${network}: encode, warm (median of 3)`] = warm;
    parts[`${network}: what a warm-up run adds (~first encode - session creation)`] = Number.NaN;
  }
  await pool.close();
  // Session creation alone, in this thread, as the worker makes them (options of segment-worker.ts).
  const ort = await import('onnxruntime-node');
  for (const c of compiled) {
    const network = c.manifest.architecture;
    t = performance.now();
    const options = { intraOpNumThreads: cores, interOpNumThreads: 1, graphOptimizationLevel: 'all' as const, executionMode: 'sequential' as const, enableCpuMemArena: false };
    const enc = await ort.InferenceSession.create(c.encoderPath, options);
    const dec = await ort.InferenceSession.create(c.decoderPath, options);
    const created = performance.now() - t;
    parts[`${network}: session creation (encoder + decoder)`] = created;
    parts[`${network}: what a warm-up run adds (~first encode - session creation)`] = parts[`${network}: sessions + first encode (cold)`]! - created;
    await enc.release();
    await dec.release();
  }
  process.stdout.write(`${JSON.stringify(parts)}\n`);
}

if (values['part-probe']) {
  await probe();
  process.exit(0);
}

const out = mkdtempSync(join(tmpdir(), 'onesam-cli-bench-'));
const builds = values.before ? [['before', values.before], ['after', values.after!]] as const : [['after', values.after!]] as const;
const batches = new Map(builds.map(([, bin]) => [bin, takesBatches(bin)]));
const repeat = Number(values.repeat);
const cpu = cpus()[0]?.model ?? 'unknown CPU';
const report: Record<string, Record<string, Run[]>> = {};
if (!values['parts-only']) {
  for (const name of ['single-2d', 'folder', 'volume-3d'] as const) {
    report[name] = {};
    for (let r = 0; r < repeat; r++) {
      for (const [tag, bin] of builds) {
        const run = await scenario(bin, name, tag);
        (report[name]![tag] ??= []).push(run);
        if (!values.json) process.stderr.write(`${name} ${tag} #${r + 1}: ${run.wallS.toFixed(2)} s${run.rssMb !== undefined ? `, ${Math.round(run.rssMb)} MB` : ''}${run.code ? ` (exit ${run.code})` : ''}\n`);
      }
    }
  }
}
/** Before and after must write the same masks: every output of the last runs compared by its `segs` array. */
async function compareMasks(): Promise<string> {
  if (builds.length < 2) return '';
  const { readNpz } = await import('../src/volume/npz.ts');
  const { readFileSync } = await import('node:fs');
  const segs = (path: string): Buffer => { const a = readNpz(new Uint8Array(readFileSync(path)), path).get('segs')!; return Buffer.from(a.data.buffer, a.data.byteOffset, a.data.byteLength); };
  const pairs: [string, string][] = [[join(out, 'before-single.npz'), join(out, 'after-single.npz')], [join(out, 'before-volume.npz'), join(out, 'after-volume.npz')]];
  for (const file of readdirSync(values.cases!).filter((f) => f.endsWith('.npz'))) {
    const where = (tag: string): string => (batches.get(builds.find(([t]) => t === tag)![1]) ? join(out, `${tag}-segs`, file) : join(out, `${tag}-${file}`));
    pairs.push([where('before'), where('after')]);
  }
  const present = pairs.filter(([a, b]) => existsSync(a) && existsSync(b));
  const differing = present.filter(([a, b]) => !segs(a).equals(segs(b))).map(([, b]) => b);
  return `masks: ${present.length - differing.length} of ${present.length} outputs identical (segs arrays)${differing.length ? `; differ: ${differing.join(', ')}` : ''}`;
}
const masks = values['parts-only'] ? '' : await compareMasks();
const parts: Record<string, number>[] = [];
if (values.parts || values['parts-only']) {
  for (let r = 0; r < repeat; r++) {
    const { stdout } = await exec(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), '--part-probe']);
    parts.push(JSON.parse(stdout.trim().split('\n').pop()!) as Record<string, number>);
  }
}
const load = (await import('node:os')).loadavg().map((x) => x.toFixed(1)).join(' ');
if (values.json) {
  process.stdout.write(`${JSON.stringify({ cpu, cores: availableParallelism(), load, report, parts, masks })}\n`);
} else {
  process.stdout.write(`${cpu}, ${availableParallelism()} cores, load average ${load}; medians of ${repeat} cold processes, in turn\n\n`);
  if (Object.keys(report).length) {
    const tags = builds.map(([tag]) => tag);
    process.stdout.write(`| job | ${tags.map((t) => `${t} wall (s) | ${t} peak RSS (MB)`).join(' | ')}${tags.length === 2 ? ' | after / before (median of pairs) |' : ' |'}\n`);
    process.stdout.write(`| --- |${' --- | --- |'.repeat(tags.length)}${tags.length === 2 ? ' --- |' : ''}\n`);
    for (const [name, byTag] of Object.entries(report)) {
      const cells = tags.map((t) => { const runs = byTag[t]!; return `${median(runs.map((x) => x.wallS)).toFixed(2)} | ${hasTime ? Math.round(median(runs.map((x) => x.rssMb ?? 0))) : '-'}`; });
      const ratio = tags.length === 2 ? ` | ${median(byTag['after']!.map((a, i) => a.wallS / byTag['before']![i]!.wallS)).toFixed(2)}` : '';
      process.stdout.write(`| ${name} | ${cells.join(' | ')}${ratio} |\n`);
    }
  }
  if (masks) process.stdout.write(`\n${masks}\n`);
  if (parts.length) {
    process.stdout.write(`\n| start-up part (this build, ${availableParallelism()} cores) | median (ms) | min (ms) |\n| --- | --- | --- |\n`);
    for (const key of Object.keys(parts[0]!)) {
      const xs = parts.map((p) => p[key]!);
      process.stdout.write(`| ${key} | ${Math.round(median(xs))} | ${Math.round(Math.min(...xs))} |\n`);
    }
  }
}
