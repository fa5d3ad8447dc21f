// What the server is doing (loading models, serving, draining, stopped) and the admission of Segment calls. The
// phase drives the health service; handlers ask here for the Segmenter, which exists only once models are loaded.
import { ServiceError } from '../errors/service-error.ts';
import type { RoutingTable } from '../pipeline/router.ts';
import type { Segmenter } from '../pipeline/segmenter.ts';
import type { ServiceHealth } from './health.ts';

export type Phase = 'loading' | 'serving' | 'draining' | 'stopped' | 'failed';

export class ServiceState {
  private currentPhase: Phase = 'loading';
  private currentSegmenter: Segmenter | undefined;
  private active = 0;
  private idleWaiters: (() => void)[] = [];
  /** How each running Segment call ends itself at once (whileRunning), for the end of the drain's grace period. */
  private readonly interrupters = new Set<(reason: ServiceError) => void>();

  constructor(
    private readonly health: ServiceHealth,
    /** The routing table the Segmenter was built with (reported by ListModels before and after loading). */
    readonly routing: RoutingTable,
    private readonly maxConcurrentRequests: number,
  ) {
    health.setReady(false);
  }

  get phase(): Phase {
    return this.currentPhase;
  }

  get segmenter(): Segmenter | undefined {
    return this.currentSegmenter;
  }

  /** Segment calls admitted and not yet finished (their pipeline work included). */
  get activeRequests(): number {
    return this.active;
  }

  /** Models loaded and the pool up: start serving. Ignored once draining began (a late load during shutdown). */
  attach(segmenter: Segmenter): boolean {
    if (this.currentPhase !== 'loading') return false;
    this.currentSegmenter = segmenter;
    this.setPhase('serving');
    return true;
  }

  setPhase(phase: Phase): void {
    this.currentPhase = phase;
    this.health.setReady(phase === 'serving');
    if (phase === 'stopped') this.health.setAlive(false);
  }

  /**
   * Admits one Segment call or throws the reason it cannot run now. The returned function releases the slot; call
   * it once the call's pipeline work has settled, not merely when its status was sent.
   */
  admit(): { segmenter: Segmenter; release: () => void } {
    switch (this.currentPhase) {
      case 'loading':
        throw new ServiceError('MODELS_LOADING', 'the networks are still loading; retry when health reports SERVING');
      case 'draining':
      case 'stopped':
        throw new ServiceError('SHUTTING_DOWN', 'the server is shutting down');
      case 'failed':
        throw new ServiceError('NETWORK_UNAVAILABLE', 'the networks failed to load; see the server log');
      case 'serving':
        break;
    }
    if (this.active >= this.maxConcurrentRequests) {
      throw new ServiceError('TOO_MANY_REQUESTS', `the server is already running ${this.active} requests (limit ${this.maxConcurrentRequests}); retry later`);
    }
    this.active++;
    let released = false;
    return {
      segmenter: this.currentSegmenter!,
      release: () => {
        if (released) return;
        released = true;
        this.active--;
        if (this.active === 0) for (const wake of this.idleWaiters.splice(0)) wake();
      },
    };
  }

  /**
   * Registers how a running Segment call ends itself when the drain's grace period is over (interruptAll); the
   * returned function unregisters it once the call has finished.
   */
  whileRunning(interrupt: (reason: ServiceError) => void): () => void {
    this.interrupters.add(interrupt);
    return () => this.interrupters.delete(interrupt);
  }

  /**
   * The drain's grace period is over: every call still running ends now with SHUTDOWN_INTERRUPTED (its status is
   * sent at once, its pipeline stops between slices). Returns how many calls were interrupted; idle() then
   * resolves once their work has settled.
   */
  interruptAll(): number {
    const reason = new ServiceError('SHUTDOWN_INTERRUPTED', 'the server is shutting down and its grace period ended before this request finished; retry on another replica');
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
