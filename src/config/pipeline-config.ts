// The validated Config's settings that the segmentation pipeline takes, in one place: `onesam serve` (main.ts) and
// the command line's in-process runs (cli/segment.ts) both build their PipelineConfig here, so a setting the
// pipeline gains reaches both (the int8 precisions once reached only the server).
import type { PipelineConfig } from '../pipeline/index.ts';
import type { Config } from './schema.ts';

/** The pipeline's settings from the configuration: the one place they pass from config to the pipeline. */
export function pipelineConfig(config: Config): PipelineConfig {
  return {
    modelsDir: config.modelsDir,
    ...(config.cacheDir !== undefined ? { cacheDir: config.cacheDir } : {}),
    models: config.models,
    ...(config.modelPrecisions !== undefined ? { precisions: config.modelPrecisions } : {}),
    workers: config.workers,
    intraOpThreads: config.intraOpThreads,
    embeddingBudgetBytes: config.embeddingBudgetBytes,
    queueLimit: config.queueLimit,
    routing: config.routing,
    speedLevelGaps: config.speedLevelGaps,
  };
}
