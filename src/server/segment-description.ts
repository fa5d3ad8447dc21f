// Prompt.segment from the wire: how a DICOM SEG answer describes the object, checked against the DICOM value rules
// of the attributes it becomes (Segment Label is LO; Code Value and Coding Scheme Designator SH; Code Meaning LO),
// so a client hears about a bad description before the upload rather than getting a SEG no archive accepts. Unset
// fields stay unset: the defaults are segment-descriptions.ts's.
import { CodedError } from '../errors/coded-error.ts';
import type { CodedConcept__Output } from '../generated/onesam/v1/CodedConcept.ts';
import type { SegmentDescription__Output } from '../generated/onesam/v1/SegmentDescription.ts';
import type { SegmentText } from '../volume/dicom/segment-descriptions.ts';
import type { Code } from '../volume/dicom/seg-writer.ts';

/** Segment Label is a DICOM LO: at most 64 characters, no backslash, no control characters (PS3.5 6.2). */
const LO = /^[^\\\x00-\x1f\x7f]{0,64}$/;
/** Code Value and Coding Scheme Designator are SH: at most 16. */
const SH = /^[^\\\x00-\x1f\x7f]{1,16}$/;

/** A prompt's SegmentDescription, checked against the DICOM value rules; unset fields stay unset (defaults apply). */
export function segmentFromWire(segment: SegmentDescription__Output | null | undefined, field: string): SegmentText | undefined {
  if (!segment) return undefined;
  if (!LO.test(segment.label)) throw new CodedError('PROMPT_INVALID', 'must be at most 64 characters, without backslashes or control characters (DICOM LO)', `${field}.label`);
  const category = codeFromWire(segment.category, `${field}.category`);
  const type = codeFromWire(segment.type, `${field}.type`);
  const out: SegmentText = { ...(segment.label.trim() !== '' ? { text: segment.label } : {}), ...(category ? { category } : {}), ...(type ? { type } : {}) };
  return Object.keys(out).length > 0 ? out : undefined;
}

function codeFromWire(concept: CodedConcept__Output | null | undefined, field: string): Code | undefined {
  if (!concept) return undefined;
  if (!SH.test(concept.codeValue)) throw new CodedError('PROMPT_INVALID', 'must be 1..16 characters without backslashes or control characters (DICOM SH)', `${field}.code_value`);
  if (!SH.test(concept.codingScheme)) throw new CodedError('PROMPT_INVALID', 'must be 1..16 characters without backslashes or control characters (DICOM SH), e.g. SCT', `${field}.coding_scheme`);
  if (concept.codeMeaning === '' || !LO.test(concept.codeMeaning)) {
    throw new CodedError('PROMPT_INVALID', 'must be 1..64 characters without backslashes or control characters (DICOM LO)', `${field}.code_meaning`);
  }
  return { value: concept.codeValue, scheme: concept.codingScheme, meaning: concept.codeMeaning };
}
