// The `models` setting: which repository model serves each network. Parsed from JSON (file, ONESAM_MODELS) or from
// the flag's `litemedsam=NAME,onesam=NAME` list, then checked against the model repository once at start-up, so a
// typo or a model of the wrong architecture stops the server before any port opens, with the field named.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { MANIFEST_FILE, parseManifest } from '../models/manifest.ts';
import { isNetworkName, NETWORK_NAMES, type NetworkName } from '../models/network-contract.ts';
import type { NetworkModels } from '../pipeline/serving.ts';
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
  for (const [network, name] of Object.entries(object)) {
    if (!isNetworkName(network)) fail(`${path}.${network}`, `unknown network (known: ${NETWORK_NAMES.join(', ')})`);
    if (typeof name !== 'string' || name.trim() === '') fail(`${path}.${network}`, `must be a repository model name, got ${JSON.stringify(name)}`);
    models[network as NetworkName] = name as string;
  }
  if (Object.keys(models).length === 0) fail(path, `must name at least one network (${NETWORK_NAMES.join(', ')})`);
  return models;
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
