// `onesam pacs`: a PACS from the command line over DICOMweb (docs/pacs.md). `studies` and `series` search it
// (QIDO-RS) through the endpoints this machine is configured with (the `pacs` setting: ONESAM_PACS or the
// ONESAM_CONFIG file); `segment` segments one series by its UIDs with the prompt flags of `onesam segment`, either
// in-process (the series retrieved here with WADO-RS, the SEG stored with STOW-RS by this command) or with
// `--server`, where the server retrieves and stores with its own endpoints and the pixels never pass through here.
import { randomUUID } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { loadConfig } from '../config/load.ts';
import { DicomwebClient } from '../pacs/client.ts';
import { PacsDirectory } from '../pacs/directory.ts';
import type { PacsEndpoint } from '../pacs/endpoint.ts';
import { modalityFromDicom } from '../pipeline/dicom-modality.ts';
import { createSegmenter } from '../pipeline/index.ts';
import { planRequest } from '../pipeline/plan.ts';
import { DEFAULT_ROUTING, parseModality } from '../pipeline/router.ts';
import type { EnsembleMode, Modality, SegmentationRequest, SegmentationResult } from '../pipeline/types.ts';
import { MAX_DICOM_INSTANCES } from '../volume/dicom/framing.ts';
import { defaultWorkers } from '../config/schema.ts';
import { parseFlags, positiveInt, reportFailure, UsageError } from './args.ts';
import { parseIntensityFlag } from './intensity-flag.ts';
import { chooseOutputFormat, encodeOutput, type OutputFormat } from './output-format.ts';
import { NO_PROGRESS, TerminalProgress } from './progress.ts';
import { promptObjects, rebasePromptErrors } from './prompt-objects.ts';
import type { PromptSpec } from './prompt-spec.ts';
import { cliSegOutput, type ServedNetwork } from './seg-output.ts';
import { readDicomInstances } from './segment-input.ts';
import { attachNegativeBoxValues, PROMPT_FLAGS, readPromptSpecs } from './segment-prompts.ts';
import { decodeLimitsFromEnvironment, MODES, parseSpeedLevelFlag, pipelineSettings, summarize } from './segment.ts';

const UID = /^[0-9]+(\.[0-9]+)*$/;

export const PACS_USAGE = `usage: onesam pacs <studies|series|segment> --endpoint NAME [options]
  studies  --endpoint NAME [--patient-id ID] [--date YYYYMMDD[-YYYYMMDD]] [--modality CT] [--accession N]
           [--match KEY=VALUE ...] [--limit N] [--json]                  QIDO-RS: the studies that match
  series   --endpoint NAME --study UID [--json]                          QIDO-RS: a study's series
  segment  --endpoint NAME --study UID --series UID [-o OUT.dcm|.nii.gz|.npz|.raw] [--store NAME]
           [--box ...|--box-mm ...|--prompts FILE.json] [--intensity P] [--modality M] [--model MODE] [--speed-level N] [--json]
           [--server HOST:PORT [--tls-ca PEM] [--tls-cert PEM --tls-key PEM] [--tls-server-name NAME]]
           [--models DIR] [--network-models ...] [--workers N] [--threads N]
           segments a series by its UIDs with the prompts of \`onesam segment\`; --store stores the DICOM SEG in
           that endpoint (STOW-RS). In-process the endpoints are this machine's (ONESAM_PACS, ONESAM_CONFIG);
           with --server they are the server's, which retrieves and stores the series itself.
`;

export async function run(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  try {
    switch (sub) {
      case 'studies':
        return await studies(rest);
      case 'series':
        return await series(rest);
      case 'segment':
        return await segment(rest);
      case undefined:
      case '--help':
      case '-h':
        process.stdout.write(PACS_USAGE);
        return sub ? 0 : 2;
      default:
        throw new UsageError(`unknown subcommand "${sub}"`);
    }
  } catch (e) {
    return reportFailure('onesam pacs', PACS_USAGE, e);
  }
}

/** The endpoints this machine is configured with: the `pacs` setting from ONESAM_PACS or the ONESAM_CONFIG file. */
export function localEndpoints(env: Readonly<Record<string, string | undefined>>): Readonly<Record<string, PacsEndpoint>> {
  return loadConfig({ env: { ONESAM_CONFIG: env['ONESAM_CONFIG'], ONESAM_PACS: env['ONESAM_PACS'] } }).config.pacs;
}

function endpointClient(name: string | undefined, flag = '--endpoint'): DicomwebClient {
  if (name === undefined) throw new UsageError(`missing ${flag} NAME (a PACS endpoint of the \`pacs\` setting)`);
  const directory = new PacsDirectory(localEndpoints(process.env));
  if (!directory.names.includes(name)) {
    directory.close();
    const known = directory.names;
    throw new UsageError(`${flag} "${name}": no such PACS endpoint in this machine's configuration (ONESAM_PACS or the ONESAM_CONFIG file); ${known.length ? `configured: ${known.join(', ')}` : 'none is configured'}`);
  }
  return directory.client(name);
}

function uidFlag(value: string | undefined, flag: string): string {
  if (value === undefined) throw new UsageError(`missing ${flag} UID`);
  if (value.length > 64 || !UID.test(value)) throw new UsageError(`${flag} must be a DICOM UID (digits and dots, at most 64 characters), got "${value}"`);
  return value;
}

async function studies(args: string[]): Promise<number> {
  const { values } = parseFlags(args, {
    endpoint: { type: 'string' }, 'patient-id': { type: 'string' }, date: { type: 'string' }, modality: { type: 'string' },
    accession: { type: 'string' }, match: { type: 'string', multiple: true }, limit: { type: 'string' }, json: { type: 'boolean', default: false },
  }, false);
  const match: Record<string, string> = {};
  if (values['patient-id'] !== undefined) match['PatientID'] = values['patient-id'];
  if (values.date !== undefined) {
    if (!/^\d{8}(-\d{8})?$|^\d{8}-$|^-\d{8}$/.test(values.date)) throw new UsageError(`--date must be YYYYMMDD or a range YYYYMMDD-YYYYMMDD, got "${values.date}"`);
    match['StudyDate'] = values.date;
  }
  if (values.modality !== undefined) match['ModalitiesInStudy'] = values.modality;
  if (values.accession !== undefined) match['AccessionNumber'] = values.accession;
  for (const pair of values.match ?? []) {
    const m = /^([A-Za-z][A-Za-z0-9]{0,63}|[0-9A-Fa-f]{8})=(.*)$/.exec(pair);
    if (!m) throw new UsageError(`--match takes KEYWORD=VALUE (a DICOM keyword or an 8-hex tag), got "${pair}"`);
    match[m[1]!] = m[2]!;
  }
  const limit = positiveInt(values.limit, '--limit') ?? 100;
  const client = endpointClient(values.endpoint);
  try {
    const found = await client.searchStudies({ match, limit });
    if (values.json) {
      process.stdout.write(`${JSON.stringify(found)}\n`);
    } else {
      for (const s of found) {
        const counts = [s.series !== undefined ? `${s.series} series` : '', s.instances !== undefined ? `${s.instances} instances` : ''].filter(Boolean).join(', ');
        process.stdout.write(`${s.studyInstanceUid}  ${s.studyDate || '-'}  ${s.patientId || '-'}  ${s.modalities.join(',') || '-'}  ${counts || '-'}  ${s.description}\n`);
      }
      process.stderr.write(`${found.length} stud${found.length === 1 ? 'y' : 'ies'}${found.length === limit ? ` (the first ${limit}: --limit for more)` : ''}\n`);
    }
    return 0;
  } finally {
    client.close();
  }
}

async function series(args: string[]): Promise<number> {
  const { values } = parseFlags(args, { endpoint: { type: 'string' }, study: { type: 'string' }, json: { type: 'boolean', default: false } }, false);
  const study = uidFlag(values.study, '--study');
  const client = endpointClient(values.endpoint);
  try {
    const found = await client.searchSeries(study);
    if (values.json) {
      process.stdout.write(`${JSON.stringify(found)}\n`);
    } else {
      for (const s of found) {
        process.stdout.write(`${s.seriesInstanceUid}  ${s.modality || '-'}  #${s.seriesNumber ?? '-'}  ${s.instances ?? '?'} instances  ${s.description}\n`);
      }
      process.stderr.write(`${found.length} series in study ${study}\n`);
    }
    return 0;
  } finally {
    client.close();
  }
}

async function segment(args: string[]): Promise<number> {
  const { values, tokens } = parseFlags(attachNegativeBoxValues(args), {
    endpoint: { type: 'string' }, study: { type: 'string' }, series: { type: 'string' },
    output: { type: 'string', short: 'o' }, store: { type: 'string' },
    ...PROMPT_FLAGS,
    intensity: { type: 'string' }, modality: { type: 'string' }, model: { type: 'string', default: 'route' }, 'speed-level': { type: 'string' }, json: { type: 'boolean', default: false },
    server: { type: 'string' }, 'tls-ca': { type: 'string' }, 'tls-cert': { type: 'string' }, 'tls-key': { type: 'string' }, 'tls-server-name': { type: 'string' },
    models: { type: 'string' }, 'network-models': { type: 'string' }, workers: { type: 'string' }, threads: { type: 'string' },
  }, false);
  if (values.endpoint === undefined) throw new UsageError('missing --endpoint NAME (the PACS endpoint holding the series)');
  const study = uidFlag(values.study, '--study');
  const seriesUid = uidFlag(values.series, '--series');
  if (values.output === undefined && values.store === undefined) throw new UsageError('nothing to do: give -o FILE, --store ENDPOINT, or both');
  const format = values.output !== undefined ? chooseOutputFormat(values.output, undefined) : undefined;
  if (values.store !== undefined && format && format.encoding !== 'dicom-seg') {
    throw new UsageError(`--store stores the labels as a DICOM SEG: -o must then be a .dcm file (the same SEG), got "${values.output}"`);
  }
  const mode = values.model as EnsembleMode;
  if (!MODES.includes(mode)) throw new UsageError(`--model must be one of ${MODES.join(', ')}, got "${values.model}"`);
  const named = values.modality !== undefined ? parseModality(values.modality) : undefined;
  if (values.modality !== undefined && !named) throw new UsageError(`unknown modality "${values.modality}"`);
  const intensity = parseIntensityFlag(values.intensity);
  const speedLevel = parseSpeedLevelFlag(values['speed-level']);
  const specs = await readPromptSpecs(values.prompts, tokens);
  if (!specs) throw new UsageError('give the prompts: --box, --box-mm or --prompts FILE.json');
  const job: PacsJob = {
    endpoint: values.endpoint, study, series: seriesUid, specs, mode, json: values.json,
    ...(format ? { format, output: values.output! } : {}), ...(values.store !== undefined ? { store: values.store } : {}),
    ...(named ? { modality: named } : {}), ...(intensity ? { intensity } : {}), ...(speedLevel !== undefined ? { speedLevel } : {}),
  };
  if (values.server) return remoteSegment(values.server, job, values);
  return localSegment(job, values);
}

interface PacsJob {
  readonly endpoint: string;
  readonly study: string;
  readonly series: string;
  readonly specs: readonly PromptSpec[];
  readonly mode: EnsembleMode;
  readonly json: boolean;
  readonly format?: OutputFormat;
  readonly output?: string;
  readonly store?: string;
  readonly modality?: Modality;
  readonly intensity?: ReturnType<typeof parseIntensityFlag>;
  /** --speed-level; unset: exact in-process, the server's speedLevel setting with --server (as `onesam segment`). */
  readonly speedLevel?: number;
}

/** In-process: retrieve here, segment with the local pipeline, write and/or store the SEG from here. */
async function localSegment(job: PacsJob, values: { models?: string; 'network-models'?: string; workers?: string; threads?: string }): Promise<number> {
  const t0 = performance.now();
  // Settings first: a typo in them fails before anything is fetched.
  const settings = pipelineSettings(process.env, { models: values.models, 'network-models': values['network-models'] });
  const limits = decodeLimitsFromEnvironment(process.env);
  const source = endpointClient(job.endpoint);
  const storeTo = job.store !== undefined ? (job.store === job.endpoint ? source : endpointClient(job.store, '--store')) : undefined;
  try {
    const fetchStart = performance.now();
    const instances = await source.retrieveSeries(job.study, job.series, { maxBytes: limits.maxDecodedBytes, maxInstances: MAX_DICOM_INSTANCES });
    const fetchMs = performance.now() - fetchStart;
    const input = await readDicomInstances(instances, `series ${job.series} from PACS endpoint "${job.endpoint}" (${instances.length} instance${instances.length === 1 ? '' : 's'})`, { intensity: job.intensity, limits });
    const geometry = input.geometry;
    const modality = job.modality ?? modalityFromDicom(input.dicomModality);
    const objects = promptObjects(job.specs, { dims: input.image, inputName: input.description, ...(input.dicom ? { dicom: input.dicom } : {}) });
    const request: SegmentationRequest = {
      requestId: randomUUID(), image: input.image, objects, mode: job.mode, ...(modality ? { modality } : {}), ...(job.speedLevel !== undefined ? { speedLevel: job.speedLevel } : {}),
    };
    rebasePromptErrors(() => planRequest(request, DEFAULT_ROUTING), job.specs);
    const progress = new TerminalProgress(process.stderr, process.stderr.isTTY === true && !job.json, { ...NO_PROGRESS, objectsTotal: objects.length });
    let result: SegmentationResult;
    let served: readonly ServedNetwork[];
    const workers = positiveInt(values.workers, '--workers');
    const threads = positiveInt(values.threads, '--threads');
    const segmenter = await createSegmenter({ ...settings, intraOpThreads: threads ?? settings.intraOpThreads, workers: workers ?? (threads ? defaultWorkers(threads) : settings.workers) });
    const segmentStart = performance.now();
    try {
      result = await segmenter.segment(request, { onProgress: progress.onEvent });
      served = segmenter.networks().map((n) => ({ name: n.name, model: n.model, ...(n.info ? { weightsSha256: n.info.weightsSha256 } : {}) }));
    } finally {
      progress.clear();
      await segmenter.close();
    }
    const segmentMs = performance.now() - segmentStart;
    const seg = job.format?.encoding === 'dicom-seg' || storeTo ? cliSegOutput(objects, job.specs, result, served) : undefined;
    // One encoding when the file is the SEG that is stored: the same instance (the same UIDs) in both places.
    const segBytes = seg ? encodeOutput(result.labels, geometry, { name: 'dcm', encoding: 'dicom-seg', gzip: false }, seg) : undefined;
    if (job.format && job.output !== undefined) await writeFile(job.output, job.format.encoding === 'dicom-seg' ? segBytes! : encodeOutput(result.labels, geometry, job.format));
    let stored: { endpoint: string; sopInstanceUid: string; retrieveUrl: string; warning?: string } | undefined;
    let storeMs = 0;
    if (storeTo && segBytes) {
      const storeStart = performance.now();
      const studyUid = geometry.kind === 'dicom' ? geometry.series.studyInstanceUid : undefined;
      const answer = await storeTo.store([segBytes], studyUid ? { studyUid } : {});
      storeMs = performance.now() - storeStart;
      const first = answer.stored[0];
      stored = { endpoint: storeTo.endpoint.name, sopInstanceUid: first?.sopInstanceUid ?? '', retrieveUrl: first?.retrieveUrl ?? '', ...(first?.warning ? { warning: first.warning } : {}) };
    }
    const summary = {
      ...summarize(`series ${job.series}`, request, result, [...geometry.labelShape], performance.now() - t0),
      ...(job.format ? { format: job.format.name } : {}),
      pacsMs: { fetch: Math.round(fetchMs), segment: Math.round(segmentMs), store: Math.round(storeMs) },
      ...(stored ? { stored } : {}),
    };
    report(job, summary.objects.length, summary.wallMs, summary.pacsMs, stored, summary);
    return 0;
  } finally {
    source.close();
    if (storeTo && storeTo !== source) storeTo.close();
  }
}

/** With --server: the server retrieves the series and stores the SEG with its own endpoints. */
async function remoteSegment(server: string, job: PacsJob, values: { 'tls-ca'?: string; 'tls-cert'?: string; 'tls-key'?: string; 'tls-server-name'?: string }): Promise<number> {
  const t0 = performance.now();
  const { segmentPacsRemote } = await import('../client/pacs-remote.ts');
  const { summarySpeedLevel } = await import('../client/segment-remote.ts');
  const { clientTls } = await import('./segment.ts');
  const progress = new TerminalProgress(process.stderr, process.stderr.isTTY === true && !job.json, { ...NO_PROGRESS, objectsTotal: job.specs.length });
  let outcome;
  try {
    outcome = await segmentPacsRemote(server, {
      endpoint: job.endpoint, studyInstanceUid: job.study, seriesInstanceUid: job.series, prompts: job.specs, mode: job.mode,
      output: job.format?.encoding ?? 'dicom-seg', gzip: job.format?.gzip ?? false,
      ...(job.modality ? { modality: job.modality } : {}), ...(job.intensity ? { intensity: job.intensity } : {}),
      ...(job.speedLevel !== undefined ? { speedLevel: job.speedLevel } : {}),
      ...(job.store !== undefined ? { store: { endpoint: job.store, sendLabels: job.output !== undefined } } : {}),
    }, { ...(await clientTls(values)), onProgress: progress.onWire });
  } finally {
    progress.clear();
  }
  if (job.output !== undefined) await writeFile(job.output, outcome.labels);
  const { summary } = outcome;
  const stored = summary.stored ? { endpoint: summary.stored.endpoint, sopInstanceUid: summary.dicomSeg?.sopInstanceUid ?? '', retrieveUrl: summary.stored.retrieveUrl, ...(summary.stored.warning ? { warning: summary.stored.warning } : {}) } : undefined;
  const t = summary.stagesMs;
  const pacsMs = {
    fetch: Math.round(t?.fetch ?? 0), segment: Math.round((t?.preprocess ?? 0) + (t?.encode ?? 0) + (t?.decode ?? 0) + (t?.postprocess ?? 0) + (t?.assemble ?? 0)), store: Math.round(t?.store ?? 0),
  };
  const wallMs = Math.round((performance.now() - t0) * 10) / 10;
  report(job, summary.objects.length, wallMs, pacsMs, stored, {
    case: `series ${job.series}`, objects: summary.objects, labelShape: summary.labelShape, format: job.format?.name ?? null, speedLevel: summarySpeedLevel(summary),
    serverWallMs: summary.wallMs, wallMs, pacsMs, ...(stored ? { stored } : {}),
  });
  return 0;
}

function report(job: PacsJob, objects: number, wallMs: number, pacsMs: { fetch: number; segment: number; store: number }, stored: { endpoint: string; sopInstanceUid: string; retrieveUrl: string; warning?: string } | undefined, json: unknown): void {
  if (job.json) {
    process.stdout.write(`${JSON.stringify(json)}\n`);
    return;
  }
  const where = [job.output !== undefined ? `-> ${job.output}` : '', stored ? `stored in "${stored.endpoint}" (SOP Instance ${stored.sopInstanceUid}${stored.warning ? `, warning ${stored.warning}` : ''})` : ''].filter(Boolean).join(', ');
  process.stdout.write(`series ${job.series}: ${objects} object${objects === 1 ? '' : 's'}, fetch ${pacsMs.fetch} ms, segment ${pacsMs.segment} ms${stored ? `, store ${pacsMs.store} ms` : ''}, ${wallMs} ms ${where}\n`);
}
