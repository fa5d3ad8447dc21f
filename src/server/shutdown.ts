// Draining the gRPC server on SIGTERM. Kubernetes keeps probing the pod and clients keep their connections until
// the process exits, so the server keeps listening and keeps every connection open for the whole grace period:
// health answers NOT_SERVING on existing and new connections alike (readiness fails, the pod leaves the endpoints),
// new Segment calls get UNAVAILABLE SHUTTING_DOWN (a status a client retries elsewhere, not a refused connection),
// and admitted calls get up to `graceMs` to finish. grpc-js's tryShutdown would stop accepting connections and send
// GOAWAY at once, so that health checks failed with "connection refused" for the whole grace period; it is only
// called at the very end.
//
// When the grace period ends, every call still running ends at once with UNAVAILABLE SHUTDOWN_INTERRUPTED, a
// status with its code trailer (state.interruptAll), logged and counted as such, rather than being cut off by
// forceShutdown's RST_STREAM (which clients read as CANCELLED or "Socket closed" and the server logged as a client
// cancel). Their pipelines stop between slices and are awaited, so the caller can close the worker pool with
// nothing running inside onnxruntime. Then the connections get a moment to flush the last statuses and close.
import type * as grpc from '@grpc/grpc-js';
import type { Logger } from '../observability/logger.ts';
import type { ServiceState } from './service-state.ts';

/**
 * Once every request is done, how long connections may take to flush the last labels and statuses. Streams that
 * never end on their own (health Watch) would hold tryShutdown open forever; this bounds the wait for them.
 */
export const FLUSH_MS = 1_000;

export async function drainServer(server: grpc.Server, state: ServiceState, graceMs: number, logger: Logger): Promise<{ forced: boolean }> {
  state.setPhase('draining');
  logger.info({ activeRequests: state.activeRequests, graceMs }, 'draining');
  const grace = timer(graceMs);
  const first = await Promise.race([state.idle().then(() => 'idle' as const), grace.expired]);
  grace.cancel();
  const forced = first === 'timeout';
  if (forced) {
    const interrupted = state.interruptAll();
    logger.warn({ activeRequests: state.activeRequests, interrupted }, 'grace period over; ending the remaining requests (SHUTDOWN_INTERRUPTED)');
    // Their statuses are on their way; their pipelines stop at the next slice boundary.
    await state.idle();
  }
  // A finished handler has queued its last messages and status; cutting the connection now could lose them.
  const connectionsClosed = new Promise<'closed'>((resolve) => server.tryShutdown(() => resolve('closed')));
  const flush = timer(FLUSH_MS);
  await Promise.race([connectionsClosed, flush.expired]);
  flush.cancel();
  server.forceShutdown();
  return { forced };
}

/** A cancellable timeout: a forgotten 25 s timer would keep the process alive after the drain. */
function timer(ms: number): { expired: Promise<'timeout'>; cancel(): void } {
  let handle: NodeJS.Timeout | undefined;
  const expired = new Promise<'timeout'>((resolve) => {
    handle = setTimeout(() => resolve('timeout'), ms);
  });
  return { expired, cancel: () => clearTimeout(handle) };
}
