// Activation ranges for static quantisation, observed by running the fp32 graph on calibration inputs. The
// statistics are computed inside the graph (a ReduceMin/ReduceMax or TopK per value, added as extra outputs), so a
// calibration run returns a few numbers per value instead of copying every activation (up to 64 MiB each) into JS.
//   minmax      the extreme values over all inputs (nothing clipped; one outlier stretches a whole tensor's scale)
//   percentile  per input the (100-p)th and pth percentiles (the k-th smallest and largest value, TopK), averaged
//               over the inputs; clips the rare extremes to spend the 256 codes on the bulk of the values.
import * as ort from 'onnxruntime-node';
import { decodeModel, encodeModel, node, tensor, DATA_TYPE, type ModelProto } from './model-proto.ts';
import type { ValueRange } from './qdq-rewrite.ts';
import onnxProto from 'onnx-proto';

export type CalibrationMethod = 'minmax' | 'percentile';
export const CALIBRATION_METHODS: readonly CalibrationMethod[] = ['minmax', 'percentile'];

export interface CalibrationOptions {
  readonly method: CalibrationMethod;
  /** Upper percentile for 'percentile' (the lower one is 100 - p); default 99.99. */
  readonly percentile?: number;
  readonly intraOpThreads?: number;
}

export interface CalibrationInput {
  readonly name: string;
  readonly dims: readonly number[];
  readonly batches: readonly Float32Array[];
}

const INT64 = 7;

/** Adds, per value, outputs `<value>/lo` and `<value>/hi`: min and max, or the k-th smallest and largest value. */
function withStatistics(model: ModelProto, names: readonly string[], tail: number | undefined, elements: ReadonlyMap<string, number>): Uint8Array {
  const copy = decodeModel(encodeModel(model));
  const graph = copy.graph!;
  const flat = 'calibration/flat_shape';
  graph.initializer!.push(tensor(flat, INT64, [1], BigInt64Array.of(-1n)));
  for (const v of names) {
    const outs = [`${v}/lo`, `${v}/hi`];
    if (tail === undefined) {
      graph.node!.push(node('ReduceMin', [v], [outs[0]!], `${v}/ReduceMin`, { keepdims: 0 }));
      graph.node!.push(node('ReduceMax', [v], [outs[1]!], `${v}/ReduceMax`, { keepdims: 0 }));
    } else {
      const k = Math.max(1, Math.floor(elements.get(v)! * tail));
      const kName = `${v}/k`;
      graph.initializer!.push(tensor(kName, INT64, [1], BigInt64Array.of(BigInt(k))));
      graph.node!.push(node('Reshape', [v, flat], [`${v}/flat`], `${v}/Reshape`));
      for (const [i, largest] of [[0, 0], [1, 1]] as const) {
        graph.node!.push(node('TopK', [`${v}/flat`, kName], [`${v}/top${i}`, `${v}/top${i}_idx`], `${v}/TopK${i}`, { largest, sorted: 1 }));
        graph.node!.push(node(largest ? 'ReduceMin' : 'ReduceMax', [`${v}/top${i}`], [outs[i]!], `${v}/TopKEdge${i}`, { keepdims: 0 }));
      }
    }
    for (const o of outs) graph.output!.push(onnxProto.onnx.ValueInfoProto.create({ name: o, type: { tensorType: { elemType: DATA_TYPE.float } } }));
  }
  return encodeModel(copy);
}

async function session(model: Uint8Array, threads: number): Promise<ort.InferenceSession> {
  return ort.InferenceSession.create(model, { intraOpNumThreads: threads, interOpNumThreads: 1, graphOptimizationLevel: 'all', enableCpuMemArena: false });
}

async function statistics(model: Uint8Array, input: CalibrationInput, names: readonly string[], threads: number): Promise<{ lo: number[][]; hi: number[][] }> {
  const s = await session(model, threads);
  const lo: number[][] = names.map(() => []), hi: number[][] = names.map(() => []);
  try {
    const fetches = names.flatMap((v) => [`${v}/lo`, `${v}/hi`]);
    for (const batch of input.batches) {
      const out = await s.run({ [input.name]: new ort.Tensor('float32', batch, [...input.dims]) }, fetches);
      names.forEach((v, i) => {
        lo[i]!.push((out[`${v}/lo`]!.data as Float32Array)[0]!);
        hi[i]!.push((out[`${v}/hi`]!.data as Float32Array)[0]!);
      });
    }
  } finally {
    await s.release();
  }
  return { lo, hi };
}

/** The number of elements of each value for one input (TopK's k), read from one run of the fp32 graph. */
async function elementCounts(model: ModelProto, input: CalibrationInput, names: readonly string[], threads: number): Promise<Map<string, number>> {
  const copy = decodeModel(encodeModel(model));
  for (const v of names) {
    copy.graph!.node!.push(node('Size', [v], [`${v}/size`], `${v}/Size`));
    copy.graph!.output!.push(onnxProto.onnx.ValueInfoProto.create({ name: `${v}/size`, type: { tensorType: { elemType: INT64 } } }));
  }
  const s = await session(encodeModel(copy), threads);
  try {
    const out = await s.run({ [input.name]: new ort.Tensor('float32', input.batches[0]!, [...input.dims]) }, names.map((v) => `${v}/size`));
    return new Map(names.map((v) => [v, Number((out[`${v}/size`]!.data as BigInt64Array)[0]!)]));
  } finally {
    await s.release();
  }
}

export async function calibrateRanges(model: ModelProto, input: CalibrationInput, names: readonly string[], opts: CalibrationOptions): Promise<Map<string, ValueRange>> {
  const threads = opts.intraOpThreads ?? 1;
  const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
  if (opts.method === 'minmax') {
    const { lo, hi } = await statistics(withStatistics(model, names, undefined, new Map()), input, names, threads);
    return new Map(names.map((v, i) => [v, { min: Math.min(...lo[i]!), max: Math.max(...hi[i]!) }]));
  }
  const tail = 1 - (opts.percentile ?? 99.99) / 100;
  const counts = await elementCounts(model, input, names, threads);
  const { lo, hi } = await statistics(withStatistics(model, names, tail, counts), input, names, threads);
  return new Map(names.map((v, i) => [v, { min: mean(lo[i]!), max: mean(hi[i]!) }]));
}
