// Case metrics as compute_metrics.py: labels 1..max(gts), NaN rules, NSD only above DSC 0.2; and the eval CLI.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { run } from '../../src/cli/eval.ts';
import { caseMetrics } from '../../src/eval/metrics.ts';
import { writeNpz, type NdArray } from '../../src/volume/npz.ts';

describe('caseMetrics', () => {
  it('computes Dice per label and their mean', () => {
    // label 1: |G| = 2, |S| = 2, overlap 1 -> 0.5; label 2: identical -> 1
    const gts = Uint8Array.from([1, 1, 0, 2, 2, 0]);
    const segs = Uint8Array.from([1, 0, 1, 2, 2, 0]);
    const m = caseMetrics(gts, segs, [2, 3, 1], [1, 1, 1]);
    assert.deepEqual(m.labels.map((l) => l.dsc), [0.5, 1]);
    assert.equal(m.dsc, 0.75);
    assert.equal(m.labels.length, 2);
    assert.ok(m.labels.every((l) => typeof l.nsd === 'number'));
  });

  it('gives NaN for a label missing from both masks, which makes the case mean NaN and skips NSD', () => {
    const gts = Uint8Array.from([3, 3, 1, 0]); // label 2 absent everywhere
    const m = caseMetrics(gts, gts, [2, 2, 1], [1, 1, 1]);
    assert.equal(m.labels[0]!.dsc, 1);
    assert.ok(Number.isNaN(m.labels[1]!.dsc));
    assert.ok(Number.isNaN(m.dsc));
    assert.equal(m.nsd, 0);
    assert.ok(m.labels.every((l) => l.nsd === null));
  });

  it('sets NSD to 0 without computing it when the mean Dice is at most 0.2', () => {
    const gts = new Uint8Array(100);
    const segs = new Uint8Array(100);
    gts.fill(1, 0, 50);
    segs.fill(1, 45, 100); // overlap 5 of 50 + 55 -> Dice 0.095
    const m = caseMetrics(gts, segs, [10, 10, 1], [1, 1, 1]);
    assert.ok(m.dsc < 0.2);
    assert.equal(m.nsd, 0);
    assert.equal(m.labels[0]!.nsd, null);
  });

  it('has no labels (and NaN Dice) for an empty ground truth', () => {
    const m = caseMetrics(new Uint8Array(4), Uint8Array.from([1, 0, 0, 0]), [2, 2, 1], [1, 1, 1]);
    assert.equal(m.labels.length, 0);
    assert.ok(Number.isNaN(m.dsc));
  });
});

function folderWith(files: Record<string, Map<string, NdArray>>): string {
  const dir = mkdtempSync(join(tmpdir(), 'onesam-eval-'));
  for (const [name, arrays] of Object.entries(files)) writeFileSync(join(dir, name), writeNpz(arrays, { compress: true }));
  return dir;
}

async function capture(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await run(args, { out: { write: (t: string) => { out += t; } }, err: { write: (t: string) => { err += t; } } });
  return { code, out, err };
}

describe('onesam eval', () => {
  const square = (dx: number): Uint8Array => {
    const m = new Uint8Array(30 * 30);
    for (let y = 5; y < 25; y++) for (let x = 5; x < 25; x++) m[y * 30 + x + dx] = 1;
    return m;
  };
  const u8 = (data: Uint8Array, shape: number[]): NdArray => ({ dtype: 'uint8', shape, data });
  const gtDir = folderWith({
    '2DBox_Test_0001.npz': new Map([['gts', u8(square(0), [30, 30])]]),
    '3DBox_Test_0002.npz': new Map([['gts', u8(Uint8Array.from([0, 1, 1, 0, 1, 1, 0, 0]), [2, 2, 2])], ['spacing', { dtype: 'float64', shape: [3], data: Float64Array.from([2, 1, 1]) }]]),
  });
  const predDir = folderWith({
    '2DBox_Test_0001.npz': new Map([['segs', u8(square(3), [30, 30])]]),
    '3DBox_Test_0002.npz': new Map([['segs', u8(Uint8Array.from([0, 1, 1, 0, 1, 1, 0, 0]), [2, 2, 2])]]),
  });

  it('prints per-case and per-label DSC/NSD as JSON', async () => {
    const { code, out } = await capture(['--pred', predDir, '--gt', gtDir, '--json']);
    assert.equal(code, 0);
    const report = JSON.parse(out);
    assert.deepEqual(report.cases.map((c: { case: string }) => c.case), ['2DBox_Test_0001.npz', '3DBox_Test_0002.npz']);
    assert.equal(report.cases[0].dsc, 0.85); // 2 * 340 / 800
    assert.ok(report.cases[0].nsd > 0.9 && report.cases[0].nsd < 1);
    assert.deepEqual(report.cases[1], { case: '3DBox_Test_0002.npz', dsc: 1, nsd: 1, labels: [{ label: 1, dsc: 1, nsd: 1 }] });
    assert.equal(report.mean.dsc, 0.925);
  });

  it('prints a readable table by default', async () => {
    const { code, out } = await capture(['--pred', predDir, '--gt', gtDir]);
    assert.equal(code, 0);
    assert.match(out, /^case\s+DSC\s+NSD\n2DBox_Test_0001\.npz\s+0\.8500\s+0\.\d{4}\n  label 1\s+0\.8500/);
    assert.match(out, /\nmean\s+0\.9250\s+0\.\d{4}\n$/);
  });

  it('fails with a named error when a prediction is missing or shapes differ', async () => {
    const emptyPred = folderWith({});
    const missing = await capture(['--pred', emptyPred, '--gt', gtDir]);
    assert.equal(missing.code, 1);
    assert.match(missing.err, /EVAL_MISSING_PREDICTION: .*2DBox_Test_0001\.npz/);
    const wrong = folderWith({ '2DBox_Test_0001.npz': new Map([['segs', u8(new Uint8Array(4), [2, 2])]]) });
    const gtOnly = folderWith({ '2DBox_Test_0001.npz': new Map([['gts', u8(square(0), [30, 30])]]) });
    const shape = await capture(['--pred', wrong, '--gt', gtOnly]);
    assert.match(shape.err, /EVAL_SHAPE_MISMATCH: 2DBox_Test_0001\.npz: gts shape \(30, 30\) differs from segs shape \(2, 2\)/);
  });

  it('explains usage errors with exit code 2', async () => {
    const r = await capture(['--gt', gtDir]);
    assert.equal(r.code, 2);
    assert.match(r.err, /missing --pred DIR/);
  });
});
