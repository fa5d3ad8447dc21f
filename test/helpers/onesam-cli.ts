// The `onesam` command as a child process, the way users run it: its exit code and both streams, whether it
// succeeded or not (execFile rejects on a non-zero exit; the tests want the code and the streams either way).
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

export const ONESAM_BIN = fileURLToPath(new URL('../../bin/onesam.mjs', import.meta.url));

export interface CommandResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `node bin/onesam.mjs ...args`; `env` replaces the child's environment (default: this process's). */
export async function runOnesam(args: readonly string[], options: { readonly timeoutMs: number; readonly env?: NodeJS.ProcessEnv }): Promise<CommandResult> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [ONESAM_BIN, ...args], {
      timeout: options.timeoutMs, ...(options.env ? { env: options.env } : {}),
    });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}
