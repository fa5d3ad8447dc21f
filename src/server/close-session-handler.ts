// The CloseSession RPC: drops a kept volume and its cached embeddings now instead of waiting for the idle expiry;
// a request already running on the session is not interrupted, and its memory goes when it ends. Clients that
// finished reading a study should call it: the memory goes back to other users at once.
import type * as grpc from '@grpc/grpc-js';
import type { CloseSessionRequest__Output } from '../generated/onesam/v1/CloseSessionRequest.ts';
import type { CloseSessionResponse } from '../generated/onesam/v1/CloseSessionResponse.ts';
import { mapError, statusName, toStatusObject } from '../errors/grpc-status.ts';
import { errorForLog, type Logger } from '../observability/logger.ts';
import type { ServiceMetrics } from '../observability/metrics.ts';
import { perNetwork } from './response-messages.ts';
import type { SessionRegistry } from './session-registry.ts';

export interface CloseSessionDeps {
  readonly sessions: SessionRegistry;
  readonly metrics: ServiceMetrics;
  readonly logger: Logger;
}

export function createCloseSessionHandler(deps: CloseSessionDeps): grpc.handleUnaryCall<CloseSessionRequest__Output, CloseSessionResponse> {
  return (call, callback) => {
    const started = performance.now();
    let status = 'OK';
    try {
      const closed = deps.sessions.close(call.request.sessionId);
      callback(null, { slicesCached: perNetwork(closed.slicesCached) });
    } catch (err) {
      const mapped = mapError(err);
      status = statusName(mapped.status);
      deps.metrics.errors.inc({ code: mapped.code });
      // Not the message: it quotes the session id the client sent, which is its own text when no session has it.
      const fields = { method: 'CloseSession', code: mapped.code, field: mapped.field };
      if (mapped.code === 'INTERNAL') deps.logger.error({ ...fields, error: errorForLog(err) }, 'close session failed');
      else deps.logger[mapped.logLevel](fields, 'close session failed');
      callback(toStatusObject(mapped));
    } finally {
      deps.metrics.requestDuration.observe({ method: 'CloseSession', network: 'none', status }, (performance.now() - started) / 1000);
    }
  };
}
