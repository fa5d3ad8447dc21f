// Reads the payload chunks of a Segment stream. Enforces the declared size (a chunk that goes past it ends the
// call at once, before it is stored) and the stream order, and stops pulling messages while the worker pool is
// saturated: unread messages stay in grpc-js's small buffer and HTTP/2 flow control holds the client back, so a
// burst of uploads cannot pile volumes into memory that the pool could not work on anyway. Each chunk is copied
// into the payload array as it arrives: one memcpy of a 150 MB volume at the end of the upload stalled the event
// loop for ~70 ms, 1 MiB at a time it is invisible. The array is allocated at the declared size up front, which
// the header check already bounded by maxPayloadBytes; its pages are only committed as bytes are written.
//
// A stalled client must not hold its upload slot for ever, so every wait for a message is timed (UploadTiming):
// - idle: no message for idleMs ends the call (UPLOAD_IDLE_TIMEOUT), before the header too (nextMessage);
// - rate: once idleMs has passed since the first chunk, the average rate since then must stay at or above
//   minBytesPerSecond (UPLOAD_TOO_SLOW). A minimum rate after a grace, not a deadline scaled by the declared size:
//   a trickling client that declares 512 MiB would hold a scaled deadline for hours, while the rate cuts it right
//   after the grace. A fast start earns credit, so no upload takes longer than 2 x idleMs (the wait for the first
//   chunk, then the grace) + declared / minBytesPerSecond. Before the first chunk only the idle limit applies, so a
//   client that sends a header and nothing else is reported as idle, not slow.
// Time the reader spends paused for a saturated pool is the server's doing and counts for neither.
import { CodedError } from '../errors/coded-error.ts';
import type { SegmentRequest__Output } from '../generated/onesam/v1/SegmentRequest.ts';
import { sleep, unlessAborted, withinTime } from './abortable.ts';

export interface MessageSource {
  next(): Promise<IteratorResult<SegmentRequest__Output>>;
}

export interface ReadOptions {
  readonly signal: AbortSignal;
  /** True while every worker is busy and tasks are waiting. */
  readonly saturated: () => boolean;
  readonly onBytes?: (bytes: number) => void;
  /** Stalled-client limits; without them the reader waits as long as the call lasts. */
  readonly timing?: UploadTiming;
}

export interface UploadTiming {
  /** Longest wait for one message (uploadIdleTimeoutMs); also the grace before the rate counts. */
  readonly idleMs: number;
  /** Slowest average rate accepted after the grace (uploadMinBytesPerSecond); 0: no floor. */
  readonly minBytesPerSecond: number;
}

/** Waits at most `idleMs` for the next message; `awaiting` names it in the error ("a header", "the half-close"). */
export function nextMessage(source: MessageSource, idleMs: number, signal: AbortSignal, awaiting: string): Promise<IteratorResult<SegmentRequest__Output>> {
  return withinTime(source.next(), idleMs, () => new CodedError('UPLOAD_IDLE_TIMEOUT', `no message arrived for ${idleMs} ms while waiting for ${awaiting} (uploadIdleTimeoutMs)`), signal);
}

/** How often a paused reader looks at the pool again. */
export const SATURATION_POLL_MS = 25;

export async function readPayload(source: MessageSource, declaredBytes: number, options: ReadOptions): Promise<Uint8Array> {
  // Always a fresh, exactly sized array: chunks are views into grpc-js's message buffers.
  const payload = new Uint8Array(declaredBytes);
  let received = 0;
  let clock: UploadClock | undefined;
  for (;;) {
    if (options.saturated()) await UploadClock.pause(clock, async () => {
      while (options.saturated()) await sleep(SATURATION_POLL_MS, options.signal);
    });
    const next = options.timing ? await timedNext(source, options.timing, clock, received, declaredBytes, options.signal) : await unlessAborted(source.next(), options.signal);
    if (next.done) break;
    clock ??= new UploadClock();
    const message = next.value;
    if (message.message === 'header') {
      throw new CodedError('STREAM_INVALID', 'a second header arrived; a stream carries one request', 'header');
    }
    if (message.message !== 'chunk' || !message.chunk) {
      throw new CodedError('STREAM_INVALID', 'a message carried neither a header nor a chunk');
    }
    const data = message.chunk.data;
    received += data.length;
    options.onBytes?.(data.length);
    if (received > declaredBytes) {
      throw new CodedError('PAYLOAD_EXCEEDS_DECLARED', `the chunks carried more than the ${declaredBytes} bytes declared in header.payload_bytes`, 'chunk');
    }
    payload.set(data, received - data.length);
  }
  if (received < declaredBytes) {
    throw new CodedError('PAYLOAD_INCOMPLETE', `the stream ended after ${received} of the ${declaredBytes} bytes declared in header.payload_bytes`, 'chunk');
  }
  return payload;
}

/** Milliseconds since the first chunk arrived, less the time the reader spent paused by the server. */
class UploadClock {
  private readonly start = performance.now();
  private pausedMs = 0;

  get activeMs(): number {
    return performance.now() - this.start - this.pausedMs;
  }

  /** Runs `wait` (a pause of the server's own) without counting it on `clock`, when there is one yet. */
  static async pause(clock: UploadClock | undefined, wait: () => Promise<void>): Promise<void> {
    const from = performance.now();
    try {
      await wait();
    } finally {
      if (clock) clock.pausedMs += performance.now() - from;
    }
  }
}

/**
 * The next message, within the idle limit and the rate floor. While waiting, `received` is fixed, so the rate floor
 * is a point in time: the moment minBytesPerSecond x (active time - grace) would exceed what arrived so far.
 */
function timedNext(source: MessageSource, timing: UploadTiming, clock: UploadClock | undefined, received: number, declared: number, signal: AbortSignal): Promise<IteratorResult<SegmentRequest__Output>> {
  const rateMs = clock && timing.minBytesPerSecond > 0 ? timing.idleMs + (received / timing.minBytesPerSecond) * 1000 - clock.activeMs : Infinity;
  if (timing.idleMs <= rateMs) {
    return withinTime(source.next(), timing.idleMs, () => new CodedError('UPLOAD_IDLE_TIMEOUT', `no message arrived for ${timing.idleMs} ms after ${received} of the ${declared} bytes declared (uploadIdleTimeoutMs)`), signal);
  }
  return withinTime(source.next(), rateMs, () => {
    const seconds = clock!.activeMs / 1000;
    return new CodedError('UPLOAD_TOO_SLOW', `the upload averaged ${Math.floor(received / seconds)} bytes/s, below the ${timing.minBytesPerSecond} accepted (uploadMinBytesPerSecond): ${received} of the ${declared} bytes declared in ${seconds.toFixed(1)} s`);
  }, signal);
}
