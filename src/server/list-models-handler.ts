// The ListModels RPC: the networks, whether they are loaded, and the routing table ROUTE uses.
import type * as grpc from '@grpc/grpc-js';
import type { ListModelsRequest__Output } from '../generated/onesam/v1/ListModelsRequest.ts';
import type { ListModelsResponse } from '../generated/onesam/v1/ListModelsResponse.ts';
import { mapError, statusName, toStatusObject } from '../errors/grpc-status.ts';
import type { Logger } from '../observability/logger.ts';
import type { ServiceMetrics } from '../observability/metrics.ts';
import { MODALITIES } from '../pipeline/router.ts';
import type { ModelInfo, NetworkStatus } from '../pipeline/segmenter.ts';
import { fallbackNetwork, servedNetworks, type NetworkModels } from '../pipeline/serving.ts';
import type { ModelDetails } from '../generated/onesam/v1/ModelDetails.ts';
import type { ServiceState } from './service-state.ts';
import { networkToWire } from '../protocol/wire.ts';

export interface ListModelsDeps {
  readonly state: ServiceState;
  readonly metrics: ServiceMetrics;
  readonly logger: Logger;
  /** The `models` setting: the networks listed while they load. */
  readonly models: NetworkModels;
}

export function createListModelsHandler(deps: ListModelsDeps): grpc.handleUnaryCall<ListModelsRequest__Output, ListModelsResponse> {
  return (_call, callback) => {
    const started = performance.now();
    let status = 'OK';
    try {
      callback(null, listModels(deps.state, deps.models));
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

function details(info: ModelInfo): ModelDetails {
  return { ...info, modalities: [...info.modalities] };
}

function listModels(state: ServiceState, models: NetworkModels): ListModelsResponse {
  const segmenter = state.segmenter;
  const served = servedNetworks(models);
  const statuses: readonly NetworkStatus[] = segmenter
    ? segmenter.networks()
    : served.map((name) => ({ name, model: models[name] ?? '', ready: false, message: state.phase === 'failed' ? `failed to load: ${state.failureReason ?? 'see the server log'}` : 'loading' }));
  return {
    models: statuses.map((s) => ({
      network: networkToWire(s.name), model: s.model, ready: s.ready, message: s.message ?? '', ...(s.info ? { details: details(s.info) } : {}),
    })),
    routing: MODALITIES.map((modality) => ({ modality, network: networkToWire(state.routing[modality]) })),
    fallback: networkToWire(fallbackNetwork(segmenter ? segmenter.networks().map((s) => s.name) : served)),
  };
}
