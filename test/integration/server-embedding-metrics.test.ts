// The embedding gauges: onesam_embedding_bytes / onesam_embedding_budget_bytes read the segmenter's budget once it
// is loaded (0 before), through the service's metrics endpoint.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ServiceMetrics } from '../../src/observability/metrics.ts';
import { FakeSegmenter } from '../helpers/fake-segmenter.ts';
import { scrape, startTestService } from '../helpers/test-service.ts';

test('the embedding gauges read 0 without a source and the source values once set', async () => {
  const metrics = new ServiceMetrics({ defaultMetrics: false });
  const read = async (name: string): Promise<number | undefined> => (await metrics.registry.getSingleMetric(name)?.get())?.values[0]?.value;
  assert.equal(await read('onesam_embedding_bytes'), 0);
  assert.equal(await read('onesam_embedding_budget_bytes'), 0);
  let inUse = 6.5 * 2 ** 20;
  metrics.setEmbeddingSource(() => ({ inUse, limit: 2 ** 30 }));
  assert.equal(await read('onesam_embedding_bytes'), 6.5 * 2 ** 20);
  assert.equal(await read('onesam_embedding_budget_bytes'), 2 ** 30);
  inUse = 0;
  assert.equal(await read('onesam_embedding_bytes'), 0, 'a gauge read at scrape time, not a copy');
  // A segmenter without embedding statistics (an older or test one) reads as 0, not as an error.
  metrics.setEmbeddingSource(() => undefined);
  assert.equal(await read('onesam_embedding_budget_bytes'), 0);
});

test("the service's /metrics shows the loaded segmenter's embedding budget", async () => {
  class BudgetedSegmenter extends FakeSegmenter {
    embeddingStats(): { inUse: number; limit: number } {
      return { inUse: 4 * 2 ** 20, limit: 512 * 2 ** 20 };
    }
  }
  const server = await startTestService({ createSegmenter: async () => new BudgetedSegmenter() });
  try {
    await server.service.ready;
    const samples = await scrape(server.metricsUrl);
    assert.equal(samples.get('onesam_embedding_bytes'), 4 * 2 ** 20);
    assert.equal(samples.get('onesam_embedding_budget_bytes'), 512 * 2 ** 20);
  } finally {
    await server.stop();
  }
});
