// Where `onesam segment` takes its prompts from: `--box` / `--box-mm` flags (in command-line order, so labels
// 1..N follow what the person typed), or a `--prompts` file; never both. Neither: undefined, and a challenge npz's
// own boxes or scribbles are used as before.
import { readFile } from 'node:fs/promises';
import { UsageError } from './args.ts';
import { labelFlagPrompts, parseBoxFlag, parseBoxMmFlag, type FlagPrompt, type PromptSpec } from './prompt-spec.ts';
import { parsePromptsFile } from './prompts-file.ts';

/** The flags this module reads, for the command's flag table. */
export const PROMPT_FLAGS = {
  box: { type: 'string', multiple: true },
  'box-mm': { type: 'string', multiple: true },
  prompts: { type: 'string' },
} as const;

/**
 * `--box-mm -20.5,14,-102,...` as `--box-mm=-20.5,14,-102,...`: parseArgs refuses a separate value that starts
 * with "-" as ambiguous, and patient coordinates are negative as often as not. Only a value that starts like a
 * number (with an optional `L:` label) is attached, so a forgotten value still reads as the next flag.
 */
export function attachNegativeBoxValues(args: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    const next = args[i + 1];
    if ((arg === '--box' || arg === '--box-mm') && next !== undefined && /^(\d+:)?-[\d.]/.test(next)) {
      out.push(`${arg}=${next}`);
      i++;
    } else {
      out.push(arg);
    }
    if (arg === '--') {
      out.push(...args.slice(i + 1));
      break;
    }
  }
  return out;
}

/** parseArgs tokens: only options matter here. */
export interface FlagToken {
  readonly kind: string;
  readonly name?: string;
  readonly value?: string | undefined;
}

export async function readPromptSpecs(prompts: string | undefined, tokens: readonly FlagToken[]): Promise<PromptSpec[] | undefined> {
  const flags: FlagPrompt[] = [];
  for (const token of tokens) {
    if (token.kind !== 'option' || token.value === undefined) continue;
    if (token.name === 'box') flags.push(parseBoxFlag(token.value));
    else if (token.name === 'box-mm') flags.push(parseBoxMmFlag(token.value));
  }
  if (flags.length > 0 && prompts !== undefined) throw new UsageError('--box / --box-mm and --prompts are exclusive: give the prompts one way');
  if (flags.length > 0) return labelFlagPrompts(flags);
  if (prompts === undefined) return undefined;
  let text: string;
  try {
    text = await readFile(prompts, 'utf8');
  } catch (e) {
    throw new UsageError(`--prompts ${prompts}: cannot read it (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  return parsePromptsFile(text, prompts);
}
