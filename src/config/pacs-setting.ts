// The `pacs` setting: named DICOMweb endpoints (docs/pacs.md). Each is checked once, at start: a URL the server
// can use (http or https, no credentials or query in it), credentials and CA files that exist and can be read,
// timeouts and retries in range. Unknown keys are refused, as everywhere in the configuration.
import { accessSync, constants, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { ENDPOINT_NAME, PACS_ENDPOINT_DEFAULTS, type PacsAuth, type PacsEndpoint } from '../pacs/endpoint.ts';
import { ConfigError } from './errors.ts';

const ENDPOINT_KEYS = ['url', 'auth', 'caFile', 'connectTimeoutMs', 'responseTimeoutMs', 'retries', 'retryDelayMs'];
const AUTH_KEYS: Readonly<Record<PacsAuth['type'], readonly string[]>> = { none: ['type'], basic: ['type', 'username', 'passwordFile'], bearer: ['type', 'tokenFile'] };

/**
 * Parses the setting: a JSON object (or its text, from ONESAM_PACS) of endpoint name -> endpoint. Relative file
 * paths resolve against `baseDir` (the config file's folder, or the working directory).
 */
export function parsePacsSetting(value: unknown, path: string, source: string, baseDir: string): Readonly<Record<string, PacsEndpoint>> {
  const fail = (field: string, message: string): never => {
    throw new ConfigError(field, source, message);
  };
  let object = value;
  if (typeof value === 'string') {
    try {
      object = JSON.parse(value);
    } catch {
      return fail(path, 'must be a JSON object of endpoint name -> {"url": ...} (docs/pacs.md)');
    }
  }
  if (!isPlainObject(object)) return fail(path, 'must be an object of endpoint name -> {"url": ...} (docs/pacs.md)');
  const endpoints: Record<string, PacsEndpoint> = {};
  for (const [name, spec] of Object.entries(object)) {
    const field = `${path}.${name}`;
    if (!ENDPOINT_NAME.test(name)) fail(field, 'an endpoint name is 1..64 letters, digits, `_`, `.` or `-`, starting with a letter or digit');
    endpoints[name] = parseEndpoint(name, spec, field, baseDir, fail);
  }
  return endpoints;
}

function parseEndpoint(name: string, spec: unknown, field: string, baseDir: string, fail: (field: string, message: string) => never): PacsEndpoint {
  if (!isPlainObject(spec)) return fail(field, 'must be an object with at least "url"');
  for (const key of Object.keys(spec)) {
    if (!ENDPOINT_KEYS.includes(key)) fail(`${field}.${key}`, `unknown setting (known: ${ENDPOINT_KEYS.join(', ')})`);
  }
  const url = parseUrl(spec.url, `${field}.url`, fail);
  const file = (value: unknown, key: string): string => readableFile(value, key, baseDir, fail);
  const caFile = spec.caFile === undefined ? undefined : file(spec.caFile, `${field}.caFile`);
  if (caFile !== undefined && !url.startsWith('https:')) fail(`${field}.caFile`, 'applies to https URLs only; this endpoint\'s url is http');
  const int = (key: string, min: number, max: number, fallback: number): number => {
    const v = spec[key];
    if (v === undefined) return fallback;
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min || v > max) return fail(`${field}.${key}`, `must be an integer in ${min}..${max}, got ${JSON.stringify(v)}`);
    return v;
  };
  return {
    name,
    url,
    auth: parseAuth(spec.auth, `${field}.auth`, file, fail),
    ...(caFile !== undefined ? { caFile } : {}),
    connectTimeoutMs: int('connectTimeoutMs', 100, 600_000, PACS_ENDPOINT_DEFAULTS.connectTimeoutMs),
    responseTimeoutMs: int('responseTimeoutMs', 100, 3_600_000, PACS_ENDPOINT_DEFAULTS.responseTimeoutMs),
    retries: int('retries', 0, 10, PACS_ENDPOINT_DEFAULTS.retries),
    retryDelayMs: int('retryDelayMs', 0, 60_000, PACS_ENDPOINT_DEFAULTS.retryDelayMs),
  };
}

function parseUrl(value: unknown, field: string, fail: (field: string, message: string) => never): string {
  if (typeof value !== 'string' || value.trim() === '') return fail(field, 'is required: the DICOMweb root, e.g. "http://orthanc:8042/dicom-web"');
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return fail(field, `must be an absolute http or https URL, got ${JSON.stringify(value)}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') fail(field, `must be an http or https URL, got ${url.protocol}`);
  // The URL is logged and shown by `onesam pacs`; credentials belong in auth's files.
  if (url.username !== '' || url.password !== '') fail(field, 'must not carry credentials: use auth (basic with a passwordFile, or bearer with a tokenFile)');
  if (url.search !== '' || url.hash !== '') fail(field, 'must be the DICOMweb root, without a query or fragment');
  return url.href.replace(/\/+$/, '');
}

function parseAuth(value: unknown, field: string, file: (value: unknown, key: string) => string, fail: (field: string, message: string) => never): PacsAuth {
  if (value === undefined || value === 'none') return { type: 'none' };
  if (!isPlainObject(value) || typeof value.type !== 'string' || !Object.hasOwn(AUTH_KEYS, value.type)) {
    return fail(field, 'must be "none", {"type": "basic", "username": ..., "passwordFile": ...} or {"type": "bearer", "tokenFile": ...}');
  }
  const type = value.type as PacsAuth['type'];
  for (const key of Object.keys(value)) {
    if (!AUTH_KEYS[type].includes(key)) fail(`${field}.${key}`, `unknown setting for ${type} auth (known: ${AUTH_KEYS[type].join(', ')})`);
  }
  switch (type) {
    case 'none':
      return { type };
    case 'basic': {
      const username = value.username;
      // RFC 7617: the user-id may not contain a colon; control characters would break the header.
      if (typeof username !== 'string' || username === '' || /[:\x00-\x1f\x7f]/.test(username)) {
        return fail(`${field}.username`, 'must be a non-empty user name without ":" or control characters');
      }
      return { type, username, passwordFile: secretFile(file(value.passwordFile, `${field}.passwordFile`), `${field}.passwordFile`, fail) };
    }
    case 'bearer':
      return { type, tokenFile: secretFile(file(value.tokenFile, `${field}.tokenFile`), `${field}.tokenFile`, fail) };
  }
}

function readableFile(value: unknown, field: string, baseDir: string, fail: (field: string, message: string) => never): string {
  if (typeof value !== 'string' || value === '') return fail(field, 'must be a file path');
  const path = resolve(baseDir, value);
  try {
    accessSync(path, constants.R_OK);
  } catch {
    fail(field, `file ${path} cannot be read`);
  }
  return path;
}

/** A credentials file must hold a secret now; it is read again for each request (a sidecar may rotate it). */
function secretFile(path: string, field: string, fail: (field: string, message: string) => never): string {
  if (readFileSync(path, 'utf8').trim() === '') fail(field, `file ${path} is empty`);
  return path;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
