import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { CONFIG_FIELDS, ConfigError, DEFAULTS, loadConfig } from '../../src/config/index.ts';

const dir = mkdtempSync(join(tmpdir(), 'onesam-config-'));
function file(name: string, content: string): string {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}

function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected ConfigError, got ${String(err)}`);
    assert.equal(err.code, 'CONFIG_INVALID');
    return err;
  }
  assert.fail('expected a ConfigError');
}

test('defaults: ports, limits, and workers x threads fitting the cores', () => {
  const { config, warnings } = loadConfig({ env: {}, cores: 6 });
  assert.equal(config.port, 50051);
  assert.equal(config.metricsPort, 9464);
  assert.equal(config.host, '0.0.0.0');
  assert.equal(config.intraOpThreads, 1);
  assert.equal(config.workers, 6);
  assert.equal(config.maxMessageBytes, 8 * 1024 * 1024);
  assert.equal(config.maxPayloadBytes, DEFAULTS.maxPayloadBytes);
  assert.match(config.modelsDir, /models$/);
  assert.equal(config.tls, undefined);
  assert.equal(config.authToken, undefined);
  assert.deepEqual(config.routing, {});
  assert.deepEqual(warnings, []);
});

test('default workers divide the cores by the intra-op threads', () => {
  assert.equal(loadConfig({ env: { ONESAM_INTRA_OP_THREADS: '2' }, cores: 7 }).config.workers, 3);
  assert.equal(loadConfig({ env: { ONESAM_INTRA_OP_THREADS: '4' }, cores: 2 }).config.workers, 1);
});

test('explicit oversubscription is allowed but warned about', () => {
  const { config, warnings } = loadConfig({ env: { ONESAM_WORKERS: '2', ONESAM_INTRA_OP_THREADS: '2' }, cores: 2 });
  assert.equal(config.workers, 2);
  assert.match(warnings.join('\n'), /exceeds the 2 available cores/);
});

test('environment values are parsed and validated', () => {
  const { config } = loadConfig({
    env: {
      ONESAM_PORT: '6000', ONESAM_METRICS_PORT: '0', ONESAM_MAX_PAYLOAD_BYTES: '64MiB', ONESAM_EMBEDDING_BUDGET_BYTES: '2GiB',
      ONESAM_MAX_CONCURRENT_REQUESTS: '3', ONESAM_QUEUE_LIMIT: '50', ONESAM_SHUTDOWN_GRACE_MS: '1000', ONESAM_LOG_LEVEL: 'debug',
      ONESAM_AUTH_TOKEN: 's3cret-token', ONESAM_ROUTING: '{"MR":"onesam","x-ray":"litemedsam"}', ONESAM_MODELS_DIR: 'rel/models',
    },
    cwd: '/srv',
  });
  assert.equal(config.port, 6000);
  assert.equal(config.metricsPort, 0);
  assert.equal(config.maxPayloadBytes, 64 * 1024 * 1024);
  assert.equal(config.embeddingBudgetBytes, 2 * 1024 ** 3);
  assert.equal(config.maxConcurrentRequests, 3);
  assert.equal(config.queueLimit, 50);
  assert.equal(config.shutdownGraceMs, 1000);
  assert.equal(config.logLevel, 'debug');
  assert.equal(config.authToken, 's3cret-token');
  assert.deepEqual(config.routing, { MR: 'onesam', 'x-ray': 'litemedsam' });
  assert.equal(config.modelsDir, '/srv/rel/models');
});

test('errors name the field path and the variable that held the value', () => {
  assert.equal(configError(() => loadConfig({ env: { ONESAM_PORT: 'tcp://10.0.0.1:50051' } })).message,
    'config.port (ONESAM_PORT): must be an integer in 0..65535, got "tcp://10.0.0.1:50051"');
  assert.equal(configError(() => loadConfig({ env: { ONESAM_WORKERS: '0' } })).field, 'workers');
  assert.match(configError(() => loadConfig({ env: { ONESAM_WORKERS: '1.5' } })).message, /^config\.workers \(ONESAM_WORKERS\)/);
  assert.match(configError(() => loadConfig({ env: { ONESAM_MAX_PAYLOAD_BYTES: '12 parsecs' } })).message, /maxPayloadBytes.*byte count/);
  assert.match(configError(() => loadConfig({ env: { ONESAM_LOG_LEVEL: 'loud' } })).message, /logLevel.*one of fatal, error/);
  const sonar = configError(() => loadConfig({ env: { ONESAM_ROUTING: '{"Sonar":"onesam"}' } }));
  assert.equal(sonar.field, 'routing.Sonar');
  // The router's own detail, under the config path: composed, not cut out of the router's message.
  assert.match(sonar.detail, /^unknown modality "Sonar" \(known: /);
  assert.equal(sonar.message, `config.routing.Sonar (ONESAM_ROUTING): ${sonar.detail}`);
  assert.equal(configError(() => loadConfig({ env: { ONESAM_ROUTING: '{"CT":"medsam"}' } })).field, 'routing.CT');
  assert.equal(configError(() => loadConfig({ env: { ONESAM_ROUTING: '[1]' } })).field, 'routing');
  assert.equal(configError(() => loadConfig({ env: { ONESAM_MAX_MESSAGE_BYTES: '1KiB' } })).field, 'maxMessageBytes');
});

test('codecThreads: 1 by default, set by file, variable or flag, an integer in 1..64', () => {
  assert.equal(loadConfig({ env: {}, cores: 16 }).config.codecThreads, 1);
  assert.equal(loadConfig({ env: { ONESAM_CODEC_THREADS: '2' } }).config.codecThreads, 2);
  assert.equal(loadConfig({ env: { ONESAM_CODEC_THREADS: '2' }, flags: { 'codec-threads': '3' } }).config.codecThreads, 3);
  assert.equal(loadConfig({ env: {}, configFile: file('codec.json', '{"codecThreads": 4}') }).config.codecThreads, 4);
  assert.equal(configError(() => loadConfig({ env: { ONESAM_CODEC_THREADS: '0' } })).message, 'config.codecThreads (ONESAM_CODEC_THREADS): must be an integer in 1..64, got "0"');
  assert.equal(configError(() => loadConfig({ env: { ONESAM_CODEC_THREADS: '65' } })).field, 'codecThreads');
  assert.equal(configError(() => loadConfig({ env: {}, flags: { 'codec-threads': '1.5' } })).field, 'codecThreads');
});

test('the auth token never appears in error messages', () => {
  const err = configError(() => loadConfig({ env: { ONESAM_AUTH_TOKEN: 'abc def' } }));
  assert.equal(err.field, 'authToken');
  assert.doesNotMatch(err.message, /abc/);
});

test('a JSON file is read, env overrides it, flags override env; file paths resolve next to the file', () => {
  const path = file('layers.json', JSON.stringify({ port: 7000, metricsPort: 7001, workers: 3, modelsDir: 'm', routing: { PET: 'litemedsam' } }));
  const { config } = loadConfig({ env: { ONESAM_CONFIG: path, ONESAM_PORT: '7100', ONESAM_WORKERS: '2' }, flags: { workers: '1' }, cores: 8 });
  assert.equal(config.port, 7100);
  assert.equal(config.metricsPort, 7001);
  assert.equal(config.workers, 1);
  assert.equal(config.modelsDir, join(dir, 'm'));
  assert.deepEqual(config.routing, { PET: 'litemedsam' });
  // --config wins over ONESAM_CONFIG.
  const other = file('other.json', '{"port": 7200}');
  assert.equal(loadConfig({ env: { ONESAM_CONFIG: path }, configFile: other }).config.port, 7200);
});

test('unknown file keys, unknown flags and bad files are rejected with the field path', () => {
  const typo = file('typo.json', '{"port": 1, "wokers": 2}');
  const err = configError(() => loadConfig({ env: {}, configFile: typo }));
  assert.equal(err.field, 'wokers');
  assert.match(err.message, new RegExp(`^config\\.wokers \\(file ${typo.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}\\): unknown setting`));
  assert.equal(configError(() => loadConfig({ env: {}, configFile: file('tls.json', '{"tls": {"certificate": "x"}}') })).field, 'tls.certificate');
  assert.equal(configError(() => loadConfig({ env: {}, configFile: file('num.json', '{"port": "80a"}') })).field, 'port');
  assert.equal(configError(() => loadConfig({ env: {}, configFile: file('arr.json', '[1]') })).field, 'file');
  assert.match(configError(() => loadConfig({ env: {}, configFile: file('bad.json', '{port: 1}') })).message, /not valid JSON/);
  assert.match(configError(() => loadConfig({ env: {}, configFile: join(dir, 'missing.json') })).message, /cannot be read: ENOENT/);
  assert.equal(configError(() => loadConfig({ env: {}, flags: { prot: '1' } })).field, 'prot');
});

test('unknown ONESAM_* variables are warned about, Kubernetes service links are not', () => {
  const { warnings } = loadConfig({ env: { ONESAM_WORKER: '2', ONESAM_SERVICE_HOST: '10.0.0.1', ONESAM_PORT_50051_TCP_ADDR: '10.0.0.1', OTHER: 'x' } });
  assert.deepEqual(warnings, ['environment variable ONESAM_WORKER is not a setting and was ignored']);
});

test('TLS: cert and key go together, client CA needs them, files must be readable', () => {
  const cert = file('cert.pem', 'CERT');
  const key = file('key.pem', 'KEY');
  const ca = file('ca.pem', 'CA');
  const { config } = loadConfig({ env: { ONESAM_TLS_CERT: cert, ONESAM_TLS_KEY: key, ONESAM_TLS_CLIENT_CA: ca } });
  assert.deepEqual(config.tls, { cert, key, clientCa: ca });
  assert.equal(configError(() => loadConfig({ env: { ONESAM_TLS_CERT: cert } })).message, 'config.tls.key (ONESAM_TLS_CERT): is required when tls.cert is set');
  assert.equal(configError(() => loadConfig({ env: { ONESAM_TLS_CLIENT_CA: ca } })).field, 'tls.clientCa');
  assert.match(configError(() => loadConfig({ env: { ONESAM_TLS_CERT: join(dir, 'nope.pem'), ONESAM_TLS_KEY: key } })).message, /tls\.cert.*cannot be read/);
});

test('the result is deeply frozen', () => {
  const cert = file('c2.pem', 'CERT');
  const key = file('k2.pem', 'KEY');
  const { config } = loadConfig({ env: { ONESAM_TLS_CERT: cert, ONESAM_TLS_KEY: key, ONESAM_ROUTING: '{"CT":"litemedsam"}' } });
  assert.ok(Object.isFrozen(config) && Object.isFrozen(config.tls) && Object.isFrozen(config.routing));
  assert.throws(() => { (config as { port: number }).port = 1; }, TypeError);
});

test('docs/configuration.md documents every setting with its variable', () => {
  const doc = readFileSync(new URL('../../docs/configuration.md', import.meta.url), 'utf8');
  const rows = doc.split('\n').filter((l) => l.startsWith('| `'));
  const documented = rows.map((l) => /^\| `([\w.]+)` \| `(ONESAM_\w+)` \|/.exec(l)).filter((m) => m).map((m) => `${m![1]} ${m![2]}`);
  assert.deepEqual(documented.sort(), CONFIG_FIELDS.map((f) => `${f.path} ${f.env}`).sort());
  for (const f of CONFIG_FIELDS.filter((x) => x.flag)) assert.ok(doc.includes(`--${f.flag}`), `--${f.flag} is documented`);
});

test('stalled-client settings: maxConcurrentUploads follows maxConcurrentRequests unless set; timeouts and the rate floor parse and are bounded', () => {
  const derived = loadConfig({ env: { ONESAM_MAX_CONCURRENT_REQUESTS: '5' }, cores: 2 }).config;
  assert.equal(derived.maxConcurrentUploads, 10);
  assert.equal(derived.uploadIdleTimeoutMs, 30_000);
  assert.equal(derived.uploadMinBytesPerSecond, 64 * 1024);
  assert.equal(derived.responseStallTimeoutMs, 30_000);
  const set = loadConfig({
    env: { ONESAM_MAX_CONCURRENT_UPLOADS: '3', ONESAM_UPLOAD_IDLE_TIMEOUT_MS: '5000', ONESAM_UPLOAD_MIN_BYTES_PER_SECOND: '0', ONESAM_RESPONSE_STALL_TIMEOUT_MS: '60000' },
    cores: 2,
  }).config;
  assert.deepEqual([set.maxConcurrentUploads, set.uploadIdleTimeoutMs, set.uploadMinBytesPerSecond, set.responseStallTimeoutMs], [3, 5000, 0, 60_000]);
  assert.throws(() => loadConfig({ env: { ONESAM_UPLOAD_IDLE_TIMEOUT_MS: '10' }, cores: 2 }), /uploadIdleTimeoutMs \(ONESAM_UPLOAD_IDLE_TIMEOUT_MS\)/);
  assert.throws(() => loadConfig({ env: { ONESAM_MAX_CONCURRENT_UPLOADS: '0' }, cores: 2 }), /maxConcurrentUploads/);
});
