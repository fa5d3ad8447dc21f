// Draining the gRPC server: health NOT_SERVING first (readiness probes and health watchers see it), then no new
// calls, then up to `graceMs` for admitted Segment calls to finish. After that everything left is cancelled
// (forceShutdown), which aborts those requests' pipelines between slices; we wait for them to settle so the
// caller can close the worker pool with nothing running inside onnxruntime.
import type * as grpc from '@grpc/grpc-js';
import type { Logger } from '../observability/logger.ts';
import type { ServiceState } from './service-state.ts';

/**
 * Once every request is done, how long connections may take to flush the last labels and statuses. Streams that
 * never end on their own (health Watch) would hold tryShutdown open forever; this bounds the wait for them.
 */
export const FLUSH_MS = 1_000;

export async function drainServer(server: grpc.Server, state: ServiceState, graceMs: number, logger: Logger): Promise<{ forced: boolean }> {
  const deadline = Date.now() + graceMs;
  state.setPhase('draining');
  logger.info({ activeRequests: state.activeRequests, graceMs }, 'draining');
  const connectionsClosed = new Promise<'closed'>((resolve) => server.tryShutdown(() => resolve('closed')));
  const grace = timer(graceMs);
  const first = await Promise.race([state.idle().then(() => 'idle' as const), grace.expired]);
  grace.cancel();
  const forced = first === 'timeout';
  if (forced) {
    logger.warn({ activeRequests: state.activeRequests }, 'grace period over; cancelling the remaining requests');
  } else {
    // A finished handler has queued its last messages and status; cutting the connection now could lose them.
    const flush = timer(Math.min(FLUSH_MS, Math.max(0, deadline - Date.now())));
    await Promise.race([connectionsClosed, flush.expired]);
    flush.cancel();
  }
  server.forceShutdown();
  await state.idle();
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
