// grpc.health.v1 statuses. The overall service ("") and onesam.v1.Segmentation are SERVING only while the models
// are loaded and the pool is up; Kubernetes' startup and readiness probes read them. "liveness" only says the
// event loop answers, so a long queue of volumes never gets the pod restarted. It stays SERVING while the server
// drains (src/server/shutdown.ts): a failing liveness probe would get the container killed in the middle of the
// grace period it was given to finish its requests.
import { HealthImplementation, type ServingStatus } from 'grpc-health-check';
import type { Server } from '@grpc/grpc-js';
import { SEGMENTATION_SERVICE } from '../protocol/proto.ts';

export const OVERALL_SERVICE = '';
export const LIVENESS_SERVICE = 'liveness';

export class ServiceHealth {
  private readonly implementation = new HealthImplementation({
    [OVERALL_SERVICE]: 'NOT_SERVING',
    [SEGMENTATION_SERVICE]: 'NOT_SERVING',
    [LIVENESS_SERVICE]: 'SERVING',
  });

  addToServer(server: Server): void {
    this.implementation.addToServer(server);
  }

  setReady(ready: boolean): void {
    const status: ServingStatus = ready ? 'SERVING' : 'NOT_SERVING';
    this.implementation.setStatus(OVERALL_SERVICE, status);
    this.implementation.setStatus(SEGMENTATION_SERVICE, status);
  }

  setAlive(alive: boolean): void {
    this.implementation.setStatus(LIVENESS_SERVICE, alive ? 'SERVING' : 'NOT_SERVING');
  }
}
