// Loading the configuration: defaults < JSON file (ONESAM_CONFIG or --config) < environment < CLI flags. Every
// value is validated against the schema once, at start-up; unknown file keys and flags are rejected, errors name
// the field path and where the value came from, and the result is frozen.
import { accessSync, constants, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, resolve } from 'node:path';
import { CodedError } from '../errors/coded-error.ts';
import { NETWORK_CHOICES } from '../models/network-contract.ts';
import { makeRoutingTable } from '../pipeline/router.ts';
import { servedNetworks, servingRoutingTable, type NetworkModels } from '../pipeline/serving.ts';
import { ConfigError } from './errors.ts';
import { checkModelsInRepository, parseModelPrecisions, parseModelsSetting } from './models-setting.ts';
import { parsePacsSetting } from './pacs-setting.ts';
import type { PacsEndpoint } from '../pacs/endpoint.ts';
import { CONFIG_FIELDS, CONFIG_FILE_ENV, DEFAULTS, defaultWorkers, type Config, type FieldSpec, type TlsConfig } from './schema.ts';

export interface ConfigSources {
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Parsed CLI flags by flag name (`port`, `metrics-port`, ...); undefined values are ignored. */
  readonly flags?: Readonly<Record<string, string | undefined>>;
  /** JSON config file; overrides ONESAM_CONFIG. */
  readonly configFile?: string;
  /** Cores the default worker count divides (default: availableParallelism()). */
  readonly cores?: number;
  readonly cwd?: string;
}

export interface LoadedConfig {
  readonly config: Config;
  /** Things worth logging at start (oversubscribed threads, unknown ONESAM_* variables). */
  readonly warnings: readonly string[];
}

interface RawValue {
  readonly value: unknown;
  readonly source: string;
  /** Relative paths resolve against this folder (the config file's, or the working directory). */
  readonly baseDir: string;
}

const FIELDS = new Map(CONFIG_FIELDS.map((f) => [f.path, f]));
const BYTE_UNITS: Readonly<Record<string, number>> = Object.freeze({ '': 1, B: 1, KB: 1e3, MB: 1e6, GB: 1e9, KiB: 1024, MiB: 1024 ** 2, GiB: 1024 ** 3 });
// Kubernetes injects <SERVICE>_SERVICE_HOST, <SERVICE>_PORT_<n>_TCP... for a Service named "onesam": not typos.
const SERVICE_LINK_ENV = /^ONESAM_(SERVICE_(HOST|PORT)(_\w+)?|PORT_\d+_(TCP|UDP|SCTP)(_\w+)?)$/;

export function loadConfig(sources: ConfigSources = {}): LoadedConfig {
  const env = sources.env ?? process.env;
  const cwd = sources.cwd ?? process.cwd();
  const warnings: string[] = [];
  const raw = new Map<string, RawValue>();

  const file = sources.configFile ?? nonEmpty(env[CONFIG_FILE_ENV]);
  if (file !== undefined) for (const [path, v] of readConfigFile(resolve(cwd, file))) raw.set(path, v);

  const known = new Set([CONFIG_FILE_ENV, ...CONFIG_FIELDS.map((f) => f.env)]);
  for (const name of Object.keys(env)) {
    if (!name.startsWith('ONESAM_') || known.has(name) || SERVICE_LINK_ENV.test(name)) continue;
    warnings.push(`environment variable ${name} is not a setting and was ignored`);
  }
  for (const field of CONFIG_FIELDS) {
    const value = env[field.env];
    if (value !== undefined && value !== '') raw.set(field.path, { value, source: field.env, baseDir: cwd });
  }

  const flagFields = new Map(CONFIG_FIELDS.filter((f) => f.flag).map((f) => [f.flag!, f]));
  for (const [flag, value] of Object.entries(sources.flags ?? {})) {
    if (value === undefined) continue;
    const field = flagFields.get(flag);
    if (!field) throw new ConfigError(flag, `--${flag}`, `unknown flag (known: ${[...flagFields.keys()].map((f) => `--${f}`).join(', ')})`);
    raw.set(field.path, { value, source: `--${flag}`, baseDir: cwd });
  }

  const values = new Map<string, unknown>();
  for (const [path, v] of raw) values.set(path, convert(FIELDS.get(path)!, v));
  const config = assemble(values, raw, sources.cores ?? availableParallelism(), warnings);
  return { config: deepFreeze(config), warnings: Object.freeze(warnings) };
}

function assemble(values: Map<string, unknown>, raw: Map<string, RawValue>, cores: number, warnings: string[]): Config {
  const get = <T>(path: string): T | undefined => values.get(path) as T | undefined;
  const intraOpThreads = get<number>('intraOpThreads') ?? DEFAULTS.intraOpThreads;
  const workers = get<number>('workers') ?? defaultWorkers(intraOpThreads, cores);
  if (workers * intraOpThreads > cores) {
    warnings.push(`workers (${workers}) x intraOpThreads (${intraOpThreads}) exceeds the ${cores} available cores; onnxruntime threads will compete`);
  }
  const cert = get<string>('tls.cert');
  const key = get<string>('tls.key');
  const clientCa = get<string>('tls.clientCa');
  const source = (path: string): string => raw.get(path)?.source ?? 'default';
  if ((cert === undefined) !== (key === undefined)) {
    const missing = cert === undefined ? 'tls.cert' : 'tls.key';
    const present = cert === undefined ? 'tls.key' : 'tls.cert';
    throw new ConfigError(missing, source(present), `is required when ${present} is set`);
  }
  if (clientCa !== undefined && cert === undefined) throw new ConfigError('tls.clientCa', source('tls.clientCa'), 'needs tls.cert and tls.key (client verification runs over TLS)');
  const tls: TlsConfig | undefined = cert !== undefined && key !== undefined ? { cert, key, ...(clientCa !== undefined ? { clientCa } : {}) } : undefined;
  const cacheDir = get<string>('cacheDir');
  const authToken = get<string>('authToken');
  const modelsDir = get<string>('modelsDir') ?? DEFAULTS.modelsDir;
  const models = get<NetworkModels>('models') ?? DEFAULTS.models;
  // The defaults are the embedded demos; an explicit mapping is checked against the repository now, not at load.
  if (raw.has('models')) checkModelsInRepository(models, modelsDir, 'models', source('models'));
  const modelsRaw = raw.get('models');
  const modelPrecisions = modelsRaw ? parseModelPrecisions(modelsRaw.value, 'models', modelsRaw.source, modelsRaw.baseDir) : {};
  const routing = get<Record<string, string>>('routing') ?? {};
  try {
    servingRoutingTable(routing, servedNetworks(models));
  } catch (err) {
    if (err instanceof CodedError && err.field) throw new ConfigError(err.field, source('routing'), err.detail);
    throw err;
  }
  const maxConcurrentRequests = get<number>('maxConcurrentRequests') ?? DEFAULTS.maxConcurrentRequests;
  const maxPayloadBytes = get<number>('maxPayloadBytes') ?? DEFAULTS.maxPayloadBytes;
  // One upload of the largest payload must fit in the upload memory, or such payloads could never be accepted.
  const uploadMemoryBytes = get<number>('uploadMemoryBytes') ?? Math.max(DEFAULTS.uploadMemoryBytes, maxPayloadBytes);
  if (uploadMemoryBytes < maxPayloadBytes) {
    throw new ConfigError('uploadMemoryBytes', source('uploadMemoryBytes'), `must be at least maxPayloadBytes (${maxPayloadBytes}, ${source('maxPayloadBytes')}), got ${uploadMemoryBytes}: a payload larger than the upload memory could never be accepted`);
  }
  return {
    host: get<string>('host') ?? DEFAULTS.host,
    port: get<number>('port') ?? DEFAULTS.port,
    metricsPort: get<number>('metricsPort') ?? DEFAULTS.metricsPort,
    modelsDir,
    ...(cacheDir !== undefined ? { cacheDir } : {}),
    workers,
    intraOpThreads,
    codecThreads: get<number>('codecThreads') ?? DEFAULTS.codecThreads,
    maxPayloadBytes,
    maxVoxels: get<number>('maxVoxels') ?? DEFAULTS.maxVoxels,
    maxMessageBytes: get<number>('maxMessageBytes') ?? DEFAULTS.maxMessageBytes,
    maxConcurrentRequests,
    maxConcurrentUploads: get<number>('maxConcurrentUploads') ?? Math.min(10_000, 2 * maxConcurrentRequests),
    uploadIdleTimeoutMs: get<number>('uploadIdleTimeoutMs') ?? DEFAULTS.uploadIdleTimeoutMs,
    uploadMinBytesPerSecond: get<number>('uploadMinBytesPerSecond') ?? DEFAULTS.uploadMinBytesPerSecond,
    responseStallTimeoutMs: get<number>('responseStallTimeoutMs') ?? DEFAULTS.responseStallTimeoutMs,
    uploadMemoryBytes,
    maxSessions: get<number>('maxSessions') ?? DEFAULTS.maxSessions,
    sessionMemoryBytes: get<number>('sessionMemoryBytes') ?? DEFAULTS.sessionMemoryBytes,
    sessionIdleSeconds: get<number>('sessionIdleSeconds') ?? DEFAULTS.sessionIdleSeconds,
    queueLimit: get<number>('queueLimit') ?? DEFAULTS.queueLimit,
    embeddingBudgetBytes: get<number>('embeddingBudgetBytes') ?? DEFAULTS.embeddingBudgetBytes,
    speedLevel: get<number>('speedLevel') ?? DEFAULTS.speedLevel,
    speedLevelGaps: get<Config['speedLevelGaps']>('speedLevelGaps') ?? DEFAULTS.speedLevelGaps,
    shutdownGraceMs: get<number>('shutdownGraceMs') ?? DEFAULTS.shutdownGraceMs,
    ...(tls ? { tls } : {}),
    ...(authToken !== undefined ? { authToken } : {}),
    logLevel: get<Config['logLevel']>('logLevel') ?? DEFAULTS.logLevel,
    routing,
    models,
    ...(Object.keys(modelPrecisions).length > 0 ? { modelPrecisions } : {}),
    pacs: get<Record<string, PacsEndpoint>>('pacs') ?? {},
  };
}

function readConfigFile(path: string): Map<string, RawValue> {
  const source = `file ${path}`;
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError('file', source, `cannot be read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new ConfigError('file', source, `is not valid JSON: ${(err as Error).message}`);
  }
  if (!isPlainObject(parsed)) throw new ConfigError('file', source, 'must hold a JSON object');
  const out = new Map<string, RawValue>();
  const baseDir = dirname(path);
  const visit = (object: Record<string, unknown>, prefix: string): void => {
    for (const [key, value] of Object.entries(object)) {
      const path = prefix + key;
      if (FIELDS.has(path)) {
        out.set(path, { value, source, baseDir });
      } else if (path === 'tls' && isPlainObject(value)) {
        visit(value, 'tls.');
      } else {
        const siblings = CONFIG_FIELDS.map((f) => f.path).filter((p) => p.startsWith(prefix)).map((p) => p.slice(prefix.length).split('.')[0]);
        throw new ConfigError(path, source, `unknown setting (known: ${[...new Set(siblings)].join(', ')})`);
      }
    }
  };
  visit(parsed, '');
  return out;
}

function convert(field: FieldSpec, raw: RawValue): unknown {
  const fail = (message: string): never => {
    throw new ConfigError(field.path, raw.source, message);
  };
  const shown = field.type === 'secret' ? '<redacted>' : describe(raw.value);
  switch (field.type) {
    case 'port':
      return integer(raw.value, 0, 65_535, shown, fail);
    case 'int':
      return integer(raw.value, field.min ?? 0, field.max ?? Number.MAX_SAFE_INTEGER, shown, fail);
    case 'bytes':
      return byteSize(raw.value, field.min ?? 0, field.max ?? Number.MAX_SAFE_INTEGER, shown, fail);
    case 'string':
    case 'secret': {
      if (typeof raw.value !== 'string' || raw.value.trim() === '') return fail(`must be a non-empty string, got ${shown}`);
      if (field.type === 'secret' && /\s/.test(raw.value)) return fail('must not contain whitespace');
      return raw.value;
    }
    case 'path': {
      if (typeof raw.value !== 'string' || raw.value === '') return fail(`must be a non-empty path, got ${shown}`);
      const path = resolve(raw.baseDir, raw.value);
      if (field.path.startsWith('tls.')) {
        try {
          accessSync(path, constants.R_OK);
        } catch {
          fail(`file ${path} cannot be read`);
        }
      }
      return path;
    }
    case 'choice': {
      const choices = field.choices ?? [];
      if (typeof raw.value !== 'string' || !choices.includes(raw.value)) return fail(`must be one of ${choices.join(', ')}, got ${shown}`);
      return raw.value;
    }
    case 'routing':
      return routing(raw.value, shown, fail, field.path, raw.source);
    case 'models':
      return parseModelsSetting(raw.value, field.path, raw.source);
    case 'pacs':
      return parsePacsSetting(raw.value, field.path, raw.source, raw.baseDir);
  }
}

function integer(value: unknown, min: number, max: number, shown: string, fail: (m: string) => never): number {
  const n = typeof value === 'string' && /^\s*\d+\s*$/.test(value) ? Number(value) : typeof value === 'number' ? value : Number.NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) return fail(`must be an integer in ${min}..${max}, got ${shown}`);
  return n;
}

function byteSize(value: unknown, min: number, max: number, shown: string, fail: (m: string) => never): number {
  let n = Number.NaN;
  if (typeof value === 'number') n = value;
  else if (typeof value === 'string') {
    const m = /^\s*(\d+)\s*(B|KB|MB|GB|KiB|MiB|GiB)?\s*$/.exec(value);
    if (m) n = Number(m[1]) * BYTE_UNITS[m[2] ?? '']!;
  }
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    return fail(`must be a byte count in ${min}..${max} (a number, optionally with KiB, MiB or GiB), got ${shown}`);
  }
  return n;
}

function routing(value: unknown, shown: string, fail: (m: string) => never, path: string, source: string): Record<string, string> {
  let object = value;
  if (typeof value === 'string') {
    try {
      object = JSON.parse(value);
    } catch {
      return fail(`must be a JSON object of modality -> network, got ${shown}`);
    }
  }
  if (!isPlainObject(object)) return fail(`must be an object of modality -> network, got ${shown}`);
  for (const [modality, network] of Object.entries(object)) {
    if (typeof network !== 'string') throw new ConfigError(`${path}.${modality}`, source, `must be ${NETWORK_CHOICES}, got ${describe(network)}`);
  }
  try {
    makeRoutingTable(object as Record<string, string>, path);
  } catch (err) {
    if (err instanceof CodedError && err.field) throw new ConfigError(err.field, source, err.detail);
    throw err;
  }
  return { ...(object as Record<string, string>) };
}

function describe(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}
