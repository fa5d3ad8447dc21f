// The codec pool: a small piscina pool, separate from the onnxruntime workers, that decodes payloads and encodes
// label volumes. Decoding a 512x512x300 CT (gunzip, dtype conversion, percentiles) takes about a second of CPU; on
// the main thread that second froze health checks, metrics scrapes and every other stream. The payload goes in
// and the prepared image comes back by transfer, so the main thread copies nothing; coded errors come back with the
// same codes, fields and details (error-transport.ts), so clients see exactly the statuses they saw before.
import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import type { DecodedVolume, DecodeOptions, PayloadHeader } from '../volume/payload.ts';
import { ownBuffer, type CodecReply, type CodecTask, type EncodedLabels, type LabelEncoding } from './codec-protocol.ts';
import { unpackError } from './error-transport.ts';
import { piscinaQueueFull } from './piscina-queue.ts';

/** What the Segment handler needs: payload bytes to a pipeline image, label volume to the client's format. */
export interface PayloadCodec {
  /** Decodes `bytes`; when they are the sole view of their ArrayBuffer, that buffer is transferred (detached here). */
  decode(header: PayloadHeader, bytes: Uint8Array, options?: DecodeOptions): Promise<DecodedVolume>;
  /** Encodes `request.labels`, whose ArrayBuffer is transferred when they are its sole view (detached here). */
  encode(request: LabelEncoding): Promise<EncodedLabels>;
}

export interface CodecPoolOptions {
  /** Codec threads (the `codecThreads` setting): each decodes or encodes one volume at a time. */
  readonly threads: number;
  /** piscina errors no task was waiting for (a thread failing outside a task); unhandled, they abort the process. */
  readonly onError?: (error: Error) => void;
}

const WORKER_ENTRY = fileURLToPath(new URL('./codec-worker.mjs', import.meta.url));

export class CodecPool implements PayloadCodec {
  readonly threads: number;
  private readonly piscina: Piscina;
  private running = 0;
  private closed = false;
  private closing: Promise<void> | undefined;
  private idleWaiters: (() => void)[] = [];

  constructor(options: CodecPoolOptions) {
    this.threads = options.threads;
    this.piscina = new Piscina({
      filename: WORKER_ENTRY,
      minThreads: this.threads,
      maxThreads: this.threads,
      // Starting a thread compiles the payload modules (~0.5 s): keep the threads for the service's lifetime.
      idleTimeout: Number.POSITIVE_INFINITY,
      // Tasks wait in piscina's queue; their number is bounded by maxConcurrentRequests (one decode or encode each).
      atomics: 'disabled',
    });
    this.piscina.on('error', (error: unknown) => options.onError?.(error instanceof Error ? error : new Error(String(error))));
  }

  /** Resolves once every thread has loaded the codec modules, so the first request does not pay for it. */
  async ready(): Promise<void> {
    await Promise.all(Array.from({ length: this.threads }, () => this.run<null>({ kind: 'ping' }, [])));
  }

  decode(header: PayloadHeader, bytes: Uint8Array, options: DecodeOptions = {}): Promise<DecodedVolume> {
    const payload = ownBuffer(bytes);
    return this.run<DecodedVolume>({ kind: 'decode', header, bytes: payload, options }, [payload.buffer as ArrayBuffer]);
  }

  encode(request: LabelEncoding): Promise<EncodedLabels> {
    const labels = ownBuffer(request.labels);
    return this.run<EncodedLabels>({ kind: 'encode', ...request, labels }, [labels.buffer as ArrayBuffer]);
  }

  /** Tasks submitted and not yet answered. */
  get pending(): number {
    return this.running;
  }

  /** Refuses new tasks, waits for those submitted, then stops the threads. Safe to call more than once. */
  close(): Promise<void> {
    this.closed = true;
    this.closing ??= (async () => {
      while (this.running > 0) await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
      await this.piscina.close();
    })();
    return this.closing;
  }

  private async run<T>(task: CodecTask, transferList: ArrayBuffer[]): Promise<T> {
    if (this.closed) throw new Error('the codec pool is closed');
    const refused = piscinaQueueFull(this.piscina);
    if (refused) throw refused;
    this.running++;
    try {
      const reply = (await this.piscina.run(task, { transferList })) as CodecReply<T>;
      if (!reply.ok) throw unpackError(reply.error);
      return reply.value;
    } finally {
      this.running--;
      if (this.running === 0) for (const wake of this.idleWaiters.splice(0)) wake();
    }
  }
}
