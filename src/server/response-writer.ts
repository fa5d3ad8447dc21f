// Writes response messages honouring the stream's backpressure: when write() reports a full buffer, the next
// message waits for 'drain'. Progress messages never wait: while the stream is full only the latest one is kept
// (they are cumulative, so dropping older ones loses nothing) and it goes out first after the drain.
//
// A client that stops reading keeps the stream full: once it has been blocked for `stallMs` the writer reports
// RESPONSE_STALLED through `onStall`, and the handler aborts the request, so a non-reading client holds its slot
// and its pipeline work for at most that long. The timer runs from the moment the stream fills (even when only a
// progress message is waiting), not from when the labels are ready: a client that does not read progress for
// that long is not reading, and stopping it early saves the rest of its computation.
import type { EventEmitter } from 'node:events';
import { CodedError } from '../errors/coded-error.ts';

export interface WritableCall<T> extends EventEmitter {
  write(message: T): boolean;
}

export interface StallOptions {
  /** How long the stream may stay blocked on 'drain' (responseStallTimeoutMs). */
  readonly stallMs: number;
  /** Called once, with RESPONSE_STALLED, when it stayed blocked that long; the caller aborts `signal`. */
  readonly onStall: (error: CodedError) => void;
}

export class ResponseWriter<T> {
  private blocked: Promise<void> | undefined;
  private pendingProgress: T | undefined;

  constructor(private readonly call: WritableCall<T>, private readonly signal: AbortSignal, private readonly stall?: StallOptions) {}

  /** Sends `message` once earlier messages have drained; resolves when the stream can take more. */
  async write(message: T): Promise<void> {
    while (this.blocked) await this.blocked;
    this.send(message);
    while (this.blocked) await this.blocked;
  }

  /**
   * Sends the stream's last message once earlier messages have drained, without waiting for it to drain: the caller
   * ends the call next, and grpc-js sends the status after the buffered messages. Waiting here would let a stall or
   * the drain's interrupt end a request whose summary is already on its way with an error status.
   */
  async writeLast(message: T): Promise<void> {
    while (this.blocked) await this.blocked;
    this.send(message);
  }

  /** Sends a progress message now, or keeps it as the latest to send after the drain. */
  offerProgress(message: T): void {
    if (this.blocked) {
      this.pendingProgress = message;
      return;
    }
    this.send(message);
  }

  private send(message: T): void {
    if (this.signal.aborted) return;
    if (this.call.write(message)) return;
    this.blocked = new Promise<void>((resolve) => {
      const stall = this.stall;
      const stallTimer = stall && setTimeout(() => {
        stall.onStall(new CodedError('RESPONSE_STALLED', `the client read no response for ${stall.stallMs} ms (responseStallTimeoutMs)`));
      }, stall.stallMs);
      const done = (): void => {
        clearTimeout(stallTimer);
        this.call.off('drain', done);
        this.call.off('close', done);
        this.signal.removeEventListener('abort', done);
        this.blocked = undefined;
        const progress = this.pendingProgress;
        this.pendingProgress = undefined;
        if (progress !== undefined) this.send(progress);
        resolve();
      };
      this.call.on('drain', done);
      this.call.on('close', done);
      this.signal.addEventListener('abort', done);
    });
  }
}
