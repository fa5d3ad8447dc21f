// Scribbles arrive on the wire as strokes (points a user dragged through, per slice) and the pipeline takes them as
// voxel indices. A stroke is drawn as the 1-pixel, 8-connected polyline through its points (Bresenham), on the one
// slice all its points share; a single-point stroke marks one voxel. The inverse, used by clients that hold a
// scribble as a voxel set (the challenge npz), writes each row run as a two-point stroke, which draws back exactly
// the same voxels.
import { CodedError } from '../errors/coded-error.ts';

export interface StrokePoint {
  readonly x: number;
  readonly y: number;
  readonly z: number;
}

export type Stroke = readonly StrokePoint[];

export interface VolumeDims {
  readonly depth: number;
  readonly height: number;
  readonly width: number;
}

/** Pixels a request's strokes may draw in total, before deduplication: bounds work on hostile polylines. */
export const MAX_DRAWN_PIXELS = 1 << 24;

/**
 * The voxels (flat indices into depth x height x width, ascending, unique) the strokes mark. `field` is the request
 * path of the scribble, for errors (`prompts[3].scribble`).
 */
export function strokesToVoxels(strokes: readonly Stroke[], dims: VolumeDims, field: string): Uint32Array {
  if (strokes.length === 0) throw new CodedError('PROMPT_INVALID', 'needs at least one stroke', `${field}.strokes`);
  const plane = dims.height * dims.width;
  let drawn = new Uint32Array(1024);
  let count = 0;
  const mark = (x: number, y: number, z: number): void => {
    if (count === drawn.length) {
      const grown = new Uint32Array(drawn.length * 2);
      grown.set(drawn);
      drawn = grown;
    }
    drawn[count++] = z * plane + y * dims.width + x;
  };
  let budget = MAX_DRAWN_PIXELS;
  strokes.forEach((stroke, s) => {
    const path = `${field}.strokes[${s}].points`;
    if (stroke.length === 0) throw new CodedError('PROMPT_INVALID', 'needs at least one point', path);
    stroke.forEach((p, i) => checkPoint(p, dims, `${path}[${i}]`));
    const z = stroke[0]!.z;
    stroke.forEach((p, i) => {
      if (p.z !== z) throw new CodedError('PROMPT_INVALID', `a stroke lies on one slice: ${p.z} differs from its first point's ${z}`, `${path}[${i}].z`);
    });
    if (stroke.length === 1) {
      if (--budget < 0) throw tooMuch(field);
      mark(stroke[0]!.x, stroke[0]!.y, z);
      return;
    }
    for (let i = 1; i < stroke.length; i++) {
      const a = stroke[i - 1]!;
      const b = stroke[i]!;
      budget -= Math.max(Math.abs(b.x - a.x), Math.abs(b.y - a.y)) + 1;
      if (budget < 0) throw tooMuch(field);
      drawLine(a.x, a.y, b.x, b.y, (x, y) => mark(x, y, z));
    }
  });
  return uniqueSorted(drawn.subarray(0, count));
}

/** Strokes that draw exactly `voxels` (flat indices, any order, duplicates allowed): one stroke per row run. */
export function voxelsToStrokes(voxels: Uint32Array, dims: VolumeDims): Stroke[] {
  const plane = dims.height * dims.width;
  const sorted = uniqueSorted(voxels);
  const strokes: Stroke[] = [];
  const point = (v: number): StrokePoint => {
    const z = Math.floor(v / plane);
    const r = v - z * plane;
    return { x: r % dims.width, y: Math.floor(r / dims.width), z };
  };
  let i = 0;
  while (i < sorted.length) {
    const start = sorted[i]!;
    const rowEnd = start - (start % dims.width) + dims.width;
    let end = start;
    while (i + 1 < sorted.length && sorted[i + 1] === end + 1 && end + 1 < rowEnd) end = sorted[++i]!;
    i++;
    strokes.push(end === start ? [point(start)] : [point(start), point(end)]);
  }
  return strokes;
}

function checkPoint(p: StrokePoint, dims: VolumeDims, path: string): void {
  const axes = [['x', p.x, dims.width], ['y', p.y, dims.height], ['z', p.z, dims.depth]] as const;
  for (const [axis, value, size] of axes) {
    if (!Number.isInteger(value) || value < 0 || value >= size) {
      throw new CodedError('PROMPT_INVALID', `must be an integer pixel index in 0..${size - 1}, got ${value}`, `${path}.${axis}`);
    }
  }
}

function tooMuch(field: string): CodedError {
  return new CodedError('PROMPT_INVALID', `the strokes draw more than ${MAX_DRAWN_PIXELS} pixels`, `${field}.strokes`);
}

/** Bresenham's line from (x0, y0) to (x1, y1), both ends included, 8-connected, integer arithmetic only. */
function drawLine(x0: number, y0: number, x1: number, y1: number, plot: (x: number, y: number) => void): void {
  const dx = Math.abs(x1 - x0);
  const dy = -Math.abs(y1 - y0);
  const sx = x0 < x1 ? 1 : -1;
  const sy = y0 < y1 ? 1 : -1;
  let err = dx + dy;
  let x = x0;
  let y = y0;
  for (;;) {
    plot(x, y);
    if (x === x1 && y === y1) return;
    const e2 = 2 * err;
    if (e2 >= dy) {
      err += dy;
      x += sx;
    }
    if (e2 <= dx) {
      err += dx;
      y += sy;
    }
  }
}

function uniqueSorted(values: Uint32Array): Uint32Array {
  const sorted = Uint32Array.from(values).sort();
  let n = 0;
  for (let i = 0; i < sorted.length; i++) if (i === 0 || sorted[i] !== sorted[n - 1]) sorted[n++] = sorted[i]!;
  return sorted.slice(0, n);
}
