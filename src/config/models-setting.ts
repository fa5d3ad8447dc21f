// The `models` setting: which repository model serves each network. Parsed from JSON (file, ONESAM_MODELS) or from
// the flag's `litemedsam=NAME,onesam=NAME` list, then checked against the model repository once at start-up, so a
// typo or a model of the wrong architecture stops the server before any port opens, with the field named.
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { MANIFEST_FILE, parseManifest } from '../models/manifest.ts';
import { isNetworkName, NETWORK_NAMES, type NetworkName } from '../models/network-contract.ts';
import type { NetworkModels } from '../pipeline/serving.ts';
import { CALIBRATION_METHODS, type CalibrationMethod, type Int8Setting, type NetworkPrecisions } from '../pipeline/calibration-set.ts';
import { ConfigError } from './errors.ts';

/** Parses and checks the shape of the setting: known networks, non-empty names, at least one network. */
export function parseModelsSetting(value: unknown, path: string, source: string): NetworkModels {
  const fail = (field: string, message: string): never => {
    throw new ConfigError(field, source, message);
  };
  let object = value;
  if (typeof value === 'string') object = value.trim().startsWith('{') ? parseJson(value, path, source) : parsePairs(value, path, source);
  if (typeof object !== 'object' || object === null || Array.isArray(object)) {
    return fail(path, `must be an object of network -> model name (e.g. {"litemedsam":"lm","onesam":"one"}), got ${JSON.stringify(value)}`);
  }
  const models: Partial<Record<NetworkName, string>> = {};
  for (const [network, entry] of Object.entries(object)) {
    if (!isNetworkName(network)) fail(`${path}.${network}`, `unknown network (known: ${NETWORK_NAMES.join(', ')})`);
    // A network's entry is the model name, or {"model": name, "precision": ..., "calibration": ...}.
    const name = typeof entry === 'object' && entry !== null && !Array.isArray(entry) ? (entry as Record<string, unknown>)['model'] : entry;
    const field = typeof entry === 'object' && entry !== null ? `${path}.${network}.model` : `${path}.${network}`;
    if (typeof name !== 'string' || name.trim() === '') fail(field, `must be a repository model name, got ${JSON.stringify(name)}`);
    models[network as NetworkName] = name as string;
  }
  if (Object.keys(models).length === 0) fail(path, `must name at least one network (${NETWORK_NAMES.join(', ')})`);
  return models;
}

const ENTRY_FIELDS = ['model', 'precision', 'calibration', 'calibrationMethod'];

/**
 * The precision part of the setting: for each network given as an object with `"precision": "int8"`, the
 * calibration folder (required, resolved against `baseDir`; it must hold `.npz` cases) and method (default
 * percentile, which measured better than minmax). `"precision": "fp32"` or a bare name is today's fp32 graphs. Call after parseModelsSetting.
 */
export function parseModelPrecisions(value: unknown, path: string, source: string, baseDir: string): NetworkPrecisions {
  const fail = (field: string, message: string): never => {
    throw new ConfigError(field, source, message);
  };
  const object = typeof value === 'string' ? (value.trim().startsWith('{') ? parseJson(value, path, source) : {}) : value;
  const out: Partial<Record<NetworkName, Int8Setting>> = {};
  for (const [network, entry] of Object.entries(object as Record<string, unknown>)) {
    if (typeof entry !== 'object' || entry === null) continue;
    const e = entry as Record<string, unknown>;
    const field = `${path}.${network}`;
    for (const key of Object.keys(e)) if (!ENTRY_FIELDS.includes(key)) fail(`${field}.${key}`, `unknown field (known: ${ENTRY_FIELDS.join(', ')})`);
    const precision = e['precision'] ?? 'fp32';
    if (precision !== 'fp32' && precision !== 'int8') fail(`${field}.precision`, `must be "fp32" or "int8", got ${JSON.stringify(precision)}`);
    if (precision === 'fp32') {
      for (const key of ['calibration', 'calibrationMethod']) if (key in e) fail(`${field}.${key}`, 'applies only to "precision": "int8"');
      continue;
    }
    const calibration = e['calibration'];
    if (typeof calibration !== 'string' || calibration.trim() === '') {
      fail(`${field}.calibration`, `is required with "precision": "int8": a folder of challenge .npz cases to calibrate the activation ranges on, got ${JSON.stringify(calibration)}`);
    }
    const folder = resolve(baseDir, calibration as string);
    let cases: string[] = [];
    try {
      cases = readdirSync(folder).filter((f) => f.endsWith('.npz'));
    } catch (err) {
      fail(`${field}.calibration`, `folder ${folder} cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
    }
    if (cases.length === 0) fail(`${field}.calibration`, `folder ${folder} holds no .npz case`);
    const method = e['calibrationMethod'] ?? 'percentile';
    if (!(CALIBRATION_METHODS as readonly unknown[]).includes(method)) fail(`${field}.calibrationMethod`, `must be one of ${CALIBRATION_METHODS.join(', ')}, got ${JSON.stringify(method)}`);
    out[network as NetworkName] = { precision: 'int8', calibration: folder, calibrationMethod: method as CalibrationMethod };
  }
  return out;
}

function parseJson(text: string, path: string, source: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new ConfigError(path, source, `must be a JSON object of network -> model name, got ${JSON.stringify(text)}`);
  }
}

/** The flag's form: `litemedsam=lm,onesam=one`. */
function parsePairs(text: string, path: string, source: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of text.split(',')) {
    const m = /^\s*([^=\s]+)\s*=\s*(\S+)\s*$/.exec(part);
    if (!m) throw new ConfigError(path, source, `must be network=model pairs separated by commas (e.g. litemedsam=lm,onesam=one), got ${JSON.stringify(text)}`);
    if (m[1]! in out) throw new ConfigError(`${path}.${m[1]}`, source, 'is given twice');
    out[m[1]!] = m[2]!;
  }
  return out;
}

interface RepositoryModel {
  readonly folder: string;
  readonly architecture?: string;
  readonly problem?: string;
}

/**
 * Each named model must be in the repository (by manifest name, as the pipeline looks it up) with a valid
 * manifest of the network's architecture. Reads only the manifests; the weights are hashed and compiled at load.
 */
export function checkModelsInRepository(models: NetworkModels, modelsDir: string, path: string, source: string): void {
  let folders: string[];
  try {
    folders = readdirSync(modelsDir, { withFileTypes: true }).filter((d) => d.isDirectory() && !d.name.startsWith('.')).map((d) => d.name).sort();
  } catch (err) {
    throw new ConfigError('modelsDir', source, `model repository ${modelsDir} cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}), so ${path} cannot be checked`);
  }
  const byName = new Map<string, RepositoryModel>();
  for (const folder of folders) {
    const manifestPath = join(modelsDir, folder, MANIFEST_FILE);
    let text: string;
    try {
      text = readFileSync(manifestPath, 'utf8');
    } catch {
      continue; // not a model folder
    }
    try {
      const manifest = parseManifest(text, manifestPath);
      byName.set(manifest.name, { folder, architecture: manifest.architecture });
    } catch (err) {
      // A broken manifest still answers to its folder name, so the error says what is wrong with it.
      if (!byName.has(folder)) byName.set(folder, { folder, problem: (err as Error).message });
    }
  }
  for (const network of NETWORK_NAMES) {
    const name = models[network];
    if (name === undefined) continue;
    const field = `${path}.${network}`;
    const model = byName.get(name);
    if (!model) {
      const known = [...byName.keys()].sort();
      throw new ConfigError(field, source, `no model named ${name} in ${modelsDir} (models: ${known.length ? known.join(', ') : 'none'}); import one with onesam import <checkpoint> --arch ${network} --out ${join(modelsDir, name)}`);
    }
    if (model.problem !== undefined) throw new ConfigError(field, source, `model ${name} cannot be used: ${model.problem}`);
    if (model.architecture !== network) throw new ConfigError(field, source, `model ${name} is a ${model.architecture} network, not ${network}`);
  }
}
