// The pipeline's composition: model repository -> compiled graphs -> worker pool -> Segmenter.
import { CodedError } from '../errors/coded-error.ts';
import { WorkerPool, type PoolEvents } from '../workers/pool.ts';
import type { WorkerModelPaths } from '../workers/protocol.ts';
import { ByteBudget } from './byte-budget.ts';
import { SessionEmbeddingCache } from './embedding-cache.ts';
import { executePlan } from './execute.ts';
import { DEFAULT_GAP_MODE, gapSettings, type GapMode } from './speed-level.ts';
import { planRequest, type DetailedPlan } from './plan.ts';
import type { RoutingTable } from './router.ts';
import { int8Request, type NetworkPrecisions } from './calibration-set.ts';
import { checkServed, fallbackNetwork, servedNetworks, servingRoutingTable, type NetworkModels } from './serving.ts';
import type { EmbeddingCache, ModelInfo, NetworkStatus, Segmenter, SegmentOptions, SegmentationPlan } from './segmenter.ts';
import type { SegmentationRequest, SegmentationResult } from './types.ts';
import type { NetworkName } from '../models/network-contract.ts';
import { join } from 'node:path';
import { parameterCount } from '../models/architecture-check.ts';
import { readWeightsMetadata } from '../models/checkpoint/weights-metadata.ts';
import { openRepository, type CompiledModel, type GraphCompiler } from '../models/repository.ts';

/**
 * The settings the pipeline runs with, named as in src/config/schema.ts, which holds their defaults (a caller
 * without a Config of its own starts from loadConfig's). Only cacheDir may be left out.
 */
export interface PipelineConfig {
  /** Model repository folder (models/<name>/manifest.json). */
  readonly modelsDir: string;
  /** Compiled-graph cache folder; unset: inside each model's folder. */
  readonly cacheDir?: string;
  /**
   * Repository model name serving each network. A network without an entry is not loaded; ROUTE then sends every
   * modality to the served one (src/pipeline/serving.ts).
   */
  readonly models: NetworkModels;
  /** Networks whose image encoder runs in int8 (models setting `"precision": "int8"`); the others run fp32. */
  readonly precisions?: NetworkPrecisions;
  readonly workers: number;
  readonly intraOpThreads: number;
  /** Bytes of slice embeddings held at once, across all requests. */
  readonly embeddingBudgetBytes: number;
  /** Tasks waiting for a worker beyond which new work is refused. */
  readonly queueLimit: number;
  /** Modality -> network overrides of the default routing table. */
  readonly routing: Readonly<Record<string, string>>;
  /** What happens while loading and to the worker threads afterwards, for the caller's logs and metrics. */
  readonly events?: PipelineEvents;
  /** Test only: a WorkerFaultSwitch's buffer (src/workers/protocol.ts); nothing in the configuration sets it. */
  readonly faultSwitch?: SharedArrayBuffer;
  /** Test only: builds the graphs in place of the project's builders. */
  readonly compiler?: GraphCompiler;
  /**
   * The command line's mode: a network's graphs are checked (or built) and its sessions opened only when a request
   * first needs it, then kept for the segmenter's life; the threads run no warm-up. A model that is missing or of
   * the wrong architecture still fails at creation; one whose graphs or sessions fail fails the requests needing
   * it, with their code. Unset (the server): everything is loaded before createSegmenter resolves.
   */
  readonly lazy?: boolean;
  /** onnxruntime's CPU memory arena (src/workers/protocol.ts, WorkerInit.cpuMemArena); off unless set. */
  readonly cpuMemArena?: boolean;
  /** How 3D walks above speed level 1 fill their gaps (the speedLevelGaps setting); default DEFAULT_GAP_MODE. */
  readonly speedLevelGaps?: GapMode;
}

export interface PipelineEvents extends PoolEvents {
  /** A model's graphs are ready: from the cache, built, or rebuilt because the cached ones failed their check (`repaired`). */
  modelCompiled?(model: CompiledModel): void;
}

export interface PipelineSegmenter extends Segmenter {
  readonly routing: RoutingTable;
  readonly pool: WorkerPool;
  readonly budget: ByteBudget;
}

async function modelInfo(compiled: CompiledModel, weightsPath: string): Promise<ModelInfo> {
  const m = compiled.manifest;
  const origin = await readWeightsMetadata(weightsPath);
  return {
    architecture: m.architecture,
    precision: compiled.precision === 'int8' ? 'int8' : m.precision,
    weightsSha256: compiled.weightsSha256,
    parameters: parameterCount(m.architecture),
    source: origin['source'] ?? '',
    sourceSha256: origin['sourceSha256'] ?? '',
    description: m.description,
    license: m.license ?? '',
    modalities: m.modalities,
  };
}

function wrongArchitecture(model: string, architecture: string, network: NetworkName): CodedError {
  return new CodedError('NETWORK_UNAVAILABLE', `model ${model} is a ${architecture} network, not ${network}`, `models.${network}`);
}

export async function createSegmenter(config: PipelineConfig): Promise<PipelineSegmenter> {
  const names = config.models;
  const served = servedNetworks(names);
  if (served.length === 0) throw new CodedError('NETWORK_UNAVAILABLE', 'no network to serve: the models setting is empty', 'models');
  const routing = servingRoutingTable(config.routing, served);
  const fallback = fallbackNetwork(served);
  const repo = await openRepository(config.modelsDir, {
    ...(config.cacheDir ? { cacheDir: config.cacheDir } : {}),
    ...(config.compiler ? { compiler: config.compiler } : {}),
  });
  const statuses: NetworkStatus[] = served.map((network) => ({ name: network, model: names[network]!, ready: false }));
  /** Checks (or builds) a network's graphs and records its model's description in its status. */
  const compileNetwork = async (network: NetworkName): Promise<WorkerModelPaths> => {
    const name = names[network]!;
    const int8 = config.precisions?.[network];
    const compiled = await repo.ensureCompiled(name, undefined, int8 ? int8Request(int8) : undefined);
    if (compiled.manifest.architecture !== network) throw wrongArchitecture(name, compiled.manifest.architecture, network);
    config.events?.modelCompiled?.(compiled);
    const status = statuses.find((s) => s.name === network)! as { info?: ModelInfo };
    status.info = await modelInfo(compiled, join(repo.get(name)!.dir, compiled.manifest.weights));
    return { encoderPath: compiled.encoderPath, decoderPath: compiled.decoderPath };
  };
  const models: Partial<Record<NetworkName, WorkerModelPaths>> = {};
  if (config.lazy) {
    // Only what the repository's listing tells: a misnamed model fails now, as it does in the server, and its
    // graphs are left for the first request that needs them.
    for (const network of served) {
      const name = names[network]!;
      const listed = repo.get(name);
      if (!listed || listed.state === 'error') await repo.ensureCompiled(name);
      else if (listed.architecture !== undefined && listed.architecture !== network) throw wrongArchitecture(name, listed.architecture, network);
    }
  } else {
    for (const network of served) models[network] = await compileNetwork(network);
  }
  const pool = new WorkerPool({
    models,
    workers: config.workers,
    intraOpThreads: config.intraOpThreads,
    queueLimit: config.queueLimit,
    ...(config.lazy ? { lazy: true } : {}),
    ...(config.cpuMemArena ? { cpuMemArena: true } : {}),
    ...(config.events ? { events: config.events } : {}),
    ...(config.faultSwitch ? { faultSwitch: config.faultSwitch } : {}),
  });
  // Lazy: the threads start while the caller goes on (reading its input, compiling the graphs a request needs);
  // requests wait for them. The server waits here: readiness means every network can run.
  const started = pool.ready().then(() => undefined, async (err: unknown) => {
    // ready() settles only once every thread has finished its load, so closing now cannot cut a warm-up run short;
    // an open pool would go on replacing threads that fail the same way.
    await pool.close();
    throw err;
  });
  if (config.lazy) started.catch(() => undefined);
  else await started;
  if (!config.lazy) for (const s of statuses) (s as { ready: boolean }).ready = true;
  /** Lazy: each network's graphs, compiled once; a failure stays, so every later request needing it gets it. */
  const compiling = new Map<NetworkName, Promise<void>>();
  const provide = async (networks: readonly NetworkName[]): Promise<void> => {
    if (!config.lazy) return;
    await Promise.all(networks.map((network) => {
      let p = compiling.get(network);
      if (!p) {
        p = compileNetwork(network).then((paths) => {
          pool.provide(network, paths);
          (statuses.find((s) => s.name === network)! as { ready: boolean }).ready = true;
        });
        compiling.set(network, p);
      }
      return p;
    }));
  };
  const budget = new ByteBudget(config.embeddingBudgetBytes);
  let closing = false;
  // The plans plan() made, with the request each was made for: segment() runs one of them rather than plan again.
  const plans = new WeakMap<SegmentationPlan, { readonly request: SegmentationRequest; readonly plan: DetailedPlan }>();
  const planFor = (request: SegmentationRequest): DetailedPlan => {
    const plan = planRequest(request, routing, fallback);
    checkServed(plan.networks, served);
    plans.set(plan, { request, plan });
    return plan;
  };
  const plannedFor = (request: SegmentationRequest, given: SegmentationPlan): DetailedPlan => {
    const made = plans.get(given);
    if (made?.request !== request) throw new Error('SegmentOptions.plan must come from plan() of the same segmenter for the same request');
    return made.plan;
  };

  // The gap settings of the configured mode; a call's own gapAgreement / gapRedecodes (benches) win over them.
  const gaps = gapSettings(config.speedLevelGaps ?? DEFAULT_GAP_MODE);
  return {
    routing,
    pool,
    budget,
    plan: planFor,
    async segment(request: SegmentationRequest, options?: SegmentOptions): Promise<SegmentationResult> {
      if (closing) throw new CodedError('NETWORK_UNAVAILABLE', 'the server is shutting down');
      const plan = options?.plan ? plannedFor(request, options.plan) : planFor(request);
      await Promise.all([started, provide(plan.networks)]);
      return executePlan({ pool, budget }, request, plan, { ...gaps, ...options });
    },
    openCache: (): EmbeddingCache => new SessionEmbeddingCache(budget),
    // Once the pool has failed (a replacement thread could not load), no network is ready, and ListModels says why.
    networks: () => statuses.map((s) => (pool.failureReason === undefined ? { ...s } : { ...s, ready: false, message: pool.failureReason })),
    poolStats: () => pool.stats(),
    embeddingStats: () => ({ inUse: budget.inUse, limit: budget.limit }),
    async close(): Promise<void> {
      closing = true;
      for (const s of statuses) (s as { ready: boolean }).ready = false;
      // A pool that failed to start has closed itself.
      if (await started.then(() => true, () => false)) await pool.close();
    },
  };
}

export type { Segmenter, SegmentationPlan } from './segmenter.ts';
