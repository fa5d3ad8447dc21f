// The QDQ rewrite of an fp32 graph: every MatMul with a constant weight (and, when the policy asks, every Conv,
// depthwise included) gets QuantizeLinear -> DequantizeLinear on its activation input and DequantizeLinear on int8 per-channel weights;
// a Conv also gets Q -> DQ on its output. onnxruntime's QDQ transformers then fuse DQ -> Conv -> Q into
// QLinearConv and DQ -> MatMul into MatMulIntegerToFloat (u8 x s8, the kernels that use AVX-512 VNNI / AMX),
// while everything between stays float on dequantised values: LayerNorm, GELU, softmax, the residual adds.
// MatMul outputs are left float on purpose: they feed the residual stream and the attention core.
import { activationParams, quantizeBias, quantizeWeightsPerChannel, type ActivationParams } from './quant-math.ts';
import { DATA_TYPE, dimsOf, floatAttribute, floatData, intAttribute, node, tensor, type ModelProto, type NodeProto, type TensorProto } from './model-proto.ts';

export interface ValueRange {
  readonly min: number;
  readonly max: number;
}

/**
 * The nodes kept float by default: the PatchMerging (downsampling) and neck 1x1 projections. They read the
 * residual stream itself, not a LayerNorm or GELU output, and its outliers make one static range too coarse:
 * measured on LiteMedSAM, these 6 MatMuls alone gave 4.3 % embedding error, the 104 attention and MLP MatMuls
 * together under 1 % (bench/README.md "int8").
 */
export const KEEP_FLOAT_BY_DEFAULT = /(^|\.)(downsample|neck)[./]/;

/** What the pass may quantise; a node whose name matches `keepFloat` stays float (default: KEEP_FLOAT_BY_DEFAULT). */
export interface QuantizePolicy {
  readonly keepFloat?: (nodeName: string) => boolean;
  /**
   * GELU between two quantised convolutions runs on the uint8 codes instead of dequantise -> float GELU ->
   * quantise (which reads and writes the float tensor, 64 MiB in layers.0): x * sigmoid(1.702 x) as
   * com.microsoft QLinearSigmoid (a 256-entry table) and QLinearMul. That is the sigmoid approximation of GELU
   * (|error| <= 0.02), on top of 8-bit rounding. Default true.
   */
  readonly geluOnCodes?: boolean;
  /**
   * How a MatMul's activation input is quantised. 'static' (default): a calibrated QDQ pair
   * (MatMulIntegerToFloat). 'dynamic': per image, by com.microsoft DynamicQuantizeMatMul (the tensor's own
   * min/max at run time); measured on LiteMedSAM both slower (1.22x vs 1.48x over fp32) and less accurate
   * (6.7 vs 4.3 % embedding error) than static percentile ranges, which clip the outliers that a per-image
   * min/max spends its codes on (bench/README.md "int8").
   */
  readonly matmulInputs?: 'static' | 'dynamic';
  /**
   * Which convolutions are quantised: true all, false none; unset (the default) those QUANTISED_CONVOLUTIONS names,
   * OneSAM's adapters. Measured on LiteMedSAM: all convolutions int8 brought the embedding error from 4.3 %
   * (MatMuls only) to 15 % for 1.53x instead of 1.48x; the stem's convolutions, at full resolution, are the most
   * sensitive (patch embed alone 8.6 %).
   */
  readonly convolutions?: boolean;
}

/**
 * The convolutions quantised by default: OneSAM's adapters' spatial branch (3x3 stride-2 down, 4x4 transposed up
 * as four 2x2 phases), a quarter of its multiply-accumulates. Their output is added to the adapter's input and
 * layer-normalised before it reaches the block, so their 8-bit error stays small, unlike the stem's. Measured on
 * the OneSAM demo encoder, one thread, beside the attention and MLP MatMuls: per slice 1.20x -> 1.40x over fp32,
 * embedding error 0.51 % -> 1.13 % (bench/README.md, "int8"). LiteMedSAM has no adapter: unchanged.
 */
export const QUANTISED_CONVOLUTIONS = /(^|\.)Adapter\./;

/** GELU(x) ~ x * sigmoid(GELU_SIGMOID_SLOPE * x) (Hendrycks and Gimpel's sigmoid approximation). */
export const GELU_SIGMOID_SLOPE = 1.702;

function initializerMap(model: ModelProto): Map<string, TensorProto> {
  return new Map((model.graph!.initializer ?? []).map((t) => [t.name!, t as TensorProto]));
}

/**
 * com.microsoft Attention packs the QKV projection inside the node, out of reach of the QDQ fusions; it becomes
 * MatMul(x, Wqkv) -> Split -> MultiHeadAttention(q, k, v, bias, -, relative position bias), the same maths with
 * the projection as a plain MatMul that can be quantised (the attention core and its softmax stay float).
 */
export function decomposeAttention(model: ModelProto): void {
  const graph = model.graph!;
  const inits = initializerMap(model);
  const nodes: NodeProto[] = [];
  for (const n of (graph.node ?? []) as NodeProto[]) {
    if (n.opType !== 'Attention' || n.domain !== 'com.microsoft') {
      nodes.push(n);
      continue;
    }
    const [x, w, b, , , bias] = n.input!;
    const weight = inits.get(w!);
    if (!weight) throw new Error(`Attention ${n.name}: QKV weight ${w} is not an initializer`);
    const dim = dimsOf(weight)[1]! / 3;
    const heads = intAttribute(n, 'num_heads')!;
    const scale = floatAttribute(n, 'scale');
    const splitName = `${n.name}/qkv_split_sizes`;
    graph.initializer!.push(tensor(splitName, 7 /* INT64 */, [3], BigInt64Array.of(BigInt(dim), BigInt(dim), BigInt(dim))));
    const qkv = `${n.name}/qkv`;
    nodes.push(node('MatMul', [x!, w!], [qkv], `${n.name}/qkv_matmul`));
    const [q, k, v] = [`${n.name}/query`, `${n.name}/key`, `${n.name}/value`];
    nodes.push(node('Split', [qkv, splitName], [q, k, v], `${n.name}/qkv_split`, { axis: -1 }));
    const mha = node('MultiHeadAttention', [q, k, v, b!, '', bias ?? ''], [...n.output!], `${n.name}/mha`, { num_heads: heads }, 'com.microsoft');
    if (scale !== undefined && scale !== 0) mha.attribute!.push({ name: 'scale', type: 1 /* FLOAT */, f: scale } as never);
    nodes.push(mha);
  }
  graph.node = nodes;
}

/** The nodes the pass quantises: Conv and MatMul whose weight (input 1) is a constant. */
export function quantizableNodes(model: ModelProto, policy: QuantizePolicy = {}): NodeProto[] {
  const inits = initializerMap(model);
  return ((model.graph!.node ?? []) as NodeProto[]).filter((n) =>
    ((n.opType === 'Conv' && (policy.convolutions ?? QUANTISED_CONVOLUTIONS.test(n.name!))) || (n.opType === 'MatMul' && inits.get(n.input![1]!) && dimsOf(inits.get(n.input![1]!)!).length === 2)) &&
    inits.has(n.input![1]!) && !(policy.keepFloat ?? ((name: string) => KEEP_FLOAT_BY_DEFAULT.test(name)))(n.name!));
}

/** The float values whose ranges calibration must observe: each quantised node's input, and each Conv's output. */
export function valuesToCalibrate(nodes: readonly NodeProto[], policy: QuantizePolicy = {}): string[] {
  const names = new Set<string>();
  const dynamic = (policy.matmulInputs ?? 'static') === 'dynamic';
  for (const n of nodes) {
    if (!(dynamic && n.opType === 'MatMul')) names.add(n.input![0]!);
    if (n.opType === 'Conv') names.add(n.output![0]!);
  }
  return [...names];
}

/** Inserts the QDQ pairs and int8 weights. `ranges` must hold every value of valuesToCalibrate(nodes). */
export function insertQdq(model: ModelProto, nodes: readonly NodeProto[], ranges: ReadonlyMap<string, ValueRange>, policy: QuantizePolicy = {}): void {
  const graph = model.graph!;
  const inits = initializerMap(model);
  const selected = new Set(nodes);
  const dequantized = new Map<string, string>();
  const params = (value: string): ActivationParams => {
    const r = ranges.get(value);
    if (!r) throw new Error(`no calibrated range for ${value}`);
    return activationParams(r.min, r.max);
  };
  const addInit = (t: TensorProto): string => {
    graph.initializer!.push(t);
    return t.name!;
  };
  const qdqPair = (value: string, out: NodeProto[], dqName: string): void => {
    const p = params(value);
    const s = addInit(tensor(`${value}/scale`, DATA_TYPE.float, [], Float32Array.of(p.scale)));
    const zp = addInit(tensor(`${value}/zero_point`, DATA_TYPE.uint8, [], Uint8Array.of(p.zeroPoint)));
    out.push(node('QuantizeLinear', [value, s, zp], [`${value}/quantized`], `${value}/QuantizeLinear`));
    out.push(node('DequantizeLinear', [`${value}/quantized`, s, zp], [dqName], `${value}/DequantizeLinear`));
  };
  const removed = new Set<string>();
  const result: NodeProto[] = [];
  /** Conv outputs that exist as uint8 codes (`<y>/quantized`), with their parameters. */
  const codes = new Map<string, ActivationParams>();
  const geluOnCodes = policy.geluOnCodes ?? true;
  const made = new Set<string>();
  /** Runs `make` the first time `name` is asked for; returns `name`. */
  const once = (name: string, make: () => void): string => {
    if (!made.has(name)) {
      made.add(name);
      make();
    }
    return name;
  };
  const weightScales = new Map<string, Float32Array>();
  const biasVariants = new Map<string, Map<number, string>>();
  for (const n of (graph.node ?? []) as NodeProto[]) {
    if (geluOnCodes && n.opType === 'Gelu' && codes.has(n.input![0]!) && ranges.has(n.output![0]!) && !dequantized.has(n.output![0]!)) {
      const x = n.input![0]!, y = n.output![0]!;
      const px = codes.get(x)!, py = params(y);
      const c = (name: string, type: number, v: number): string =>
        addInit(tensor(name, type, [], type === DATA_TYPE.float ? Float32Array.of(v) : Uint8Array.of(v)));
      const sig = `${y}/sigmoid`;
      result.push(node('QLinearSigmoid', [`${x}/quantized`, c(`${y}/sigmoid_in_scale`, DATA_TYPE.float, GELU_SIGMOID_SLOPE * px.scale), `${x}/zero_point`,
        c(`${sig}/scale`, DATA_TYPE.float, 1 / 255), c(`${sig}/zero_point`, DATA_TYPE.uint8, 0)], [sig], `${y}/QLinearSigmoid`, {}, 'com.microsoft'));
      result.push(node('QLinearMul', [`${x}/quantized`, `${x}/scale`, `${x}/zero_point`, sig, `${sig}/scale`, `${sig}/zero_point`,
        c(`${y}/scale`, DATA_TYPE.float, py.scale), c(`${y}/zero_point`, DATA_TYPE.uint8, py.zeroPoint)], [`${y}/quantized`], `${y}/QLinearMul`, {}, 'com.microsoft'));
      result.push(node('DequantizeLinear', [`${y}/quantized`, `${y}/scale`, `${y}/zero_point`], [y], `${y}/DequantizeLinear`));
      codes.set(y, py);
      dequantized.set(y, y);
      continue;
    }
    if (!selected.has(n)) {
      result.push(n);
      continue;
    }
    const x = n.input![0]!;
    if (n.opType === 'MatMul' && (policy.matmulInputs ?? 'static') === 'dynamic') {
      const w = inits.get(n.input![1]!)!;
      const wq = once(`${w.name!}/int8`, () => dynamicWeights(w, addInit));
      result.push(node('DynamicQuantizeMatMul', [x, wq, `${w.name!}/scale`, `${w.name!}/zero_point`], [...n.output!], `${n.name}/dynamic`, {}, 'com.microsoft'));
      removed.add(w.name!);
      continue;
    }
    let xDq = dequantized.get(x);
    if (xDq === undefined) {
      xDq = `${x}/dq`;
      qdqPair(x, result, xDq);
      dequantized.set(x, xDq);
    }
    const wInit = inits.get(n.input![1]!)!;
    const isConv = n.opType === 'Conv';
    // The row strips and bands share their weights between nodes: each weight (and bias) is quantised once.
    const wDq = once(`${wInit.name!}/dq`, () => {
      const dims = dimsOf(wInit);
      // Conv weights (O, I/g, kH, kW): one scale per output channel on axis 0; MatMul weights (K, N): axis 1.
      const channels = isConv ? dims[0]! : dims[1]!;
      const inner = isConv ? dims.slice(1).reduce((a, b) => a * b, 1) : 1;
      const q = quantizeWeightsPerChannel(floatData(wInit), channels, inner);
      const wName = wInit.name!;
      const wq = addInit(tensor(`${wName}/int8`, DATA_TYPE.int8, dims, q.data));
      const ws = addInit(tensor(`${wName}/scale`, DATA_TYPE.float, [channels], q.scales));
      const wzp = addInit(tensor(`${wName}/zero_point`, DATA_TYPE.int8, [channels], new Int8Array(channels)));
      result.push(node('DequantizeLinear', [wq, ws, wzp], [`${wName}/dq`], `${wName}/DequantizeLinear`, { axis: isConv ? 0 : 1 }));
      removed.add(wName);
      weightScales.set(wName, q.scales);
    });
    const inputs = [xDq, wDq];
    if (isConv && n.input!.length > 2 && n.input![2]) {
      const bInit = inits.get(n.input![2]!)!;
      const bName = bInit.name!;
      // The int32 bias's scale is the input's scale x the weight's: shared only by nodes with the same input scale.
      const xScale = params(x).scale;
      const variants = biasVariants.get(bName) ?? new Map<number, string>();
      biasVariants.set(bName, variants);
      let bDq = variants.get(xScale);
      if (bDq === undefined) {
        const tag = variants.size === 0 ? '' : `_${variants.size}`;
        const bias = quantizeBias(floatData(bInit), xScale, weightScales.get(wInit.name!)!);
        const channels = bias.data.length;
        const bq = addInit(tensor(`${bName}/int32${tag}`, DATA_TYPE.int32, [channels], bias.data));
        const bs = addInit(tensor(`${bName}/scale${tag}`, DATA_TYPE.float, [channels], bias.scales));
        const bzp = addInit(tensor(`${bName}/zero_point${tag}`, DATA_TYPE.int32, [channels], new Int32Array(channels)));
        bDq = `${bName}/dq${tag}`;
        result.push(node('DequantizeLinear', [bq, bs, bzp], [bDq], `${bName}/DequantizeLinear${tag}`, { axis: 0 }));
        removed.add(bName);
        variants.set(xScale, bDq);
      }
      inputs.push(bDq);
    } else {
      inputs.push(...n.input!.slice(2));
    }
    n.input = inputs;
    if (isConv) {
      // The Conv writes a float value that is quantised at once; its consumers read the dequantised value under
      // the original name, so nothing downstream changes.
      const y = n.output![0]!;
      n.output = [`${y}/float`];
      result.push(n);
      const p = params(y);
      const s = addInit(tensor(`${y}/scale`, DATA_TYPE.float, [], Float32Array.of(p.scale)));
      const zp = addInit(tensor(`${y}/zero_point`, DATA_TYPE.uint8, [], Uint8Array.of(p.zeroPoint)));
      result.push(node('QuantizeLinear', [`${y}/float`, s, zp], [`${y}/quantized`], `${y}/QuantizeLinear`));
      result.push(node('DequantizeLinear', [`${y}/quantized`, s, zp], [y], `${y}/DequantizeLinear`));
      // A quantised node reading y reads this DQ directly (onnxruntime gives each node unit its own copy of it).
      dequantized.set(y, y);
      codes.set(y, p);
    } else {
      result.push(n);
    }
  }
  graph.node = pruneUnread(result, new Set((graph.output ?? []).map((o) => o.name!)));
  graph.initializer = graph.initializer!.filter((t) => !removed.has(t.name!));
}

/**
 * The weights of a DynamicQuantizeMatMul (x quantised to uint8 per run): `<W>/int8` (K, N) with per-column
 * `<W>/scale` and zero `<W>/zero_point`.
 */
function dynamicWeights(wInit: TensorProto, addInit: (t: TensorProto) => string): void {
  const dims = dimsOf(wInit);
  const q = quantizeWeightsPerChannel(floatData(wInit), dims[1]!, 1);
  const wName = wInit.name!;
  addInit(tensor(`${wName}/int8`, DATA_TYPE.int8, dims, q.data));
  addInit(tensor(`${wName}/scale`, DATA_TYPE.float, [dims[1]!], q.scales));
  addInit(tensor(`${wName}/zero_point`, DATA_TYPE.int8, [dims[1]!], new Int8Array(dims[1]!)));
}

/**
 * Drops DequantizeLinear nodes whose output nobody reads (a Conv output whose GELU now runs on the codes): a dead
 * DQ would still be computed, writing a float tensor as large as the one quantisation was meant to avoid.
 */
function pruneUnread(nodes: NodeProto[], graphOutputs: ReadonlySet<string>): NodeProto[] {
  const read = new Set(nodes.flatMap((n) => n.input ?? []));
  return nodes.filter((n) => n.opType !== 'DequantizeLinear' || graphOutputs.has(n.output![0]!) || read.has(n.output![0]!));
}

/**
 * One range for all the pieces of a tensor. The encoder runs its full-resolution stage in row strips and its MLP
 * and attention in bands, so a layer is several nodes sharing one weight, each reading its own piece of the
 * activation. Calibrated piece by piece, a strip that saw only background in the calibration slices gets a
 * range far too narrow for a slice with anatomy there (measured: 40 % embedding error from the patch embed alone,
 * against 1-6 % for the unsplit layers). So the inputs of the nodes sharing a weight get the union of their
 * ranges, and so do their outputs; a value read or written by two such groups joins both (union-find).
 */
export function shareRangesAcrossPieces(nodes: readonly NodeProto[], ranges: ReadonlyMap<string, ValueRange>): Map<string, ValueRange> {
  const parent = new Map<string, string>();
  const find = (v: string): string => {
    let r = v;
    while (parent.has(r) && parent.get(r) !== r) r = parent.get(r)!;
    parent.set(v, r);
    return r;
  };
  const join = (a: string, b: string): void => {
    const [ra, rb] = [find(a), find(b)];
    if (ra !== rb) parent.set(rb, ra);
  };
  const byWeight = new Map<string, NodeProto[]>();
  for (const n of nodes) byWeight.set(n.input![1]!, [...(byWeight.get(n.input![1]!) ?? []), n]);
  for (const group of byWeight.values()) {
    for (const n of group.slice(1)) {
      if (ranges.has(n.input![0]!) && ranges.has(group[0]!.input![0]!)) join(group[0]!.input![0]!, n.input![0]!);
      if (ranges.has(n.output![0]!) && ranges.has(group[0]!.output![0]!)) join(group[0]!.output![0]!, n.output![0]!);
    }
  }
  const merged = new Map<string, ValueRange>();
  for (const [v, r] of ranges) {
    const root = find(v);
    const m = merged.get(root);
    merged.set(root, m ? { min: Math.min(m.min, r.min), max: Math.max(m.max, r.max) } : r);
  }
  return new Map([...ranges.keys()].map((v) => [v, merged.get(find(v))!]));
}
