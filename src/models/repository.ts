// The model repository: one folder per model (`<dir>/<folder>/manifest.json` + weights), and a cache of the ONNX
// graphs compiled from each, so that every worker thread creates its sessions from files and nothing is rebuilt
// at startup unless the weights or the graph builders changed.
//
// Cache layout: `<cache>/<key>/{encoder.onnx, decoder.onnx, build.json}` where <cache> is `<model folder>/.cache`
// or `<cacheDir>/<name>`, and <key> hashes the weights file's SHA-256, the architecture and the builder version.
// int8 builds (precision int8 in the models setting) live beside them in `<cache>/int8/<key>`, their key and
// recorded builder version also naming the calibration method and the calibration set's fingerprint, so an fp32
// and an int8 build of one model coexist and a new calibration set is a new build.
// A build is written into a temporary folder and renamed into place, so a reader never sees half a cache entry,
// even with several processes sharing the folder.
//
// build.json records each graph's size and SHA-256, and every load checks both before a worker opens the files: a
// graph damaged on disk (a bad block, a partial copy, someone's editor) used to pass a size-only check and crash
// the workers on every restart. A damaged or unreadable entry is rebuilt from the weights, once, and the rebuild
// is reported (CompiledModel.repaired) so the caller can log it. The hash is computed while reading the file in
// large blocks, which also warms the page cache the workers then read from.
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, open, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { checkArchitecture } from './architecture-check.ts';
import type { NetworkName } from './network-contract.ts';
import { CheckpointError } from './checkpoint/errors.ts';
import { parseCheckpoint } from './checkpoint/load.ts';
import type { StateDict } from './checkpoint/tensor.ts';
import type { CompiledGraphs, GraphCompiler, Int8Request } from './graph-compiler.ts';
import { MANIFEST_FILE, ModelRepositoryError, parseManifest, type ModelManifest } from './manifest.ts';

export { ModelRepositoryError, type ModelManifest } from './manifest.ts';
export type { CalibrationSource, CompiledGraphs, CompileGraphs, GraphCompiler, Int8Request } from './graph-compiler.ts';

export interface RepositoryOptions {
  /** Compiled-graph cache root (one sub-folder per model); default `<model folder>/.cache`. */
  readonly cacheDir?: string;
  /** Builds the graphs; default: the project's builders from ./compile.ts, loaded on first use. */
  readonly compiler?: GraphCompiler;
}

export type ModelState = 'available' | 'error';

export interface ModelSummary {
  readonly name: string;
  /** The model's folder. */
  readonly dir: string;
  readonly architecture?: NetworkName;
  readonly modalities: readonly string[];
  readonly state: ModelState;
  /** Why the model is unusable, when state is 'error'. */
  readonly message?: string;
}

export interface CompiledModel {
  readonly name: string;
  readonly manifest: ModelManifest;
  readonly encoderPath: string;
  readonly decoderPath: string;
  readonly cacheKey: string;
  /** The encoder's compute precision: fp32, or int8 when the build was asked for it. */
  readonly precision: 'fp32' | 'int8';
  /** SHA-256 (hex) of the weights file the graphs were built from: what ListModels reports as the weights digest. */
  readonly weightsSha256: string;
  /** true when the graphs came from the cache. */
  readonly cached: boolean;
  /** Set when a cache entry for these weights existed but failed its check and was rebuilt: why it failed. */
  readonly repaired?: string;
  /**
   * readMs: reading and hashing the weights (and decoding them on a rebuild); verifyMs: reading and hashing the
   * cached graphs; buildMs: compiling + writing.
   */
  readonly timings: { readonly readMs: number; readonly verifyMs: number; readonly buildMs: number };
}

/**
 * A model's weights already in memory, exactly as its weights file holds them (`onesam import` has just written
 * them): compiling takes these instead of reading and parsing the file again.
 */
export interface HeldWeights {
  /** The weights file's bytes. */
  readonly bytes: Uint8Array;
  /** The state dict parsing those bytes gives. */
  readonly stateDict: StateDict;
}

export interface ModelRepository {
  readonly dir: string;
  list(): ModelSummary[];
  get(name: string): ModelSummary | undefined;
  /**
   * The compiled graphs of `name`, built now if the cache has none for the current weights and builders (and,
   * with `int8`, calibration).
   */
  ensureCompiled(name: string, held?: HeldWeights, int8?: Int8Request): Promise<CompiledModel>;
}

const ENCODER_FILE = 'encoder.onnx';
const DECODER_FILE = 'decoder.onnx';
const BUILD_RECORD = 'build.json';
/** Sub-folder of a model's cache holding its int8 builds (not a cache key, so fp32 stale-build removal keeps it). */
const INT8_FOLDER = 'int8';
const CACHE_KEY_PATTERN = /^[0-9a-f]{24}$/;
/** Read size while hashing a graph: large enough that the hash, not the syscalls, sets the pace. */
const HASH_BLOCK_BYTES = 4 * 1024 * 1024;

interface BuildRecord {
  readonly name: string;
  readonly architecture: NetworkName;
  readonly weightsSha256: string;
  readonly builderVersion: string;
  readonly encoderBytes: number;
  readonly decoderBytes: number;
  readonly encoderSha256: string;
  readonly decoderSha256: string;
  readonly createdAt: string;
}

/** What a cache entry holds for the current weights and builders. */
type BuildCheck =
  | { readonly state: 'valid' }
  | { readonly state: 'missing' }
  /** Present but unusable: damaged, unreadable, incomplete or unverifiable; the reason says which. */
  | { readonly state: 'damaged'; readonly reason: string };

interface ModelEntry {
  readonly folder: string;
  readonly name: string;
  readonly manifest?: ModelManifest;
  /** Set when the manifest or weights file is unusable: the model cannot be compiled at all. */
  manifestError?: string;
  /** Set when the last attempt to load or compile failed; cleared by a later success. */
  loadError?: string;
}

function sha256(data: Uint8Array | string): string {
  return createHash('sha256').update(data).digest('hex');
}

function describeError(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

async function readEntry(folder: string): Promise<ModelEntry> {
  const fallbackName = folder.split(/[\\/]/).pop()!;
  const manifestPath = join(folder, MANIFEST_FILE);
  let manifest: ModelManifest;
  try {
    manifest = parseManifest(await readFile(manifestPath, 'utf8'), manifestPath);
  } catch (err) {
    return { folder, name: fallbackName, manifestError: describeError(err) };
  }
  const weightsPath = join(folder, manifest.weights);
  try {
    const s = await stat(weightsPath);
    if (!s.isFile()) return { folder, name: manifest.name, manifest, manifestError: `${weightsPath}: weights is not a file` };
  } catch {
    return { folder, name: manifest.name, manifest, manifestError: `${manifestPath}: weights file ${manifest.weights} does not exist` };
  }
  return { folder, name: manifest.name, manifest };
}

/** Scans `dir` for model folders (those holding a manifest.json) and validates each manifest. */
export async function openRepository(dir: string, opts: RepositoryOptions = {}): Promise<ModelRepository> {
  const root = resolve(dir);
  let folders: string[];
  try {
    const dirents = await readdir(root, { withFileTypes: true });
    folders = dirents.filter((d) => d.isDirectory() && !d.name.startsWith('.')).map((d) => join(root, d.name)).sort();
  } catch (err) {
    throw new ModelRepositoryError('REPOSITORY_NOT_FOUND', `model repository ${root} cannot be read: ${describeError(err)}`);
  }
  const candidates = await Promise.all(folders.map(async (f) => ((await exists(join(f, MANIFEST_FILE))) ? readEntry(f) : null)));
  const entries = new Map<string, ModelEntry>();
  for (const e of candidates) {
    if (!e) continue;
    const clash = entries.get(e.name);
    if (clash) {
      // Neither wins: which one a name meant would depend on directory order.
      const msg = `model name ${e.name} is used by both ${clash.folder} and ${e.folder}`;
      clash.manifestError ??= msg;
      entries.set(`${e.name}@${e.folder}`, { ...e, manifestError: msg });
      continue;
    }
    entries.set(e.name, e);
  }
  return new Repository(root, entries, opts);
}

class Repository implements ModelRepository {
  private readonly inFlight = new Map<string, Promise<CompiledModel>>();
  private compiler: Promise<GraphCompiler> | undefined;

  constructor(readonly dir: string, private readonly entries: Map<string, ModelEntry>, private readonly opts: RepositoryOptions) {}

  list(): ModelSummary[] {
    return [...this.entries.values()].map((e) => summarize(e));
  }

  get(name: string): ModelSummary | undefined {
    const e = this.entries.get(name);
    return e ? summarize(e) : undefined;
  }

  ensureCompiled(name: string, held?: HeldWeights, int8?: Int8Request): Promise<CompiledModel> {
    // Concurrent callers share one build (per precision and calibration).
    const flight = int8 ? `${name}\0int8\0${int8.method}\0${int8.calibration.fingerprint}` : name;
    let p = this.inFlight.get(flight);
    if (!p) {
      p = this.compileEntry(name, held, int8).finally(() => this.inFlight.delete(flight));
      this.inFlight.set(flight, p);
    }
    return p;
  }

  private graphCompiler(): Promise<GraphCompiler> {
    if (this.opts.compiler) return Promise.resolve(this.opts.compiler);
    this.compiler ??= import('./compile.ts').then((m) => m.defaultGraphCompiler());
    return this.compiler;
  }

  private cacheFolder(e: ModelEntry): string {
    return this.opts.cacheDir ? join(resolve(this.opts.cacheDir), e.name) : join(e.folder, '.cache');
  }

  private async compileEntry(name: string, held: HeldWeights | undefined, int8: Int8Request | undefined): Promise<CompiledModel> {
    const e = this.entries.get(name);
    if (!e) {
      const names = [...this.entries.keys()].filter((n) => !n.includes('@'));
      throw new ModelRepositoryError('MODEL_NOT_FOUND',
        `no model named ${name} in ${this.dir} (models: ${names.length ? names.join(', ') : 'none'})`);
    }
    if (e.manifestError || !e.manifest) throw new ModelRepositoryError('MODEL_UNAVAILABLE', `model ${name}: ${e.manifestError}`);
    try {
      const compiled = await this.compileModel(e, e.manifest, held, int8);
      delete e.loadError;
      return compiled;
    } catch (err) {
      e.loadError = describeError(err);
      throw err;
    }
  }

  private async compileModel(e: ModelEntry, manifest: ModelManifest, held: HeldWeights | undefined, int8: Int8Request | undefined): Promise<CompiledModel> {
    const t0 = performance.now();
    const weightsPath = join(e.folder, manifest.weights);
    let weights: Uint8Array;
    try {
      weights = held?.bytes ?? await readFile(weightsPath);
    } catch (err) {
      throw new ModelRepositoryError('MODEL_UNAVAILABLE', `model ${e.name}: cannot read weights ${weightsPath}: ${describeError(err)}`);
    }
    const weightsSha256 = sha256(weights);
    const compiler = await this.graphCompiler();
    // An int8 build's version names what else shaped it; fp32 keys stay what they were.
    const version = int8 ? `${compiler.version}+int8-${int8.method}-${int8.calibration.fingerprint}` : compiler.version;
    const cacheKey = sha256(`${weightsSha256}\n${manifest.architecture}\n${version}`).slice(0, 24);
    const cache = int8 ? join(this.cacheFolder(e), INT8_FOLDER) : this.cacheFolder(e);
    const keyDir = join(cache, cacheKey);
    const tRead = performance.now();
    const check = await checkBuild(keyDir, weightsSha256, version);
    const verifyMs = performance.now() - tRead;
    const result = (cached: boolean, readMs: number, buildMs: number): CompiledModel => ({
      name: e.name,
      manifest,
      encoderPath: join(keyDir, ENCODER_FILE),
      decoderPath: join(keyDir, DECODER_FILE),
      cacheKey,
      precision: int8 ? 'int8' : 'fp32',
      weightsSha256,
      cached,
      ...(check.state === 'damaged' ? { repaired: check.reason } : {}),
      timings: { readMs, verifyMs, buildMs },
    });

    if (check.state === 'valid') return result(true, tRead - t0, 0);

    const stateDict = held?.stateDict ?? parseCheckpoint(weights, weightsPath);
    const t1 = performance.now();
    checkArchitecture(stateDict, manifest.architecture, weightsPath);
    let graphs: CompiledGraphs;
    try {
      graphs = await (int8 ? compiler.compile(manifest.architecture, stateDict, int8) : compiler.compile(manifest.architecture, stateDict));
    } catch (err) {
      if (err instanceof CheckpointError) throw err;
      throw new ModelRepositoryError('COMPILE_FAILED', `model ${e.name}: building the ONNX graphs failed: ${describeError(err)}`);
    }
    const record: BuildRecord = {
      name: e.name,
      architecture: manifest.architecture,
      weightsSha256,
      builderVersion: version,
      encoderBytes: graphs.encoder.byteLength,
      decoderBytes: graphs.decoder.byteLength,
      encoderSha256: sha256(graphs.encoder),
      decoderSha256: sha256(graphs.decoder),
      createdAt: new Date().toISOString(),
    };
    await writeBuild(cache, keyDir, graphs, record);
    await removeStaleBuilds(cache, cacheKey);
    return result(false, t1 - t0 - verifyMs, performance.now() - t1);
  }
}

function summarize(e: ModelEntry): ModelSummary {
  const message = e.manifestError ?? e.loadError;
  return {
    name: e.name,
    dir: e.folder,
    ...(e.manifest ? { architecture: e.manifest.architecture } : {}),
    modalities: e.manifest?.modalities ?? [],
    state: message ? 'error' : 'available',
    ...(message ? { message } : {}),
  };
}

/**
 * A cache entry counts only if its record matches the weights and builders and both graphs have the recorded size
 * and SHA-256. A missing entry is a first build; anything else that fails is `damaged`, with the reason.
 */
async function checkBuild(keyDir: string, weightsSha256: string, builderVersion: string): Promise<BuildCheck> {
  let text: string;
  try {
    text = await readFile(join(keyDir, BUILD_RECORD), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { state: 'missing' };
    return { state: 'damaged', reason: `${BUILD_RECORD} cannot be read: ${describeError(err)}` };
  }
  let record: Partial<BuildRecord> | null;
  try {
    record = JSON.parse(text) as Partial<BuildRecord> | null;
  } catch {
    return { state: 'damaged', reason: `${BUILD_RECORD} is not valid JSON` };
  }
  if (typeof record !== 'object' || record === null) return { state: 'damaged', reason: `${BUILD_RECORD} is not a JSON object` };
  // The key hashes both, so a mismatch means the record is not the one written for this key.
  if (record.weightsSha256 !== weightsSha256 || record.builderVersion !== builderVersion) {
    return { state: 'damaged', reason: `${BUILD_RECORD} names other weights or builders than its key` };
  }
  if (typeof record.encoderSha256 !== 'string' || typeof record.decoderSha256 !== 'string') {
    return { state: 'damaged', reason: `${BUILD_RECORD} has no graph checksums (written by an older version)` };
  }
  const graphs: readonly (readonly [string, unknown, string])[] = [
    [ENCODER_FILE, record.encoderBytes, record.encoderSha256],
    [DECODER_FILE, record.decoderBytes, record.decoderSha256],
  ];
  const problems = await Promise.all(graphs.map(async ([file, bytes, expected]) => {
    try {
      const actual = await hashFile(join(keyDir, file));
      if (actual.bytes !== bytes) return `${file} has ${actual.bytes} bytes, ${BUILD_RECORD} recorded ${String(bytes)}`;
      if (actual.sha256 !== expected) return `${file} does not match its recorded SHA-256`;
      return undefined;
    } catch (err) {
      return `${file} cannot be read: ${describeError(err)}`;
    }
  }));
  const problem = problems.find((p) => p !== undefined);
  return problem ? { state: 'damaged', reason: problem } : { state: 'valid' };
}

/** SHA-256 and length of a file, hashed block by block as it is read (a graph is never held whole for this). */
async function hashFile(path: string): Promise<{ sha256: string; bytes: number }> {
  const hash = createHash('sha256');
  const block = Buffer.allocUnsafe(HASH_BLOCK_BYTES);
  const file = await open(path, 'r');
  let total = 0;
  try {
    for (;;) {
      const { bytesRead } = await file.read(block, 0, block.byteLength, null);
      if (bytesRead === 0) break;
      hash.update(block.subarray(0, bytesRead));
      total += bytesRead;
    }
  } finally {
    await file.close();
  }
  return { sha256: hash.digest('hex'), bytes: total };
}

async function writeBuild(cache: string, keyDir: string, graphs: CompiledGraphs, record: BuildRecord): Promise<void> {
  const tmp = join(cache, `.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
  try {
    await mkdir(tmp, { recursive: true });
    await writeFile(join(tmp, ENCODER_FILE), graphs.encoder);
    await writeFile(join(tmp, DECODER_FILE), graphs.decoder);
    await writeFile(join(tmp, BUILD_RECORD), `${JSON.stringify(record, null, 2)}\n`);
    if ((await checkBuild(keyDir, record.weightsSha256, record.builderVersion)).state === 'valid') {
      // Another process finished the same build meanwhile; its files may already be in use, keep them.
      await rm(tmp, { recursive: true, force: true });
      return;
    }
    // An incomplete or damaged leftover under the key (e.g. from a killed process) is replaced.
    await rm(keyDir, { recursive: true, force: true });
    await rename(tmp, keyDir);
  } catch (err) {
    await rm(tmp, { recursive: true, force: true }).catch(() => undefined);
    const code = (err as NodeJS.ErrnoException).code;
    // Another process renamed the same build into place first: theirs is as good as ours.
    if ((code === 'ENOTEMPTY' || code === 'EEXIST') && (await checkBuild(keyDir, record.weightsSha256, record.builderVersion)).state === 'valid') return;
    throw new ModelRepositoryError('CACHE_WRITE_FAILED',
      `cannot write compiled graphs to ${cache}: ${describeError(err)} (configure a writable cache directory)`);
  }
}

/**
 * Graphs of earlier weights or builders are never used again by this process; drop them so the cache does not
 * grow with every weights or builder change. (Processes of different versions should not share one cache folder.)
 */
async function removeStaleBuilds(cache: string, keep: string): Promise<void> {
  for (const name of await readdir(cache).catch(() => [] as string[])) {
    if (name !== keep && CACHE_KEY_PATTERN.test(name)) await rm(join(cache, name), { recursive: true, force: true }).catch(() => undefined);
  }
}
