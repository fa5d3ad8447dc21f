// Composition root: config -> logger -> metrics -> codec threads -> gRPC server (health NOT_SERVING) -> model
// loading and worker pool (Segmenter) -> SERVING; SIGTERM/SIGINT -> drain -> close the pools -> exit 0.
// Networks that cannot load (or a pool that can no longer serve) leave the process up and NOT_SERVING, with the
// reason in the log, ListModels and onesam_models_ready; it never exits or aborts for that (docs/api.md, "Health").
// `onesam serve` (src/cli/serve.ts) loads the configuration and calls runServer.
import type { Config } from './config/schema.ts';
import { pipelineConfig } from './config/pipeline-config.ts';
import { createLogger, errorForLog, type Logger } from './observability/logger.ts';
import { ServiceMetrics } from './observability/metrics.ts';
import { startMetricsServer } from './observability/metrics-server.ts';
import { servedNetworks, servingRoutingTable } from './pipeline/serving.ts';
import type { GraphCompiler } from './models/repository.ts';
import type { PipelineEvents } from './pipeline/index.ts';
import type { Segmenter } from './pipeline/segmenter.ts';
import { ServiceHealth } from './server/health.ts';
import { startGrpcServer } from './server/server.ts';
import { ServiceState } from './server/service-state.ts';
import { SessionRegistry } from './server/session-registry.ts';
import { drainServer } from './server/shutdown.ts';
import { CodecPool } from './workers/codec-pool.ts';
import { PacsDirectory } from './pacs/directory.ts';
import type { PacsObserver } from './pacs/client.ts';

export type SegmenterFactory = (config: Config, context: SegmenterContext) => Promise<Segmenter>;

/** What a Segmenter factory may report to the service while loading and afterwards. */
export interface SegmenterContext {
  readonly logger: Logger;
  readonly metrics: ServiceMetrics;
  /** The networks can no longer serve (after they were attached): the service goes NOT_SERVING with the reason. */
  unavailable(reason: string): void;
}

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

/** Test-only additions to the real pipeline (fault injection, a stand-in graph compiler); never from configuration. */
export interface PipelineTestHooks {
  readonly faultSwitch?: SharedArrayBuffer;
  readonly compiler?: GraphCompiler;
}

/** The pipeline, loaded lazily so that importing this module does not start onnxruntime. */
export const pipelineSegmenter: SegmenterFactory = (config, context) => createPipeline(config, context, {});

/** The real pipeline with test hooks: for tests that need a real server whose workers can be made to fail. */
export function pipelineSegmenterWith(hooks: PipelineTestHooks): SegmenterFactory {
  return (config, context) => createPipeline(config, context, hooks);
}

async function createPipeline(config: Config, context: SegmenterContext, hooks: PipelineTestHooks): Promise<Segmenter> {
  const { createSegmenter } = await import('./pipeline/index.ts');
  return createSegmenter({ ...hooks, ...pipelineConfig(config), events: pipelineEvents(context) });
}

/** The pipeline's load and worker events as log lines and metrics. */
function pipelineEvents({ logger, metrics, unavailable }: SegmenterContext): PipelineEvents {
  return {
    modelCompiled(model) {
      const timings = { readMs: Math.round(model.timings.readMs), verifyMs: Math.round(model.timings.verifyMs), buildMs: Math.round(model.timings.buildMs) };
      if (model.repaired !== undefined) {
        metrics.graphRepairs.inc();
        logger.warn({ model: model.name, reason: model.repaired, ...timings }, 'cached graphs failed their check; rebuilt from the weights');
      } else {
        logger.info({ model: model.name, cached: model.cached, ...timings }, model.cached ? 'graphs verified in the cache' : 'graphs built');
      }
    },
    workerLoaded(event) {
      if (!event.replacement) return;
      logger.info({ threadId: event.threadId, loadMs: Math.round(event.loadMs), ...(event.recoveryMs !== undefined ? { recoveryMs: Math.round(event.recoveryMs) } : {}) }, 'replacement worker thread loaded');
    },
    workerLost(event) {
      metrics.workerFailures.inc({ kind: 'thread_lost' });
      logger.error({ threadId: event.threadId }, 'a worker thread died; piscina is replacing it');
    },
    taskFailed({ code, error }) {
      // The request's own line carries only the code; onnxruntime's message and how the thread ended go here.
      if (code === 'WORKER_FAILED') return logger.error({ code, err: error }, 'a worker task was lost with its thread');
      metrics.workerFailures.inc({ kind: 'task_failed' });
      if (code === 'INFERENCE_FAILED') logger.error({ code, err: error }, 'a worker task failed');
      else logger.debug({ code }, 'a worker task failed');
    },
    threadError(err) {
      logger.error({ err }, 'worker thread error');
    },
    failed(reason) {
      unavailable(reason);
    },
  };
}

export async function startService(options: ServiceOptions): Promise<RunningService> {
  const { config } = options;
  const logger = options.logger ?? createLogger({ level: config.logLevel });
  const metrics = new ServiceMetrics({ defaultMetrics: options.defaultMetrics ?? true });
  const health = new ServiceHealth();
  const state = new ServiceState(health, servingRoutingTable(config.routing, servedNetworks(config.models)), config);
  metrics.setAdmissionSource(() => ({
    uploading: state.uploadingRequests, computing: state.computingRequests,
    uploadBytes: state.uploadMemory.reservedBytes, uploadBudgetBytes: state.uploadMemory.limitBytes,
  }));
  const metricsServer = await startMetricsServer(metrics.registry, config.host, config.metricsPort);
  // Payload decoding and label encoding run here, never on the event loop nor on the onnxruntime workers.
  // errorForLog, not pino's err: the codec threads parse client payloads, and a message could quote one.
  const codec = new CodecPool({ threads: config.codecThreads, onError: (err) => logger.error({ error: errorForLog(err) }, 'codec thread error') });
  const sessions = new SessionRegistry(
    { maxSessions: config.maxSessions, maxBytes: config.sessionMemoryBytes, idleMs: config.sessionIdleSeconds * 1000 },
    (session, reason) => {
      metrics.sessionsDropped.inc({ reason });
      logger.info({ sessionId: session.id, reason }, 'session dropped');
    },
  );
  metrics.setSessionSource(() => ({ sessions: sessions.count, bytes: sessions.bytes }));
  // The only PACS the server talks to: those the configuration names (docs/pacs.md).
  const pacsDirectory = new PacsDirectory(config.pacs, pacsObserver(metrics, logger));
  let grpc;
  try {
    grpc = await startGrpcServer({ ...config, state, health, metrics, logger, codec, sessions, pacsDirectory });
  } catch (err) {
    pacsDirectory.close();
    sessions.closeAll();
    await codec.close();
    await metricsServer.close();
    throw err;
  }
  logger.info({
    grpcPort: grpc.port, metricsPort: metricsServer.port, host: config.host, tls: Boolean(config.tls), mtls: Boolean(config.tls?.clientCa),
    auth: Boolean(config.authToken), workers: config.workers, intraOpThreads: config.intraOpThreads, codecThreads: config.codecThreads,
    modelsDir: config.modelsDir, pacs: pacsDirectory.names,
  }, 'listening');

  const factory = options.createSegmenter ?? pipelineSegmenter;
  metrics.setModelsReadySource(() => state.phase === 'serving');
  const context: SegmenterContext = {
    logger,
    metrics,
    unavailable(reason) {
      if (state.phase !== 'serving') return;
      metrics.modelLoadFailures.inc();
      state.fail(reason);
      logger.fatal({ reason }, 'the networks became unavailable; NOT_SERVING until restarted');
    },
  };
  const loadStart = performance.now();
  // The codec threads start while the models load; SERVING waits for both.
  const codecReady = codec.ready();
  codecReady.catch(() => undefined);
  const ready = (async () => {
    const segmenter = await factory(config, context);
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
    metrics.modelLoadFailures.inc();
    // The process stays up, NOT_SERVING: readiness keeps traffic away while liveness passes, and ListModels and the
    // log say why (an exit would restart into the same failure, a crash loop no one can read).
    state.fail(err instanceof Error ? err.message : String(err));
    logger.fatal({ err }, 'the networks failed to load; NOT_SERVING until restarted');
  });

  let stopping: Promise<{ forced: boolean }> | undefined;
  const shutdown = (): Promise<{ forced: boolean }> => {
    stopping ??= (async () => {
      const result = await drainServer(grpc.server, state, config.shutdownGraceMs, logger);
      // A load still in progress closes its own pool when it ends (attach refuses during shutdown).
      await ready.catch(() => undefined);
      // Every admitted call has settled: no session is in use, so this frees every kept volume and embedding.
      sessions.closeAll();
      pacsDirectory.close();
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

/** PACS operations as metrics, and retries as log lines (a PACS in trouble shows in the log before calls fail). */
function pacsObserver(metrics: ServiceMetrics, logger: Logger): PacsObserver {
  const counted = metrics.pacsObserver();
  return {
    operation: (e) => {
      counted.operation?.(e);
      logger.debug({ pacs: e.endpoint, operation: e.operation, outcome: e.outcome, ms: Math.round(e.ms), bytes: e.bytes, attempts: e.attempts }, 'PACS operation');
    },
    retry: (e) => {
      counted.retry?.(e);
      logger.warn({ pacs: e.endpoint, operation: e.operation, attempt: e.attempt, delayMs: e.delayMs, reason: e.reason }, 'PACS request retried');
    },
  };
}

/**
 * Runs the service until SIGTERM or SIGINT (exit code 0 after a clean drain). Networks that fail to load do not end
 * it: it stays up NOT_SERVING until signalled. A second signal during the drain exits at once.
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
  });
}

