// Prompts as a person gives them to `onesam segment`: parsed from `--box` / `--box-mm` flags or a prompts.json file
// into one form that mirrors the proto's Prompt (label, box2d / box3d / scribble / patient_box, segment
// description), before the image is known. Checks here are syntax only; prompt-objects.ts checks them against the
// image. Every error is a UsageError naming where the prompt came from (`--box "1,2,3"`, `prompts.json
// prompts[2].box2d.x_min`), so a person sees which of their words was wrong.
import { UsageError } from './args.ts';

/** One slice of a DICOM input named by its instance (and frame, 1-based; 0 for a single-frame instance). */
export interface SliceRef {
  readonly sopInstanceUid: string;
  readonly frameNumber: number;
}

export interface CodedConcept {
  readonly codeValue: string;
  readonly codingScheme: string;
  readonly codeMeaning: string;
}

/** How a DICOM SEG output describes the object (Prompt.segment); ignored by the other outputs. */
export interface SegmentText {
  readonly label?: string;
  readonly category?: CodedConcept;
  readonly type?: CodedConcept;
}

/** Pixel coordinates, min inclusive and max exclusive; `z` (or, on DICOM inputs, `slice`) names the slice. */
export interface Box2DSpec { readonly kind: 'box2d'; readonly x0: number; readonly y0: number; readonly x1: number; readonly y1: number; readonly z?: number; readonly slice?: SliceRef }
/** An xy box over the slices z0..z1, both included (the proto's Box3D); DICOM inputs may name them by instance. */
export interface Box3DSpec {
  readonly kind: 'box3d'; readonly x0: number; readonly y0: number; readonly x1: number; readonly y1: number;
  readonly z0?: number; readonly z1?: number; readonly sliceFirst?: SliceRef; readonly sliceLast?: SliceRef;
}
export interface StrokePointSpec { readonly x: number; readonly y: number; readonly z: number }
export interface ScribbleSpec { readonly kind: 'scribble'; readonly strokes: readonly (readonly StrokePointSpec[])[] }
/** Two opposite corners (x, y, z) in DICOM patient coordinates (LPS, mm): DICOM inputs only. */
export interface PatientBoxSpec { readonly kind: 'patient-box'; readonly cornerA: readonly [number, number, number]; readonly cornerB: readonly [number, number, number] }

export type PromptShape = Box2DSpec | Box3DSpec | ScribbleSpec | PatientBoxSpec;

export interface PromptSpec {
  readonly label: number;
  readonly shape: PromptShape;
  readonly segment?: SegmentText;
  /** Where the person wrote it, for errors: `--box "3:1,2,30,40,5"` or `p.json prompts[2]`. */
  readonly source: string;
}

export const MAX_LABEL = 65_535;

/** A prompt from a flag before its label is settled: an explicit `L:` prefix or none. */
export interface FlagPrompt {
  readonly label?: number;
  readonly shape: Box2DSpec | Box3DSpec | PatientBoxSpec;
  readonly source: string;
}

const BOX_FORMS = 'x0,y0,x1,y1 (a 2D image), x0,y0,x1,y1,z (one slice of a volume) or x0,y0,z0,x1,y1,z1 (slices z0..z1)';

/**
 * `--box [L:]x0,y0,x1,y1[,z]` or `--box [L:]x0,y0,z0,x1,y1,z1`, voxel coordinates as the proto's Box2D / Box3D:
 * x the column, y the row, min inclusive and max exclusive, z slice indices (a 3D box's both ends included).
 */
export function parseBoxFlag(text: string): FlagPrompt {
  const source = `--box "${text}"`;
  const { label, numbers } = splitFlag(text, source, BOX_FORMS);
  const slice = (value: number, name: string): number => {
    if (!Number.isInteger(value) || value < 0) throw new UsageError(`${source}: ${name} must be a slice index (an integer >= 0), got ${value}`);
    return value;
  };
  switch (numbers.length) {
    case 4: {
      const [x0, y0, x1, y1] = numbers as [number, number, number, number];
      return { ...withLabel(label), shape: { kind: 'box2d', x0, y0, x1, y1 }, source };
    }
    case 5: {
      const [x0, y0, x1, y1, z] = numbers as [number, number, number, number, number];
      return { ...withLabel(label), shape: { kind: 'box2d', x0, y0, x1, y1, z: slice(z, 'z') }, source };
    }
    case 6: {
      const [x0, y0, z0, x1, y1, z1] = numbers as [number, number, number, number, number, number];
      return { ...withLabel(label), shape: { kind: 'box3d', x0, y0, z0: slice(z0, 'z0'), x1, y1, z1: slice(z1, 'z1') }, source };
    }
    default:
      throw new UsageError(`${source}: needs ${BOX_FORMS}; got ${numbers.length} number${numbers.length === 1 ? '' : 's'}`);
  }
}

/**
 * `--box-mm [L:]xa,ya,za,xb,yb,zb`: two opposite corners in patient coordinates (LPS, mm), as the proto's
 * PatientBox. Corners on one slice make a 2D box there, on different slices a 3D box; the series geometry decides,
 * so only DICOM inputs take it.
 */
export function parseBoxMmFlag(text: string): FlagPrompt {
  const source = `--box-mm "${text}"`;
  const forms = 'two corners xa,ya,za,xb,yb,zb in patient millimetres';
  const { label, numbers } = splitFlag(text, source, forms);
  if (numbers.length !== 6) throw new UsageError(`${source}: needs ${forms}; got ${numbers.length} number${numbers.length === 1 ? '' : 's'}`);
  const [xa, ya, za, xb, yb, zb] = numbers as [number, number, number, number, number, number];
  return { ...withLabel(label), shape: { kind: 'patient-box', cornerA: [xa, ya, za], cornerB: [xb, yb, zb] }, source };
}

function withLabel(label: number | undefined): { label?: number } {
  return label === undefined ? {} : { label };
}

function splitFlag(text: string, source: string, forms: string): { label: number | undefined; numbers: number[] } {
  let body = text.trim();
  let label: number | undefined;
  const colon = body.indexOf(':');
  if (colon >= 0) {
    label = parseLabel(body.slice(0, colon).trim(), source);
    body = body.slice(colon + 1);
  }
  if (body.trim() === '') throw new UsageError(`${source}: needs ${forms}`);
  const numbers = body.split(',').map((part) => {
    const t = part.trim();
    // Number('') is 0 and Number('0x10') is 16: only plain decimal numbers are coordinates.
    const n = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(t) ? Number(t) : Number.NaN;
    if (!Number.isFinite(n)) throw new UsageError(`${source}: "${t}" is not a number`);
    return n;
  });
  return { label, numbers };
}

function parseLabel(text: string, source: string): number {
  const n = /^\d+$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isInteger(n) || n < 1 || n > MAX_LABEL) throw new UsageError(`${source}: the label before ":" must be an integer in 1..${MAX_LABEL}, got "${text}"`);
  return n;
}

/**
 * Labels for flag prompts: an explicit `L:` label as given, otherwise the prompt's position among them (1..N, as
 * the challenge files number their boxes). A position that another prompt claims explicitly would silently merge
 * two objects, so it is refused.
 */
export function labelFlagPrompts(prompts: readonly FlagPrompt[]): PromptSpec[] {
  const explicit = new Map<number, string>();
  for (const p of prompts) if (p.label !== undefined && !explicit.has(p.label)) explicit.set(p.label, p.source);
  return prompts.map((p, i) => {
    if (p.label !== undefined) return { label: p.label, shape: p.shape, source: p.source };
    const label = i + 1;
    const claimed = explicit.get(label);
    if (claimed !== undefined) {
      throw new UsageError(`${p.source}: takes label ${label} from its position, but ${claimed} names label ${label} too; give every box its label (L:...) or none`);
    }
    return { label, shape: p.shape, source: p.source };
  });
}
