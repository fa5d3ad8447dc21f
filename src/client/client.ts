// A typed client for onesam.v1.Segmentation, used by `onesam segment --server`, the tests and the load bench.
// segment() sends the header and the payload in ~1 MiB chunks, waiting for 'drain' whenever grpc-js reports a
// full buffer, then half-closes and collects the answer: the acceptance, progress, the label bytes (checked to
// arrive contiguously) and the summary.
import * as grpc from '@grpc/grpc-js';
import type { Accepted__Output } from '../generated/onesam/v1/Accepted.ts';
import type { CloseSessionResponse__Output } from '../generated/onesam/v1/CloseSessionResponse.ts';
import type { ListModelsResponse__Output } from '../generated/onesam/v1/ListModelsResponse.ts';
import type { Progress__Output } from '../generated/onesam/v1/Progress.ts';
import type { RequestHeader } from '../generated/onesam/v1/RequestHeader.ts';
import type { SegmentRequest } from '../generated/onesam/v1/SegmentRequest.ts';
import type { SegmentResponse__Output } from '../generated/onesam/v1/SegmentResponse.ts';
import type { SegmentationClient as GeneratedClient } from '../generated/onesam/v1/Segmentation.ts';
import type { Summary__Output } from '../generated/onesam/v1/Summary.ts';
import { loadSegmentationProto } from '../protocol/proto.ts';

export const CHUNK_BYTES = 1024 * 1024;

export interface ClientOptions {
  /** TLS: the CA that signed the server certificate (PEM), and for mTLS the client certificate and key. */
  readonly tls?: { readonly ca?: Buffer; readonly cert?: Buffer; readonly key?: Buffer; readonly serverName?: string };
  /** Sent as `authorization: Bearer <token>`. */
  readonly token?: string;
  /** Largest response message accepted (label chunks are ~1 MiB). */
  readonly maxReceiveBytes?: number;
}

export interface SegmentInput {
  /** The header without `payloadBytes`, which is the payload's length. */
  readonly header: Omit<RequestHeader, 'payloadBytes'>;
  /** Empty when the header names a session (`sessionId`): the server already holds the volume. */
  readonly payload: Uint8Array;
}

export interface SegmentCallOptions {
  /** Absolute deadline (Date or epoch milliseconds). */
  readonly deadline?: Date | number;
  readonly signal?: AbortSignal;
  readonly chunkBytes?: number;
  readonly onAccepted?: (accepted: Accepted__Output) => void;
  readonly onProgress?: (progress: Progress__Output) => void;
}

export interface SegmentOutcome {
  readonly accepted: Accepted__Output;
  readonly progress: readonly Progress__Output[];
  /** The encoded labels, reassembled (raw, npz or NIfTI bytes as the header asked). */
  readonly labels: Uint8Array;
  readonly summary: Summary__Output;
}

export class SegmentationClient {
  private readonly stub: GeneratedClient;

  constructor(address: string, private readonly options: ClientOptions = {}) {
    const { grpcType } = loadSegmentationProto();
    const tls = options.tls;
    const credentials = tls ? grpc.credentials.createSsl(tls.ca ?? null, tls.key ?? null, tls.cert ?? null) : grpc.credentials.createInsecure();
    this.stub = new grpcType.onesam.v1.Segmentation(address, credentials, {
      'grpc.max_receive_message_length': options.maxReceiveBytes ?? 16 * 1024 * 1024,
      ...(tls?.serverName ? { 'grpc.ssl_target_name_override': tls.serverName } : {}),
    });
  }

  /** The underlying channel, for health checks and reflection on the same connection. */
  get channel(): grpc.Channel {
    return this.stub.getChannel() as grpc.Channel;
  }

  metadata(): grpc.Metadata {
    const metadata = new grpc.Metadata();
    if (this.options.token !== undefined) metadata.set('authorization', `Bearer ${this.options.token}`);
    return metadata;
  }

  listModels(deadline?: Date | number): Promise<ListModelsResponse__Output> {
    return new Promise((resolve, reject) => {
      this.stub.listModels({}, this.metadata(), deadline === undefined ? {} : { deadline }, (err, response) => (err ? reject(err) : resolve(response!)));
    });
  }

  /** Drops a session kept with `keepSession` (NOT_FOUND when the server no longer holds it). */
  closeSession(sessionId: string, deadline?: Date | number): Promise<CloseSessionResponse__Output> {
    return new Promise((resolve, reject) => {
      this.stub.closeSession({ sessionId }, this.metadata(), deadline === undefined ? {} : { deadline }, (err, response) => (err ? reject(err) : resolve(response!)));
    });
  }

  segment(input: SegmentInput, options: SegmentCallOptions = {}): Promise<SegmentOutcome> {
    const call = this.stub.segment(this.metadata(), options.deadline === undefined ? {} : { deadline: options.deadline });
    const chunkBytes = options.chunkBytes ?? CHUNK_BYTES;
    let settled = false;
    let ended = false;
    return new Promise<SegmentOutcome>((resolve, reject) => {
      let accepted: Accepted__Output | undefined;
      let summary: Summary__Output | undefined;
      const progress: Progress__Output[] = [];
      const parts: Uint8Array[] = [];
      let received = 0;
      const finish = (err: Error | undefined, outcome?: SegmentOutcome): void => {
        if (settled) return;
        settled = true;
        options.signal?.removeEventListener('abort', onAbort);
        if (err) reject(err);
        else resolve(outcome!);
      };
      const protocolError = (message: string): void => {
        finish(new Error(`server broke the Segment protocol: ${message}`));
        call.cancel();
      };
      const onAbort = (): void => call.cancel();
      options.signal?.addEventListener('abort', onAbort, { once: true });
      if (options.signal?.aborted) call.cancel();

      call.on('data', (message: SegmentResponse__Output) => {
        switch (message.message) {
          case 'accepted':
            if (accepted) return protocolError('a second acceptance');
            accepted = message.accepted!;
            options.onAccepted?.(accepted);
            return;
          case 'progress':
            progress.push(message.progress!);
            options.onProgress?.(message.progress!);
            return;
          case 'labels': {
            const { data, offset } = message.labels!;
            if (offset !== received) return protocolError(`label chunk at offset ${offset}, expected ${received}`);
            parts.push(data);
            received += data.length;
            return;
          }
          case 'summary':
            summary = message.summary!;
            return;
          default:
            return protocolError('an empty response message');
        }
      });
      call.on('error', (err: Error) => finish(err));
      call.on('status', (status: grpc.StatusObject) => {
        ended = true;
        if (status.code !== grpc.status.OK) return;
        if (!accepted || !summary) return finish(new Error('server broke the Segment protocol: OK without acceptance and summary'));
        if (summary.labelBytes !== received) return finish(new Error(`server broke the Segment protocol: ${received} label bytes, summary says ${summary.labelBytes}`));
        finish(undefined, { accepted, progress, labels: concat(parts, received), summary });
      });

      const header: SegmentRequest = { header: { ...input.header, payloadBytes: input.payload.length } };
      sendAll(call, header, input.payload, chunkBytes, () => settled || ended).catch((err: unknown) => {
        finish(err as Error);
        call.cancel();
      });
    });
  }

  close(): void {
    this.stub.close();
  }
}

type ClientCall = grpc.ClientDuplexStream<SegmentRequest, SegmentResponse__Output>;

async function sendAll(call: ClientCall, header: SegmentRequest, payload: Uint8Array, chunkBytes: number, stopped: () => boolean): Promise<void> {
  if (!call.write(header)) await drained(call);
  for (let offset = 0; offset < payload.length && !stopped(); offset += chunkBytes) {
    const data = payload.subarray(offset, Math.min(offset + chunkBytes, payload.length));
    if (!call.write({ chunk: { data } })) await drained(call);
  }
  if (!stopped()) call.end();
}

/** Waits for 'drain', or for the call to end (a server that answered early never drains). */
function drained(call: ClientCall): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      call.off('drain', done);
      call.off('status', done);
      call.off('error', done);
      call.off('close', done);
      resolve();
    };
    call.on('drain', done);
    call.on('status', done);
    call.on('error', done);
    call.on('close', done);
  });
}

function concat(parts: readonly Uint8Array[], total: number): Uint8Array {
  const out = new Uint8Array(total);
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}
