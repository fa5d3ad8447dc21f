// `onesam segment <in.npz> -o <out.npz>`: a challenge case through the pipeline, in-process or over gRPC.
import { randomUUID } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { fileURLToPath } from 'node:url';
import { challengeCase } from '../pipeline/challenge.ts';
import { PipelineError } from '../pipeline/errors.ts';
import { createSegmenter } from '../pipeline/index.ts';
import { DEFAULT_ROUTING, modalityFromFileName, parseModality } from '../pipeline/router.ts';
import { planRequest } from '../pipeline/plan.ts';
import type { EnsembleMode, SegmentationRequest, SegmentationResult } from '../pipeline/types.ts';
import { decodeLimits, type DecodeLimits } from '../volume/limits.ts';
import { readNpz, writeNpz } from '../volume/npz.ts';
import { loadConfig } from '../config/load.ts';
import { parseFlags, positiveInt, UsageError } from './args.ts';

const MODES: readonly EnsembleMode[] = ['route', 'litemedsam', 'onesam', 'fuse'];
export const DEFAULT_MODELS_DIR = fileURLToPath(new URL('../../models', import.meta.url));

export interface SegmentSummary {
  readonly case: string;
  readonly modality: string | null;
  readonly mode: EnsembleMode;
  readonly shape: readonly number[];
  readonly labelDtype: 'uint8' | 'uint16';
  readonly objects: readonly { label: number; networks: readonly string[]; voxels: number; slices: readonly [number, number] }[];
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
    objects: result.objects.map((o) => ({ label: o.label, networks: o.networks, voxels: o.voxels, slices: o.slices })),
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
      process.stderr.write(`onesam segment: ${e.message}\nusage: onesam segment <in.npz> -o <out.npz> [--modality M] [--model ${MODES.join('|')}] [--json] [--server HOST:PORT [--tls-ca PEM] [--tls-cert PEM --tls-key PEM]]\n`);
      return 2;
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
    const segmenter = await createSegmenter({
      modelsDir: values.models ?? process.env['ONESAM_MODELS_DIR'] ?? DEFAULT_MODELS_DIR,
      ...(workers ? { workers } : {}), ...(threads ? { intraOpThreads: threads } : {}),
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
  }
  return 0;
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
