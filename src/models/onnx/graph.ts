// A minimal ONNX graph builder: nodes, initializers, inputs and outputs, encoded with onnx-proto.
// Networks are written against this API (see ./ops.ts for the layer helpers built on it).
import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;

export type ElemType = 'float32' | 'int64' | 'int32' | 'bool';
export type Dim = number | string;
export type AttrValue = number | string | number[] | Float32Array | { float: number } | { floats: number[] } | { tensor: ConstTensor };

export interface ConstTensor {
  readonly type: ElemType;
  readonly dims: readonly number[];
  readonly data: Float32Array | BigInt64Array | Int32Array | Uint8Array;
}

const ELEM: Record<ElemType, number> = {
  float32: onnx.TensorProto.DataType.FLOAT,
  int64: onnx.TensorProto.DataType.INT64,
  int32: onnx.TensorProto.DataType.INT32,
  bool: onnx.TensorProto.DataType.BOOL,
};

/** The opset every graph of this project targets (Gelu, LayerNormalization, Resize antialias all exist). */
export const OPSET = 20;

function tensorProto(name: string, t: ConstTensor): InstanceType<typeof onnx.TensorProto> {
  const bytes = new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
  return onnx.TensorProto.create({ name, dims: [...t.dims], dataType: ELEM[t.type], rawData: bytes });
}

function valueInfo(name: string, type: ElemType, dims?: readonly Dim[]): InstanceType<typeof onnx.ValueInfoProto> {
  const shape = dims === undefined ? undefined : {
    dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })),
  };
  return onnx.ValueInfoProto.create({
    name,
    type: { tensorType: { elemType: ELEM[type], ...(shape ? { shape } : {}) } },
  });
}

function attribute(name: string, v: AttrValue): InstanceType<typeof onnx.AttributeProto> {
  const T = onnx.AttributeProto.AttributeType;
  if (typeof v === 'number') {
    if (!Number.isInteger(v)) throw new Error(`attribute ${name}: use { float: x } for non-integer values`);
    return onnx.AttributeProto.create({ name, type: T.INT, i: v });
  }
  if (typeof v === 'string') return onnx.AttributeProto.create({ name, type: T.STRING, s: new TextEncoder().encode(v) });
  if (Array.isArray(v)) return onnx.AttributeProto.create({ name, type: T.INTS, ints: v });
  if (v instanceof Float32Array) return onnx.AttributeProto.create({ name, type: T.FLOATS, floats: Array.from(v) });
  if ('float' in v) return onnx.AttributeProto.create({ name, type: T.FLOAT, f: v.float });
  if ('floats' in v) return onnx.AttributeProto.create({ name, type: T.FLOATS, floats: v.floats });
  return onnx.AttributeProto.create({ name, type: T.TENSOR, t: tensorProto('', v.tensor) });
}

export interface NodeOptions {
  /** Number of outputs (default 1). */
  outputs?: number;
  domain?: string;
  /** Readable prefix for the generated value names, e.g. the state-dict path of the layer. */
  name?: string;
}

export class GraphBuilder {
  private readonly nodes: InstanceType<typeof onnx.NodeProto>[] = [];
  private readonly initializers: InstanceType<typeof onnx.TensorProto>[] = [];
  private readonly inputs: InstanceType<typeof onnx.ValueInfoProto>[] = [];
  private readonly outputs: InstanceType<typeof onnx.ValueInfoProto>[] = [];
  private readonly names = new Set<string>();
  private readonly scalarCache = new Map<string, string>();
  private counter = 0;

  constructor(readonly graphName: string) {}

  /** A fresh value name; `hint` keeps graphs readable in Netron. */
  fresh(hint = 'v'): string {
    let name = `${hint}_${this.counter++}`;
    while (this.names.has(name)) name = `${hint}_${this.counter++}`;
    this.names.add(name);
    return name;
  }

  input(name: string, dims: readonly Dim[], type: ElemType = 'float32'): string {
    this.claim(name);
    this.inputs.push(valueInfo(name, type, dims));
    return name;
  }

  /** Marks `value` as a graph output called `name` (an Identity node renames it when needed). */
  output(value: string, name: string, dims?: readonly Dim[], type: ElemType = 'float32'): void {
    if (value !== name) {
      this.claim(name);
      this.nodes.push(onnx.NodeProto.create({ opType: 'Identity', input: [value], output: [name], name: `out_${name}` }));
    }
    this.outputs.push(valueInfo(name, type, dims));
  }

  /** An initializer (weight). Returns its value name. */
  initializer(hint: string, tensor: ConstTensor): string {
    const name = this.fresh(hint);
    this.initializers.push(tensorProto(name, tensor));
    return name;
  }

  f32(hint: string, data: Float32Array, dims: readonly number[]): string {
    if (data.length !== dims.reduce((a, b) => a * b, 1)) {
      throw new Error(`initializer ${hint}: ${data.length} values do not fill dims [${dims.join(',')}]`);
    }
    return this.initializer(hint, { type: 'float32', dims, data });
  }

  /** An int64 1-D constant such as a shape or axes list; identical lists are shared. */
  i64(values: readonly number[]): string {
    const key = `i64:${values.join(',')}`;
    const hit = this.scalarCache.get(key);
    if (hit) return hit;
    const name = this.initializer('i64', { type: 'int64', dims: [values.length], data: BigInt64Array.from(values.map(BigInt)) });
    this.scalarCache.set(key, name);
    return name;
  }

  /** A float32 scalar constant (rank 0); identical values are shared. */
  scalar(value: number): string {
    const key = `f32:${Object.is(value, -0) ? '-0' : value}`;
    const hit = this.scalarCache.get(key);
    if (hit) return hit;
    const name = this.initializer('c', { type: 'float32', dims: [], data: Float32Array.of(value) });
    this.scalarCache.set(key, name);
    return name;
  }

  /** Appends a node and returns its single output name. */
  op(opType: string, inputs: readonly string[], attrs: Record<string, AttrValue> = {}, opts: NodeOptions = {}): string {
    return this.opN(opType, inputs, attrs, { ...opts, outputs: 1 })[0]!;
  }

  /** Appends a node with several outputs. Empty input names mean "optional input omitted". */
  opN(opType: string, inputs: readonly string[], attrs: Record<string, AttrValue> = {}, opts: NodeOptions = {}): string[] {
    const hint = opts.name ? `${opts.name}/${opType}` : opType;
    const outs = Array.from({ length: opts.outputs ?? 1 }, () => this.fresh(hint));
    this.nodes.push(onnx.NodeProto.create({
      opType,
      input: [...inputs],
      output: outs,
      name: outs[0],
      attribute: Object.entries(attrs).map(([k, v]) => attribute(k, v)),
      ...(opts.domain ? { domain: opts.domain } : {}),
    }));
    return outs;
  }

  /** Serialises the model (IR 8). */
  toBytes(metadata: Record<string, string> = {}): Uint8Array {
    const model = onnx.ModelProto.create({
      irVersion: 8,
      producerName: 'onesam-serve',
      opsetImport: [{ domain: '', version: OPSET }, { domain: 'com.microsoft', version: 1 }],
      metadataProps: Object.entries(metadata).map(([key, value]) => ({ key, value })),
      graph: onnx.GraphProto.create({
        name: this.graphName,
        node: this.nodes,
        initializer: this.initializers,
        input: this.inputs,
        output: this.outputs,
      }),
    });
    return onnx.ModelProto.encode(model).finish();
  }

  private claim(name: string): void {
    if (this.names.has(name)) throw new Error(`value name ${name} already used in graph ${this.graphName}`);
    this.names.add(name);
  }
}
