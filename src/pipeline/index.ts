// The pipeline's composition: model repository -> compiled graphs -> worker pool -> Segmenter.
import { WorkerPool } from '../workers/pool.ts';
import type { WorkerModelPaths } from '../workers/protocol.ts';
import { ByteBudget } from './byte-budget.ts';
import { SessionEmbeddingCache } from './embedding-cache.ts';
import { PipelineError } from './errors.ts';
import { executePlan } from './execute.ts';
import { planRequest } from './plan.ts';
import { makeRoutingTable, type RoutingTable } from './router.ts';
import type { EmbeddingCache, NetworkStatus, Segmenter, SegmentOptions, SegmentationPlan } from './segmenter.ts';
import type { NetworkName, SegmentationRequest, SegmentationResult } from './types.ts';
import { openRepository } from '../models/repository.ts';

export interface PipelineConfig {
  /** Model repository folder (models/<name>/manifest.json). */
  readonly modelsDir: string;
  /** Compiled-graph cache folder; default: inside each model's folder. */
  readonly cacheDir?: string;
  /** Repository model names serving each network. */
  readonly models?: Readonly<Partial<Record<NetworkName, string>>>;
  readonly workers?: number;
  readonly intraOpThreads?: number;
  /** Bytes of slice embeddings held at once, across all requests. */
  readonly embeddingBudgetBytes?: number;
  /** Tasks waiting for a worker beyond which new work is refused. */
  readonly maxQueuedTasks?: number;
  /** Modality -> network overrides of the default routing table. */
  readonly routing?: Readonly<Record<string, string>>;
}

export const DEFAULT_MODELS: Readonly<Record<NetworkName, string>> = Object.freeze({ litemedsam: 'litemedsam-demo', onesam: 'onesam-demo' });
export const DEFAULT_EMBEDDING_BUDGET = 1024 * 1024 * 1024;

export interface PipelineSegmenter extends Segmenter {
  readonly routing: RoutingTable;
  readonly pool: WorkerPool;
  readonly budget: ByteBudget;
}

export async function createSegmenter(config: PipelineConfig): Promise<PipelineSegmenter> {
  const routing = makeRoutingTable(config.routing ?? {});
  const repo = await openRepository(config.modelsDir, config.cacheDir ? { cacheDir: config.cacheDir } : {});
  const names = { ...DEFAULT_MODELS, ...config.models };
  const models: Partial<Record<NetworkName, WorkerModelPaths>> = {};
  const hq = new Set<NetworkName>();
  const statuses: NetworkStatus[] = [];
  for (const network of ['litemedsam', 'onesam'] as const) {
    const compiled = await repo.ensureCompiled(names[network]);
    if (compiled.manifest.architecture !== network) {
      throw new PipelineError('NETWORK_UNAVAILABLE', `model ${names[network]} is a ${compiled.manifest.architecture} network, not ${network}`, `models.${network}`);
    }
    models[network] = { encoderPath: compiled.encoderPath, decoderPath: compiled.decoderPath };
    if (network === 'onesam') hq.add(network);
    statuses.push({ name: network, model: names[network], ready: false });
  }
  const pool = new WorkerPool({
    models,
    ...(config.workers !== undefined ? { workers: config.workers } : {}),
    ...(config.intraOpThreads !== undefined ? { intraOpThreads: config.intraOpThreads } : {}),
    ...(config.maxQueuedTasks !== undefined ? { maxQueue: config.maxQueuedTasks } : {}),
  });
  await pool.ready();
  for (const s of statuses) (s as { ready: boolean }).ready = true;
  const budget = new ByteBudget(config.embeddingBudgetBytes ?? DEFAULT_EMBEDDING_BUDGET);
  let closing = false;

  return {
    routing,
    pool,
    budget,
    plan(request: SegmentationRequest): SegmentationPlan {
      return planRequest(request, routing);
    },
    async segment(request: SegmentationRequest, options?: SegmentOptions): Promise<SegmentationResult> {
      if (closing) throw new PipelineError('NETWORK_UNAVAILABLE', 'the server is shutting down');
      const plan = planRequest(request, routing);
      return executePlan({ pool, budget, hqNetworks: hq }, request, plan, options);
    },
    openCache: (): EmbeddingCache => new SessionEmbeddingCache(budget),
    networks: () => statuses.map((s) => ({ ...s })),
    poolStats: () => pool.stats(),
    async close(): Promise<void> {
      closing = true;
      for (const s of statuses) (s as { ready: boolean }).ready = false;
      await pool.close();
    },
  };
}

export type { Segmenter, SegmentationPlan } from './segmenter.ts';
export { PipelineError } from './errors.ts';
