// Which objects a request segments: the header's prompts when it has any, otherwise those stored in an npz
// payload (boxes first, then scribbles, as the challenge files and `onesam segment` choose). Pipeline errors name
// prompts as `prompts[i]`; here they are re-based onto where the prompt came from (`header.prompts[i]`,
// `npz.boxes[i]`), so the field path in the client's error points into what the client sent.
import { CodedError } from '../errors/coded-error.ts';
import type { ObjectPrompt } from '../pipeline/types.ts';
import { strokesToVoxels, type VolumeDims } from '../protocol/scribble-strokes.ts';
import type { DecodedVolume } from '../volume/payload.ts';
import type { HeaderPrompt, ParsedHeader } from './request-header.ts';

export type PromptSource = 'header' | 'boxes' | 'scribbles';

export function chooseObjects(header: ParsedHeader, decoded: DecodedVolume): { objects: readonly ObjectPrompt[]; source: PromptSource } {
  if (header.prompts.length > 0) return { objects: header.prompts.map((p, i) => headerObject(p, i, decoded.image)), source: 'header' };
  if (decoded.boxes && decoded.boxes.length > 0) return { objects: decoded.boxes, source: 'boxes' };
  if (decoded.scribbles && decoded.scribbles.length > 0) return { objects: decoded.scribbles, source: 'scribbles' };
  throw new CodedError('PROMPT_INVALID', 'no prompts: send them in the header, or an npz payload with boxes or scribbles', 'header.prompts');
}

/** A header prompt as the pipeline takes it: a scribble's strokes drawn as voxels of the image. */
function headerObject(prompt: HeaderPrompt, i: number, dims: VolumeDims): ObjectPrompt {
  if (!('strokes' in prompt)) return prompt;
  return { label: prompt.label, prompt: { kind: 'scribble', voxels: strokesToVoxels(prompt.strokes, dims, `header.prompts[${i}].scribble`) } };
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
