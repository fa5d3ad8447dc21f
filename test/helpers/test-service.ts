// Starts the real service on 127.0.0.1 with ephemeral ports, a captured JSON log and a given Segmenter (a
// FakeSegmenter for fast tests, the real pipeline for the end-to-end ones), and gives clients for it.
import { Writable } from 'node:stream';
import * as grpc from '@grpc/grpc-js';
import { loadConfig } from '../../src/config/load.ts';
import type { Config } from '../../src/config/schema.ts';
import { SegmentationClient, type ClientOptions } from '../../src/client/client.ts';
import { createLogger } from '../../src/observability/logger.ts';
import type { SegmentRequest } from '../../src/generated/onesam/v1/SegmentRequest.ts';
import type { SegmentResponse__Output } from '../../src/generated/onesam/v1/SegmentResponse.ts';
import { loadSegmentationProto } from '../../src/protocol/proto.ts';
import { startService, type RunningService, type SegmenterFactory } from '../../src/main.ts';

export interface TestService {
  readonly service: RunningService;
  readonly address: string;
  readonly metricsUrl: string;
  readonly config: Config;
  /** Every log line written so far, parsed. */
  readonly logs: Record<string, unknown>[];
  /** Raw log text, to check what never appears in it. */
  logText(): string;
  client(options?: ClientOptions): SegmentationClient;
  health(service?: string, options?: { credentials?: grpc.ChannelCredentials }): Promise<string>;
  stop(): Promise<void>;
}

export async function startTestService(options: { config?: Partial<Config>; createSegmenter: SegmenterFactory }): Promise<TestService> {
  const base = loadConfig({ env: {}, flags: { host: '127.0.0.1', port: '0', 'metrics-port': '0', 'log-level': 'debug' } }).config;
  const config = Object.freeze({ ...base, shutdownGraceMs: 2_000, ...options.config });
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk, _encoding, callback) {
      lines.push(...String(chunk).split('\n').filter((l) => l !== ''));
      callback();
    },
  });
  const logger = createLogger({ level: 'debug', destination: sink });
  const service = await startService({ config, logger, createSegmenter: options.createSegmenter, defaultMetrics: false });
  const address = `127.0.0.1:${service.grpcPort}`;
  const clients: SegmentationClient[] = [];
  const healthClients: grpc.Client[] = [];
  return {
    service,
    address,
    metricsUrl: `http://127.0.0.1:${service.metricsPort}/metrics`,
    config,
    get logs() {
      return lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    },
    logText: () => lines.join('\n'),
    client(clientOptions) {
      const c = new SegmentationClient(address, clientOptions);
      clients.push(c);
      return c;
    },
    health(name = '', healthOptions = {}) {
      const Health = (loadSegmentationProto().grpcType as unknown as HealthPackage).grpc.health.v1.Health;
      const client = new Health(address, healthOptions.credentials ?? grpc.credentials.createInsecure());
      healthClients.push(client);
      return new Promise((resolve, reject) => {
        client.check({ service: name }, { deadline: Date.now() + 5_000 }, (err: grpc.ServiceError | null, res?: { status: string }) => (err ? reject(err) : resolve(res!.status)));
      });
    },
    async stop() {
      for (const c of clients) c.close();
      for (const c of healthClients) c.close();
      await service.shutdown();
    },
  };
}

export interface HealthPackage {
  grpc: { health: { v1: { Health: new (address: string, credentials: grpc.ChannelCredentials) => grpc.Client & HealthStub } } };
}

export interface HealthStub {
  check(request: { service: string }, options: grpc.CallOptions, callback: (err: grpc.ServiceError | null, res?: { status: string }) => void): void;
  watch(request: { service: string }): grpc.ClientReadableStream<{ status: string }>;
}

/** Reads one metric's samples from Prometheus text: name{labels} value. */
export async function scrape(url: string): Promise<Map<string, number>> {
  const text = await (await fetch(url)).text();
  const samples = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line.startsWith('#') || line.trim() === '') continue;
    const i = line.lastIndexOf(' ');
    samples.set(line.slice(0, i), Number(line.slice(i + 1)));
  }
  return samples;
}

export function grpcError(err: unknown): grpc.ServiceError {
  if (typeof (err as grpc.ServiceError)?.code !== 'number') throw err;
  return err as grpc.ServiceError;
}

/** A bare Segment stream for sending out-of-protocol messages; `result` settles with the final status. */
export function rawSegmentCall(address: string, options: grpc.CallOptions = {}, metadata = new grpc.Metadata()): {
  call: grpc.ClientDuplexStream<SegmentRequest, SegmentResponse__Output>;
  result: Promise<{ status: grpc.StatusObject; messages: SegmentResponse__Output[] }>;
  close(): void;
} {
  const { grpcType } = loadSegmentationProto();
  const stub = new grpcType.onesam.v1.Segmentation(address, grpc.credentials.createInsecure());
  const call = stub.segment(metadata, options);
  const messages: SegmentResponse__Output[] = [];
  call.on('data', (m) => messages.push(m));
  call.on('error', () => undefined);
  const result = new Promise<{ status: grpc.StatusObject; messages: typeof messages }>((resolve) => call.on('status', (status) => resolve({ status, messages })));
  return { call, result, close: () => stub.close() };
}
