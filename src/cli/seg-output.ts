// What a DICOM SEG written by `onesam segment` says besides the labels, the same as the server's answer
// (src/server/seg-output.ts): each label described by the person's prompts (prompts.json `segment`) or the
// defaults, and the networks that ran with their models and weights' SHA-256.
import type { NetworkName } from '../models/network-contract.ts';
import type { ObjectPrompt, SegmentationResult } from '../pipeline/types.ts';
import { segOutputOptions } from '../server/seg-output.ts';
import type { Code } from '../volume/dicom/seg-writer.ts';
import type { SegOutputOptions } from '../volume/payload.ts';
import type { CodedConcept, PromptSpec } from './prompt-spec.ts';

/** A served network as the SEG names it: the repository model and its weights' SHA-256 (when loaded). */
export interface ServedNetwork {
  readonly name: NetworkName;
  readonly model: string;
  readonly weightsSha256?: string;
}

export function cliSegOutput(objects: readonly ObjectPrompt[], specs: readonly PromptSpec[] | undefined, result: SegmentationResult, served: readonly ServedNetwork[]): SegOutputOptions {
  const segments = objects.map((_, i) => {
    const segment = specs?.[i]?.segment;
    if (!segment) return undefined;
    return {
      ...(segment.label !== undefined ? { text: segment.label } : {}),
      ...(segment.category ? { category: code(segment.category) } : {}),
      ...(segment.type ? { type: code(segment.type) } : {}),
    };
  });
  const networks = served.map((s) => ({ name: s.name, model: s.model, ...(s.weightsSha256 ? { info: { weightsSha256: s.weightsSha256 } } : {}) }));
  return segOutputOptions(objects, segments, result, networks);
}

function code(concept: CodedConcept): Code {
  return { value: concept.codeValue, scheme: concept.codingScheme, meaning: concept.codeMeaning };
}
