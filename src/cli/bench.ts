// `onesam bench`: the seed paper's workloads (Table 5 shapes) on synthetic volumes made here, through the same
// pipeline `onesam segment` runs in-process. Per pool shape it times each network's encoder and decoder; at the run
// shape it segments each volume end to end, and at one worker it segments it again under the reference schedule
// (SegmentOptions.schedule), so the speed-up is measured by the same code in the same run (bench/README.md,
// "bench: the paper's workloads").
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createSegmenter, type PipelineConfig, type PipelineSegmenter } from '../pipeline/index.ts';
import { networksFor } from '../pipeline/router.ts';
import { fallbackNetwork, servedNetworks, servingRoutingTable } from '../pipeline/serving.ts';
import type { SegmentOptions } from '../pipeline/segmenter.ts';
import type { EnsembleMode, SegmentationRequest } from '../pipeline/types.ts';
import { defaultWorkers } from '../config/schema.ts';
import { diceOf, labelCounts, maxLabel } from '../eval/dice.ts';
import { MAX_GAP_REDECODES, speedLevelProblem } from '../pipeline/speed-level.ts';
import type { NetworkName } from '../models/network-contract.ts';
import { parseFlags, positiveInt, reportFailure, UsageError } from './args.ts';
import {
  bestTimes, efficiency, median, necessaryMs, parseShape, poolBusy, poolShapes, round, shapeName,
  type NecessaryWork, type NetworkTiming, type PoolShape,
} from './bench-figures.ts';
import { machineInfo, MiB, RssSampler } from './bench-machine.ts';
import { timeNetwork } from './bench-networks.ts';
import { PAPER_CT, PAPER_MICROSCOPY, PAPER_MR, TINY_MR, syntheticMicroscopy, syntheticVolume, truthDice, type SyntheticCase } from './bench-volumes.ts';
import { MODES, pipelineSettings } from './segment.ts';

const VOLUMES = {
  ct: (seed: number) => syntheticVolume(PAPER_CT, seed),
  mr: (seed: number) => syntheticVolume(PAPER_MR, seed),
  microscopy: (seed: number) => syntheticMicroscopy(seed),
  tiny: (seed: number) => syntheticVolume(TINY_MR, seed),
} as const;
type VolumeName = keyof typeof VOLUMES;
const MODALITY_OF: Record<VolumeName, SyntheticCase['modality']> = { ct: PAPER_CT.modality, mr: PAPER_MR.modality, microscopy: PAPER_MICROSCOPY.modality, tiny: TINY_MR.modality };

export const BENCH_USAGE = `usage: onesam bench [--quick] [--json] [--volumes ct,mr,microscopy] [--model ${MODES.join('|')}]
                    [--workers W] [--threads T] [--shapes WxT,...] [--runs N] [--samples N] [--seed N] [--skip-reference]
                    [--speed-level N,...] [--models DIR] [--network-models NAME=MODEL,...]
                    [--gap-agreement D] [--gap-redecodes N] [--labels-out DIR] [--dice-against DIR]

Synthetic volumes of the paper's shapes: ct (287x512x512, 6 boxes over 31-121 slices), mr (115x400x400, 6 boxes),
microscopy (1536x2040 RGB, 19 boxes); tiny (6x64x64, 2 boxes) for tests. --quick: mr only, the run shape and the
reference shape only, 2 timing samples per worker. The run shape is --workers x --threads (default: one
single-thread worker per core, as onesam segment); the reference schedule runs on one worker with as many threads
(--skip-reference: not at all, for memory checks). --speed-level 2,4: each volume again at those levels on the run
shape, with the wall, the speed-up and the per-object Dice against the exact walk's labels of the same run
(--gap-agreement: the Dice under which a gap is walked exactly, default 0.8; --gap-agreement=-1: every gap
interpolated; --gap-redecodes: how often a gap's far slice is decoded again with its own mask's box, default 1;
--gap-agreement=-1 --gap-redecodes 0 is the plain walk: every N-th slice computed, every other one interpolated).
3D volumes also report each object's Dice against the ellipsoid it was drawn as (truth). --labels-out DIR writes
each volume's exact labels (DIR/<volume>.labels, one byte a voxel); --dice-against DIR scores this run's labels
(exact and each level) against those, e.g. an int8 model set against the fp32 run.
`;

interface VolumeFigures {
  readonly name: string;
  readonly shape: readonly number[];
  readonly objects: number;
  readonly networks: readonly NetworkName[];
  readonly wallMs: number;
  readonly slicesEncoded: number;
  readonly slicesNecessary: number;
  readonly promptsDecoded: number;
  readonly peakRssMB: number;
  readonly peakEmbeddingMB: number;
  /** Worker time in tasks over workers x wall, over all runs (bench-figures.ts poolBusy). */
  readonly poolBusy: number;
  /** At the RSS peak: the main thread's array buffers (volume, labels, embeddings) and the embeddings alone. */
  readonly atPeak: { readonly arrayBuffersMB: number; readonly embeddingsMB: number };
  readonly work: readonly NecessaryWork[];
  reference?: { readonly wallMs: number; readonly slicesEncoded: number; readonly peakRssMB: number };
  /** The labels of the last run (level 1), for the speed levels' Dice. */
  readonly labels: Uint8Array | Uint16Array;
  readonly slicesInterpolated: number;
  /** --speed-level: the same volume at each level, against the exact walk's labels of this run. */
  speedLevels?: SpeedLevelFigures[];
  /** Per-object Dice against the drawn ellipsoids (3D synthetic volumes). */
  truthDice?: DiceSummary;
  /** --dice-against: per-object Dice against the labels of another run (another model set). */
  againstDice?: DiceSummary;
}

interface DiceSummary { readonly min: number; readonly median: number }

interface SpeedLevelFigures {
  readonly level: number;
  readonly wallMs: number;
  readonly slicesEncoded: number;
  readonly slicesInterpolated: number;
  readonly speedup: number;
  /** Per-object Dice against the exact walk's labels (each object by its label value). */
  readonly diceMin: number;
  readonly diceMedian: number;
  readonly truthDice?: DiceSummary;
  readonly againstDice?: DiceSummary;
}

export async function run(args: string[]): Promise<number> {
  try {
    return await bench(args);
  } catch (e) {
    return reportFailure('onesam bench', BENCH_USAGE, e);
  }
}

function listFlag<T extends string>(text: string | undefined, allowed: readonly T[], flag: string): T[] | undefined {
  if (text === undefined) return undefined;
  const items = text.split(',').map((s) => s.trim()).filter(Boolean);
  for (const item of items) if (!allowed.includes(item as T)) throw new UsageError(`${flag} takes ${allowed.join(', ')}, got "${item}"`);
  if (items.length === 0) throw new UsageError(`${flag} needs at least one value`);
  return items as T[];
}

const log = (line: string): void => { process.stderr.write(`bench: ${line}\n`); };

async function bench(args: string[]): Promise<number> {
  const { values, positionals } = parseFlags(args, {
    quick: { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
    volumes: { type: 'string' },
    model: { type: 'string', default: 'route' },
    workers: { type: 'string' },
    threads: { type: 'string' },
    shapes: { type: 'string' },
    runs: { type: 'string' },
    samples: { type: 'string' },
    seed: { type: 'string' },
    'skip-reference': { type: 'boolean', default: false },
    'speed-level': { type: 'string' },
    models: { type: 'string' },
    'network-models': { type: 'string' },
    'gap-agreement': { type: 'string' },
    'gap-redecodes': { type: 'string' },
    'labels-out': { type: 'string' },
    'dice-against': { type: 'string' },
  }, false);
  void positionals;
  const mode = values.model as EnsembleMode;
  if (!MODES.includes(mode)) throw new UsageError(`--model must be one of ${MODES.join(', ')}, got "${values.model}"`);
  const volumes = listFlag(values.volumes, Object.keys(VOLUMES) as VolumeName[], '--volumes') ?? (values.quick ? ['mr'] : ['ct', 'mr', 'microscopy']);
  const runs = positiveInt(values.runs, '--runs') ?? 1;
  const speedLevels = (values['speed-level']?.split(',') ?? []).map((v) => {
    const problem = speedLevelProblem(Number(v));
    if (problem) throw new UsageError(`--speed-level ${problem.replace(/got .*$/, `got "${v}"`)}`);
    return Number(v);
  });
  const gapAgreement = values['gap-agreement'] === undefined ? undefined : Number(values['gap-agreement']);
  if (gapAgreement !== undefined && !(Number.isFinite(gapAgreement) && gapAgreement <= 1)) throw new UsageError(`--gap-agreement takes a Dice of at most 1 (below 0: interpolate every gap), got "${values['gap-agreement']}"`);
  const gapRedecodes = values['gap-redecodes'] === undefined ? undefined : Number(values['gap-redecodes']);
  if (gapRedecodes !== undefined && !(Number.isInteger(gapRedecodes) && gapRedecodes >= 0 && gapRedecodes <= MAX_GAP_REDECODES)) {
    throw new UsageError(`--gap-redecodes takes an integer from 0 to ${MAX_GAP_REDECODES}, got "${values['gap-redecodes']}"`);
  }
  const gapOptions: SegmentOptions = { ...(gapAgreement === undefined ? {} : { gapAgreement }), ...(gapRedecodes === undefined ? {} : { gapRedecodes }) };
  const samples = positiveInt(values.samples, '--samples') ?? (values.quick ? 2 : 4);
  const seed = values.seed === undefined ? 20261130 : Number(values.seed);
  if (!Number.isInteger(seed)) throw new UsageError(`--seed must be an integer, got "${values.seed}"`);
  const machine = machineInfo();
  const threads = positiveInt(values.threads, '--threads') ?? 1;
  const runShape: PoolShape = { workers: positiveInt(values.workers, '--workers') ?? defaultWorkers(threads, machine.cores), threads };
  const referenceShape: PoolShape = { workers: 1, threads: runShape.workers * runShape.threads };
  const listed = values.shapes?.split(',').map((s) => {
    const shape = parseShape(s);
    if (!shape) throw new UsageError(`--shapes takes WxT items (2x1,1x2), got "${s}"`);
    return shape;
  });
  const shapes = orderShapes(listed ?? (values.quick ? [] : poolShapes(machine.cores)), runShape, values['skip-reference'] ? runShape : referenceShape);

  const settings = pipelineSettings(process.env, { models: values.models, 'network-models': values['network-models'] });
  const served = servedNetworks(settings.models);
  const routing = servingRoutingTable(settings.routing, served);
  const networksOf = (name: VolumeName): readonly NetworkName[] => networksFor(mode, MODALITY_OF[name], routing, fallbackNetwork(served));
  const needed = [...new Set(volumes.flatMap(networksOf))];
  // Only the networks the volumes use are loaded: each worker then holds what `onesam segment` would use.
  const models = Object.fromEntries(needed.map((n) => [n, settings.models[n]]).filter(([, m]) => m !== undefined));
  const config: PipelineConfig = { ...settings, models };
  log(`${machine.cpuModel}, ${machine.cores} cores, ${machine.flags.join(' ') || 'no AVX flags'}; shapes ${shapes.map(shapeName).join(' ')}; volumes ${volumes.join(' ')}`);

  const cases = new Map<VolumeName, SyntheticCase>();
  const caseOf = (name: VolumeName): SyntheticCase => {
    let c = cases.get(name);
    if (!c) cases.set(name, (c = VOLUMES[name](seed)));
    return c;
  };
  const timings: NetworkTiming[] = [];
  const loads: { shape: string; loadMs: number }[] = [];
  const figures = new Map<VolumeName, VolumeFigures>();
  for (const shape of shapes) {
    const t0 = performance.now();
    const segmenter = await createSegmenter({ ...config, workers: shape.workers, intraOpThreads: shape.threads });
    loads.push({ shape: shapeName(shape), loadMs: round(performance.now() - t0) });
    try {
      const isRun = sameShape(shape, runShape);
      const isReference = sameShape(shape, referenceShape) && !values['skip-reference'];
      // End-to-end first, on a fresh pool: its peak RSS is what `onesam segment` would reach.
      if (isRun) {
        for (const name of volumes) {
          const c = caseOf(name);
          const against = values['dice-against'] === undefined ? undefined : readLabels(values['dice-against'], name, c);
          const scores = (labels: ArrayLike<number>): { truthDice?: DiceSummary; againstDice?: DiceSummary } => ({
            ...(c.image.depth > 1 ? { truthDice: summary(truthDice(c, labels)) } : {}),
            ...(against ? { againstDice: summary(objectDice(c, against, labels)) } : {}),
          });
          const exact = await endToEnd(segmenter, c, mode, runs, {});
          Object.assign(exact, scores(exact.labels));
          if (values['labels-out'] !== undefined) writeLabels(values['labels-out'], name, exact.labels);
          figures.set(name, exact);
          for (const level of speedLevels) {
            const f = await endToEnd(segmenter, c, mode, runs, gapOptions, level);
            const dice = summary(objectDice(c, exact.labels, f.labels));
            (exact.speedLevels ??= []).push({
              level, wallMs: round(f.wallMs), slicesEncoded: f.slicesEncoded, slicesInterpolated: f.slicesInterpolated,
              speedup: round(exact.wallMs / f.wallMs, 2), diceMin: dice.min, diceMedian: dice.median, ...scores(f.labels),
            });
          }
        }
      }
      if (isReference) {
        for (const name of volumes) {
          const f = await endToEnd(segmenter, caseOf(name), mode, runs, { schedule: 'reference' });
          figures.get(name)!.reference = { wallMs: f.wallMs, slicesEncoded: f.slicesEncoded, peakRssMB: f.peakRssMB };
        }
      }
      for (const network of needed) {
        const sample = timingSlices(volumes.find((v) => networksOf(v).includes(network))!, seed);
        timings.push(await timeNetwork(segmenter, shape, network, sample.image, sample.slices, samples));
      }
      log(`${shapeName(shape)} done (${timings.filter((t) => t.shape === shape).map((t) => `${t.network} ${round(t.encoderSliceMs)} ms/slice, ${round(t.decoderPromptMs)} ms/prompt`).join('; ')})`);
    } finally {
      await segmenter.close();
    }
  }
  const report = buildReport(machine, mode, runShape, referenceShape, values.quick === true, loads, timings, volumes.map((v) => figures.get(v)!));
  process.stdout.write(values.json ? `${JSON.stringify(report)}\n` : formatReport(report));
  return 0;
}

function sameShape(a: PoolShape, b: PoolShape): boolean {
  return a.workers === b.workers && a.threads === b.threads;
}

/** The run shape first (its end-to-end peak RSS is measured on a fresh process heap), the reference shape last. */
function orderShapes(listed: readonly PoolShape[], runShape: PoolShape, referenceShape: PoolShape): PoolShape[] {
  const rest = listed.filter((s) => !sameShape(s, runShape) && !sameShape(s, referenceShape));
  return [runShape, ...rest, ...(sameShape(runShape, referenceShape) ? [] : [referenceShape])];
}

/** A few slices of the volume's shape for the timing bursts (a 4-slice volume of the same plane; 2D: the image). */
function timingSlices(name: VolumeName, seed: number): { image: SyntheticCase['image']; slices: number[] } {
  if (name === 'microscopy') return { image: syntheticMicroscopy(seed).image, slices: [0] };
  const spec = name === 'ct' ? PAPER_CT : name === 'mr' ? PAPER_MR : TINY_MR;
  const image = syntheticVolume({ ...spec, depth: 4, zRanges: [[0, 3]] }, seed).image;
  return { image, slices: [0, 1, 2, 3] };
}

function summary(dice: readonly number[]): DiceSummary {
  return { min: round(Math.min(...dice), 4), median: round(median(dice), 4) };
}

/** --labels-out: a volume's exact labels, one byte a voxel (the synthetic volumes have at most 19 objects). */
function writeLabels(dir: string, name: string, labels: Uint8Array | Uint16Array): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, `${name}.labels`), Uint8Array.from(labels));
}

/**
 * --dice-against: labels written by --labels-out for the same volume (and seed). The size is checked before anything
 * is read: a wrong file (another volume, a device, a huge file) is refused by its size, not read into memory.
 */
function readLabels(dir: string, name: string, c: SyntheticCase): Uint8Array {
  const file = join(dir, `${name}.labels`);
  const { depth, height, width } = c.image;
  const expected = depth * height * width;
  let size: number;
  try {
    const stat = statSync(file);
    size = stat.isFile() ? stat.size : -1;
  } catch {
    throw new UsageError(`--dice-against: cannot read ${file} (write it with --labels-out)`);
  }
  if (size < 0) throw new UsageError(`--dice-against: ${file} is not a regular file (write it with --labels-out)`);
  if (size !== expected) throw new UsageError(`--dice-against: ${file} holds ${size} labels, the ${name} volume has ${expected}`);
  const bytes = new Uint8Array(readFileSync(file));
  // Changed between the check and the read: the same refusal.
  if (bytes.length !== expected) throw new UsageError(`--dice-against: ${file} holds ${bytes.length} labels, the ${name} volume has ${expected}`);
  return bytes;
}

/** Per object (by its label value): Dice of a speed level's labels against the exact walk's. */
function objectDice(c: SyntheticCase, exact: ArrayLike<number>, other: ArrayLike<number>): number[] {
  const counts = labelCounts(exact, other, Math.max(maxLabel(exact), maxLabel(other)));
  return c.objects.map((o) => diceOf(counts, o.label));
}

async function endToEnd(segmenter: PipelineSegmenter, c: SyntheticCase, mode: EnsembleMode, runs: number, options: SegmentOptions, speedLevel?: number): Promise<VolumeFigures> {
  const request: SegmentationRequest = {
    requestId: `bench-${c.name}`, image: c.image, objects: c.objects, modality: c.modality, mode, ...(speedLevel !== undefined ? { speedLevel } : {}),
  };
  const plan = segmenter.plan(request);
  const networks = [...new Set(plan.objects.flatMap((o) => o.networks))];
  const promptsOf = (n: NetworkName): number => plan.objects.filter((o) => o.networks.includes(n)).reduce((sum, o) => sum + o.slices[1] - o.slices[0] + 1, 0);
  const walls: number[] = [];
  let peakRss = { rssBytes: 0, arrayBufferBytes: 0, embeddingBytes: 0 };
  let peakEmbeddings = 0;
  let encoded = 0;
  let labels: Uint8Array | Uint16Array = new Uint8Array(0);
  let interpolated = 0;
  let workerMs = 0;
  for (let r = 0; r < runs; r++) {
    segmenter.budget.peak = 0;
    const sampler = new RssSampler(() => segmenter.budget.inUse);
    const t0 = performance.now();
    const result = await segmenter.segment(request, { plan, ...options });
    walls.push(performance.now() - t0);
    const peak = sampler.stop();
    if (peak.rssBytes > peakRss.rssBytes) peakRss = peak;
    peakEmbeddings = Math.max(peakEmbeddings, segmenter.budget.peak);
    encoded = Object.values(result.slicesEncoded).reduce((a, b) => a + b, 0);
    labels = result.labels;
    interpolated = result.slicesInterpolated;
    const { preprocess, encode, decode, postprocess } = result.stages;
    workerMs += preprocess + encode + decode + postprocess;
    log(`${c.name}${options.schedule === 'reference' ? ' (reference schedule)' : ''}${speedLevel ? ` (speed level ${speedLevel})` : ''}: ${round(walls.at(-1)! / 1000)} s, ${encoded} slices encoded, peak RSS ${round(peakRss.rssBytes / MiB, 0)} MiB (array buffers ${round(peakRss.arrayBufferBytes / MiB, 0)} MiB, embeddings ${round(peakRss.embeddingBytes / MiB, 0)} MiB)`);
  }
  const { depth, height, width, channels } = c.image;
  return {
    name: c.name, shape: channels === 3 ? [height, width, 3] : [depth, height, width], objects: c.objects.length, networks,
    wallMs: median(walls), slicesEncoded: encoded,
    slicesNecessary: networks.reduce((sum, n) => sum + plan.slicesToEncode[n], 0),
    promptsDecoded: networks.reduce((sum, n) => sum + promptsOf(n), 0),
    peakRssMB: peakRss.rssBytes / MiB, peakEmbeddingMB: peakEmbeddings / MiB,
    poolBusy: poolBusy(workerMs, segmenter.poolStats().workers, walls.reduce((a, b) => a + b, 0)),
    atPeak: { arrayBuffersMB: round(peakRss.arrayBufferBytes / MiB, 0), embeddingsMB: round(peakRss.embeddingBytes / MiB, 0) },
    work: networks.map((n) => ({ network: n, slices: plan.slicesToEncode[n], prompts: promptsOf(n) })),
    labels, slicesInterpolated: interpolated,
  };
}

type Report = ReturnType<typeof buildReport>;

function buildReport(machine: ReturnType<typeof machineInfo>, mode: EnsembleMode, runShape: PoolShape, referenceShape: PoolShape, quick: boolean,
  loads: readonly { shape: string; loadMs: number }[], timings: readonly NetworkTiming[], volumes: readonly VolumeFigures[]) {
  const best = bestTimes(timings);
  const perVolume = volumes.map((v) => {
    const { work, reference, labels: _labels, ...rest } = v;
    return {
      ...rest,
      wallMs: round(v.wallMs), peakRssMB: round(v.peakRssMB, 0), peakEmbeddingMB: round(v.peakEmbeddingMB, 0),
      necessaryMs: round(necessaryMs(work, best)),
      efficiency: round(efficiency(necessaryMs(work, best), v.wallMs), 3),
      poolBusy: round(v.poolBusy, 3),
      ...(reference ? {
        reference: { wallMs: round(reference.wallMs), slicesEncoded: reference.slicesEncoded, peakRssMB: round(reference.peakRssMB, 0) },
        speedupVsReference: round(reference.wallMs / v.wallMs, 2),
      } : {}),
    };
  });
  const headline = perVolume[0]!;
  const perNetwork = (key: 'encoderSliceMs' | 'decoderPromptMs') => Object.fromEntries(Object.entries(best).map(([n, b]) => [n, round(b[key])]));
  return {
    machine, mode, quick, runShape: shapeName(runShape), referenceShape: shapeName(referenceShape),
    // The headline figures are the first volume's (ct in a full run, mr with --quick).
    volume: headline.name,
    encoderSliceMs: perNetwork('encoderSliceMs'),
    decoderPromptMs: perNetwork('decoderPromptMs'),
    wallMs: headline.wallMs,
    efficiency: headline.efficiency,
    poolBusy: headline.poolBusy,
    speedupVsReference: headline.speedupVsReference ?? null,
    peakRssMB: headline.peakRssMB,
    peakEmbeddingMB: headline.peakEmbeddingMB,
    slicesEncoded: headline.slicesEncoded,
    promptsDecoded: headline.promptsDecoded,
    loads,
    timings: timings.map((t) => ({
      network: t.network, shape: shapeName(t.shape),
      encoderSliceMs: round(t.encoderSliceMs), encoderLatencyMs: round(t.encoderLatencyMs),
      decoderPromptMs: round(t.decoderPromptMs), decoderLatencyMs: round(t.decoderLatencyMs),
    })),
    volumes: perVolume,
  };
}

function diceText(what: string, d: DiceSummary | undefined): string {
  return d ? `, per-object Dice ${what} min ${d.min} / median ${d.median}` : '';
}

function formatReport(r: Report): string {
  const lines = [
    `machine: ${r.machine.cpuModel}, ${r.machine.cores} cores, flags ${r.machine.flags.join(' ') || '-'}, node ${r.machine.node}`,
    `mode ${r.mode}; run shape ${r.runShape} (workers x threads), reference schedule on ${r.referenceShape}${r.quick ? '; --quick' : ''}`,
    '',
    'network     shape  encoder ms/slice (1 worker)  decoder ms/prompt (1 worker)',
    ...r.timings.map((t) => `${t.network.padEnd(11)} ${t.shape.padEnd(6)} ${String(t.encoderSliceMs).padStart(8)} (${t.encoderLatencyMs})`.padEnd(47) +
      `${String(t.decoderPromptMs).padStart(8)} (${t.decoderLatencyMs})`),
    '',
    'volume      shape            wall s  slices  prompts  efficiency  pool busy  reference wall s (slices)  speed-up  peak RSS MiB  peak embeddings MiB',
    ...r.volumes.map((v) => `${v.name.padEnd(11)} ${v.shape.join('x').padEnd(16)} ${String(round(v.wallMs / 1000)).padStart(6)}  ${String(v.slicesEncoded).padStart(6)}  ${String(v.promptsDecoded).padStart(7)}  ` +
      `${String(v.efficiency).padStart(10)}  ${String(v.poolBusy).padStart(9)}  ${(v.reference ? `${round(v.reference.wallMs / 1000)} (${v.reference.slicesEncoded})` : '-').padStart(25)}  ` +
      `${String(v.speedupVsReference ?? '-').padStart(8)}  ${String(v.peakRssMB).padStart(12)}  ${String(v.peakEmbeddingMB).padStart(19)}`),
    ...r.volumes.flatMap((v) => (v.speedLevels ?? []).map((l) => `${v.name} at speed level ${l.level}: ${round(l.wallMs / 1000)} s (${l.speedup}x), ` +
      `${l.slicesEncoded} slices encoded, ${l.slicesInterpolated} interpolated, per-object Dice vs level 1 min ${l.diceMin} / median ${l.diceMedian}` +
      `${diceText('vs truth', l.truthDice)}${diceText('vs --dice-against', l.againstDice)}`)),
    ...r.volumes.filter((v) => v.truthDice || v.againstDice).map((v) => `${v.name} exact walk:${diceText('vs truth', v.truthDice)}${diceText('vs --dice-against', v.againstDice)}`),
  ];
  return `${lines.join('\n')}\n`;
}
