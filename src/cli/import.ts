// `onesam import <checkpoint> --arch litemedsam|onesam --out models/<name>`: checks a checkpoint (.pth or
// .safetensors) against the architecture, stores it in the model repository as safetensors with a manifest,
// and compiles its ONNX graphs into the repository's cache so that the server starts without building them.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, rename, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { checkArchitecture, expectedStateDict } from '../models/architecture-check.ts';
import { CheckpointError } from '../models/checkpoint/errors.ts';
import { loadCheckpoint } from '../models/checkpoint/load.ts';
import { repositoryDtype, writeSafetensors } from '../models/checkpoint/safetensors-writer.ts';
import type { CheckpointDType, CheckpointTensor, StateDict } from '../models/checkpoint/tensor.ts';
import { formatManifest, MANIFEST_FILE, ModelRepositoryError, validateManifest, type ModelManifest } from '../models/manifest.ts';
import { isNetworkName, NETWORK_NAMES, type NetworkName } from '../models/network-contract.ts';
import { openRepository, type CompiledModel, type GraphCompiler } from '../models/repository.ts';
import { parseFlags, UsageError } from './args.ts';

/** The modalities each network serves in the OneSAM paper's ensemble (Table 3), used when --modalities is absent. */
export const DEFAULT_MODALITIES: Readonly<Record<NetworkName, readonly string[]>> = Object.freeze({
  litemedsam: Object.freeze(['MR', 'US', 'Endoscopy', 'Fundus']),
  onesam: Object.freeze(['CT', 'PET', 'XRay', 'Dermoscopy', 'Microscopy']),
});

export const WEIGHTS_FILE = 'weights.safetensors';

const USAGE = `usage: onesam import <checkpoint.pth|.safetensors> --arch ${NETWORK_NAMES.join('|')} --out models/<name>
                     [--name N] [--modalities CT,MR] [--description TEXT] [--license TEXT]
                     [--cache-dir DIR] [--force]

Checks every tensor name and shape against the architecture, writes <out>/${WEIGHTS_FILE} and
<out>/${MANIFEST_FILE}, and compiles the ONNX graphs into the repository cache.
  --name        model name in the repository (default: the folder name of --out)
  --modalities  comma-separated modalities (default: ${NETWORK_NAMES.map((n) => `${n} ${DEFAULT_MODALITIES[n].join(',')}`).join(';\n                ')})
  --cache-dir   compiled-graph cache root, as the server's cacheDir (default: <out>/.cache)
  --force       replace a model already in --out
`;

export interface ImportOptions {
  readonly checkpoint: string;
  readonly arch: NetworkName;
  readonly out: string;
  readonly name?: string;
  readonly modalities?: readonly string[];
  readonly description?: string;
  readonly license?: string;
  readonly cacheDir?: string;
  readonly force?: boolean;
  /** Graph compiler; default the project's builders (tests inject a fake). */
  readonly compiler?: GraphCompiler;
}

export interface ImportResult {
  readonly manifest: ModelManifest;
  readonly weightsPath: string;
  readonly tensors: number;
  /** How many tensors were stored with each dtype. */
  readonly storedDtypes: Readonly<Partial<Record<CheckpointDType, number>>>;
  readonly compiled: CompiledModel;
}

/**
 * The state dict as the repository stores it, which is also what parsing the stored file gives back: the
 * architecture's tensors in canonical order, each stored as half if it came as half, else fp32 (integers kept).
 * Read back, a half holds the same float32 values it was written from, and the others are float32 already.
 */
function storedStateDict(sd: StateDict, arch: NetworkName): StateDict {
  return new Map(expectedStateDict(arch).map(({ key }): [string, CheckpointTensor] => {
    const t = sd.get(key)!;
    return [key, { dtype: repositoryDtype(t), shape: t.shape, data: t.data }];
  }));
}

/** SHA-256 of the checkpoint as downloaded, recorded so the import can be checked against the authors' file. */
async function fileSha256(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

async function writeAtomically(path: string, bytes: Uint8Array | string): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}`;
  await writeFile(tmp, bytes);
  await rename(tmp, path);
}

export async function importCheckpoint(opts: ImportOptions): Promise<ImportResult> {
  const out = resolve(opts.out);
  // Validate everything about the checkpoint before anything is written.
  const sd = await loadCheckpoint(opts.checkpoint);
  checkArchitecture(sd, opts.arch, opts.checkpoint);
  const sourceSha256 = await fileSha256(opts.checkpoint);

  const manifestPath = join(out, MANIFEST_FILE);
  const manifest = validateManifest({
    name: opts.name ?? basename(out),
    architecture: opts.arch,
    weights: WEIGHTS_FILE,
    modalities: opts.modalities ?? DEFAULT_MODALITIES[opts.arch],
    precision: 'fp32',
    description: opts.description ?? `${opts.arch} network imported from ${basename(opts.checkpoint)}`,
    ...(opts.license !== undefined ? { license: opts.license } : {}),
  }, manifestPath);

  if (!opts.force && await stat(manifestPath).then(() => true, () => false)) {
    throw new ModelRepositoryError('MANIFEST_INVALID', `${out} already holds a model (${MANIFEST_FILE} exists); pass --force to replace it`);
  }

  const stored = storedStateDict(sd, opts.arch);
  const storedDtypes: Partial<Record<CheckpointDType, number>> = {};
  for (const t of stored.values()) storedDtypes[t.dtype] = (storedDtypes[t.dtype] ?? 0) + 1;
  const weightsPath = join(out, WEIGHTS_FILE);
  const weights = writeSafetensors(stored, {
    // Where the weights came from, for ListModels: the file name only (a full path would carry the importing
    // user's folders to every client) and its SHA-256, to compare with the authors' published file.
    format: 'pt', architecture: opts.arch, source: basename(opts.checkpoint), sourceSha256,
  });
  await mkdir(out, { recursive: true });
  await writeAtomically(weightsPath, weights);
  await writeAtomically(manifestPath, formatManifest(manifest));

  const repo = await openRepository(dirname(out), {
    ...(opts.cacheDir !== undefined ? { cacheDir: opts.cacheDir } : {}),
    ...(opts.compiler ? { compiler: opts.compiler } : {}),
  });
  // The weights just written are in memory: compiling hashes and builds from them without reading the file back.
  const compiled = await repo.ensureCompiled(manifest.name, { bytes: weights, stateDict: stored });
  return { manifest, weightsPath, tensors: stored.size, storedDtypes, compiled };
}

/** The one step left (models/README.md): name the model in the `models` setting of serve and segment. */
export function serveHint(manifest: ModelManifest, repository: string): string {
  const others = NETWORK_NAMES.filter((n) => n !== manifest.architecture).map((n) => `"${n}":"<model>"`).join(', ');
  return `to serve it: ONESAM_MODELS_DIR=${repository} ONESAM_MODELS='{"${manifest.architecture}":"${manifest.name}"}' onesam serve ` +
    `(or onesam segment); add ${others} to serve both networks (a network left out is not served)`;
}

function parseModalities(v: string | undefined): string[] | undefined {
  if (v === undefined) return undefined;
  const list = v.split(',').map((m) => m.trim()).filter((m) => m !== '');
  if (list.length === 0) throw new UsageError('--modalities needs at least one modality, e.g. --modalities CT,MR');
  return list;
}

/** Where the command writes; tests pass their own sinks instead of patching process streams. */
export interface CommandOutput {
  readonly stdout: { write(text: string): unknown };
  readonly stderr: { write(text: string): unknown };
}

export async function run(args: string[], io: CommandOutput = process): Promise<number> {
  let opts: ImportOptions;
  try {
    const { values, positionals } = parseFlags(args, {
      arch: { type: 'string' },
      out: { type: 'string', short: 'o' },
      name: { type: 'string' },
      modalities: { type: 'string' },
      description: { type: 'string' },
      license: { type: 'string' },
      'cache-dir': { type: 'string' },
      force: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    });
    if (values.help) {
      io.stdout.write(USAGE);
      return 0;
    }
    if (positionals.length !== 1) throw new UsageError(positionals.length ? `expected one checkpoint, got ${positionals.length}` : 'missing <checkpoint>');
    if (!values.arch) throw new UsageError(`--arch is required (${NETWORK_NAMES.join(' or ')})`);
    if (!isNetworkName(values.arch)) throw new UsageError(`--arch must be ${NETWORK_NAMES.join(' or ')}, got "${values.arch}"`);
    if (!values.out) throw new UsageError('--out is required (the model folder, e.g. models/litemedsam)');
    const modalities = parseModalities(values.modalities);
    opts = {
      checkpoint: positionals[0]!,
      arch: values.arch,
      out: values.out,
      ...(values.name !== undefined ? { name: values.name } : {}),
      ...(modalities ? { modalities } : {}),
      ...(values.description !== undefined ? { description: values.description } : {}),
      ...(values.license !== undefined ? { license: values.license } : {}),
      ...(values['cache-dir'] !== undefined ? { cacheDir: values['cache-dir'] } : {}),
      ...(values.force ? { force: true } : {}),
    };
  } catch (err) {
    if (err instanceof UsageError) {
      io.stderr.write(`onesam import: ${err.message}\n${USAGE}`);
      return 2;
    }
    throw err;
  }

  try {
    const r = await importCheckpoint(opts);
    const dtypes = Object.entries(r.storedDtypes).map(([d, n]) => `${n} ${d}`).join(', ');
    const t = r.compiled.timings;
    io.stdout.write(
      `imported ${r.manifest.name} (${r.manifest.architecture}, ${r.tensors} tensors: ${dtypes}) into ${dirname(r.weightsPath)}\n` +
      `graphs ${r.compiled.cached ? 'already cached' : `compiled in ${(t.buildMs / 1000).toFixed(1)} s`}: ${dirname(r.compiled.encoderPath)}\n` +
      `${serveHint(r.manifest, dirname(dirname(r.weightsPath)))}\n`);
    return 0;
  } catch (err) {
    if (err instanceof CheckpointError || err instanceof ModelRepositoryError) {
      io.stderr.write(`onesam import: ${err.message}\n`);
      return 1;
    }
    // Anything else (I/O, a builder bug): still one line, never a stack trace.
    io.stderr.write(`onesam import: failed: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  }
}
