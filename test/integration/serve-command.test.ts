// `onesam serve` as a process: a bad setting stops it before any port opens (exit 78, the field named); with the
// demo models it logs where it listens, becomes SERVING, and on SIGTERM drains and exits 0.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import { SegmentationClient } from '../../src/client/client.ts';
import { ERROR_CODE_KEY } from '../../src/errors/grpc-status.ts';
import { loadSegmentationProto } from '../../src/protocol/proto.ts';
import { box3d, rawRequest } from '../helpers/requests.ts';
import { grpcError, type HealthPackage } from '../helpers/test-service.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const ONESAM = join(ROOT, 'bin', 'onesam.mjs');
const ENV = { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '' };

test('a configuration error exits 78 naming the field, before listening', () => {
  const bad = spawnSync(process.execPath, [ONESAM, 'serve', '--port', '70000'], { cwd: ROOT, env: ENV, encoding: 'utf8', timeout: 30_000 });
  assert.equal(bad.status, 78);
  assert.match(bad.stderr, /config\.port \(--port\): must be an integer in 0\.\.65535, got "70000"/);
  const env = spawnSync(process.execPath, [ONESAM, 'serve'], { cwd: ROOT, env: { ...ENV, ONESAM_MAX_PAYLOAD_BYTES: 'lots' }, encoding: 'utf8', timeout: 30_000 });
  assert.equal(env.status, 78);
  assert.match(env.stderr, /config\.maxPayloadBytes \(ONESAM_MAX_PAYLOAD_BYTES\)/);
  const flag = spawnSync(process.execPath, [ONESAM, 'serve', '--prot', '1'], { cwd: ROOT, env: ENV, encoding: 'utf8', timeout: 30_000 });
  assert.equal(flag.status, 2);
});

test('serve with the demo models: listening, SERVING, then SIGTERM drains and exits 0', async () => {
  const child = spawn(process.execPath, [ONESAM, 'serve', '--host', '127.0.0.1', '--port', '0', '--metrics-port', '0', '--workers', '1'], { cwd: ROOT, env: ENV, stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const lines: Record<string, unknown>[] = [];
  const waiters: (() => void)[] = [];
  createInterface({ input: child.stdout }).on('line', (line) => {
    lines.push(JSON.parse(line) as Record<string, unknown>);
    for (const wake of waiters.splice(0)) wake();
  });
  const waitFor = async (msg: string): Promise<Record<string, unknown>> => {
    const end = Date.now() + 120_000;
    for (;;) {
      const hit = lines.find((l) => l['msg'] === msg);
      if (hit) return hit;
      if (Date.now() > end) throw new Error(`no "${msg}" log line`);
      await new Promise<void>((resolve) => { waiters.push(resolve); setTimeout(resolve, 1_000); });
    }
  };
  try {
    const listening = await waitFor('listening');
    await waitFor('serving');
    const Health = (loadSegmentationProto().grpcType as unknown as HealthPackage).grpc.health.v1.Health;
    const health = new Health(`127.0.0.1:${listening['grpcPort']}`, grpc.credentials.createInsecure());
    const status = await new Promise<string>((resolve, reject) => health.check({ service: '' }, { deadline: Date.now() + 5_000 }, (err, res) => (err ? reject(err) : resolve(res!.status))));
    health.close();
    assert.equal(status, 'SERVING');
    const metrics = await (await fetch(`http://127.0.0.1:${listening['metricsPort']}/metrics`)).text();
    assert.match(metrics, /process_resident_memory_bytes/, 'default process metrics in the main thread');
    const signalled = Date.now();
    child.kill('SIGTERM');
    assert.equal(await exited, 0);
    // Nothing (a forgotten grace timer, an open handle) keeps the process alive after the drain.
    assert.ok(Date.now() - signalled < 10_000, `exited ${Date.now() - signalled} ms after SIGTERM`);
    assert.deepEqual(lines.filter((l) => ['shutting down', 'draining', 'stopped'].includes(String(l['msg']))).map((l) => l['msg']), ['shutting down', 'draining', 'stopped']);
  } finally {
    child.kill('SIGKILL');
  }
});

test('serve under load: SIGTERM -> NOT_SERVING on old and new connections, the running request ends SHUTDOWN_INTERRUPTED, exit 0', async () => {
  // A 3-second grace against a 3D request of 60 slices (about 0.3 s per slice with one worker on a 2-core machine,
  // 18 s in all): the request is still running when the grace ends, even on a machine several times faster.
  const child = spawn(process.execPath, [ONESAM, 'serve', '--host', '127.0.0.1', '--port', '0', '--metrics-port', '0', '--workers', '1'], {
    cwd: ROOT, env: { ...ENV, ONESAM_SHUTDOWN_GRACE_MS: '3000' }, stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const lines: Record<string, unknown>[] = [];
  createInterface({ input: child.stdout }).on('line', (line) => lines.push(JSON.parse(line) as Record<string, unknown>));
  const waitFor = async (what: string, found: () => boolean, timeoutMs = 120_000): Promise<void> => {
    const end = Date.now() + timeoutMs;
    while (!found()) {
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  const logged = (msg: string): boolean => lines.some((l) => l['msg'] === msg);
  const Health = (loadSegmentationProto().grpcType as unknown as HealthPackage).grpc.health.v1.Health;
  const healthClients: grpc.Client[] = [];
  const check = (address: string): Promise<string> => {
    const client = new Health(address, grpc.credentials.createInsecure());
    healthClients.push(client);
    return new Promise((resolve, reject) => client.check({ service: '' }, { deadline: Date.now() + 5_000 }, (err, res) => (err ? reject(err) : resolve(res!.status))));
  };
  let client: SegmentationClient | undefined;
  try {
    await waitFor('"serving"', () => logged('serving'));
    const address = `127.0.0.1:${lines.find((l) => l['msg'] === 'listening')!['grpcPort']}`;
    const early = new Health(address, grpc.credentials.createInsecure());
    healthClients.push(early);
    const checkEarly = (): Promise<string> => new Promise((resolve, reject) => early.check({ service: '' }, { deadline: Date.now() + 5_000 }, (err, res) => (err ? reject(err) : resolve(res!.status))));
    assert.equal(await checkEarly(), 'SERVING');

    client = new SegmentationClient(address);
    let progressed = false;
    const request = rawRequest({ modality: 'CT', prompts: [box3d(1, 40, 40, 2, 160, 160, 61)] }, { depth: 64, height: 200, width: 200 });
    const outcome = client.segment(request, { onProgress: () => { progressed = true; } }).then(() => assert.fail('expected the request to be interrupted'), grpcError);
    await waitFor('the first progress message', () => progressed);

    child.kill('SIGTERM');
    await waitFor('"draining"', () => logged('draining'), 10_000);
    assert.equal(await checkEarly(), 'NOT_SERVING', 'health on the connection opened before SIGTERM');
    assert.equal(await check(address), 'NOT_SERVING', 'health on a new connection during the drain');

    const err = await outcome;
    assert.equal(err.code, grpc.status.UNAVAILABLE, `${grpc.status[err.code]} "${err.details}"`);
    assert.deepEqual(err.metadata.get(ERROR_CODE_KEY), ['SHUTDOWN_INTERRUPTED']);
    assert.equal(await exited, 0);
    assert.ok(lines.some((l) => l['code'] === 'SHUTDOWN_INTERRUPTED' && l['msg'] === 'segment failed'), 'the interruption is logged');
    assert.ok(!lines.some((l) => /cancelled by the client/.test(String(l['msg']))));
    assert.ok(logged('stopped'));
  } finally {
    client?.close();
    for (const c of healthClients) c.close();
    child.kill('SIGKILL');
  }
});
