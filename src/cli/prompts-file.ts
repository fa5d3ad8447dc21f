// `--prompts prompts.json`: the proto's Prompt list as JSON (README, "Command line", with an example), so a prompt a
// person writes for the command line is the one a client sends. Field names are the proto's (`x_min`) or their
// proto3 JSON form (`xMin`). Unknown fields are refused rather than ignored: a misspelt `z_mni` would otherwise
// turn a 3D box into an error far from its cause, or a segment label into the default.
import { UsageError } from './args.ts';
import { MAX_LABEL, type CodedConcept, type PromptShape, type PromptSpec, type SegmentText, type SliceRef, type StrokePointSpec } from './prompt-spec.ts';

/** Segment Label's length limit (DICOM LO). */
const MAX_SEGMENT_LABEL = 64;

type Json = unknown;

class FileField {
  constructor(readonly file: string, readonly path: string) {}

  at(key: string | number): FileField {
    return new FileField(this.file, typeof key === 'number' ? `${this.path}[${key}]` : this.path ? `${this.path}.${key}` : key);
  }

  error(message: string): UsageError {
    return new UsageError(`--prompts ${this.file}: ${this.path || 'the file'}: ${message}`);
  }
}

/** Parses the file's text; `file` names it in errors. */
export function parsePromptsFile(text: string, file: string): PromptSpec[] {
  let json: Json;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new UsageError(`--prompts ${file}: not valid JSON (${(e as Error).message})`);
  }
  const root = new FileField(file, '');
  // A bare list, or {"prompts": [...]} like the RequestHeader field.
  let list: Json = json;
  let listField = root;
  if (isObject(json)) {
    fields(json, root, ['prompts']);
    list = json['prompts'];
    listField = root.at('prompts');
  }
  if (!Array.isArray(list)) throw listField.error('must be a list of prompts ({"prompts": [...]} or [...])');
  if (list.length === 0) throw listField.error('is empty: give at least one prompt');
  return list.map((item, i) => parsePrompt(item, listField.at(i), i));
}

function parsePrompt(item: Json, field: FileField, index: number): PromptSpec {
  if (!isObject(item)) throw field.error('must be an object');
  const keys = fields(item, field, ['label', 'box2d', 'box3d', 'scribble', 'patient_box', 'segment']);
  const kinds = ['box2d', 'box3d', 'scribble', 'patient_box'].filter((k) => keys.has(k));
  if (kinds.length !== 1) throw field.error(`needs exactly one of box2d, box3d, scribble, patient_box; got ${kinds.length === 0 ? 'none' : kinds.join(', ')}`);
  const kind = kinds[0]!;
  // Like --box, a prompt without a label takes its position (1-based).
  const label = keys.has('label') ? integer(keys.get('label'), field.at('label'), 1, MAX_LABEL) : index + 1;
  const shape = parseShape(kind, keys.get(kind), field.at(kind));
  const segment = keys.has('segment') ? parseSegment(keys.get('segment'), field.at('segment')) : undefined;
  return { label, shape, ...(segment ? { segment } : {}), source: `--prompts ${field.file} ${field.path}` };
}

function parseShape(kind: string, value: Json, field: FileField): PromptShape {
  if (!isObject(value)) throw field.error('must be an object');
  switch (kind) {
    case 'box2d': {
      const f = fields(value, field, ['x_min', 'y_min', 'x_max', 'y_max', 'z', 'slice']);
      const [x0, y0, x1, y1] = (['x_min', 'y_min', 'x_max', 'y_max'] as const).map((k) => finite(f.get(k), field.at(k)));
      if (f.has('z') && f.has('slice')) throw field.error('takes z or slice, not both');
      return {
        kind: 'box2d', x0: x0!, y0: y0!, x1: x1!, y1: y1!,
        ...(f.has('z') ? { z: integer(f.get('z'), field.at('z'), 0) } : {}),
        ...(f.has('slice') ? { slice: sliceRef(f.get('slice'), field.at('slice')) } : {}),
      };
    }
    case 'box3d': {
      const f = fields(value, field, ['x_min', 'y_min', 'z_min', 'x_max', 'y_max', 'z_max', 'slice_first', 'slice_last']);
      const [x0, y0, x1, y1] = (['x_min', 'y_min', 'x_max', 'y_max'] as const).map((k) => finite(f.get(k), field.at(k)));
      const byIndex = f.has('z_min') || f.has('z_max');
      const byRef = f.has('slice_first') || f.has('slice_last');
      if (byIndex && byRef) throw field.error('takes z_min and z_max, or slice_first and slice_last, not both');
      if (byRef) {
        return {
          kind: 'box3d', x0: x0!, y0: y0!, x1: x1!, y1: y1!,
          sliceFirst: sliceRef(f.get('slice_first'), field.at('slice_first')), sliceLast: sliceRef(f.get('slice_last'), field.at('slice_last')),
        };
      }
      return { kind: 'box3d', x0: x0!, y0: y0!, x1: x1!, y1: y1!, z0: integer(f.get('z_min'), field.at('z_min'), 0), z1: integer(f.get('z_max'), field.at('z_max'), 0) };
    }
    case 'scribble': {
      const f = fields(value, field, ['strokes']);
      const strokes = f.get('strokes');
      if (!Array.isArray(strokes) || strokes.length === 0) throw field.at('strokes').error('must be a non-empty list of strokes');
      return {
        kind: 'scribble',
        strokes: strokes.map((stroke, s) => {
          const sf = field.at('strokes').at(s);
          if (!isObject(stroke)) throw sf.error('must be an object with points');
          const points = fields(stroke, sf, ['points']).get('points');
          if (!Array.isArray(points) || points.length === 0) throw sf.at('points').error('must be a non-empty list of {x, y, z}');
          return points.map((p, i): StrokePointSpec => {
            const pf = sf.at('points').at(i);
            if (!isObject(p)) throw pf.error('must be an object {x, y, z}');
            const pk = fields(p, pf, ['x', 'y', 'z']);
            // Proto3 leaves a zero field out; z defaults to 0 as on the wire (2D images).
            return { x: integer(pk.get('x'), pf.at('x'), 0), y: integer(pk.get('y'), pf.at('y'), 0), z: pk.has('z') ? integer(pk.get('z'), pf.at('z'), 0) : 0 };
          });
        }),
      };
    }
    default: {
      const f = fields(value, field, ['corner_a', 'corner_b']);
      return { kind: 'patient-box', cornerA: corner(f.get('corner_a'), field.at('corner_a')), cornerB: corner(f.get('corner_b'), field.at('corner_b')) };
    }
  }
}

function parseSegment(value: Json, field: FileField): SegmentText {
  if (!isObject(value)) throw field.error('must be an object {label, category, type}');
  const f = fields(value, field, ['label', 'category', 'type']);
  const out: { label?: string; category?: CodedConcept; type?: CodedConcept } = {};
  if (f.has('label')) {
    const label = f.get('label');
    if (typeof label !== 'string' || label.length > MAX_SEGMENT_LABEL) throw field.at('label').error(`must be a string of at most ${MAX_SEGMENT_LABEL} characters`);
    out.label = label;
  }
  for (const k of ['category', 'type'] as const) if (f.has(k)) out[k] = codedConcept(f.get(k), field.at(k));
  return out;
}

function codedConcept(value: Json, field: FileField): CodedConcept {
  if (!isObject(value)) throw field.error('must be an object {code_value, coding_scheme, code_meaning}');
  const f = fields(value, field, ['code_value', 'coding_scheme', 'code_meaning']);
  const text = (k: string): string => {
    const v = f.get(k);
    if (typeof v !== 'string' || v === '') throw field.at(k).error('must be a non-empty string');
    return v;
  };
  return { codeValue: text('code_value'), codingScheme: text('coding_scheme'), codeMeaning: text('code_meaning') };
}

function sliceRef(value: Json, field: FileField): SliceRef {
  if (!isObject(value)) throw field.error('must be an object {sop_instance_uid, frame_number}');
  const f = fields(value, field, ['sop_instance_uid', 'frame_number']);
  const uid = f.get('sop_instance_uid');
  if (typeof uid !== 'string' || !/^[0-9.]{1,64}$/.test(uid)) throw field.at('sop_instance_uid').error('must be a DICOM UID (digits and dots, at most 64)');
  return { sopInstanceUid: uid, frameNumber: f.has('frame_number') ? integer(f.get('frame_number'), field.at('frame_number'), 0) : 0 };
}

function corner(value: Json, field: FileField): [number, number, number] {
  if (!Array.isArray(value) || value.length !== 3) throw field.error('must be [x, y, z] in millimetres');
  return value.map((v, i) => finite(v, field.at(i))) as [number, number, number];
}

function finite(value: Json, field: FileField): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) throw field.error(value === undefined ? 'is required' : `must be a number, got ${JSON.stringify(value)}`);
  return value;
}

function integer(value: Json, field: FileField, min: number, max = 2 ** 31 - 1): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw field.error(value === undefined ? 'is required' : `must be an integer in ${min}..${max}, got ${JSON.stringify(value)}`);
  }
  return value;
}

function isObject(value: Json): value is Record<string, Json> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * The object's fields by their proto names, accepting each under its proto name or its proto3 JSON name
 * (lowerCamelCase); anything else, or a field given under both names, is refused.
 */
function fields(object: Record<string, Json>, field: FileField, known: readonly string[]): Map<string, Json> {
  const byJsonName = new Map(known.map((k) => [camel(k), k]));
  const out = new Map<string, Json>();
  for (const [key, value] of Object.entries(object)) {
    const name = known.includes(key) ? key : byJsonName.get(key);
    if (name === undefined) throw field.at(key).error(`unknown field (known: ${known.join(', ')})`);
    if (out.has(name)) throw field.at(key).error(`given twice (as ${name} and ${camel(name)})`);
    out.set(name, value);
  }
  return out;
}

function camel(name: string): string {
  return name.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
}
