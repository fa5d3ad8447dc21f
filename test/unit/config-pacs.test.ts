// The `pacs` setting (src/config/pacs-setting.ts): endpoints parsed with their defaults, every mistake refused at
// load with the field named, secrets only in files that exist.
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { rmSync } from 'node:fs';
import { ConfigError, loadConfig } from '../../src/config/index.ts';
import { PACS_ENDPOINT_DEFAULTS } from '../../src/pacs/endpoint.ts';

const dir = mkdtempSync(join(tmpdir(), 'onesam-pacs-config-'));
after(() => rmSync(dir, { recursive: true, force: true }));
function file(name: string, content: string): string {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}

function pacsError(value: unknown): ConfigError {
  try {
    loadConfig({ env: { ONESAM_PACS: JSON.stringify(value) } });
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected ConfigError, got ${String(err)}`);
    return err;
  }
  assert.fail(`expected ${JSON.stringify(value)} to be refused`);
}

test('no PACS by default; an endpoint takes the defaults and its URL loses the trailing slash', () => {
  assert.deepEqual(loadConfig({ env: {} }).config.pacs, {});
  const { config } = loadConfig({ env: { ONESAM_PACS: '{"orthanc":{"url":"http://127.0.0.1:8042/dicom-web/"}}' } });
  assert.deepEqual(config.pacs, { orthanc: { name: 'orthanc', url: 'http://127.0.0.1:8042/dicom-web', auth: { type: 'none' }, ...PACS_ENDPOINT_DEFAULTS } });
  assert.ok(Object.isFrozen(config.pacs.orthanc) && Object.isFrozen(config.pacs.orthanc!.auth));
});

test('basic and bearer auth read from files, resolved against the config file; caFile for https', () => {
  const password = file('password', 's3cret\n');
  file('token', 'tok\n');
  file('ca.pem', 'CA');
  const configFile = file('config.json', JSON.stringify({
    pacs: {
      orthanc: { url: 'http://orthanc:8042/dicom-web', auth: { type: 'basic', username: 'onesam', passwordFile: 'password' }, retries: 0, responseTimeoutMs: 5000 },
      cloud: { url: 'https://healthcare.example.org/v1/dicomWeb', auth: { type: 'bearer', tokenFile: './token' }, caFile: 'ca.pem', connectTimeoutMs: 2000, retryDelayMs: 0 },
    },
  }));
  const { pacs } = loadConfig({ env: {}, configFile }).config;
  assert.deepEqual(pacs.orthanc!.auth, { type: 'basic', username: 'onesam', passwordFile: password });
  assert.equal(pacs.orthanc!.retries, 0);
  assert.equal(pacs.orthanc!.responseTimeoutMs, 5000);
  assert.deepEqual(pacs.cloud!.auth, { type: 'bearer', tokenFile: join(dir, 'token') });
  assert.equal(pacs.cloud!.caFile, join(dir, 'ca.pem'));
  assert.equal(pacs.cloud!.connectTimeoutMs, 2000);
  assert.equal(pacs.cloud!.retryDelayMs, 0);
});

test('each mistake is refused with its field', () => {
  const empty = file('empty', '\n');
  const unreadable = file('unreadable', 'x');
  chmodSync(unreadable, 0o000);
  const cases: [unknown, string, RegExp][] = [
    ['[1]', 'pacs', /must be an object of endpoint name/],
    [{ 'bad name!': { url: 'http://a' } }, 'pacs.bad name!', /endpoint name/],
    [{ a: 'http://a' }, 'pacs.a', /must be an object with at least "url"/],
    [{ a: {} }, 'pacs.a.url', /is required/],
    [{ a: { url: 'ftp://a/x' } }, 'pacs.a.url', /http or https/],
    [{ a: { url: 'pacs:8042' } }, 'pacs.a.url', /http or https/],
    [{ a: { url: 'not a url' } }, 'pacs.a.url', /absolute http or https URL/],
    [{ a: { url: 'http://user:pw@a/dicom-web' } }, 'pacs.a.url', /must not carry credentials/],
    [{ a: { url: 'http://a/dicom-web?x=1' } }, 'pacs.a.url', /without a query/],
    [{ a: { url: 'http://a', timeout: 1 } }, 'pacs.a.timeout', /unknown setting \(known: url, auth/],
    [{ a: { url: 'http://a', retries: 11 } }, 'pacs.a.retries', /integer in 0..10, got 11/],
    [{ a: { url: 'http://a', connectTimeoutMs: '5s' } }, 'pacs.a.connectTimeoutMs', /integer in 100..600000/],
    [{ a: { url: 'http://a', auth: 'basic' } }, 'pacs.a.auth', /must be "none", \{"type": "basic"/],
    [{ a: { url: 'http://a', auth: { type: 'basic', username: 'u', password: 'p' } } }, 'pacs.a.auth.password', /unknown setting for basic auth/],
    [{ a: { url: 'http://a', auth: { type: 'basic', username: 'u:x', passwordFile: empty } } }, 'pacs.a.auth.username', /without ":"/],
    [{ a: { url: 'http://a', auth: { type: 'basic', username: 'u', passwordFile: empty } } }, 'pacs.a.auth.passwordFile', /is empty/],
    [{ a: { url: 'http://a', auth: { type: 'bearer', tokenFile: join(dir, 'nope') } } }, 'pacs.a.auth.tokenFile', /cannot be read/],
    [{ a: { url: 'http://a', caFile: empty } }, 'pacs.a.caFile', /https URLs only/],
  ];
  if (process.getuid?.() !== 0) cases.push([{ a: { url: 'https://a', caFile: unreadable } }, 'pacs.a.caFile', /cannot be read/]);
  for (const [value, field, message] of cases) {
    const err = pacsError(value);
    assert.equal(err.field, field, JSON.stringify(value));
    assert.match(err.message, message, JSON.stringify(value));
    assert.match(err.message, /\(ONESAM_PACS\)/);
  }
  assert.match(configErrorText(() => loadConfig({ env: { ONESAM_PACS: '{oops' } })), /config\.pacs \(ONESAM_PACS\): must be a JSON object/);
});

function configErrorText(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    return (err as Error).message;
  }
  return '';
}
