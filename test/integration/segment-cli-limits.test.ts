// `onesam segment` reading a file in-process applies the server's decoded-size limits: the npz bomb is
// refused with one line before any model loads, and ONESAM_MAX_VOXELS / ONESAM_MAX_PAYLOAD_BYTES are honoured
// (and validated) as `onesam serve` honours them.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { decodeLimitsFromEnvironment } from '../../src/cli/segment.ts';
import { DEFAULT_DECODE_LIMITS, WORKING_BYTES_FLOOR } from '../../src/volume/limits.ts';
import { writeNpz } from '../../src/volume/npz.ts';
import { npzBomb } from '../helpers/bombs.ts';
import { runOnesam, type CommandResult } from '../helpers/onesam-cli.ts';

const dir = mkdtempSync(join(tmpdir(), 'onesam-cli-limits-'));

const segment = (args: string[], env: Record<string, string> = {}): Promise<CommandResult> =>
  runOnesam(['segment', ...args], { timeoutMs: 120_000, env: { ...process.env, ...env } });

test("segment refuses the issue's npz bomb with PAYLOAD_TOO_LARGE and one line, before any model loads", async () => {
  const path = join(dir, '3DBox_CT_9001.npz');
  writeFileSync(path, npzBomb({ shape: [2200, 1024, 1024] }));
  const { code, stdout, stderr } = await segment([path, '-o', join(dir, 'out.npz')]);
  assert.equal(code, 1, stderr);
  assert.equal(stdout, '');
  assert.match(stderr, /^onesam segment: PAYLOAD_TOO_LARGE: .*\.imgs: shape \[2200, 1024, 1024\] is 2306867200 voxels, more than the maximum of 268435456 \(maxVoxels\)\n$/);
});

test('segment takes maxVoxels and maxPayloadBytes from the environment, validated like the server', async () => {
  const path = join(dir, '3DBox_CT_9002.npz');
  writeFileSync(path, writeNpz(new Map([['imgs', { dtype: 'uint8', shape: [4, 16, 16], data: new Uint8Array(1024) }], ['boxes', { dtype: 'int64', shape: [1, 6], data: BigInt64Array.of(1n, 1n, 0n, 8n, 8n, 2n) }]] as const)));
  const small = await segment([path, '-o', join(dir, 'out.npz')], { ONESAM_MAX_VOXELS: '1000' });
  assert.equal(small.code, 1, small.stderr);
  assert.match(small.stderr, /PAYLOAD_TOO_LARGE: .*\.imgs: shape \[4, 16, 16\] is 1024 voxels, more than the maximum of 1000 \(maxVoxels\)/);
  const bad = await segment([path, '-o', join(dir, 'out.npz')], { ONESAM_MAX_VOXELS: 'lots' });
  assert.equal(bad.code, 78, bad.stderr); // the exit code of every configuration error
  assert.match(bad.stderr, /^onesam segment: config\.maxVoxels \(ONESAM_MAX_VOXELS\): must be an integer/);

  assert.deepEqual(decodeLimitsFromEnvironment({}), DEFAULT_DECODE_LIMITS);
  assert.deepEqual(decodeLimitsFromEnvironment({ ONESAM_MAX_PAYLOAD_BYTES: '1MiB', ONESAM_MAX_VOXELS: '77', ONESAM_PORT: 'not read' }),
    { maxDecodedBytes: 1024 * 1024, maxVoxels: 77, maxWorkingBytes: 4 * 1024 * 1024 + WORKING_BYTES_FLOOR });
});
