// models/<folder>/manifest.json: what a model is (architecture, weights file, modalities it is meant for) and
// where it came from. Validated strictly (unknown fields rejected) with errors naming the field.
import { isNetworkName, NETWORK_NAMES, type NetworkName } from './network-contract.ts';

export type ModelRepositoryErrorCode =
  | 'MANIFEST_INVALID'
  | 'MODEL_NOT_FOUND'
  | 'MODEL_UNAVAILABLE'
  | 'REPOSITORY_NOT_FOUND'
  | 'CACHE_WRITE_FAILED'
  | 'COMPILE_FAILED';

export class ModelRepositoryError extends Error {
  constructor(readonly code: ModelRepositoryErrorCode, message: string, readonly field?: string) {
    super(message);
    this.name = 'ModelRepositoryError';
  }
}

/** The compute precision of the compiled graphs (weights may be stored as fp16; the graphs run in fp32). */
export type ModelPrecision = 'fp32';
export const MODEL_PRECISIONS: readonly ModelPrecision[] = Object.freeze(['fp32']);

export interface ModelManifest {
  /** Repository-unique model name (what configuration and ensureCompiled refer to). */
  readonly name: string;
  readonly architecture: NetworkName;
  /** Weights file inside the model folder (safetensors written by `onesam import`, or a .pth). */
  readonly weights: string;
  /** Imaging modalities the model is meant for (informative; routing is configured separately). */
  readonly modalities: readonly string[];
  readonly precision: ModelPrecision;
  readonly description: string;
  readonly license?: string;
  readonly notes?: string;
}

export const MANIFEST_FILE = 'manifest.json';

/** Names double as folder and cache names and appear in URLs and metrics labels. */
const NAME_PATTERN = /^[a-z0-9][a-z0-9._-]{0,63}$/i;
/** A plain file name: no directories, so a manifest cannot point outside its folder. */
const WEIGHTS_PATTERN = /^[^/\\]+$/;

const FIELDS = ['name', 'architecture', 'weights', 'modalities', 'precision', 'description', 'license', 'notes'] as const;

function invalid(source: string, field: string, problem: string): never {
  throw new ModelRepositoryError('MANIFEST_INVALID', `${source}: ${field} ${problem}`, field);
}

function requiredString(raw: Record<string, unknown>, field: string, source: string): string {
  const v = raw[field];
  if (v === undefined) invalid(source, field, 'is required');
  if (typeof v !== 'string' || v.trim() === '') invalid(source, field, 'must be a non-empty string');
  return v as string;
}

function optionalString(raw: Record<string, unknown>, field: string, source: string): string | undefined {
  const v = raw[field];
  if (v === undefined) return undefined;
  if (typeof v !== 'string') invalid(source, field, 'must be a string');
  return v as string;
}

/** Validates a parsed manifest object; `source` (the file path) prefixes every message. */
export function validateManifest(raw: unknown, source = MANIFEST_FILE): ModelManifest {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new ModelRepositoryError('MANIFEST_INVALID', `${source}: must be a JSON object`);
  }
  const obj = raw as Record<string, unknown>;
  for (const key of Object.keys(obj)) {
    if (!(FIELDS as readonly string[]).includes(key)) invalid(source, key, `is not a manifest field (fields: ${FIELDS.join(', ')})`);
  }

  const name = requiredString(obj, 'name', source);
  if (!NAME_PATTERN.test(name)) invalid(source, 'name', `"${name}" must be 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit`);

  const architecture = requiredString(obj, 'architecture', source);
  if (!isNetworkName(architecture)) invalid(source, 'architecture', `"${architecture}" must be one of ${NETWORK_NAMES.join(', ')}`);

  const weights = requiredString(obj, 'weights', source);
  if (!WEIGHTS_PATTERN.test(weights) || weights === '.' || weights === '..') {
    invalid(source, 'weights', `"${weights}" must be a file name inside the model folder`);
  }

  const modalities = obj.modalities;
  if (modalities === undefined) invalid(source, 'modalities', 'is required');
  if (!Array.isArray(modalities) || modalities.length === 0) invalid(source, 'modalities', 'must be a non-empty array of strings');
  (modalities as unknown[]).forEach((m, i) => {
    if (typeof m !== 'string' || m.trim() === '') invalid(source, `modalities[${i}]`, 'must be a non-empty string');
  });
  const seen = new Set<string>();
  for (const [i, m] of (modalities as string[]).entries()) {
    if (seen.has(m.toLowerCase())) invalid(source, `modalities[${i}]`, `"${m}" is listed twice`);
    seen.add(m.toLowerCase());
  }

  const precision = requiredString(obj, 'precision', source);
  if (!(MODEL_PRECISIONS as readonly string[]).includes(precision)) {
    invalid(source, 'precision', `"${precision}" must be one of ${MODEL_PRECISIONS.join(', ')}`);
  }

  const description = requiredString(obj, 'description', source);
  const license = optionalString(obj, 'license', source);
  const notes = optionalString(obj, 'notes', source);

  return Object.freeze({
    name,
    architecture,
    weights,
    modalities: Object.freeze([...(modalities as string[])]),
    precision: precision as ModelPrecision,
    description,
    ...(license !== undefined ? { license } : {}),
    ...(notes !== undefined ? { notes } : {}),
  });
}

/** Parses manifest.json text; JSON syntax errors become MANIFEST_INVALID too. */
export function parseManifest(text: string, source = MANIFEST_FILE): ModelManifest {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new ModelRepositoryError('MANIFEST_INVALID', `${source}: not valid JSON (${(err as Error).message})`);
  }
  return validateManifest(raw, source);
}

/** The manifest as written to disk: fixed field order, two-space indent, trailing newline. */
export function formatManifest(m: ModelManifest): string {
  const ordered: Record<string, unknown> = {};
  for (const f of FIELDS) if (m[f] !== undefined) ordered[f] = m[f];
  return `${JSON.stringify(ordered, null, 2)}\n`;
}
