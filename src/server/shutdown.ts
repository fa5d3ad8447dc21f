// Draining the gRPC server: health NOT_SERVING first (readiness probes and health watchers see it), then no new
// calls, then up to `graceMs` for admitted Segment calls to finish. After that everything left is cancelled
// (forceShutdown), which aborts those requests' pipelines between slices; we wait for them to settle so the
// caller can close the worker pool with nothing running inside onnxruntime.
import type * as grpc from '@grpc/grpc-js';
import type { Logger } from '../observability/logger.ts';
import type { ServiceState } from './service-state.ts';

export async function drainServer(server: grpc.Server, state: ServiceState, graceMs: number, logger: Logger): Promise<{ forced: boolean }> {
  state.setPhase('draining');
  logger.info({ activeRequests: state.activeRequests, graceMs }, 'draining');
  server.tryShutdown(() => undefined);
  let timer: NodeJS.Timeout | undefined;
  const graceOver = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), graceMs);
  });
  const first = await Promise.race([state.idle().then(() => 'idle' as const), graceOver]);
  clearTimeout(timer);
  const forced = first === 'timeout';
  if (forced) logger.warn({ activeRequests: state.activeRequests }, 'grace period over; cancelling the remaining requests');
  // Also ends calls that never finish on their own (health Watch streams).
  server.forceShutdown();
  await state.idle();
  return { forced };
}
