// The grpc.Server: credentials (plaintext or TLS, optionally verifying client certificates), the receive limit and
// the message guard (undecodable and oversized messages), the bearer-token interceptor, and the services:
// onesam.v1.Segmentation, grpc.health.v1 and reflection (which lists itself too, as grpc-go and grpc-java do).
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { loadSync, type PackageDefinition } from '@grpc/proto-loader';
import { ReflectionService } from '@grpc/reflection';
import type { TlsConfig } from '../config/schema.ts';
import type { Logger } from '../observability/logger.ts';
import type { ServiceMetrics } from '../observability/metrics.ts';
import type { PayloadCodec } from '../workers/codec-pool.ts';
import { bearerTokenInterceptor } from './auth.ts';
import type { ServiceHealth } from './health.ts';
import { createListModelsHandler } from './list-models-handler.ts';
import { MessageGuard } from './message-guard.ts';
import { loadSegmentationProto, PROTO_LOADER_OPTIONS } from '../protocol/proto.ts';
import { createSegmentHandler } from './segment-handler.ts';
import type { ServiceState } from './service-state.ts';
import { createCloseSessionHandler } from './close-session-handler.ts';
import type { SessionRegistry } from './session-registry.ts';
import type { NetworkModels } from '../pipeline/serving.ts';
import type { PacsDirectory } from '../pacs/directory.ts';

export interface GrpcServerOptions {
  readonly host: string;
  readonly port: number;
  readonly tls?: TlsConfig;
  readonly authToken?: string;
  readonly maxMessageBytes: number;
  readonly maxPayloadBytes: number;
  readonly maxVoxels: number;
  readonly uploadIdleTimeoutMs: number;
  readonly uploadMinBytesPerSecond: number;
  readonly responseStallTimeoutMs: number;
  /** Speed level of requests that leave RequestHeader.speed_level unset. */
  readonly speedLevel: number;
  readonly state: ServiceState;
  /** The `models` setting: which networks ListModels reports while they load. */
  readonly models: NetworkModels;
  readonly health: ServiceHealth;
  readonly metrics: ServiceMetrics;
  readonly logger: Logger;
  readonly codec: PayloadCodec;
  readonly sessions: SessionRegistry;
  /** The configured PACS endpoints, for Segment requests that read from or store to one. */
  readonly pacsDirectory?: PacsDirectory;
}

export interface GrpcServer {
  readonly server: grpc.Server;
  readonly port: number;
}

export async function startGrpcServer(options: GrpcServerOptions): Promise<GrpcServer> {
  const { definition, grpcType } = loadSegmentationProto();
  const guard = new MessageGuard(options.maxMessageBytes, (path, error) => {
    options.metrics.errors.inc({ code: error.code });
    options.logger[error.logLevel]({ method: path.slice(path.lastIndexOf('/') + 1), code: error.code }, 'request message refused');
  });
  const server = new grpc.Server({
    'grpc.max_receive_message_length': options.maxMessageBytes,
    // The guard first: it must be handed grpc-js's own call object (see message-guard.ts).
    interceptors: [
      guard.interceptor,
      ...(options.authToken ? [bearerTokenInterceptor(options.authToken, () => options.metrics.errors.inc({ code: 'UNAUTHENTICATED' }))] : []),
    ],
  });
  const deps = { state: options.state, metrics: options.metrics, logger: options.logger };
  server.addService(guard.tolerant(grpcType.onesam.v1.Segmentation.service), {
    Segment: createSegmentHandler({
      ...deps, limits: { maxPayloadBytes: options.maxPayloadBytes, maxVoxels: options.maxVoxels }, timeouts: { uploadIdleTimeoutMs: options.uploadIdleTimeoutMs, uploadMinBytesPerSecond: options.uploadMinBytesPerSecond, responseStallTimeoutMs: options.responseStallTimeoutMs },
      codec: options.codec, sessions: options.sessions, speedLevel: options.speedLevel, refusal: (metadata) => guard.refusal(metadata),
      ...(options.pacsDirectory ? { pacs: options.pacsDirectory } : {}),
    }),
    ListModels: createListModelsHandler({ ...deps, models: options.models }),
    CloseSession: createCloseSessionHandler({ ...deps, sessions: options.sessions }),
  });
  options.health.addToServer(server);
  new ReflectionService({ ...definition, ...reflectionDefinition() }).addToServer(server);
  const address = `${options.host.includes(':') ? `[${options.host}]` : options.host}:${options.port}`;
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(address, serverCredentials(options.tls), (err, bound) => (err ? reject(err) : resolve(bound)));
  });
  return { server, port };
}

function serverCredentials(tls: TlsConfig | undefined): grpc.ServerCredentials {
  if (!tls) return grpc.ServerCredentials.createInsecure();
  const clientCa = tls.clientCa ? readFileSync(tls.clientCa) : null;
  return grpc.ServerCredentials.createSsl(clientCa, [{ private_key: readFileSync(tls.key), cert_chain: readFileSync(tls.cert) }], clientCa !== null);
}

/**
 * The reflection service's own protos (v1 and v1alpha, both of which it serves). @grpc/reflection lists only the
 * services of the definition it is given, so without these ListServices would not name reflection itself.
 */
function reflectionDefinition(): PackageDefinition {
  const protoDir = join(dirname(createRequire(import.meta.url).resolve('@grpc/reflection')), '..', 'proto');
  return loadSync(['grpc/reflection/v1/reflection.proto', 'grpc/reflection/v1alpha/reflection.proto'], { ...PROTO_LOADER_OPTIONS, includeDirs: [protoDir] });
}
