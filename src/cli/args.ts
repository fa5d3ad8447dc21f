// A small, strict flag parser for the CLI: known flags only, values required where declared.
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { ConfigError } from '../config/errors.ts';

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** The values, the positionals, and the tokens in command-line order (for repeatable flags whose order matters). */
export function parseFlags<T extends NonNullable<ParseArgsConfig['options']>>(args: string[], options: T, allowPositionals = true) {
  try {
    return parseArgs({ args, options, allowPositionals, strict: true, tokens: true });
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}

export function positiveInt(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`${flag} must be a positive integer, got "${value}"`);
  return n;
}

/** sysexits.h EX_CONFIG: a setting is wrong, retrying will not help. */
export const EXIT_CONFIG = 78;

/**
 * How a command ends on an error, its exit code returned: a usage mistake prints the message and the usage text
 * (exit 2), a bad setting its message (78), anything else one line with its stable code when it has one (1).
 */
export function reportFailure(command: string, usage: string, e: unknown): number {
  if (e instanceof UsageError) {
    process.stderr.write(`${command}: ${e.message}\n${usage}`);
    return 2;
  }
  if (e instanceof ConfigError) {
    process.stderr.write(`${command}: ${e.message}\n`);
    return EXIT_CONFIG;
  }
  const code = (e as { code?: string }).code;
  process.stderr.write(`${command}: ${code ? `${code}: ` : ''}${(e as Error).message}\n`);
  return 1;
}
