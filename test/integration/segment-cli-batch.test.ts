// `onesam segment imgs/ -o segs/` (issue 13): a folder of challenge cases in one process, outputs named like the
// inputs, one --json summary per case; a broken case is reported with its code and the others go on, and the exit
// code says that some failed. Over --server against a fake segmenter, then once in-process with the demo networks.
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { readNpz } from '../../src/volume/npz.ts';
import { dice, loadArrays, PUBLIC_CASES } from '../helpers/cases.ts';
import { FakeSegmenter } from '../helpers/fake-segmenter.ts';
import { startTestService, type TestService } from '../helpers/test-service.ts';
import { runOnesam, type CommandResult } from '../helpers/onesam-cli.ts';

const dir = mkdtempSync(join(tmpdir(), 'onesam-cli-batch-'));

const segment = (args: string[]): Promise<CommandResult> => runOnesam(['segment', ...args], { timeoutMs: 120_000 });

/** A folder of cases: `good` copied from the public cases, and a truncated npz sorted between them. */
function caseFolder(name: string, good: readonly string[]): string {
  const folder = join(dir, name);
  mkdirSync(folder);
  for (const g of good) copyFileSync(join(PUBLIC_CASES, 'imgs', g), join(folder, g));
  const whole = readFileSync(join(PUBLIC_CASES, 'imgs', good[0]!));
  writeFileSync(join(folder, '2DBox_US_0050.npz'), whole.subarray(0, whole.length >> 1));
  writeFileSync(join(folder, 'notes.txt'), 'not a case');
  return folder;
}

let server: TestService;
before(async () => { server = await startTestService({ createSegmenter: async () => new FakeSegmenter() }); });
after(async () => { await server.stop(); });

test('a folder over --server: every case in one process, named like its input; the broken one reported by code, exit 1', async () => {
  const imgs = caseFolder('imgs', ['2DBox_US_0006.npz', '3DBox_CT_0003.npz']);
  const segs = join(dir, 'segs');
  const { code, stdout, stderr } = await segment([imgs, '-o', segs, '--server', server.address, '--json']);
  assert.equal(code, 1, stderr);
  const lines = stdout.trim().split('\n').map((l) => JSON.parse(l) as { case: string; output: string; shape?: number[]; error?: { code: string; message: string } });
  assert.deepEqual(lines.map((l) => l.case), ['2DBox_US_0006.npz', '2DBox_US_0050.npz', '3DBox_CT_0003.npz']);
  assert.deepEqual(lines[1]!.error?.code, 'NPZ_TRUNCATED');
  assert.match(stderr, /^onesam segment: 2DBox_US_0050\.npz: NPZ_TRUNCATED: .*truncated/m);
  assert.deepEqual(readdirSync(segs).sort(), ['2DBox_US_0006.npz', '3DBox_CT_0003.npz']);
  for (const line of [lines[0]!, lines[2]!]) {
    assert.equal(line.output, join(segs, line.case));
    const labels = readNpz(new Uint8Array(readFileSync(line.output)), line.output).get('segs')!;
    assert.deepEqual(labels.shape, line.shape);
  }
});

test('several files, text lines and the batch\'s last line; two inputs that would write one file are refused (exit 2)', async () => {
  const segs = join(dir, 'segs-text');
  const a = join(PUBLIC_CASES, 'imgs', '2DBox_US_0006.npz');
  const b = join(PUBLIC_CASES, 'imgs', '2DBox_XRay_0010.npz');
  const ok = await segment([a, b, '-o', segs, '--server', server.address]);
  assert.equal(ok.code, 0, ok.stderr);
  const lines = ok.stdout.trim().split('\n');
  assert.match(lines[0]!, /^2DBox_US_0006\.npz: 2 objects, .* -> .*segs-text\/2DBox_US_0006\.npz$/);
  assert.match(lines.at(-1)!, /^2 cases, 2 segmented, \d+ ms -> .*segs-text$/);
  const clash = await segment([a, caseFolder('again', ['2DBox_US_0006.npz']), '-o', segs, '--server', server.address]);
  assert.equal(clash.code, 2);
  assert.match(clash.stderr, /would both be written to .*2DBox_US_0006\.npz/);
  const overlay = await segment([a, b, '-o', segs, '--overlay', 'x.png', '--server', server.address]);
  assert.equal(overlay.code, 2);
  assert.match(overlay.stderr, /--overlay draws one case/);
});

test('in-process with the demo networks: the good case matches the reference, the broken one fails alone', async () => {
  const imgs = caseFolder('imgs-real', ['2DBox_US_0006.npz']);
  const segs = join(dir, 'segs-real');
  const { code, stdout, stderr } = await segment([imgs, '-o', segs, '--json']);
  assert.equal(code, 1, stderr);
  const lines = stdout.trim().split('\n').map((l) => JSON.parse(l) as { case: string; slicesEncoded?: Record<string, number>; error?: { code: string } });
  assert.deepEqual(lines.map((l) => [l.case, l.error?.code]), [['2DBox_US_0006.npz', undefined], ['2DBox_US_0050.npz', 'NPZ_TRUNCATED']]);
  // A LiteMedSAM-only job: OneSAM was never needed.
  assert.deepEqual(lines[0]!.slicesEncoded, { litemedsam: 1, onesam: 0 });
  const labels = readNpz(new Uint8Array(readFileSync(join(segs, '2DBox_US_0006.npz'))), 'segs').get('segs')!;
  const reference = loadArrays('segs_litemedsam', '2DBox_US_0006.npz').get('segs')!;
  for (const label of [1, 2]) assert.ok(dice(labels.data as Uint8Array, reference.data as Uint8Array, label).dsc >= 0.99, `label ${label}`);
});
