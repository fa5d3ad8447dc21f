// `onesam segment <in.npz> -o <out.npz>`: a challenge case through the pipeline, in-process or over gRPC.
import { randomUUID } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { challengeCase } from '../volume/challenge.ts';
import { PipelineError } from '../pipeline/errors.ts';
import { createSegmenter, type PipelineConfig } from '../pipeline/index.ts';
import { ConfigError } from '../config/errors.ts';
import { DEFAULT_ROUTING, modalityFromFileName, parseModality } from '../pipeline/router.ts';
import { planRequest } from '../pipeline/plan.ts';
import type { EnsembleMode, SegmentationRequest, SegmentationResult } from '../pipeline/types.ts';
import { decodeLimits, type DecodeLimits } from '../volume/limits.ts';
import { readNpz, writeNpz } from '../volume/npz.ts';
import { loadConfig } from '../config/load.ts';
import { DEFAULTS, defaultWorkers } from '../config/schema.ts';
import { parseFlags, positiveInt, UsageError } from './args.ts';

const MODES: readonly EnsembleMode[] = ['route', 'litemedsam', 'onesam', 'fuse'];
/** As `onesam serve` (sysexits.h EX_CONFIG): a setting is wrong, retrying will not help. */
const EXIT_CONFIG = 78;

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
  readonly objects: readonly ObjectLine[];
  readonly slicesEncoded: Readonly<Record<string, number>>;
  readonly stagesMs: Readonly<Record<string, number>>;
  readonly wallMs: number;
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
    stagesMs: Object.fromEntries(Object.entries(result.stages).map(([k, v]) => [k, round(v)])),
    wallMs: round(wallMs),
  };
}

export async function run(args: string[]): Promise<number> {
  try {
    return await segment(args);
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`onesam segment: ${e.message}\nusage: onesam segment <in.npz> -o <out.npz> [--modality M] [--model ${MODES.join('|')}] [--json] [--models DIR] [--network-models litemedsam=NAME,onesam=NAME] [--server HOST:PORT [--tls-ca PEM] [--tls-cert PEM --tls-key PEM]]\n`);
      return 2;
    }
    if (e instanceof ConfigError) {
      process.stderr.write(`onesam segment: ${e.message}\n`);
      return EXIT_CONFIG;
    }
    const code = (e as { code?: string }).code;
    process.stderr.write(`onesam segment: ${code ? `${code}: ` : ''}${(e as Error).message}\n`);
    return 1;
  }
}

/** TLS for `--server`: --tls-ca (server CA, PEM), with --tls-cert/--tls-key for mTLS. */
async function clientTls(values: { 'tls-ca'?: string; 'tls-cert'?: string; 'tls-key'?: string; 'tls-server-name'?: string }) {
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

async function segment(args: string[]): Promise<number> {
  const { values, positionals } = parseFlags(args, {
    output: { type: 'string', short: 'o' },
    modality: { type: 'string' },
    model: { type: 'string', default: 'route' },
    json: { type: 'boolean', default: false },
    server: { type: 'string' },
    models: { type: 'string' },
    'network-models': { type: 'string' },
    workers: { type: 'string' },
    threads: { type: 'string' },
    prompt: { type: 'string', default: 'auto' },
    'tls-ca': { type: 'string' },
    'tls-cert': { type: 'string' },
    'tls-key': { type: 'string' },
    'tls-server-name': { type: 'string' },
  });
  if (positionals.length !== 1) throw new UsageError('expected exactly one input .npz file');
  if (!values.output) throw new UsageError('missing -o <out.npz>');
  const mode = values.model as EnsembleMode;
  if (!MODES.includes(mode)) throw new UsageError(`--model must be one of ${MODES.join(', ')}, got "${values.model}"`);
  const prompt = values.prompt as 'auto' | 'boxes' | 'scribbles';
  if (!['auto', 'boxes', 'scribbles'].includes(prompt)) throw new UsageError(`--prompt must be auto, boxes or scribbles, got "${values.prompt}"`);
  const input = positionals[0]!;
  const modality = values.modality !== undefined ? parseModality(values.modality) : modalityFromFileName(input);
  if (values.modality !== undefined && !modality) throw new UsageError(`unknown modality "${values.modality}"`);

  // The models setting is checked before any input is read: a typo in it fails at once, naming the field.
  const settings = values.server ? undefined : pipelineSettings(process.env, { models: values.models, 'network-models': values['network-models'] });

  const t0 = performance.now();
  // The same decoded-size limits as the server's, so a bomb is refused here too instead of filling memory.
  const arrays = readNpz(new Uint8Array(await readFile(input)), input, { limits: decodeLimitsFromEnvironment(process.env) });
  const kase = challengeCase(arrays, input, prompt);
  // A random id, never the file name: challenge and PACS exports name files after the patient, and the id travels
  // to the server (and once went into its logs verbatim).
  const request: SegmentationRequest = {
    requestId: randomUUID(), image: kase.image, objects: kase.objects, mode, ...(modality ? { modality } : {}),
  };
  // Validate prompts against the image before loading any model: bad input fails fast with the field named.
  planRequest(request, DEFAULT_ROUTING);
  let result: SegmentationResult;
  if (values.server) {
    const { segmentRemote } = await import('../client/segment-remote.ts');
    result = await segmentRemote(values.server, request, await clientTls(values));
  } else {
    const workers = positiveInt(values.workers, '--workers');
    const threads = positiveInt(values.threads, '--threads');
    // --threads alone sizes the pool as the workers setting's default does for intraOpThreads.
    const intraOpThreads = threads ?? settings!.intraOpThreads;
    const segmenter = await createSegmenter({
      ...settings!,
      intraOpThreads,
      workers: workers ?? (threads ? defaultWorkers(threads) : settings!.workers),
    });
    try {
      result = await segmenter.segment(request);
    } finally {
      await segmenter.close();
    }
  }
  const { depth, height, width } = kase.image;
  const shape = kase.is3D ? [depth, height, width] : [height, width];
  const segs = result.labels instanceof Uint16Array
    ? { dtype: 'uint16' as const, shape, data: result.labels }
    : { dtype: 'uint8' as const, shape, data: result.labels };
  await writeFile(values.output, writeNpz(new Map([['segs', segs]]), { compress: true }));
  const summary = summarize(basename(input), request, result, shape, performance.now() - t0);
  if (values.json) {
    process.stdout.write(`${JSON.stringify(summary)}\n`);
  } else {
    process.stdout.write(`${summary.case}: ${summary.objects.length} objects, networks ${[...new Set(summary.objects.flatMap((o) => o.networks))].join('+') || '-'}, ` +
      `slices encoded ${Object.entries(summary.slicesEncoded).map(([k, v]) => `${k}=${v}`).join(' ')}, ${summary.wallMs} ms -> ${values.output}\n`);
    for (const o of summary.objects.filter((line) => line.quality !== 'OK')) {
      process.stdout.write(`  label ${o.label}: ${o.quality} (predicted IoU mean ${o.predictedIouMean.toFixed(2)}, min ${o.predictedIouMin.toFixed(2)})\n`);
    }
  }
  return 0;
}

/** Settings `onesam segment` shares with `onesam serve`: where the models are and which serve each network. */
const PIPELINE_ENV = ['ONESAM_CONFIG', 'ONESAM_MODELS_DIR', 'ONESAM_CACHE_DIR', 'ONESAM_MODELS', 'ONESAM_ROUTING'];

/**
 * The model repository, the `models` mapping and the routing overrides, from the same sources and with the same
 * checks as `onesam serve` (src/config/load.ts): `--models DIR` / ONESAM_MODELS_DIR, `--network-models` /
 * ONESAM_MODELS, ONESAM_CACHE_DIR, ONESAM_ROUTING and the ONESAM_CONFIG file. Throws ConfigError naming the field.
 * The pool and the embedding budget are the settings' defaults: only --workers and --threads change them here.
 */
export function pipelineSettings(env: Readonly<Record<string, string | undefined>>, flags: Readonly<Record<string, string | undefined>>): PipelineConfig {
  const { config } = loadConfig({ env: Object.fromEntries(PIPELINE_ENV.map((n) => [n, env[n]])), flags });
  return {
    modelsDir: config.modelsDir,
    ...(config.cacheDir !== undefined ? { cacheDir: config.cacheDir } : {}),
    models: config.models,
    routing: config.routing,
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

export { PipelineError };
