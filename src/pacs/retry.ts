// When to try a PACS request again, and how long to wait first. Transient failures are the ones a second attempt
// can cure: the connection failing or timing out, the PACS answering 5xx (overloaded, restarting, a proxy in front
// of it timing out) or 429 (rate limited, common on cloud healthcare APIs). A 4xx other than 429 is the request's or
// the configuration's fault and fails at once. Waits grow exponentially with full jitter (a random wait between 0
// and the exponential bound), so replicas retrying against a PACS that just restarted do not arrive in lockstep; a
// Retry-After the PACS sends is honoured, up to a bound, as a floor.
import { setTimeout as sleep } from 'node:timers/promises';

export interface RetryPolicy {
  /** Further attempts after the first. */
  readonly retries: number;
  /** The first wait's upper bound; each later bound doubles. */
  readonly delayMs: number;
}

/** No wait is longer: a request holding a client's call should not sleep for minutes. */
export const MAX_RETRY_DELAY_MS = 30_000;

/** HTTP statuses worth another attempt. */
export function isTransientStatus(status: number): boolean {
  return status === 429 || status === 500 || status === 502 || status === 503 || status === 504;
}

/**
 * The wait before retry `attempt` (1 for the first retry): full jitter under delayMs x 2^(attempt-1), at least the
 * Retry-After the PACS asked for, never above MAX_RETRY_DELAY_MS. `random` is in [0, 1).
 */
export function retryDelayMs(attempt: number, policy: RetryPolicy, retryAfterMs: number | undefined, random: () => number = Math.random): number {
  const bound = Math.min(MAX_RETRY_DELAY_MS, policy.delayMs * 2 ** (attempt - 1));
  const jittered = Math.floor(random() * bound);
  return Math.min(MAX_RETRY_DELAY_MS, Math.max(jittered, retryAfterMs ?? 0));
}

/** Retry-After: delta-seconds or an HTTP date (RFC 9110 10.2.3), as milliseconds from `now`; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | undefined, now = Date.now()): number | undefined {
  if (value === undefined) return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const date = Date.parse(text);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** A failed attempt: whether another may cure it, and the Retry-After the PACS sent with it. */
export class AttemptFailure extends Error {
  constructor(readonly transient: boolean, readonly cause: Error, readonly retryAfterMs?: number) {
    super(cause.message, { cause });
    this.name = 'AttemptFailure';
  }
}

export interface RetryHooks {
  /** Before each wait: the attempt that failed (1-based), why, and the wait. */
  readonly onRetry?: (attempt: number, reason: Error, delayMs: number) => void;
  readonly random?: () => number;
  /** Waits `ms`, or rejects when `signal` aborts (tests pass a clock of their own). */
  readonly sleep?: (ms: number, signal: AbortSignal | undefined) => Promise<void>;
}

/**
 * Runs `attempt` until it succeeds, fails for good (anything but a transient AttemptFailure) or the retries are
 * spent. Throws the last failure's cause, with `attempts` telling how many were made.
 */
export async function withRetries<T>(
  attempt: (n: number) => Promise<T>,
  policy: RetryPolicy,
  signal: AbortSignal | undefined,
  hooks: RetryHooks = {},
): Promise<{ readonly value: T; readonly attempts: number }> {
  const wait = hooks.sleep ?? ((ms: number, s: AbortSignal | undefined) => sleep(ms, undefined, s ? { signal: s } : {}));
  for (let n = 1; ; n++) {
    try {
      return { value: await attempt(n), attempts: n };
    } catch (err) {
      if (!(err instanceof AttemptFailure)) throw err;
      if (!err.transient || n > policy.retries || signal?.aborted) throw new RetriesSpent(err.cause, n);
      const delay = retryDelayMs(n, policy, err.retryAfterMs, hooks.random);
      hooks.onRetry?.(n, err.cause, delay);
      try {
        await wait(delay, signal);
      } catch (waitError) {
        // An abort during the wait ends the operation with the abort's reason, as an abort during an attempt does.
        throw signal?.aborted ? signal.reason : waitError;
      }
    }
  }
}

/** The last attempt's failure and how many attempts were made. */
export class RetriesSpent extends Error {
  constructor(readonly cause: Error, readonly attempts: number) {
    super(cause.message, { cause });
    this.name = 'RetriesSpent';
  }
}
