// The upload memory budget: the raw payloads of all uploads in flight, counted at their declared size
// (header.payload_bytes), must fit in uploadMemoryBytes together. The upload slots alone do not bound memory:
// maxConcurrentUploads (16) x maxPayloadBytes (512 MiB) is 8 GiB, twice the pod's limit, and a few clients sending
// large payloads fast could fill it before any of them reaches a compute slot.
//
// An upload reserves its declared size when its header is accepted, before the payload array is allocated, and
// gives it back once the raw payload is gone: decoded (the array moves to the codec thread and goes out of scope
// there when the decode settles), or abandoned on any error, cancel, timeout or drain. A reservation that does not
// fit is refused at once (UPLOAD_MEMORY_EXHAUSTED, RESOURCE_EXHAUSTED) instead of waiting: the client hears it
// right after its header, before most of its payload is on the wire, and retries later or on another replica,
// which is what gateways and gRPC retry policies do with RESOURCE_EXHAUSTED. A waiting upload would hold its upload
// slot and its connection's flow-control window for a time nobody can bound.
import { CodedError } from '../errors/coded-error.ts';

/** The bytes one upload holds in the budget. */
export interface UploadReservation {
  readonly bytes: number;
  /**
   * Holds `bytes` from now on instead: for a payload whose size is learnt as it arrives (a series streaming in from
   * a PACS). Growing throws UPLOAD_MEMORY_EXHAUSTED when the growth does not fit; shrinking always succeeds.
   */
  resize(bytes: number): void;
  /** Gives the bytes back. Idempotent: every exit path may call it. */
  release(): void;
}

export class UploadMemoryBudget {
  private reserved = 0;
  private holders = 0;

  /** `limitBytes`: uploadMemoryBytes (Infinity: no budget beyond maxPayloadBytes per upload). */
  constructor(readonly limitBytes: number) {}

  /** Declared payload bytes of the uploads in flight. */
  get reservedBytes(): number {
    return this.reserved;
  }

  /** Uploads holding a reservation. */
  get reservations(): number {
    return this.holders;
  }

  /** Reserves `bytes` for one upload, or throws UPLOAD_MEMORY_EXHAUSTED when they do not fit beside the others. */
  reserve(bytes: number): UploadReservation {
    if (this.reserved + bytes > this.limitBytes) {
      throw new CodedError('UPLOAD_MEMORY_EXHAUSTED',
        `the uploads in flight hold ${this.reserved} of the ${this.limitBytes} bytes of upload memory (uploadMemoryBytes) and this one declares ${bytes}; retry later`);
    }
    this.reserved += bytes;
    this.holders++;
    let held = true;
    let holding = bytes;
    return {
      get bytes() {
        return holding;
      },
      resize: (next: number) => {
        if (!held) throw new Error('resize() of a released upload reservation');
        if (next > holding && this.reserved - holding + next > this.limitBytes) {
          throw new CodedError('UPLOAD_MEMORY_EXHAUSTED',
            `the uploads in flight hold ${this.reserved - holding} of the ${this.limitBytes} bytes of upload memory (uploadMemoryBytes) and this one has grown to ${next}; retry later`);
        }
        this.reserved += next - holding;
        holding = next;
      },
      release: () => {
        if (!held) return;
        held = false;
        this.reserved -= holding;
        this.holders--;
      },
    };
  }
}
