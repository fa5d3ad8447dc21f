// Reads the payload chunks of a Segment stream. Enforces the declared size (a chunk that goes past it ends the
// call at once, before it is stored) and the stream order, and stops pulling messages while the worker pool is
// saturated: unread messages stay in grpc-js's small buffer and HTTP/2 flow control holds the client back, so a
// burst of uploads cannot pile volumes into memory that the pool could not work on anyway. Each chunk is copied
// into the payload array as it arrives: one memcpy of a 150 MB volume at the end of the upload stalled the event
// loop for ~70 ms, 1 MiB at a time it is invisible. The array is allocated at the declared size up front, which
// the header check already bounded by maxPayloadBytes; its pages are only committed as bytes are written.
import type { SegmentRequest__Output } from '../generated/onesam/v1/SegmentRequest.ts';
import { ServiceError } from '../errors/service-error.ts';
import { sleep, unlessAborted } from './abortable.ts';

export interface MessageSource {
  next(): Promise<IteratorResult<SegmentRequest__Output>>;
}

export interface ReadOptions {
  readonly signal: AbortSignal;
  /** True while every worker is busy and tasks are waiting. */
  readonly saturated: () => boolean;
  readonly onBytes?: (bytes: number) => void;
}

/** How often a paused reader looks at the pool again. */
export const SATURATION_POLL_MS = 25;

export async function readPayload(source: MessageSource, declaredBytes: number, options: ReadOptions): Promise<Uint8Array> {
  // Always a fresh, exactly sized array: chunks are views into grpc-js's message buffers.
  const payload = new Uint8Array(declaredBytes);
  let received = 0;
  for (;;) {
    while (options.saturated()) await sleep(SATURATION_POLL_MS, options.signal);
    const next = await unlessAborted(source.next(), options.signal);
    if (next.done) break;
    const message = next.value;
    if (message.message === 'header') {
      throw new ServiceError('STREAM_INVALID', 'a second header arrived; a stream carries one request', 'header');
    }
    if (message.message !== 'chunk' || !message.chunk) {
      throw new ServiceError('STREAM_INVALID', 'a message carried neither a header nor a chunk');
    }
    const data = message.chunk.data;
    received += data.length;
    options.onBytes?.(data.length);
    if (received > declaredBytes) {
      throw new ServiceError('PAYLOAD_EXCEEDS_DECLARED', `the chunks carried more than the ${declaredBytes} bytes declared in header.payload_bytes`, 'chunk');
    }
    payload.set(data, received - data.length);
  }
  if (received < declaredBytes) {
    throw new ServiceError('PAYLOAD_INCOMPLETE', `the stream ended after ${received} of the ${declaredBytes} bytes declared in header.payload_bytes`, 'chunk');
  }
  return payload;
}
