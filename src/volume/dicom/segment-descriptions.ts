// The segments of a DICOM SEG from a request's objects: one per label value, described by the object's own
// description (Prompt.segment) where it has one, by the defaults otherwise: Segment Label "Object <label>", and
// category and type SCT 85756007 "Tissue" (seg-writer.ts). Two objects may share a label (the later one's voxels
// overwrite the earlier's); the segment then takes the first object's description.
import type { Code, SegmentDescription } from './seg-writer.ts';

/** What a client may say about one object's segment; anything unset takes the default. */
export interface SegmentText {
  readonly text?: string;
  readonly category?: Code;
  readonly type?: Code;
}

export function defaultSegmentText(label: number): string {
  return `Object ${label}`;
}

/** One description per distinct label, in the order the labels first appear. */
export function describeSegments(objects: readonly { readonly label: number; readonly segment?: SegmentText }[]): SegmentDescription[] {
  const seen = new Set<number>();
  const out: SegmentDescription[] = [];
  for (const { label, segment } of objects) {
    if (seen.has(label)) continue;
    seen.add(label);
    out.push({
      label,
      text: segment?.text ?? defaultSegmentText(label),
      ...(segment?.category ? { category: segment.category } : {}),
      ...(segment?.type ? { type: segment.type } : {}),
    });
  }
  return out;
}
