// Speed levels against the exact walk on the public 3D cases: per case and level, the median wall time over
// rounds (levels alternate within each round, in a rotating order, so load drifts hit every level alike), slices
// encoded, object slices interpolated, and each object's Dice against its level-1 mask (and, for context, the
// mean Dice against the cases' ground truth at each level). `--agreements` runs each level above 1 once per gap
// agreement (SegmentOptions.gapAgreement; -1 = interpolate every gap, the walk before gap refinement), alternating
// with the others in each round, so thresholds and before/after compare under the same load.
//
//   node --import tsx bench/speed-level.ts [--levels 1,2,3,4] [--agreements -1,0.8] [--rounds 3] [--cases-match MR]
//     [--workers W --threads T] [--json]
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { cpus } from 'node:os';
import { loadConfig } from '../src/config/load.ts';
import { pipelineConfig } from '../src/config/pipeline-config.ts';
import { diceOf, labelCounts } from '../src/eval/dice.ts';
import { createSegmenter } from '../src/pipeline/index.ts';
import { modalityFromFileName } from '../src/pipeline/router.ts';
import { challengeCase } from '../src/volume/challenge.ts';
import { readNpz } from '../src/volume/npz.ts';

const { values } = parseArgs({ options: {
  levels: { type: 'string', default: '1,2,3,4' }, agreements: { type: 'string' }, 'cases-match': { type: 'string', default: '' }, rounds: { type: 'string', default: '3' },
  workers: { type: 'string' }, threads: { type: 'string' }, json: { type: 'boolean', default: false },
  cases: { type: 'string', default: fileURLToPath(new URL('../../shared/reference/cases/public', import.meta.url)) },
} });
const levels = values.levels.split(',').map(Number);
if (levels[0] !== 1) throw new Error('--levels must start with 1: the exact walk is the reference the others are scored against');
const rounds = Number(values.rounds);
const agreements: (number | undefined)[] = values.agreements ? values.agreements.split(',').map(Number) : [undefined];
/** A run's settings: level 1 once (its agreement is moot), each higher level once per agreement. */
interface Variant { level: number; agreement: number | undefined }
const variants: Variant[] = [{ level: 1, agreement: undefined }, ...levels.slice(1).flatMap((level) => agreements.map((agreement) => ({ level, agreement })))];
const tag = (v: Variant): string => (v.agreement === undefined ? String(v.level) : `${v.level}@${v.agreement}`);
const { config } = loadConfig({ env: {}, flags: { workers: values.workers, threads: values.threads } });
const segmenter = await createSegmenter(pipelineConfig(config));
const median = (xs: number[]): number => { const s = [...xs].sort((a, b) => a - b); const m = s.length >> 1; return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2; };

interface Row { case: string; level: number; variant: string; wallMs: number[]; slicesEncoded: number; slicesInterpolated: number; objectDice: number[]; gtDice: number }
const rows: Row[] = [];
const names = readdirSync(join(values.cases, 'imgs')).filter((f) => f.startsWith('3D') && f.endsWith('.npz') && f.includes(values['cases-match'])).sort();
for (const name of names) {
  const kase = challengeCase(readNpz(new Uint8Array(readFileSync(join(values.cases, 'imgs', name))), name), name);
  const gts = readNpz(new Uint8Array(readFileSync(join(values.cases, 'gts', name))), name).get('gts')!.data as ArrayLike<number>;
  const modality = modalityFromFileName(name);
  const labels = kase.objects.map((o) => o.label);
  const maxLabel = Math.max(...labels);
  const byVariant = new Map<string, Row>();
  let exact: ArrayLike<number> | undefined;
  for (let r = 0; r < rounds; r++) {
    // Level 1 first in round 0 (the reference for Dice), then a rotating order.
    const order = variants.map((_, i) => variants[(i + r) % variants.length]!);
    for (const variant of order) {
      const { level } = variant;
      const t = performance.now();
      const result = await segmenter.segment({ requestId: name, image: kase.image, objects: kase.objects, mode: 'route', speedLevel: level, ...(modality ? { modality } : {}) },
        variant.agreement === undefined ? {} : { gapAgreement: variant.agreement });
      const wall = performance.now() - t;
      let row = byVariant.get(tag(variant));
      if (!row) {
        if (level === 1) exact = result.labels;
        const vsExact = labelCounts(exact!, result.labels, maxLabel);
        const vsGt = labelCounts(gts, result.labels, maxLabel);
        const gtDice = labels.map((l) => diceOf(vsGt, l)).filter((d) => !Number.isNaN(d));
        row = {
          case: name, level, variant: tag(variant), wallMs: [], slicesEncoded: Object.values(result.slicesEncoded).reduce((a, b) => a + b, 0),
          slicesInterpolated: result.slicesInterpolated,
          objectDice: labels.map((l) => diceOf(vsExact, l)),
          gtDice: gtDice.reduce((a, b) => a + b, 0) / gtDice.length,
        };
        byVariant.set(tag(variant), row);
        rows.push(row);
      }
      row.wallMs.push(wall);
      // Each run as it ends, on stderr: a long run on a busy machine shows where it is.
      process.stderr.write(`${name} level ${tag(variant)} round ${r + 1}: ${wall.toFixed(0)} ms, DSC vs level 1 ${row.objectDice.map((d) => d.toFixed(3)).join(' ')}\n`);
    }
  }
}
await segmenter.close();

const cpu = cpus()[0]?.model ?? 'unknown';
if (values.json) {
  process.stdout.write(`${JSON.stringify({ cpu, workers: segmenter.pool.workers, rounds, rows }, null, 1)}\n`);
} else {
  process.stdout.write(`${cpu}, ${segmenter.pool.workers} workers x ${segmenter.pool.intraOpThreads} threads, median of ${rounds} rounds\n`);
  process.stdout.write('case                  level    wall ms  speed-up  encoded  interpolated  object DSC vs level 1        GT DSC\n');
  for (const row of rows) {
    const base = median(rows.find((r) => r.case === row.case && r.level === 1)!.wallMs);
    const wall = median(row.wallMs);
    process.stdout.write(`${row.case.padEnd(22)}${row.variant.padStart(7)}${wall.toFixed(0).padStart(9)}${(base / wall).toFixed(2).padStart(10)}${String(row.slicesEncoded).padStart(9)}${String(row.slicesInterpolated).padStart(14)}  ${row.objectDice.map((d) => d.toFixed(3)).join(' ').padEnd(28)}${row.gtDice.toFixed(3).padStart(7)}\n`);
  }
  for (const variant of variants.map(tag)) {
    const of = rows.filter((r) => r.variant === variant);
    const dice = of.flatMap((r) => r.objectDice);
    const wall = of.reduce((s, r) => s + median(r.wallMs), 0);
    const base = rows.filter((r) => r.level === 1).reduce((s, r) => s + median(r.wallMs), 0);
    process.stdout.write(`level ${variant}: total ${wall.toFixed(0)} ms, speed-up ${(base / wall).toFixed(2)}, object DSC vs level 1 min ${Math.min(...dice).toFixed(3)} median ${median(dice).toFixed(3)}, encoded ${of.reduce((s, r) => s + r.slicesEncoded, 0)}, interpolated ${of.reduce((s, r) => s + r.slicesInterpolated, 0)}\n`);
  }
}
