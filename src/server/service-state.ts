// What the server is doing (loading models, serving, draining, stopped) and the admission of Segment calls. The
// phase drives the health service; handlers ask here for the Segmenter, which exists only once models are loaded.
//
// Admission has two phases with separate slots, so that clients still uploading (or stalling in the upload) can
// never hold the slots of requests that have their whole payload: a call takes an upload slot when it arrives
// (maxConcurrentUploads) and trades it for a compute slot (maxConcurrentRequests) once its payload is complete.
// Decoding, the pipeline and sending the labels run on the compute slot. A call arriving while either kind is all
// taken is refused at once (TOO_MANY_REQUESTS), before it uploads anything; a call whose upload completes while
// the compute slots are taken waits for one (keeping its upload slot), rather than throwing its upload away.
// Memory is admitted apart from the slots: once its header declares the payload size, an upload reserves that many
// bytes in the upload memory budget (upload-budget.ts) until its raw payload is gone.
import { CodedError } from '../errors/coded-error.ts';
import { unlessAborted } from './abortable.ts';
import type { RoutingTable } from '../pipeline/router.ts';
import type { Segmenter } from '../pipeline/segmenter.ts';
import type { ServiceHealth } from './health.ts';
import { UploadMemoryBudget, type UploadReservation } from './upload-budget.ts';

export type Phase = 'loading' | 'serving' | 'draining' | 'stopped' | 'failed';

/** The slot limits of the two admission phases. */
export interface AdmissionLimits {
  /** Calls past their upload: decoding, segmenting, sending labels. */
  readonly maxConcurrentRequests: number;
  /** Calls still receiving their header and payload (and those waiting for a compute slot). */
  readonly maxConcurrentUploads: number;
  /** Declared payload bytes all uploads in flight may hold together (uploadMemoryBytes); unset: no such budget. */
  readonly uploadMemoryBytes?: number;
}

/** A call waiting for a compute slot; `granted` once a slot was counted for it. */
interface ComputeTicket {
  granted: boolean;
  readonly grant: () => void;
}

/** One admitted Segment call. It holds an upload slot until compute() resolves, then a compute slot. */
export interface Admission {
  readonly segmenter: Segmenter;
  /** Trades the upload slot for a compute slot, waiting (FIFO) while all are taken; rejects when `signal` aborts. */
  compute(signal: AbortSignal): Promise<void>;
  /**
   * Reserves the declared payload size in the upload memory budget, or throws UPLOAD_MEMORY_EXHAUSTED. Release it
   * once the raw payload is gone; release() gives it back too, whatever path the call took.
   */
  reserveUpload(bytes: number): UploadReservation;
  /** Frees whichever slot the call holds; call it once the call's pipeline work has settled. Idempotent. */
  release(): void;
}

export class ServiceState {
  private currentPhase: Phase = 'loading';
  private currentSegmenter: Segmenter | undefined;
  private failure: string | undefined;
  private active = 0;
  private uploadingCount = 0;
  private computingCount = 0;
  /** Calls whose upload is complete, waiting for a compute slot, first come first served. */
  private computeWaiters: ComputeTicket[] = [];
  private idleWaiters: (() => void)[] = [];
  /** How each running Segment call ends itself at once (whileRunning), for the end of the drain's grace period. */
  private readonly interrupters = new Set<(reason: CodedError) => void>();
  /** Raw payload bytes of the uploads in flight (onesam_upload_reserved_bytes). */
  readonly uploadMemory: UploadMemoryBudget;

  constructor(
    private readonly health: ServiceHealth,
    /** The routing table the Segmenter was built with (reported by ListModels before and after loading). */
    readonly routing: RoutingTable,
    private readonly limits: AdmissionLimits,
  ) {
    health.setReady(false);
    this.uploadMemory = new UploadMemoryBudget(limits.uploadMemoryBytes ?? Number.POSITIVE_INFINITY);
  }

  get phase(): Phase {
    return this.currentPhase;
  }

  get segmenter(): Segmenter | undefined {
    return this.currentSegmenter;
  }

  /** Segment calls admitted and not yet finished (their pipeline work included), in either phase. */
  get activeRequests(): number {
    return this.active;
  }

  /** Calls holding an upload slot (receiving, or complete and waiting for a compute slot). */
  get uploadingRequests(): number {
    return this.uploadingCount;
  }

  /** Calls holding a compute slot. */
  get computingRequests(): number {
    return this.computingCount;
  }

  /** Models loaded and the pool up: start serving. Ignored once draining began (a late load during shutdown). */
  attach(segmenter: Segmenter): boolean {
    if (this.currentPhase !== 'loading') return false;
    this.currentSegmenter = segmenter;
    this.setPhase('serving');
    return true;
  }

  /** Why the networks cannot serve, once fail() was called. */
  get failureReason(): string | undefined {
    return this.failure;
  }

  /**
   * The networks cannot serve (they failed to load, or the worker pool can no longer reach its size): NOT_SERVING
   * from now on, with the reason for ListModels. The process stays up; a drain that began first is left alone.
   */
  fail(reason: string): void {
    if (this.currentPhase !== 'loading' && this.currentPhase !== 'serving') return;
    this.failure = reason;
    this.setPhase('failed');
  }

  setPhase(phase: Phase): void {
    this.currentPhase = phase;
    this.health.setReady(phase === 'serving');
    if (phase === 'stopped') this.health.setAlive(false);
  }

  /**
   * Admits one Segment call into the upload phase or throws the reason it cannot run now. Refused while either
   * kind of slot is all taken: with every compute slot busy the upload would only wait at its end, so the client
   * hears it before sending anything and can go to another replica.
   */
  admit(): Admission {
    switch (this.currentPhase) {
      case 'loading':
        throw new CodedError('MODELS_LOADING', 'the networks are still loading; retry when health reports SERVING');
      case 'draining':
      case 'stopped':
        throw new CodedError('SHUTTING_DOWN', 'the server is shutting down');
      case 'failed':
        throw new CodedError('NETWORK_UNAVAILABLE', 'the networks failed to load; see the server log');
      case 'serving':
        break;
    }
    const { maxConcurrentRequests, maxConcurrentUploads } = this.limits;
    if (this.computingCount >= maxConcurrentRequests) {
      throw new CodedError('TOO_MANY_REQUESTS', `the server is already running ${this.computingCount} requests (limit maxConcurrentRequests ${maxConcurrentRequests}); retry later`);
    }
    if (this.uploadingCount >= maxConcurrentUploads) {
      throw new CodedError('TOO_MANY_REQUESTS', `the server is already receiving ${this.uploadingCount} uploads (limit maxConcurrentUploads ${maxConcurrentUploads}); retry later`);
    }
    this.active++;
    this.uploadingCount++;
    let slot: 'upload' | 'waiting' | 'compute' | 'released' = 'upload';
    let ticket: ComputeTicket | undefined;
    let reservation: UploadReservation | undefined;
    return {
      segmenter: this.currentSegmenter!,
      compute: async (signal) => {
        if (slot !== 'upload') throw new Error(`compute() called holding the ${slot} slot`);
        if (this.computingCount < maxConcurrentRequests && this.computeWaiters.length === 0) {
          this.computingCount++;
        } else {
          slot = 'waiting';
          const granted = new Promise<void>((resolve) => {
            ticket = { granted: false, grant: resolve };
            this.computeWaiters.push(ticket);
          });
          await unlessAborted(granted, signal);
          if (slot !== 'waiting') throw new Error('the admission was released while waiting for a compute slot');
        }
        this.uploadingCount--;
        slot = 'compute';
      },
      reserveUpload: (bytes) => {
        if (reservation) throw new Error('reserveUpload() called twice for one call');
        reservation = this.uploadMemory.reserve(bytes);
        return reservation;
      },
      release: () => {
        reservation?.release();
        switch (slot) {
          case 'released':
            return;
          case 'compute':
            this.computingCount--;
            this.grantWaitingComputes();
            break;
          case 'waiting':
            this.uploadingCount--;
            if (ticket?.granted) {
              // Granted a slot, then aborted before taking it: hand it on.
              this.computingCount--;
              this.grantWaitingComputes();
            } else if (ticket) {
              this.computeWaiters.splice(this.computeWaiters.indexOf(ticket), 1);
            }
            break;
          case 'upload':
            this.uploadingCount--;
            break;
        }
        slot = 'released';
        this.active--;
        if (this.active === 0) for (const resolve of this.idleWaiters.splice(0)) resolve();
      },
    };
  }

  /** Hands free compute slots to waiting calls. The slot is counted at once, so no newcomer can take it meanwhile. */
  private grantWaitingComputes(): void {
    while (this.computingCount < this.limits.maxConcurrentRequests) {
      const next = this.computeWaiters.shift();
      if (!next) return;
      this.computingCount++;
      next.granted = true;
      next.grant();
    }
  }

  /**
   * Registers how a running Segment call ends itself when the drain's grace period is over (interruptAll); the
   * returned function unregisters it once the call has finished.
   */
  whileRunning(interrupt: (reason: CodedError) => void): () => void {
    this.interrupters.add(interrupt);
    return () => this.interrupters.delete(interrupt);
  }

  /**
   * The drain's grace period is over: every call still running ends now with SHUTDOWN_INTERRUPTED (its status is
   * sent at once, its pipeline stops between slices). Returns how many calls were interrupted; idle() then
   * resolves once their work has settled.
   */
  interruptAll(): number {
    const reason = new CodedError('SHUTDOWN_INTERRUPTED', 'the server is shutting down and its grace period ended before this request finished; retry on another replica');
    const running = [...this.interrupters];
    for (const interrupt of running) interrupt(reason);
    return running.length;
  }

  /** Resolves when no admitted call is running. */
  idle(): Promise<void> {
    if (this.active === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }
}
