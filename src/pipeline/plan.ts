// Validation of a request against its image, and the plan: which network(s) segment each object, and which
// (network, slice) pairs the walks will visit, in order. The plan is computed before any encoding.
import { CodedError } from '../errors/coded-error.ts';
import { MAX_OBJECTS } from '../volume/prompts.ts';
import { networksFor, type RoutingTable } from './router.ts';
import { EXACT_SPEED_LEVEL, speedLevelProblem, walkSlices } from './speed-level.ts';
import type { SegmentationPlan } from './segmenter.ts';
import type { Box2D, Box3D, ImageVolume, ObjectPrompt, Scribble, SegmentationRequest } from './types.ts';
import { networkRecord, type NetworkName } from '../models/network-contract.ts';
import { boxWalks, plannedOrder } from './walk-schedule.ts';

/** The reference's middle slice: int((z1 - z0) / 2 + z0), float division then truncation. */
export function middleSlice(z0: number, z1: number): number {
  return Math.trunc((z1 - z0) / 2 + z0);
}

/** One object's work: how it walks through the volume. */
export type ObjectWork =
  | { readonly kind: 'box2d'; readonly ordinal: number; readonly label: number; readonly box: Box2D; readonly z: number }
  /** up and down: the slices the walk computes after zmid, in walk order (all of them at speed level 1). */
  | { readonly kind: 'box3d'; readonly ordinal: number; readonly label: number; readonly box: Box3D; readonly zmid: number; readonly up: readonly number[]; readonly down: readonly number[] }
  | { readonly kind: 'scribble'; readonly ordinal: number; readonly label: number; readonly slices: ReadonlyMap<number, Uint32Array>; readonly zlo: number; readonly zhi: number };

export interface DetailedPlan extends SegmentationPlan {
  readonly networks: readonly NetworkName[];
  readonly work: readonly ObjectWork[];
  /** Every planned slice visit per network (with repeats: one per walk step). */
  readonly visits: readonly number[];
  /** The order prefetching encodes slices in (sharedSchedule). */
  readonly prefetchOrder: readonly number[];
  /** Walks wait for their planned slices' turn in prefetchOrder instead of encoding them early (sharedSchedule). */
  readonly ordered: boolean;
}

function checkImage(image: ImageVolume): void {
  const { depth, height, width, channels, data } = image;
  for (const [name, v] of [['depth', depth], ['height', height], ['width', width]] as const) {
    if (!Number.isInteger(v) || v < 1) throw new CodedError('IMAGE_INVALID', `must be a positive integer, got ${v}`, `image.${name}`);
  }
  if (channels !== 1 && channels !== 3) throw new CodedError('IMAGE_INVALID', `must be 1 or 3, got ${String(channels)}`, 'image.channels');
  if (channels === 3 && depth !== 1) throw new CodedError('IMAGE_INVALID', 'RGB images must be 2D (depth 1)', 'image.channels');
  const expected = depth * height * width * channels;
  if (data.length !== expected) {
    throw new CodedError('IMAGE_INVALID', `holds ${data.length} bytes, but ${depth}x${height}x${width}x${channels} needs ${expected}`, 'image.data');
  }
}

function checkNumber(v: number, field: string): void {
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new CodedError('PROMPT_INVALID', `must be a finite number, got ${String(v)}`, field);
}

function checkXY(box: { x0: number; y0: number; x1: number; y1: number }, image: ImageVolume, field: string): void {
  for (const k of ['x0', 'y0', 'x1', 'y1'] as const) checkNumber(box[k], `${field}.${k}`);
  if (box.x0 < 0 || box.y0 < 0) throw new CodedError('PROMPT_INVALID', `box [${box.x0}, ${box.y0}, ${box.x1}, ${box.y1}] starts outside the image`, field);
  if (box.x1 > image.width || box.y1 > image.height) {
    throw new CodedError('PROMPT_INVALID', `box [${box.x0}, ${box.y0}, ${box.x1}, ${box.y1}] extends past the image (width ${image.width}, height ${image.height})`, field);
  }
  if (!(box.x0 < box.x1)) throw new CodedError('PROMPT_INVALID', `x_min ${box.x0} must be less than x_max ${box.x1}`, field);
  if (!(box.y0 < box.y1)) throw new CodedError('PROMPT_INVALID', `y_min ${box.y0} must be less than y_max ${box.y1}`, field);
}

function describeWork(object: ObjectPrompt, ordinal: number, image: ImageVolume, field: string, speedLevel: number): ObjectWork {
  const { label, prompt } = object;
  if (!Number.isInteger(label) || label < 1 || label > 65_535) {
    throw new CodedError('PROMPT_INVALID', `label must be an integer in 1..65535, got ${label}`, `${field}.label`);
  }
  switch (prompt.kind) {
    case 'box2d': {
      checkXY(prompt, image, `${field}.box2d`);
      const z = prompt.z ?? 0;
      if (prompt.z === undefined && image.depth > 1) throw new CodedError('PROMPT_INVALID', `a 2D box on a ${image.depth}-slice volume needs its slice index z`, `${field}.box2d.z`);
      if (!Number.isInteger(z) || z < 0 || z >= image.depth) throw new CodedError('PROMPT_INVALID', `slice ${z} is outside the volume (0..${image.depth - 1})`, `${field}.box2d.z`);
      return { kind: 'box2d', ordinal, label, box: prompt, z };
    }
    case 'box3d': return describeBox3D(prompt, ordinal, label, image, `${field}.box3d`, speedLevel);
    case 'scribble': return describeScribble(prompt, ordinal, label, image, `${field}.scribble`);
  }
}

function describeBox3D(box: Box3D, ordinal: number, label: number, image: ImageVolume, field: string, speedLevel: number): ObjectWork {
  checkXY(box, image, field);
  checkNumber(box.z0, `${field}.z0`);
  checkNumber(box.z1, `${field}.z1`);
  if (!Number.isInteger(box.z0) || !Number.isInteger(box.z1)) throw new CodedError('PROMPT_INVALID', `z_min and z_max must be slice indices, got ${box.z0} and ${box.z1}`, field);
  if (!(box.z0 < box.z1)) throw new CodedError('PROMPT_INVALID', `z_min ${box.z0} must be less than z_max ${box.z1}`, field);
  if (box.z0 < 0 || box.z1 > image.depth - 1) throw new CodedError('PROMPT_INVALID', `slices ${box.z0}..${box.z1} are outside the volume (0..${image.depth - 1})`, field);
  const zmid = middleSlice(box.z0, box.z1);
  // [LM] head: upward zmid+1 .. min(z1, D-1) inclusive, downward zmid-1 .. z0 inclusive (also when z0 == 0). The
  // walk never stops early, so its end slices are these bounds, computed at every speed level.
  const up = walkSlices(zmid, Math.min(box.z1, image.depth - 1), speedLevel);
  const down = walkSlices(zmid, box.z0, speedLevel);
  return { kind: 'box3d', ordinal, label, box, zmid, up, down };
}

function describeScribble(scribble: Scribble, ordinal: number, label: number, image: ImageVolume, field: string): ObjectWork {
  const plane = image.height * image.width;
  const total = plane * image.depth;
  if (scribble.voxels.length === 0) throw new CodedError('PROMPT_INVALID', 'scribble has no voxels', field);
  const bySlice = new Map<number, number[]>();
  for (const v of scribble.voxels) {
    if (v >= total) throw new CodedError('PROMPT_INVALID', `voxel index ${v} is outside the image (${total} voxels)`, `${field}.voxels`);
    const z = Math.floor(v / plane);
    let list = bySlice.get(z);
    if (!list) bySlice.set(z, (list = []));
    list.push(v - z * plane);
  }
  const slices = new Map([...bySlice.entries()].sort((a, b) => a[0] - b[0]).map(([z, px]) => [z, Uint32Array.from(px)] as const));
  const zs = [...slices.keys()];
  return { kind: 'scribble', ordinal, label, slices, zlo: zs[0]!, zhi: zs[zs.length - 1]! };
}

/** The slices one object's walks visit, in walk order (scribble walks: only the scribbled range is known ahead). */
export function objectVisits(work: ObjectWork): { all: number[]; walks: number[][] } {
  switch (work.kind) {
    case 'box2d': return { all: [work.z], walks: [[work.z]] };
    case 'box3d': return { all: [work.zmid, ...work.up, ...work.down], walks: [[work.zmid, ...work.up], [...work.down]] };
    case 'scribble': {
      const range: number[] = [];
      for (let z = work.zlo; z <= work.zhi; z++) range.push(z);
      return { all: range, walks: [range] };
    }
  }
}

/** Every slice visit of these objects' walks (with repeats), and the order the walks will ask for them. */
export function walkVisits(work: readonly ObjectWork[]): { visits: number[]; prefetchOrder: number[] } {
  const visits: number[] = [];
  const walks: number[][] = [];
  for (const w of work) {
    const v = objectVisits(w);
    visits.push(...v.all);
    walks.push(...v.walks);
  }
  // Round-robin over walks, step by step: the order in which the walks will ask for slices.
  const prefetchOrder: number[] = [];
  const longest = Math.max(0, ...walks.map((w) => w.length));
  for (let step = 0; step < longest; step++) for (const w of walks) if (step < w.length) prefetchOrder.push(w[step]!);
  return { visits, prefetchOrder };
}

/**
 * Above this many (walk, distinct slice) pairs the greedy order is not computed and the round-robin order is used,
 * ungated: planning is synchronous, and the order's cost grows with their product and with the walks' lengths
 * (10-80 ms near the limit on the shared 2-core VM; the paper's CT, 12 walks x 205 slices, about 5 ms).
 */
const ORDERED_SCHEDULE_LIMIT = 8_000;

/**
 * The shared schedule's prefetch order. Requests of 3D boxes only get the order of walk-schedule.ts, which holds
 * far fewer embeddings at once, and their walks follow it (`ordered`); 2D boxes and scribbles (whose walks may
 * stop early or go past the planned range) keep the round-robin over walks, step by step, ungated.
 */
export function sharedSchedule(work: readonly ObjectWork[]): { prefetchOrder: number[]; ordered: boolean } {
  const { visits, prefetchOrder } = walkVisits(work);
  const boxes = work.filter((w) => w.kind === 'box3d');
  if (boxes.length === 0 || boxes.length < work.length) return { prefetchOrder, ordered: false };
  const walks = boxWalks(boxes);
  if (walks.length * new Set(visits).size > ORDERED_SCHEDULE_LIMIT) return { prefetchOrder, ordered: false };
  return { prefetchOrder: plannedOrder(walks, prefetchOrder), ordered: true };
}

export function planRequest(request: SegmentationRequest, routing: RoutingTable, fallback?: NetworkName): DetailedPlan {
  checkImage(request.image);
  if (request.objects.length > MAX_OBJECTS) {
    throw new CodedError('PROMPT_INVALID', `${request.objects.length} objects exceed the limit of ${MAX_OBJECTS}`, 'prompts');
  }
  const speedLevel = request.speedLevel ?? EXACT_SPEED_LEVEL;
  // The front ends check the level with their own field and code; a caller in-process that skipped that is a bug.
  const problem = speedLevelProblem(speedLevel);
  if (problem) throw new RangeError(`speedLevel ${problem}`);
  const networks = networksFor(request.mode, request.modality, routing, fallback);
  const work = request.objects.map((o, i) => describeWork(o, i + 1, request.image, `prompts[${i}]`, speedLevel));
  const { visits } = walkVisits(work);
  const { prefetchOrder, ordered } = sharedSchedule(work);
  const distinct = new Set(visits).size;
  const slicesToEncode = networkRecord(() => 0);
  for (const n of networks) slicesToEncode[n] = distinct;
  return {
    networks,
    work,
    visits,
    prefetchOrder,
    ordered,
    slicesToEncode,
    modality: request.modality,
    mode: request.mode,
    objects: work.map((w) => {
      const all = objectVisits(w).all;
      return { label: w.label, networks, slices: [Math.min(...all), Math.max(...all)] as const };
    }),
  };
}
