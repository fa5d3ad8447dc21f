// What a DICOM SEG written by `onesam segment` says besides the labels: one segment per label, described by the
// person's prompts (prompts.json `segment`) or the defaults ("Object <label>", SCT "Tissue"), and the algorithm:
// this service and each network that ran, identified by its repository model and the SHA-256 of its weights, as
// the server's own SEG output does.
import { createRequire } from 'node:module';
import type { NetworkName } from '../models/network-contract.ts';
import type { ObjectPrompt, SegmentationResult } from '../pipeline/types.ts';
import { describeSegments } from '../volume/dicom/segment-descriptions.ts';
import type { Code, SegmentationAlgorithm, SegmentDescription } from '../volume/dicom/seg-writer.ts';
import type { CodedConcept, PromptSpec } from './prompt-spec.ts';

const PACKAGE = createRequire(import.meta.url)('../../package.json') as { readonly version: string };
export const SEG_ALGORITHM_NAME = 'OneSAM Serve';

/** The segments, in the objects' order: each label described by the first prompt that carries it. */
export function segmentDescriptions(objects: readonly ObjectPrompt[], specs: readonly PromptSpec[] | undefined): SegmentDescription[] {
  return describeSegments(objects.map((o, i) => {
    const segment = specs?.[i]?.segment;
    return {
      label: o.label,
      ...(segment ? {
        segment: {
          ...(segment.label !== undefined ? { text: segment.label } : {}),
          ...(segment.category ? { category: code(segment.category) } : {}),
          ...(segment.type ? { type: code(segment.type) } : {}),
        },
      } : {}),
    };
  }));
}

/** A served network as the SEG names it: the repository model and its weights' SHA-256 (when loaded). */
export interface ServedNetwork {
  readonly name: NetworkName;
  readonly model: string;
  readonly weightsSha256?: string;
}

/** The networks that made the masks, with the models and weights they ran from. */
export function segAlgorithm(result: SegmentationResult, served: readonly ServedNetwork[]): SegmentationAlgorithm {
  const ran = new Set(result.objects.flatMap((o) => o.networks));
  return {
    name: SEG_ALGORITHM_NAME,
    version: PACKAGE.version,
    networks: served.filter((s) => ran.has(s.name)).map((s) => ({
      name: `${s.name} (${s.model})`,
      weights: s.weightsSha256 ? `sha256:${s.weightsSha256}` : 'unknown',
    })),
  };
}

function code(concept: CodedConcept): Code {
  return { value: concept.codeValue, scheme: concept.codingScheme, meaning: concept.codeMeaning };
}
