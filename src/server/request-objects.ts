// Which objects a request segments: the header's prompts when it has any, otherwise those stored in an npz
// payload (boxes first, then scribbles, as the challenge files and `onesam segment` choose). Header prompts in
// DICOM terms (slices by SOP Instance UID, boxes in patient mm) are mapped here through the series geometry, now
// that the volume is known. Pipeline errors name prompts as `prompts[i]`; here they are re-based onto where the
// prompt came from (`header.prompts[i]`, `npz.boxes[i]`), so the field path in the client's error points into
// what the client sent.
import { CodedError } from '../errors/coded-error.ts';
import type { ObjectPrompt } from '../pipeline/types.ts';
import { strokesToVoxels, type VolumeDims } from '../protocol/scribble-strokes.ts';
import { dicomPromptMapping, resolveDicomPrompt, type DicomPromptMapping } from '../volume/dicom/prompt-mapping.ts';
import type { DecodedVolume } from '../volume/payload.ts';
import type { HeaderPrompt, ParsedHeader } from './request-header.ts';

export type PromptSource = 'header' | 'boxes' | 'scribbles';

export function chooseObjects(header: ParsedHeader, decoded: DecodedVolume): { objects: readonly ObjectPrompt[]; source: PromptSource } {
  if (header.prompts.length > 0) {
    let mapping: DicomPromptMapping | undefined;
    const dicom = (): DicomPromptMapping | undefined => {
      if (decoded.geometry.kind !== 'dicom') return undefined;
      return (mapping ??= dicomPromptMapping(decoded.geometry.series));
    };
    return { objects: header.prompts.map((p, i) => headerObject(p, i, decoded.image, dicom)), source: 'header' };
  }
  if (decoded.boxes && decoded.boxes.length > 0) return { objects: decoded.boxes, source: 'boxes' };
  if (decoded.scribbles && decoded.scribbles.length > 0) return { objects: decoded.scribbles, source: 'scribbles' };
  throw new CodedError('PROMPT_INVALID', 'no prompts: send them in the header, or an npz payload with boxes or scribbles', 'header.prompts');
}

/**
 * A header prompt as the pipeline takes it: a scribble's strokes drawn as voxels of the image, a prompt in DICOM
 * terms mapped through the series (refused for other inputs, which have no SOP Instance UIDs or patient geometry).
 */
function headerObject(prompt: HeaderPrompt, i: number, dims: VolumeDims, dicom: () => DicomPromptMapping | undefined): ObjectPrompt {
  const field = `header.prompts[${i}]`;
  if ('strokes' in prompt) return { label: prompt.label, prompt: { kind: 'scribble', voxels: strokesToVoxels(prompt.strokes, dims, `${field}.scribble`) } };
  if (!('dicom' in prompt)) return prompt;
  const mapping = dicom();
  if (!mapping) {
    const [at, what] = prompt.dicom.kind === 'patient-box'
      ? ['patient_box', 'a box in patient coordinates']
      : [prompt.dicom.kind === 'box2d' ? 'box2d.slice' : 'box3d.slice_first', 'a slice by SOP Instance UID'];
    throw new CodedError('PROMPT_INVALID', `names ${what}, which only a DICOM input has (PAYLOAD_FORMAT_DICOM, or a session holding one)`, `${field}.${at}`);
  }
  return { label: prompt.label, prompt: resolveDicomPrompt(prompt.dicom, mapping, field) };
}

export function rebasePromptErrors<T>(run: () => T, source: PromptSource): T {
  try {
    const out = run();
    if (out instanceof Promise) return out.catch((err: unknown) => { throw rebase(err, source); }) as T;
    return out;
  } catch (err) {
    throw rebase(err, source);
  }
}

function rebase(err: unknown, source: PromptSource): unknown {
  if (!(err instanceof CodedError)) return err;
  return err.rebased('prompts', source === 'header' ? 'header.prompts' : `npz.${source}`);
}
