// `onesam eval --pred DIR --gt DIR [--json]`: the challenge's DSC and NSD per case and label, and their means.
import { evaluateDirectories, type EvalReport } from '../eval/index.ts';
import { parseFlags, UsageError } from './args.ts';

const USAGE = 'usage: onesam eval --pred DIR --gt DIR [--json]\n';

/** Where the command writes; the default is the process's stdout and stderr (tests pass their own). */
export interface CommandOutput {
  readonly out: { write(text: string): unknown };
  readonly err: { write(text: string): unknown };
}

export async function run(args: string[], io: CommandOutput = { out: process.stdout, err: process.stderr }): Promise<number> {
  try {
    const { values } = parseFlags(args, {
      pred: { type: 'string' },
      gt: { type: 'string' },
      json: { type: 'boolean', default: false },
    }, false);
    if (!values.pred) throw new UsageError('missing --pred DIR (folder of predicted <case>.npz files with "segs")');
    if (!values.gt) throw new UsageError('missing --gt DIR (folder of ground-truth <case>.npz files with "gts")');
    const report = await evaluateDirectories(values.pred, values.gt);
    io.out.write(values.json ? `${JSON.stringify(toJson(report))}\n` : formatTable(report));
    return 0;
  } catch (e) {
    if (e instanceof UsageError) {
      io.err.write(`onesam eval: ${e.message}\n${USAGE}`);
      return 2;
    }
    const code = (e as { code?: string }).code;
    io.err.write(`onesam eval: ${code ? `${code}: ` : ''}${(e as Error).message}\n`);
    return 1;
  }
}

/** JSON has no NaN: labels absent from both masks (and NSD not computed) come out as null. */
const num = (v: number | null): number | null => (v === null || Number.isNaN(v) ? null : v);

export function toJson(report: EvalReport): unknown {
  return {
    cases: report.cases.map((c) => ({
      case: c.case, dsc: num(c.dsc), nsd: num(c.nsd),
      labels: c.labels.map((l) => ({ label: l.label, dsc: num(l.dsc), nsd: num(l.nsd) })),
    })),
    mean: { dsc: num(report.mean.dsc), nsd: num(report.mean.nsd) },
  };
}

const fmt = (v: number | null): string => (v === null ? '-' : Number.isNaN(v) ? 'nan' : v.toFixed(4));

export function formatTable(report: EvalReport): string {
  const width = Math.max(4, ...report.cases.map((c) => c.case.length)) + 2;
  const lines = [`${'case'.padEnd(width)}${'DSC'.padStart(8)}${'NSD'.padStart(8)}`];
  for (const c of report.cases) {
    lines.push(`${c.case.padEnd(width)}${fmt(c.dsc).padStart(8)}${fmt(c.nsd).padStart(8)}`);
    for (const l of c.labels) lines.push(`${`  label ${l.label}`.padEnd(width)}${fmt(l.dsc).padStart(8)}${fmt(l.nsd).padStart(8)}`);
  }
  lines.push(`${'mean'.padEnd(width)}${fmt(report.mean.dsc).padStart(8)}${fmt(report.mean.nsd).padStart(8)}`);
  return `${lines.join('\n')}\n`;
}
