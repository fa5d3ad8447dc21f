// Small helpers to wait on something unless the request is aborted (client cancel, deadline, shutdown), or for at
// most a given time (the stalled-client timeouts).

/** Settles like `promise`, or rejects with the signal's reason as soon as it aborts. */
export function unlessAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(err);
      },
    );
  });
}

export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return unlessAborted(new Promise<void>((resolve) => setTimeout(resolve, ms)), signal);
}

/**
 * Settles like `promise`, or rejects with `timeoutError()` once `ms` passed (never when `ms` is Infinity), or with
 * the signal's reason as soon as it aborts. The timer is cleared either way; `promise` keeps a handler attached, so
 * its late rejection after a timeout is not an unhandled one.
 */
export function withinTime<T>(promise: Promise<T>, ms: number, timeoutError: () => Error, signal: AbortSignal): Promise<T> {
  if (!Number.isFinite(ms)) return unlessAborted(promise, signal);
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(timeoutError()), Math.max(0, ms));
  });
  return unlessAborted(Promise.race([promise, timeout]), signal).finally(() => clearTimeout(timer));
}
