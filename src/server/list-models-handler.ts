// The ListModels RPC: the networks, whether they are loaded, and the routing table ROUTE uses.
import type * as grpc from '@grpc/grpc-js';
import type { ListModelsRequest__Output } from '../generated/onesam/v1/ListModelsRequest.ts';
import type { ListModelsResponse } from '../generated/onesam/v1/ListModelsResponse.ts';
import { mapError, statusName, toStatusObject } from '../errors/grpc-status.ts';
import type { Logger } from '../observability/logger.ts';
import type { ServiceMetrics } from '../observability/metrics.ts';
import { FALLBACK_NETWORK, MODALITIES } from '../pipeline/router.ts';
import type { NetworkStatus } from '../pipeline/segmenter.ts';
import type { NetworkName } from '../pipeline/types.ts';
import type { ServiceState } from './service-state.ts';
import { networkToWire } from './wire.ts';

export interface ListModelsDeps {
  readonly state: ServiceState;
  readonly metrics: ServiceMetrics;
  readonly logger: Logger;
}

const ALL_NETWORKS: readonly NetworkName[] = ['litemedsam', 'onesam'];

export function createListModelsHandler(deps: ListModelsDeps): grpc.handleUnaryCall<ListModelsRequest__Output, ListModelsResponse> {
  return (_call, callback) => {
    const started = performance.now();
    let status = 'OK';
    try {
      callback(null, listModels(deps.state));
    } catch (err) {
      const mapped = mapError(err);
      status = statusName(mapped.status);
      deps.logger[mapped.logLevel]({ method: 'ListModels', code: mapped.code, err }, 'list models failed');
      callback(toStatusObject(mapped));
    } finally {
      deps.metrics.requestDuration.observe({ method: 'ListModels', network: 'none', status }, (performance.now() - started) / 1000);
    }
  };
}

function listModels(state: ServiceState): ListModelsResponse {
  const segmenter = state.segmenter;
  const statuses: readonly NetworkStatus[] = segmenter
    ? segmenter.networks()
    : ALL_NETWORKS.map((name) => ({ name, model: '', ready: false, message: state.phase === 'failed' ? 'failed to load; see the server log' : 'loading' }));
  return {
    models: statuses.map((s) => ({ network: networkToWire(s.name), model: s.model, ready: s.ready, message: s.message ?? '' })),
    routing: MODALITIES.map((modality) => ({ modality, network: networkToWire(state.routing[modality]) })),
    fallback: networkToWire(FALLBACK_NETWORK),
  };
}
