// `onesam segment` with several inputs: which paths are cases (the folder rule), where each case's labels go, and
// the pool shape chosen for the job; the batch's progress bar.
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { batchMayWalk, batchOutputFormat, batchOutputs, caseFilesOf, caseStem, expandInputs } from '../../src/cli/batch-inputs.ts';
import { choosePoolShape } from '../../src/cli/pool-shape.ts';
import { BatchProgress, renderProgress, TerminalProgress } from '../../src/cli/progress.ts';

let dir: string;
before(async () => { dir = await mkdtemp(join(tmpdir(), 'onesam-batch-')); });
after(async () => { await rm(dir, { recursive: true, force: true }); });

test('a folder\'s cases: its .npz / .nii / .nii.gz files, in name order; nothing else', () => {
  const entries = [
    { name: 'b.nii.gz', isFile: true }, { name: 'a.npz', isFile: true }, { name: 'README.txt', isFile: true },
    { name: 'IM0001.dcm', isFile: true }, { name: 'c.nii', isFile: true }, { name: 'sub.npz', isFile: false },
  ];
  assert.deepEqual(caseFilesOf(entries), ['a.npz', 'b.nii.gz', 'c.nii']);
  assert.deepEqual(caseFilesOf([{ name: 'IM0001', isFile: true }, { name: 'x.dcm', isFile: true }]), []);
});

test('expandInputs: a file or a DICOM folder alone is one case; a folder of cases or several inputs is a batch', async () => {
  const imgs = join(dir, 'imgs');
  const series = join(dir, 'series');
  await mkdir(join(imgs, 'nested'), { recursive: true });
  await mkdir(join(series, '1'), { recursive: true });
  for (const f of ['2DBox_US_0002.npz', '3DBox_CT_0001.npz', 'notes.txt', 'nested/2DBox_X_0003.npz']) await writeFile(join(imgs, f), '');
  await writeFile(join(series, '1', 'IM0001.dcm'), '');
  const single = join(imgs, '2DBox_US_0002.npz');
  assert.deepEqual(await expandInputs([single]), { inputs: [single], batch: false });
  assert.deepEqual(await expandInputs([series]), { inputs: [series], batch: false });
  assert.deepEqual(await expandInputs([imgs]), { inputs: [join(imgs, '2DBox_US_0002.npz'), join(imgs, '3DBox_CT_0001.npz')], batch: true });
  assert.deepEqual(await expandInputs([single, series]), { inputs: [single, series], batch: true });
  await assert.rejects(expandInputs([join(dir, 'nope')]), /cannot read the input ".*nope": no such file or folder/);
});

test('batch outputs are named after the inputs, in the input\'s format unless --format; clashes are refused', () => {
  assert.equal(caseStem('imgs/2DBox_US_0004.npz'), '2DBox_US_0004');
  assert.equal(caseStem('ct.nii.gz'), 'ct');
  assert.equal(caseStem('study/series-3/'), 'series-3');
  assert.equal(batchOutputFormat('ct.nii.gz', 'nifti', undefined), 'nii.gz');
  assert.equal(batchOutputFormat('ct.NII', 'nifti', undefined), 'nii');
  assert.equal(batchOutputFormat('study', 'dicom', undefined), 'dcm');
  assert.equal(batchOutputFormat('a.npz', 'npz', undefined), 'npz');
  assert.equal(batchOutputFormat('a.npz', 'npz', '.nii.gz'), 'nii.gz');
  assert.deepEqual(batchOutputs([{ path: 'imgs/a.npz', format: 'npz' }, { path: 'ct.nii.gz', format: 'nii.gz' }], 'segs'), [join('segs', 'a.npz'), join('segs', 'ct.nii.gz')]);
  assert.throws(() => batchOutputs([{ path: 'x/a.npz', format: 'npz' }, { path: 'y/a.npz', format: 'npz' }], 'segs'), /"x\/a\.npz" and "y\/a\.npz" would both be written to segs\/a\.npz/);
});

test('a batch may walk unless every input is a challenge npz named 2D*', () => {
  assert.equal(batchMayWalk(['imgs/2DBox_US_0004.npz', 'imgs/2DBox_XRay_0010.npz']), false);
  assert.equal(batchMayWalk(['imgs/2DBox_US_0004.npz', 'imgs/3DBox_CT_0001.npz']), true);
  assert.equal(batchMayWalk(['case.npz']), true);
  assert.equal(batchMayWalk(['2D.nii.gz']), true);
});

test('pool shape: a lone slice gets one worker on every core (arena on), a walk one worker per core; flags as before', () => {
  assert.deepEqual(choosePoolShape(false, {}, 2), { workers: 1, intraOpThreads: 2, cpuMemArena: true });
  assert.deepEqual(choosePoolShape(true, {}, 2), { workers: 2, intraOpThreads: 1, cpuMemArena: false });
  assert.deepEqual(choosePoolShape(true, {}, 8), { workers: 8, intraOpThreads: 1, cpuMemArena: false });
  assert.deepEqual(choosePoolShape(false, {}, 1), { workers: 1, intraOpThreads: 1, cpuMemArena: true });
  // --workers / --threads size the pool exactly as they did: threads default 1, workers cores / threads.
  assert.deepEqual(choosePoolShape(false, { threads: 2 }, 4), { workers: 2, intraOpThreads: 2, cpuMemArena: true });
  assert.deepEqual(choosePoolShape(true, { workers: 1 }, 4), { workers: 1, intraOpThreads: 1, cpuMemArena: false });
  assert.deepEqual(choosePoolShape(true, { workers: 1, threads: 2 }, 2), { workers: 1, intraOpThreads: 2, cpuMemArena: false });
});

test('the batch bar adds the finished cases\' counts to the running case\'s, behind "case i/n"', () => {
  assert.equal(renderProgress({ slicesEncoded: 1, slicesTotal: 4, objectsDone: 0, objectsTotal: 2 }, 200, 'case 2/3'),
    '[##########..............................] case 2/3   25%  slices 1/4  objects 0/2');
  const written: string[] = [];
  let now = 0;
  const bar = new TerminalProgress({ columns: 120, write: (t) => written.push(t) }, true, undefined, () => (now += 1000));
  const batch = new BatchProgress(bar, 3);
  batch.startCase(0, 1);
  batch.onEvent({ kind: 'encoded', network: 'litemedsam', slice: 0, reused: false, done: 1, total: 1 });
  batch.onEvent({ kind: 'object-done', label: 1, done: 1, total: 1 });
  batch.startCase(1, 2);
  batch.onEvent({ kind: 'encoded', network: 'litemedsam', slice: 3, reused: false, done: 1, total: 4 });
  assert.match(written.at(-1)!, /case 2\/3 +40%  slices 2\/5  objects 1\/3/);
  batch.clear();
  assert.equal(written.at(-1), '\r\x1b[K');
});
