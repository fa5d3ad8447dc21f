// The logger's guarantees, read back from the JSON lines it writes: identifiers and credentials redacted, binary
// data replaced by its size, the request id on every line of a request logger.
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { createLogger, requestLogger } from '../../src/observability/logger.ts';
import { ServiceMetrics } from '../../src/observability/metrics.ts';

function capture(): { lines: () => Record<string, unknown>[]; stream: Writable } {
  const chunks: string[] = [];
  const stream = new Writable({ write(chunk, _e, cb) { chunks.push(String(chunk)); cb(); } });
  return { stream, lines: () => chunks.join('').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>) };
}

test('patient identifiers and credentials are redacted at the top level and one level down', () => {
  const { stream, lines } = capture();
  const logger = createLogger({ level: 'info', destination: stream });
  logger.info({ PatientName: 'DOE^JANE', dicom: { PatientID: '12345', Modality: 'CT' }, authorization: 'Bearer abc', series: 'x' }, 'received');
  const [line] = lines();
  assert.equal(line!['PatientName'], '[redacted]');
  assert.deepEqual(line!['dicom'], { PatientID: '[redacted]', Modality: 'CT' });
  assert.equal(line!['authorization'], '[redacted]');
  assert.equal(line!['series'], 'x');
  assert.equal(line!['level'], 'info');
});

test('typed arrays and buffers are logged as their size, never their contents', () => {
  const { stream, lines } = capture();
  const logger = createLogger({ level: 'info', destination: stream });
  logger.info({ voxels: new Uint8Array([1, 2, 3, 4]), labels: Buffer.from([9, 9]), count: 2 }, 'volume');
  const [line] = lines();
  assert.equal(line!['voxels'], '[4 bytes]');
  assert.equal(line!['labels'], '[2 bytes]');
  assert.equal(line!['count'], 2);
});

test('a request logger stamps the request id and method on every line', () => {
  const { stream, lines } = capture();
  const log = requestLogger(createLogger({ level: 'debug', destination: stream }), 'req-9', 'Segment');
  log.debug('a');
  log.warn('b');
  assert.deepEqual(lines().map((l) => [l['requestId'], l['method'], l['level']]), [['req-9', 'Segment', 'debug'], ['req-9', 'Segment', 'warn']]);
});

test('pool gauges read the Segmenter pool stats at scrape time, and 0 before a pool exists', async () => {
  const metrics = new ServiceMetrics({ defaultMetrics: false });
  const read = async (name: string): Promise<number> => (await metrics.registry.getSingleMetric(name)!.get()).values[0]!.value;
  assert.equal(await read('onesam_pool_workers'), 0);
  let stats = { queued: 3, busy: 1, workers: 2 };
  metrics.setPoolSource(() => stats);
  assert.equal(await read('onesam_pool_queue_depth'), 3);
  assert.equal(await read('onesam_pool_utilisation'), 0.5);
  stats = { queued: 0, busy: 2, workers: 2 };
  assert.equal(await read('onesam_pool_utilisation'), 1);
  assert.equal(await read('onesam_pool_workers'), 2);
});
