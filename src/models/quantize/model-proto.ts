// Reading and editing a serialised ONNX model for the quantisation passes: decode, look up constant weights,
// add initializers and nodes, encode. The builders (../onnx/graph.ts) write graphs; this edits finished ones.
import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;

export type ModelProto = InstanceType<typeof onnx.ModelProto>;
export type NodeProto = InstanceType<typeof onnx.NodeProto>;
export type TensorProto = InstanceType<typeof onnx.TensorProto>;

export const DATA_TYPE = {
  float: onnx.TensorProto.DataType.FLOAT,
  uint8: onnx.TensorProto.DataType.UINT8,
  int8: onnx.TensorProto.DataType.INT8,
  int32: onnx.TensorProto.DataType.INT32,
} as const;

export function decodeModel(bytes: Uint8Array): ModelProto {
  return onnx.ModelProto.decode(bytes);
}

export function encodeModel(model: ModelProto): Uint8Array {
  return onnx.ModelProto.encode(model).finish();
}

export function dimsOf(t: TensorProto): number[] {
  return (t.dims ?? []).map((d) => Number(d));
}

/** The float32 values of a FLOAT initializer (raw little-endian bytes, as the builders write them). */
export function floatData(t: TensorProto): Float32Array {
  if (t.dataType !== DATA_TYPE.float) throw new Error(`initializer ${t.name} is not float32`);
  if (t.rawData && t.rawData.byteLength > 0) {
    const copy = new Uint8Array(t.rawData);
    return new Float32Array(copy.buffer, copy.byteOffset, copy.byteLength / 4);
  }
  return Float32Array.from(t.floatData ?? []);
}

export function tensor(name: string, dataType: number, dims: readonly number[], data: ArrayBufferView): TensorProto {
  const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  return onnx.TensorProto.create({ name, dims: [...dims], dataType, rawData: bytes });
}

export function node(opType: string, inputs: readonly string[], outputs: readonly string[], name: string, attrs: Record<string, number> = {}, domain?: string): NodeProto {
  const T = onnx.AttributeProto.AttributeType;
  return onnx.NodeProto.create({
    opType,
    input: [...inputs],
    output: [...outputs],
    name,
    attribute: Object.entries(attrs).map(([k, v]) => onnx.AttributeProto.create({ name: k, type: T.INT, i: v })),
    ...(domain ? { domain } : {}),
  });
}

/** A float attribute of a node, or undefined. */
export function floatAttribute(n: NodeProto, name: string): number | undefined {
  return n.attribute?.find((a) => a.name === name)?.f ?? undefined;
}

export function intAttribute(n: NodeProto, name: string): number | undefined {
  const a = n.attribute?.find((x) => x.name === name);
  return a ? Number(a.i) : undefined;
}
