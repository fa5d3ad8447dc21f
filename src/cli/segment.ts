// `onesam segment <input> -o <output>`: a challenge npz or a NIfTI file through the pipeline, in-process or over
// gRPC, with prompts from flags, a file or the npz itself, labels in the format the output's name asks for, a
// progress bar on a terminal and, on request, a picture of the result.
import { randomUUID } from 'node:crypto';
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { basename } from 'node:path';
import { createSegmenter, type PipelineConfig, type PipelineSegmenter } from '../pipeline/index.ts';
import { modalityFromDicom } from '../pipeline/dicom-modality.ts';
import { DEFAULT_ROUTING, modalityFromFileName, parseModality } from '../pipeline/router.ts';
import { planRequest } from '../pipeline/plan.ts';
import { speedLevelProblem } from '../pipeline/speed-level.ts';
import type { EnsembleMode, ProgressEvent, SegmentationRequest, SegmentationResult } from '../pipeline/types.ts';
import { decodeLimits, type DecodeLimits } from '../volume/limits.ts';
import { loadConfig } from '../config/load.ts';
import { pipelineConfig } from '../config/pipeline-config.ts';
import { DEFAULTS, defaultWorkers } from '../config/schema.ts';
import { NETWORK_NAMES } from '../models/network-contract.ts';
import { parseFlags, positiveInt, reportFailure, UsageError } from './args.ts';
import { batchMayWalk, batchOutputFormat, batchOutputs, expandInputs } from './batch-inputs.ts';
import { detectInputKind } from './input-kind.ts';
import { parseIntensityFlag } from './intensity-flag.ts';
import { checkOutputForInput, chooseOutputFormat, encodeOutput, type OutputFormat } from './output-format.ts';
import { cliSegOutput, type ServedNetwork } from './seg-output.ts';
import { overlayPng } from './overlay.ts';
import { BatchProgress, NO_PROGRESS, TerminalProgress, type ProgressCounts } from './progress.ts';
import { choosePoolShape } from './pool-shape.ts';
import { promptObjects, rebasePromptErrors } from './prompt-objects.ts';
import { readSegmentInput } from './segment-input.ts';
import { attachNegativeBoxValues, PROMPT_FLAGS, readPromptSpecs } from './segment-prompts.ts';
import { SEGMENT_USAGE } from './segment-usage.ts';

/** What --model takes: the ensemble modes. */
export const MODES: readonly EnsembleMode[] = ['route', ...NETWORK_NAMES, 'fuse'];

/** One object of `--json`: the Summary's ObjectResult, with the quality hint spelt as on the wire without its prefix. */
export interface ObjectLine {
  readonly label: number;
  readonly networks: readonly string[];
  readonly voxels: number;
  /** Slices the walks visited. */
  readonly slices: readonly [number, number];
  /** Slices holding the object's voxels; null when it has none. */
  readonly coveredSlices: readonly [number, number] | null;
  readonly predictedIouMean: number;
  readonly predictedIouMin: number;
  /** null when the input has no spacing (2D cases). */
  readonly volumeMl: number | null;
  readonly stoppedEarly: boolean;
  readonly quality: 'OK' | 'LOW_PREDICTED_IOU' | 'EMPTY';
}

export interface SegmentSummary {
  readonly case: string;
  readonly modality: string | null;
  readonly mode: EnsembleMode;
  readonly shape: readonly number[];
  readonly labelDtype: 'uint8' | 'uint16';
  /** The output's format (`raw`: little-endian labels of `shape` and `labelDtype`, nothing else). */
  readonly format?: string;
  /** The slices the --overlay picture shows, when one was asked for. */
  readonly overlaySlices?: readonly number[];
  readonly objects: readonly ObjectLine[];
  readonly slicesEncoded: Readonly<Record<string, number>>;
  /** The speed level the walks ran at (1: exact) and the object slices they interpolated. */
  readonly speedLevel: number;
  readonly slicesInterpolated: number;
  readonly stagesMs: Readonly<Record<string, number>>;
  readonly wallMs: number;
  /** In a batch: the file this case's labels went to. */
  readonly output?: string;
}

export function summarize(caseName: string, request: SegmentationRequest, result: SegmentationResult, shape: readonly number[], wallMs: number): SegmentSummary {
  const round = (x: number): number => Math.round(x * 10) / 10;
  return {
    case: caseName,
    modality: request.modality ?? null,
    mode: request.mode,
    shape,
    labelDtype: result.labels instanceof Uint16Array ? 'uint16' : 'uint8',
    objects: result.objects.map((o) => ({
      label: o.label, networks: o.networks, voxels: o.voxels, slices: o.slices, coveredSlices: o.covered ?? null,
      predictedIouMean: o.predictedIou.mean, predictedIouMin: o.predictedIou.min, volumeMl: o.volumeMl ?? null,
      stoppedEarly: o.stoppedEarly, quality: o.quality.toUpperCase() as ObjectLine['quality'],
    })),
    slicesEncoded: result.slicesEncoded,
    speedLevel: result.speedLevel,
    slicesInterpolated: result.slicesInterpolated,
    stagesMs: Object.fromEntries(Object.entries(result.stages).map(([k, v]) => [k, round(v)])),
    wallMs: round(wallMs),
  };
}

/** --speed-level N; unset: exact in-process, the server's speedLevel setting with --server. */
export function parseSpeedLevelFlag(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const problem = speedLevelProblem(Number(value));
  if (problem) throw new UsageError(`--speed-level ${problem.replace(/got .*$/, `got "${value}"`)}`);
  return Number(value);
}

export async function run(args: string[]): Promise<number> {
  try {
    return await segment(args);
  } catch (e) {
    return reportFailure('onesam segment', SEGMENT_USAGE, e);
  }
}

/** TLS for `--server`: --tls-ca (server CA, PEM), with --tls-cert/--tls-key for mTLS. */
export async function clientTls(values: { 'tls-ca'?: string; 'tls-cert'?: string; 'tls-key'?: string; 'tls-server-name'?: string }) {
  const { 'tls-ca': ca, 'tls-cert': cert, 'tls-key': key, 'tls-server-name': serverName } = values;
  if ((cert === undefined) !== (key === undefined)) throw new UsageError('--tls-cert and --tls-key go together');
  if (ca === undefined && cert === undefined) return {};
  return {
    tls: {
      ...(ca !== undefined ? { ca: await readFile(ca) } : {}),
      ...(cert !== undefined && key !== undefined ? { cert: await readFile(cert), key: await readFile(key) } : {}),
      ...(serverName !== undefined ? { serverName } : {}),
    },
  };
}

/** The flags of `onesam segment`. */
const SEGMENT_FLAGS = {
  output: { type: 'string', short: 'o' },
  format: { type: 'string' },
  ...PROMPT_FLAGS,
  intensity: { type: 'string' },
  overlay: { type: 'string' },
  modality: { type: 'string' },
  model: { type: 'string', default: 'route' },
  json: { type: 'boolean', default: false },
  server: { type: 'string' },
  models: { type: 'string' },
  'network-models': { type: 'string' },
  workers: { type: 'string' },
  threads: { type: 'string' },
  prompt: { type: 'string', default: 'auto' },
  series: { type: 'string' },
  'speed-level': { type: 'string' },
  'tls-ca': { type: 'string' },
  'tls-cert': { type: 'string' },
  'tls-key': { type: 'string' },
  'tls-server-name': { type: 'string' },
} as const;

type SegmentValues = ReturnType<typeof parseFlags<typeof SEGMENT_FLAGS>>['values'];

/** What every case of one command shares: the checked flags, one segmenter (made for the first case), the bar. */
interface SegmentJob {
  readonly values: SegmentValues;
  readonly mode: EnsembleMode;
  readonly prompt: 'auto' | 'boxes' | 'scribbles';
  readonly intensity: ReturnType<typeof parseIntensityFlag>;
  /** --speed-level, when given. */
  readonly speedLevel: number | undefined;
  readonly specs: Awaited<ReturnType<typeof readPromptSpecs>>;
  readonly named: ReturnType<typeof parseModality>;
  readonly settings: PipelineConfig | undefined;
  /** The in-process segmenter, created by the first case that runs (`walks`: whether that case walks a volume). */
  segmenter(walks: boolean): Promise<PipelineSegmenter>;
  readonly onProgress: { readonly onEvent: (event: ProgressEvent) => void; readonly onWire: (progress: ProgressCounts) => void };
}

async function segment(args: string[]): Promise<number> {
  const { values, positionals, tokens } = parseFlags(attachNegativeBoxValues(args), SEGMENT_FLAGS);
  if (positionals.length === 0) throw new UsageError('expected an input: a .npz, a .nii / .nii.gz file, a DICOM folder or file, or several of them or a folder of them');
  if (!values.output) throw new UsageError('missing -o <output> (.npz, .nii.gz, .nii, .raw, or .dcm for a DICOM SEG of a DICOM input)');
  const single = positionals.length === 1 ? await singleInput(positionals[0]!) : false;
  const format = single ? chooseOutputFormat(values.output, values.format) : undefined;
  if (!single && values.format !== undefined) chooseOutputFormat(values.output, values.format);
  if (values.overlay !== undefined && !single) throw new UsageError('--overlay draws one case: give a single input');
  if (values.overlay !== undefined && !values.overlay.toLowerCase().endsWith('.png')) throw new UsageError(`--overlay writes a PNG picture: name it .png, got "${values.overlay}"`);
  const mode = values.model as EnsembleMode;
  if (!MODES.includes(mode)) throw new UsageError(`--model must be one of ${MODES.join(', ')}, got "${values.model}"`);
  const prompt = values.prompt as 'auto' | 'boxes' | 'scribbles';
  if (!['auto', 'boxes', 'scribbles'].includes(prompt)) throw new UsageError(`--prompt must be auto, boxes or scribbles, got "${values.prompt}"`);
  const intensity = parseIntensityFlag(values.intensity);
  const speedLevel = parseSpeedLevelFlag(values['speed-level']);
  const specs = await readPromptSpecs(values.prompts, tokens);
  const named = values.modality !== undefined ? parseModality(values.modality) : undefined;
  if (values.modality !== undefined && !named) throw new UsageError(`unknown modality "${values.modality}"`);
  if (values.series !== undefined && !single) throw new UsageError('--series chooses a series of one DICOM folder: give a single input');

  // The models setting is checked before any input is read: a typo in it fails at once, naming the field.
  const settings = values.server ? undefined : pipelineSettings(process.env, { models: values.models, 'network-models': values['network-models'] });
  const flags = { workers: positiveInt(values.workers, '--workers'), threads: positiveInt(values.threads, '--threads') };

  const { inputs } = single ? { inputs: [positionals[0]!] } : await expandInputs(positionals);
  let created: Promise<PipelineSegmenter> | undefined;
  // On a terminal only: a pipe or a log file gets the result lines, not a stream of carriage returns.
  const bar = new TerminalProgress(process.stderr, process.stderr.isTTY === true && !values.json, NO_PROGRESS);
  const batchBar = single ? undefined : new BatchProgress(bar, inputs.length);
  const job: SegmentJob = {
    values, mode, prompt, intensity, speedLevel, specs, named, settings,
    segmenter: (walks) => {
      created ??= createSegmenter({
        ...settings!,
        ...choosePoolShape(single ? walks : batchMayWalk(inputs), flags, availableParallelism()),
        lazy: true,
      });
      return created;
    },
    onProgress: batchBar ?? bar,
  };
  try {
    if (single) {
      await segmentCase(job, positionals[0]!, values.output, format!, { bar }).catch((e: unknown) => {
        throw e instanceof SegmenterUnavailable ? e.cause : e;
      });
      return 0;
    }
    return await segmentBatch(job, inputs, values.output, batchBar!);
  } finally {
    bar.clear();
    if (created) await (await created.catch(() => undefined))?.close();
  }
}

/** One input that is a file or a DICOM folder: the command's original form, -o naming the output file. */
async function singleInput(path: string): Promise<boolean> {
  const { inputs, batch } = await expandInputs([path]).catch(() => ({ inputs: [path], batch: false }));
  return !batch && inputs.length === 1;
}

/**
 * A batch: each case written into the folder -o under its input's name, one line (or --json summary) per case. A
 * case that fails is reported with its code and the others go on; the exit code is 1 when any failed.
 */
async function segmentBatch(job: SegmentJob, inputs: readonly string[], outDir: string, progress: BatchProgress): Promise<number> {
  const kinds = await Promise.all(inputs.map(async (input) => detectInputKind(input).catch(() => undefined)));
  const formats = inputs.map((path, i) => batchOutputFormat(path, kinds[i] ?? 'npz', job.values.format));
  const outputs = batchOutputs(inputs.map((path, i) => ({ path, format: formats[i]! })), outDir);
  if ((await stat(outDir).catch(() => undefined))?.isFile()) throw new UsageError(`-o names a folder when there are several inputs; "${outDir}" is a file`);
  await mkdir(outDir, { recursive: true });
  const t0 = performance.now();
  const failed: string[] = [];
  for (const [i, input] of inputs.entries()) {
    try {
      await segmentCase(job, input, outputs[i]!, chooseOutputFormat(outputs[i]!, undefined), { batch: progress, index: i });
    } catch (e) {
      progress.clear();
      // Failing to load the networks at all ends the batch: every case would fail the same way.
      if (e instanceof SegmenterUnavailable) throw e.cause;
      const code = e instanceof UsageError ? 'USAGE' : ((e as { code?: string }).code ?? 'INTERNAL');
      failed.push(basename(input));
      if (job.values.json) process.stdout.write(`${JSON.stringify({ case: basename(input), output: outputs[i], error: { code, message: (e as Error).message } })}\n`);
      process.stderr.write(`onesam segment: ${basename(input)}: ${code}: ${(e as Error).message}\n`);
    }
  }
  if (!job.values.json) {
    process.stdout.write(`${inputs.length} cases, ${inputs.length - failed.length} segmented${failed.length ? `, ${failed.length} failed (${failed.join(', ')})` : ''}, ${Math.round(performance.now() - t0)} ms -> ${outDir}\n`);
  }
  return failed.length > 0 ? 1 : 0;
}

/** The segmenter could not be created: not one case's failure but the whole command's. */
class SegmenterUnavailable extends Error {
  constructor(readonly cause: unknown) {
    super('the segmenter could not be created');
  }
}

async function segmentCase(job: SegmentJob, input: string, output: string, format: OutputFormat,
  progressOf: { readonly bar: TerminalProgress } | { readonly batch: BatchProgress; readonly index: number }): Promise<void> {
  const { values, mode, prompt, intensity, speedLevel, specs, named } = job;
  const t0 = performance.now();
  const kind = await detectInputKind(input);
  checkOutputForInput(format, kind);
  let source = await readSegmentInput(input, kind, {
    intensity, limits: decodeLimitsFromEnvironment(process.env), promptsGiven: specs !== undefined, npzPrompt: prompt,
    ...(values.series !== undefined ? { series: values.series } : {}),
  });
  // In-process nothing is uploaded: let the input's bytes go before the pipeline runs (an int16 NIfTI or a framed
  // DICOM series of a 287 x 512 x 512 CT is 150 MiB, held until the labels were written).
  if (!values.server && source.upload) source = { ...source, upload: undefined };
  if (values.series !== undefined && kind !== 'dicom') throw new UsageError('--series chooses a series of a DICOM folder; this input is not DICOM');
  // --modality, else a DICOM input's Modality attribute, else a challenge file name's modality token.
  const modality = named ?? (kind === 'dicom' ? modalityFromDicom(source.dicomModality) : modalityFromFileName(input));
  const objects = specs
    ? promptObjects(specs, { dims: source.image, inputName: source.description, ...(source.dicom ? { dicom: source.dicom } : {}) })
    : source.fileObjects;
  if (!objects) throw new UsageError(`${source.description} carries no prompts: give --box or --prompts`);
  // A random id, never the file name: challenge and PACS exports name files after the patient, and the id travels
  // to the server (and once went into its logs verbatim).
  const request: SegmentationRequest = {
    requestId: randomUUID(), image: source.image, objects, mode, ...(modality ? { modality } : {}),
    ...(speedLevel !== undefined ? { speedLevel } : {}),
  };
  // Validate prompts against the image before loading any model: bad input fails fast with the field named (the
  // flag or file entry, for prompts the person gave).
  const plan = specs ? rebasePromptErrors(() => planRequest(request, DEFAULT_ROUTING), specs) : planRequest(request, DEFAULT_ROUTING);
  if ('bar' in progressOf) progressOf.bar.start({ ...NO_PROGRESS, objectsTotal: objects.length });
  else progressOf.batch.startCase(progressOf.index, objects.length);
  let result: SegmentationResult;
  /** The networks that ran the request, with their models and weights: a DICOM SEG names them. */
  let served: readonly ServedNetwork[] = [];
  if (values.server) {
    const { segmentRemote } = await import('../client/segment-remote.ts');
    result = await segmentRemote(values.server, request, {
      ...(await clientTls(values)), ...(source.upload ? { upload: source.upload } : {}), onProgress: job.onProgress.onWire,
    });
  } else {
    // A walk: more than one slice to encode (a lone slice is encoded fastest by one worker on every core).
    const walks = Math.max(0, ...Object.values(plan.slicesToEncode)) > 1;
    const segmenter = await job.segmenter(walks).catch((e: unknown) => { throw new SegmenterUnavailable(e); });
    result = await segmenter.segment(request, { onProgress: job.onProgress.onEvent });
    served = segmenter.networks().map((n) => ({ name: n.name, model: n.model, ...(n.info ? { weightsSha256: n.info.weightsSha256 } : {}) }));
  }
  if ('bar' in progressOf) progressOf.bar.clear();
  else progressOf.batch.clear();
  const shape = [...source.geometry.labelShape];
  if (values.server && format.encoding === 'dicom-seg') {
    const { remoteNetworks } = await import('../client/segment-remote.ts');
    served = await remoteNetworks(values.server, await clientTls(values));
  }
  const seg = format.encoding === 'dicom-seg' ? cliSegOutput(objects, specs, result, served) : undefined;
  await writeFile(output, encodeOutput(result.labels, source.geometry, format, seg));
  let overlaySlices: readonly number[] | undefined;
  if (values.overlay !== undefined) {
    const { png, montage } = overlayPng({ image: request.image, labels: result.labels, objects: request.objects });
    await writeFile(values.overlay, png);
    overlaySlices = montage.slices;
  }
  const summary: SegmentSummary = {
    ...summarize(basename(input), request, result, shape, performance.now() - t0),
    format: format.name,
    ...(overlaySlices ? { overlaySlices } : {}),
    ...('batch' in progressOf ? { output } : {}),
  };
  if (values.json) {
    process.stdout.write(`${JSON.stringify(summary)}\n`);
  } else {
    process.stdout.write(`${summary.case}: ${summary.objects.length} objects, networks ${[...new Set(summary.objects.flatMap((o) => o.networks))].join('+') || '-'}, ` +
      `slices encoded ${Object.entries(summary.slicesEncoded).map(([k, v]) => `${k}=${v}`).join(' ')}, ${summary.wallMs} ms -> ${output}` +
      `${format.name === 'raw' ? ` (${summary.labelDtype} little-endian, shape ${shape.join('x')})` : ''}${values.overlay !== undefined ? `, overlay ${values.overlay}` : ''}\n`);
    for (const o of summary.objects.filter((line) => line.quality !== 'OK')) {
      process.stdout.write(`  label ${o.label}: ${o.quality} (predicted IoU mean ${o.predictedIouMean.toFixed(2)}, min ${o.predictedIouMin.toFixed(2)})\n`);
    }
  }
}

/** Settings `onesam segment` shares with `onesam serve`: where the models are and which serve each network. */
const PIPELINE_ENV = ['ONESAM_CONFIG', 'ONESAM_MODELS_DIR', 'ONESAM_CACHE_DIR', 'ONESAM_MODELS', 'ONESAM_ROUTING', 'ONESAM_SPEED_LEVEL_GAPS'];

/**
 * The model repository, the `models` mapping and the routing overrides, from the same sources and with the same
 * checks as `onesam serve` (src/config/load.ts): `--models DIR` / ONESAM_MODELS_DIR, `--network-models` /
 * ONESAM_MODELS, ONESAM_CACHE_DIR, ONESAM_ROUTING and the ONESAM_CONFIG file. Throws ConfigError naming the field.
 * The pool and the embedding budget are the settings' defaults: only --workers and --threads change them here.
 */
export function pipelineSettings(env: Readonly<Record<string, string | undefined>>, flags: Readonly<Record<string, string | undefined>>): PipelineConfig {
  const { config } = loadConfig({ env: Object.fromEntries(PIPELINE_ENV.map((n) => [n, env[n]])), flags });
  // The server's own mapping (models, precisions, routing...); the pool and budget settings stay the defaults, which
  // the command sizes per job (pool-shape.ts), whatever a config file says for the server.
  return {
    ...pipelineConfig(config),
    workers: defaultWorkers(DEFAULTS.intraOpThreads),
    intraOpThreads: DEFAULTS.intraOpThreads,
    embeddingBudgetBytes: DEFAULTS.embeddingBudgetBytes,
    queueLimit: DEFAULTS.queueLimit,
  };
}

/**
 * The server's payload limits for files read in-process: maxPayloadBytes (as the decoded-bytes limit) and
 * maxVoxels from ONESAM_MAX_PAYLOAD_BYTES / ONESAM_MAX_VOXELS, validated as `onesam serve` validates them, else
 * their defaults. Only these two variables are read: the command has no use for the other settings.
 */
export function decodeLimitsFromEnvironment(env: Readonly<Record<string, string | undefined>>): DecodeLimits {
  const names = ['ONESAM_MAX_PAYLOAD_BYTES', 'ONESAM_MAX_VOXELS'];
  const { config } = loadConfig({ env: Object.fromEntries(names.map((n) => [n, env[n]])) });
  return decodeLimits({ maxDecodedBytes: config.maxPayloadBytes, maxVoxels: config.maxVoxels });
}
