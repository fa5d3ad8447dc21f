// What a DICOM SEG answer needs besides the labels: one segment per object label, described as the prompt asked
// or by the defaults (segment-descriptions.ts), and the algorithm identification: this service and each network
// that ran, with the model serving it and its weights' SHA-256 (the same identity ListModels reports).
import { NETWORK_NAMES } from '../models/network-contract.ts';
import type { ModelInfo, NetworkStatus } from '../pipeline/segmenter.ts';
import type { ObjectPrompt, SegmentationResult } from '../pipeline/types.ts';
import { describeSegments, type SegmentText } from '../volume/dicom/segment-descriptions.ts';
import type { SegOutputOptions } from '../volume/payload.ts';

/** Manufacturer / algorithm name written into the SEG. */
export const SERVICE_NAME = 'OneSAM Serve';
/** The service's version (package.json `version`; a test keeps them equal). */
export const SERVICE_VERSION = '0.1.0';

/** What the SEG says of a network: its name, the model serving it and that model's weights (NetworkStatus has them). */
export type SegNetwork = Pick<NetworkStatus, 'name' | 'model'> & { readonly info?: Pick<ModelInfo, 'weightsSha256'> };

/**
 * `objects` are the request's, in order; `segments[i]` is object i's own description, when it sent one. Networks
 * without model details (not loaded from a repository) are identified as "weights unknown".
 */
export function segOutputOptions(objects: readonly ObjectPrompt[], segments: readonly (SegmentText | undefined)[], result: SegmentationResult, networks: readonly SegNetwork[]): SegOutputOptions {
  const ran = NETWORK_NAMES.filter((n) => result.objects.some((o) => o.networks.includes(n)));
  return {
    segments: describeSegments(objects.map((o, i) => ({ label: o.label, ...(segments[i] ? { segment: segments[i] } : {}) }))),
    algorithm: {
      name: SERVICE_NAME,
      version: SERVICE_VERSION,
      networks: ran.map((name) => {
        const status = networks.find((s) => s.name === name);
        const weights = status?.info ? `sha256:${status.info.weightsSha256}` : 'weights unknown';
        return { name, weights: status?.model ? `${status.model} ${weights}` : weights };
      }),
    },
  };
}
