// `--intensity asis | ct[:level,width] | percentile[:low,high]`: the proto's IntensityPreparation on the command
// line. Unset means what the server does with an unset field (as-is), so a file segmented here and one sent with
// the same flags over --server are prepared alike. The ranges are checked here, naming the flag, rather than
// when the volume is prepared.
import { CT_WINDOW_DEFAULT, PERCENTILE_DEFAULT, type IntensityPreparation } from '../volume/intensity.ts';
import { UsageError } from './args.ts';

export const INTENSITY_FORMS = `asis, ct[:level,width] (default ${CT_WINDOW_DEFAULT.level},${CT_WINDOW_DEFAULT.width}) or percentile[:low,high] (default ${PERCENTILE_DEFAULT.low},${PERCENTILE_DEFAULT.high})`;

export function parseIntensityFlag(text: string | undefined): IntensityPreparation | undefined {
  if (text === undefined) return undefined;
  const source = `--intensity "${text}"`;
  const colon = text.indexOf(':');
  const kind = (colon < 0 ? text : text.slice(0, colon)).trim();
  const params = colon < 0 ? undefined : text.slice(colon + 1).split(',').map((t) => t.trim());
  const pair = (names: string): [number, number] => {
    const values = params!.map((t) => (/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(t) ? Number(t) : Number.NaN));
    if (values.length !== 2 || values.some((v) => !Number.isFinite(v))) throw new UsageError(`${source}: after "${kind}:" give two numbers ${names}`);
    return values as [number, number];
  };
  switch (kind) {
    case 'asis':
      if (params) throw new UsageError(`${source}: asis takes no parameters`);
      return { kind: 'asis' };
    case 'ct': {
      if (!params) return { kind: 'ct-window' };
      const [level, width] = pair('level,width');
      if (!(width > 0)) throw new UsageError(`${source}: the window width must be > 0, got ${width}`);
      return { kind: 'ct-window', level, width };
    }
    case 'percentile': {
      if (!params) return { kind: 'percentile' };
      const [low, high] = pair('low,high');
      if (!(low >= 0 && high <= 100 && low < high)) throw new UsageError(`${source}: needs 0 <= low < high <= 100, got ${low},${high}`);
      return { kind: 'percentile', low, high };
    }
    default:
      throw new UsageError(`${source}: must be ${INTENSITY_FORMS}`);
  }
}
