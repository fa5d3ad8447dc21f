// `onesam eval` reproduces the challenge's official metrics: metrics_litemedsam.csv was produced by
// compute_metrics.py on segs_litemedsam against gts, rounded to 4 decimals.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { run } from '../../src/cli/eval.ts';
import { evaluateDirectories } from '../../src/eval/index.ts';

const CASES = join(import.meta.dirname, '../../../shared/reference/cases/public');

function officialMetrics(): Map<string, { dsc: number; nsd: number }> {
  const [header, ...rows] = readFileSync(join(CASES, 'metrics_litemedsam.csv'), 'utf8').trim().split('\n');
  assert.equal(header, 'case,dsc,nsd');
  return new Map(rows.map((r) => {
    const [name, dsc, nsd] = r.split(',');
    return [name!, { dsc: Number(dsc), nsd: Number(nsd) }];
  }));
}

// The CSV holds values rounded to 4 decimals, so an exact implementation is within half a unit of the last digit.
const ROUNDING = 0.5e-4 + 1e-12;

describe('challenge metrics on the public cases', () => {
  it('match metrics_litemedsam.csv for every case (DSC and NSD, 2D and 3D)', async () => {
    const official = officialMetrics();
    const report = await evaluateDirectories(join(CASES, 'segs_litemedsam'), join(CASES, 'gts'));
    assert.deepEqual(report.cases.map((c) => c.case), [...official.keys()].sort());
    let worst = 0;
    for (const c of report.cases) {
      const want = official.get(c.case)!;
      worst = Math.max(worst, Math.abs(c.dsc - want.dsc), Math.abs(c.nsd - want.nsd));
      assert.ok(Math.abs(c.dsc - want.dsc) <= ROUNDING, `${c.case} DSC ${c.dsc} vs ${want.dsc}`);
      assert.ok(Math.abs(c.nsd - want.nsd) <= ROUNDING, `${c.case} NSD ${c.nsd} vs ${want.nsd}`);
    }
    assert.ok(worst <= ROUNDING);
  });

  it('the command prints the same numbers as JSON', async () => {
    let out = '';
    const code = await run(['--pred', join(CASES, 'segs_litemedsam'), '--gt', join(CASES, 'gts'), '--json'],
      { out: { write: (t: string) => { out += t; } }, err: { write: () => undefined } });
    assert.equal(code, 0);
    const report = JSON.parse(out) as { cases: { case: string; dsc: number; nsd: number; labels: unknown[] }[] };
    const official = officialMetrics();
    for (const c of report.cases) {
      assert.ok(Math.abs(c.dsc - official.get(c.case)!.dsc) <= ROUNDING, c.case);
      assert.ok(Math.abs(c.nsd - official.get(c.case)!.nsd) <= ROUNDING, c.case);
      assert.ok(c.labels.length >= 1);
    }
  });
});
