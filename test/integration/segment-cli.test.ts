// `onesam segment` as users run it: bad challenge files fail with one clear line and a non-zero exit before any
// model loads; good ones route by modality, as the --json summary shows.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { readNpz, writeNpz } from '../../src/volume/npz.ts';
import type { NdArray } from '../../src/volume/npy.ts';
import { PUBLIC_CASES } from '../helpers/cases.ts';

const BIN = fileURLToPath(new URL('../../bin/onesam.mjs', import.meta.url));
const run = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), 'onesam-cli-'));

async function segment(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [BIN, 'segment', ...args], { timeout: 120_000 });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

function writeCase(name: string, arrays: Map<string, NdArray>): string {
  const path = join(dir, name);
  writeFileSync(path, writeNpz(arrays));
  return path;
}

const ct = readNpz(new Uint8Array(readFileSync(join(PUBLIC_CASES, 'imgs', '3DBox_CT_0003.npz'))), 'ct');
const boxes3d = (rows: number[][]): NdArray => ({ dtype: 'int64', shape: [rows.length, 6], data: BigInt64Array.from(rows.flat().map(BigInt)) });

const badInputs: [string, () => string, RegExp][] = [
  ['a missing key', () => writeCase('3DBox_CT_0101.npz', new Map([['imgs', ct.get('imgs')!]])), /missing key "boxes"/],
  ['a box outside the image', () => writeCase('3DBox_CT_0102.npz', new Map([['imgs', ct.get('imgs')!], ['boxes', boxes3d([[177, 87, 5, 364, 109, 15]])]])), /prompts\[0\]\.box3d: .*extends past the image \(width 300/],
  ['z_min >= z_max', () => writeCase('3DBox_CT_0103.npz', new Map([['imgs', ct.get('imgs')!], ['boxes', boxes3d([[177, 87, 9, 264, 109, 9]])]])), /z_min 9 must be less than z_max 9/],
  ['a wrong dtype', () => writeCase('3DBox_CT_0104.npz', new Map<string, NdArray>([['imgs', { dtype: 'float32', shape: [2, 4, 4], data: new Float32Array(32) }], ['boxes', boxes3d([[0, 0, 0, 3, 3, 1]])]])), /imgs: must be uint8/],
  ['a wrong shape', () => writeCase('2DBox_US_0105.npz', new Map<string, NdArray>([['imgs', { dtype: 'uint8', shape: [4, 4, 4, 3], data: new Uint8Array(192) }], ['boxes', { dtype: 'int64', shape: [1, 4], data: BigInt64Array.of(0n, 0n, 2n, 2n) }]])), /imgs: a 2D case needs shape \(H,W,3\) or \(H,W\), got \(4,4,4,3\)/],
  ['2D boxes of the wrong width', () => writeCase('2DBox_US_0106.npz', new Map<string, NdArray>([['imgs', { dtype: 'uint8', shape: [4, 4, 3], data: new Uint8Array(48) }], ['boxes', boxes3d([[0, 0, 0, 3, 3, 1]])]])), /boxes: a 2D case needs boxes of shape \(N,4\), got \(1,6\)/],
  ['a truncated npz', () => {
    const path = join(dir, '3DBox_CT_0107.npz');
    const whole = readFileSync(join(PUBLIC_CASES, 'imgs', '3DBox_CT_0003.npz'));
    writeFileSync(path, whole.subarray(0, Math.floor(whole.length / 2)));
    return path;
  }, /NPZ_TRUNCATED|truncated/i],
];

for (const [what, make, message] of badInputs) {
  test(`segment rejects ${what} with one clear line and exit 1`, async () => {
    const { code, stderr, stdout } = await segment([make(), '-o', join(dir, 'out.npz')]);
    assert.equal(code, 1, stderr);
    assert.equal(stdout, '');
    assert.match(stderr, message);
    assert.equal(stderr.trim().split('\n').length, 1, `one line: ${stderr}`);
    assert.doesNotMatch(stderr, /\n\s+at /, 'no stack trace');
  });
}

test('segment usage errors exit 2', async () => {
  const { code, stderr } = await segment([join(PUBLIC_CASES, 'imgs', '2DBox_US_0006.npz'), '-o', join(dir, 'o.npz'), '--model', 'medsam']);
  assert.equal(code, 2);
  assert.match(stderr, /--model must be one of route, litemedsam, onesam, fuse/);
});

test('route mode sends each case to the network of its modality, visible in --json', async () => {
  for (const [name, network] of [['2DBox_XRay_0010.npz', 'onesam'], ['2DBox_US_0006.npz', 'litemedsam']] as const) {
    const out = join(dir, name);
    const { code, stdout, stderr } = await segment([join(PUBLIC_CASES, 'imgs', name), '-o', out, '--json']);
    assert.equal(code, 0, stderr);
    const summary = JSON.parse(stdout) as { mode: string; objects: { networks: string[]; voxels: number }[]; slicesEncoded: Record<string, number>; wallMs: number; stagesMs: Record<string, number> };
    assert.equal(summary.mode, 'route');
    for (const o of summary.objects) assert.deepEqual(o.networks, [network]);
    assert.equal(summary.slicesEncoded[network], 1);
    assert.ok(summary.wallMs > 0 && summary.stagesMs['encode']! > 0);
    const segs = readNpz(new Uint8Array(readFileSync(out)), out).get('segs')!;
    assert.equal(segs.dtype, 'uint8');
  }
});
