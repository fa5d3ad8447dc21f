// The pipeline's settings for tests that create a Segmenter themselves: what `onesam serve` runs with when nothing
// is configured (defaults live in src/config only), on the demo models, with the test's own changes.
import { loadConfig } from '../../src/config/load.ts';
import { pipelineConfig } from '../../src/config/pipeline-config.ts';
import type { PipelineConfig } from '../../src/pipeline/index.ts';
import { MODELS_DIR } from './cases.ts';

export function defaultPipelineConfig(overrides: Partial<PipelineConfig> = {}): PipelineConfig {
  return { ...pipelineConfig(loadConfig({ env: {} }).config), modelsDir: MODELS_DIR, ...overrides };
}
