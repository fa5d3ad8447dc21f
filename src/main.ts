// Composition root: config -> logger -> metrics -> codec threads -> gRPC server (health NOT_SERVING) -> model
// loading and worker pool (Segmenter) -> SERVING; SIGTERM/SIGINT -> drain -> close the pools -> exit 0.
// `onesam serve` (src/cli/serve.ts) loads the configuration and calls runServer.
import type { Config } from './config/schema.ts';
import { createLogger, type Logger } from './observability/logger.ts';
import { ServiceMetrics } from './observability/metrics.ts';
import { startMetricsServer } from './observability/metrics-server.ts';
import { servedNetworks, servingRoutingTable } from './pipeline/serving.ts';
import type { Segmenter } from './pipeline/segmenter.ts';
import { ServiceHealth } from './server/health.ts';
import { startGrpcServer } from './server/server.ts';
import { ServiceState } from './server/service-state.ts';
import { SessionRegistry } from './server/session-registry.ts';
import { drainServer } from './server/shutdown.ts';
import { CodecPool } from './workers/codec-pool.ts';

export type SegmenterFactory = (config: Config) => Promise<Segmenter>;

export interface ServiceOptions {
  readonly config: Config;
  readonly logger?: Logger;
  /** Default: the real pipeline (src/pipeline/index.ts) with the configured models and pool. */
  readonly createSegmenter?: SegmenterFactory;
  /** Process metrics (RSS, event loop); off when several services share one test process. */
  readonly defaultMetrics?: boolean;
}

export interface RunningService {
  readonly grpcPort: number;
  readonly metricsPort: number;
  readonly state: ServiceState;
  readonly metrics: ServiceMetrics;
  /** Volumes kept for later prompts (keep_session / session_id). */
  readonly sessions: SessionRegistry;
  /** The codec threads (payload decoding, label encoding); closed by shutdown(). */
  readonly codec: CodecPool;
  /** Settles when loading ends: resolved once SERVING, rejected when the models failed to load. */
  readonly ready: Promise<void>;
  /** Drains and stops everything; safe to call more than once. */
  shutdown(): Promise<{ forced: boolean }>;
}

/** The pipeline, loaded lazily so that importing this module does not start onnxruntime. */
export const pipelineSegmenter: SegmenterFactory = async (config) => {
  const { createSegmenter } = await import('./pipeline/index.ts');
  return createSegmenter({
    modelsDir: config.modelsDir,
    ...(config.cacheDir !== undefined ? { cacheDir: config.cacheDir } : {}),
    workers: config.workers,
    intraOpThreads: config.intraOpThreads,
    embeddingBudgetBytes: config.embeddingBudgetBytes,
    maxQueuedTasks: config.queueLimit,
    routing: config.routing,
    models: config.models,
  });
};

export async function startService(options: ServiceOptions): Promise<RunningService> {
  const { config } = options;
  const logger = options.logger ?? createLogger({ level: config.logLevel });
  const metrics = new ServiceMetrics({ defaultMetrics: options.defaultMetrics ?? true });
  const health = new ServiceHealth();
  const state = new ServiceState(health, servingRoutingTable(config.routing, servedNetworks(config.models)), config);
  metrics.setAdmissionSource(() => ({ uploading: state.uploadingRequests, computing: state.computingRequests }));
  const metricsServer = await startMetricsServer(metrics.registry, config.host, config.metricsPort);
  // Payload decoding and label encoding run here, never on the event loop nor on the onnxruntime workers.
  const codec = new CodecPool({ threads: config.codecThreads });
  const sessions = new SessionRegistry(
    { maxSessions: config.maxSessions, maxBytes: config.sessionMemoryBytes, idleMs: config.sessionIdleSeconds * 1000 },
    (session, reason) => {
      metrics.sessionsDropped.inc({ reason });
      logger.info({ sessionId: session.id, reason }, 'session dropped');
    },
  );
  metrics.setSessionSource(() => ({ sessions: sessions.count, bytes: sessions.bytes }));
  let grpc;
  try {
    grpc = await startGrpcServer({ ...config, state, health, metrics, logger, codec, sessions });
  } catch (err) {
    sessions.closeAll();
    await codec.close();
    await metricsServer.close();
    throw err;
  }
  logger.info({
    grpcPort: grpc.port, metricsPort: metricsServer.port, host: config.host, tls: Boolean(config.tls), mtls: Boolean(config.tls?.clientCa),
    auth: Boolean(config.authToken), workers: config.workers, intraOpThreads: config.intraOpThreads, codecThreads: config.codecThreads,
    modelsDir: config.modelsDir,
  }, 'listening');

  const factory = options.createSegmenter ?? pipelineSegmenter;
  const loadStart = performance.now();
  // The codec threads start while the models load; SERVING waits for both.
  const codecReady = codec.ready();
  codecReady.catch(() => undefined);
  const ready = (async () => {
    const segmenter = await factory(config);
    try {
      await codecReady;
    } catch (err) {
      await segmenter.close();
      throw err;
    }
    if (!state.attach(segmenter)) {
      // Shutdown began while the models loaded.
      await segmenter.close();
      return;
    }
    metrics.setPoolSource(() => segmenter.poolStats());
    metrics.setEmbeddingSource(() => segmenter.embeddingStats?.());
    logger.info({ loadMs: Math.round(performance.now() - loadStart), networks: segmenter.networks() }, 'serving');
  })();
  ready.catch((err: unknown) => {
    if (state.phase === 'loading') state.setPhase('failed');
    logger.fatal({ err }, 'the networks failed to load');
  });

  let stopping: Promise<{ forced: boolean }> | undefined;
  const shutdown = (): Promise<{ forced: boolean }> => {
    stopping ??= (async () => {
      const result = await drainServer(grpc.server, state, config.shutdownGraceMs, logger);
      // A load still in progress closes its own pool when it ends (attach refuses during shutdown).
      await ready.catch(() => undefined);
      // Every admitted call has settled: no session is in use, so this frees every kept volume and embedding.
      sessions.closeAll();
      await state.segmenter?.close();
      // Every admitted call has settled, so no decode or encode is left; close() would still wait for one.
      await codec.close();
      await metricsServer.close();
      state.setPhase('stopped');
      logger.info({ forced: result.forced }, 'stopped');
      return result;
    })();
    return stopping;
  };
  return { grpcPort: grpc.port, metricsPort: metricsServer.port, state, metrics, sessions, codec, ready, shutdown };
}

/**
 * Runs the service until SIGTERM or SIGINT (exit code 0 after a clean drain) or until the models fail to load
 * (exit code 1). A second signal during the drain exits at once.
 */
export async function runServer(config: Config, options: { readonly warnings?: readonly string[]; readonly logger?: Logger } = {}): Promise<number> {
  const logger = options.logger ?? createLogger({ level: config.logLevel });
  for (const warning of options.warnings ?? []) logger.warn(warning);
  const service = await startService({ config, logger });
  return new Promise<number>((resolve) => {
    let signalled = false;
    const onSignal = (signal: NodeJS.Signals): void => {
      if (signalled) {
        logger.warn({ signal }, 'second signal; exiting without draining');
        process.exit(130);
      }
      signalled = true;
      logger.info({ signal }, 'shutting down');
      service.shutdown().then(() => resolve(0), (err: unknown) => {
        logger.error({ err }, 'shutdown failed');
        resolve(1);
      });
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
    service.ready.catch(() => {
      service.shutdown().finally(() => resolve(1));
    });
  });
}

