// Writes response messages honouring the stream's backpressure: when write() reports a full buffer, the next
// message waits for 'drain'. Progress messages never wait: while the stream is full only the latest one is kept
// (they are cumulative, so dropping older ones loses nothing) and it goes out first after the drain.
import type { EventEmitter } from 'node:events';

export interface WritableCall<T> extends EventEmitter {
  write(message: T): boolean;
}

export class ResponseWriter<T> {
  private blocked: Promise<void> | undefined;
  private pendingProgress: T | undefined;

  constructor(private readonly call: WritableCall<T>, private readonly signal: AbortSignal) {}

  /** Sends `message` once earlier messages have drained; resolves when the stream can take more. */
  async write(message: T): Promise<void> {
    while (this.blocked) await this.blocked;
    this.send(message);
    while (this.blocked) await this.blocked;
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
      const done = (): void => {
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
