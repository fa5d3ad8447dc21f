// Test-only: writes PyTorch zip checkpoints the way torch.save does (there is no torch on this machine).
// The pickle follows what CPython's pickler emits for a state dict at protocol 2: OrderedDict via
// GLOBAL + EMPTY_TUPLE + REDUCE, items in SETITEMS batches of 1000, every object memoised with BINPUT and
// repeated globals fetched with BINGET, tensors as _rebuild_tensor_v2(storage, offset, size, stride,
// requires_grad, OrderedDict()) with BINPERSID storages ('storage', torch.<T>Storage, key, 'cpu', numel).
import { zipSync } from 'fflate';
import type { CheckpointDType, StateDict } from '../../src/models/checkpoint/tensor.ts';
import { encodeTensorBytes } from '../../src/models/checkpoint/safetensors-writer.ts';

const STORAGE_CLASS: Record<CheckpointDType, string> = {
  F32: 'FloatStorage', F16: 'HalfStorage', BF16: 'BFloat16Storage', F64: 'DoubleStorage', I64: 'LongStorage',
  I32: 'IntStorage', I16: 'ShortStorage', I8: 'CharStorage', U8: 'ByteStorage', BOOL: 'BoolStorage',
};

/** The Python values the writer can emit. */
export type PyValue =
  | null | boolean | string | number | { float: number } | { long: bigint }
  | PyValue[] /* tuple */ | { list: PyValue[] }
  | PyDict | TensorView;

export interface PyDict { dict: [string, PyValue][]; ordered?: boolean; metadata?: boolean }

export interface TensorView {
  tensor: { storage: string; offset: number; size: number[]; stride: number[] };
  /** Emit as _rebuild_parameter(tensor, requires_grad, OrderedDict()) (nn.Parameter). */
  parameter?: boolean;
}

export interface Storage { dtype: CheckpointDType; data: ArrayLike<number> }

class PickleWriter {
  private readonly out: number[] = [];
  private memoNext = 0;
  private readonly globals = new Map<string, number>();
  private readonly strings = new Map<string, number>();

  constructor(private readonly storages: ReadonlyMap<string, Storage>) {}

  bytes(): Uint8Array { return Uint8Array.from(this.out); }
  private op(code: number, ...rest: number[]) { this.out.push(code, ...rest); }
  private u32(n: number) { this.out.push(n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff); }
  private put() {
    const i = this.memoNext++;
    if (i < 256) this.op(0x71, i); else { this.op(0x72); this.u32(i); }
    return i;
  }
  private get(i: number) { if (i < 256) this.op(0x68, i); else { this.op(0x6a); this.u32(i); } }

  proto() { this.op(0x80, 2); }
  stop() { this.op(0x2e); }

  global(module: string, name: string) {
    const q = `${module}.${name}`;
    const memo = this.globals.get(q);
    if (memo !== undefined) return this.get(memo);
    this.op(0x63);
    for (const c of new TextEncoder().encode(`${module}\n${name}\n`)) this.out.push(c);
    this.globals.set(q, this.put());
  }

  /** Equal strings are memoised once, as CPython does for the same str object ('storage', 'cpu'). */
  string(s: string) {
    const memo = this.strings.get(s);
    if (memo !== undefined) return this.get(memo);
    const b = new TextEncoder().encode(s);
    this.op(0x58); this.u32(b.length);
    for (const c of b) this.out.push(c);
    this.strings.set(s, this.put());
  }

  int(n: number) {
    if (n >= 0 && n < 256) this.op(0x4b, n);
    else if (n >= 0 && n < 65536) this.op(0x4d, n & 0xff, n >>> 8);
    else if (n >= -(2 ** 31) && n < 2 ** 31) { this.op(0x4a); this.u32(n >>> 0); }
    else this.long(BigInt(n));
  }

  long(v: bigint) {
    const bytes: number[] = [];
    let x = v;
    // Minimal two's-complement little-endian, as CPython's encode_long does.
    do { bytes.push(Number(x & 0xffn)); x >>= 8n; } while (!(x === 0n && (bytes[bytes.length - 1]! & 0x80) === 0) && !(x === -1n && (bytes[bytes.length - 1]! & 0x80) !== 0));
    this.op(0x8a, bytes.length, ...bytes);
  }

  float(f: number) {
    const b = new Uint8Array(8);
    new DataView(b.buffer).setFloat64(0, f, false);
    this.op(0x47, ...b);
  }

  tuple(items: (() => void)[]) {
    if (items.length === 0) { this.op(0x29); return; }
    if (items.length <= 3) { for (const it of items) it(); this.op(0x84 + items.length); this.put(); return; }
    this.op(0x28); for (const it of items) it(); this.op(0x74); this.put();
  }

  emptyOrderedDict() { this.global('collections', 'OrderedDict'); this.op(0x29, 0x52); this.put(); }

  value(v: PyValue): void {
    if (v === null) return this.op(0x4e);
    if (v === true) return this.op(0x88);
    if (v === false) return this.op(0x89);
    if (typeof v === 'string') return this.string(v);
    if (typeof v === 'number') return this.int(v);
    if (Array.isArray(v)) return this.tuple(v.map((x) => () => this.value(x)));
    if ('float' in v) return this.float(v.float);
    if ('long' in v) return this.long(v.long);
    if ('list' in v) {
      this.op(0x5d); this.put();
      if (v.list.length) { this.op(0x28); for (const x of v.list) this.value(x); this.op(0x65); }
      return;
    }
    if ('tensor' in v) return this.tensor(v);
    return this.dict(v);
  }

  private dict(d: PyDict) {
    if (d.ordered) this.emptyOrderedDict(); else { this.op(0x7d); this.put(); }
    for (let i = 0; i < d.dict.length; i += 1000) {
      const batch = d.dict.slice(i, i + 1000);
      if (batch.length === 1) { this.string(batch[0]![0]); this.value(batch[0]![1]); this.op(0x73); continue; }
      this.op(0x28);
      for (const [k, v] of batch) { this.string(k); this.value(v); }
      this.op(0x75);
    }
    if (d.metadata) {
      // model.state_dict() carries `_metadata` (per-module versions) in the OrderedDict's __dict__ -> BUILD.
      this.op(0x7d); this.put();
      this.string('_metadata');
      this.dict({ ordered: true, dict: [['', { dict: [['version', 1]] }]] });
      this.op(0x73, 0x62);
    }
  }

  private tensor(t: TensorView) {
    if (!t.parameter) return this.rebuildTensor(t.tensor);
    this.global('torch._utils', '_rebuild_parameter');
    this.rebuildTensor(t.tensor);
    this.op(0x88); // requires_grad
    this.emptyOrderedDict();
    this.op(0x87); this.put();
    this.op(0x52); this.put();
  }

  private rebuildTensor({ storage, offset, size, stride }: TensorView['tensor']) {
    const s = this.storages.get(storage);
    if (!s) throw new Error(`no storage ${storage}`);
    this.global('torch._utils', '_rebuild_tensor_v2');
    this.op(0x28);
    // The persistent id is a fresh tuple every time (torch's persistent_id builds one per call).
    this.op(0x28);
    this.string('storage');
    this.global('torch', STORAGE_CLASS[s.dtype]);
    this.string(storage);
    this.string('cpu');
    this.int(s.data.length);
    this.op(0x74); this.put();
    this.op(0x51);
    this.int(offset);
    this.value(size);
    this.value(stride);
    this.op(0x89); // requires_grad
    this.emptyOrderedDict(); // backward_hooks
    this.op(0x74); this.put();
    this.op(0x52); this.put();
  }
}

/** Serialises `root` as a torch.save zip: `<archive>/data.pkl`, `<archive>/data/<key>`, `<archive>/version`, byteorder. */
export function torchSave(root: PyValue, storages: ReadonlyMap<string, Storage>, archive = 'archive'): Uint8Array {
  const w = new PickleWriter(storages);
  w.proto();
  w.value(root);
  w.stop();
  const files: Record<string, [Uint8Array, { level: 0 }]> = {
    [`${archive}/data.pkl`]: [w.bytes(), { level: 0 }],
    [`${archive}/byteorder`]: [new TextEncoder().encode('little'), { level: 0 }],
  };
  for (const [key, s] of storages) files[`${archive}/data/${key}`] = [encodeTensorBytes(s.dtype, s.data), { level: 0 }];
  files[`${archive}/version`] = [new TextEncoder().encode('3\n'), { level: 0 }];
  return zipSync(files);
}

function contiguousStride(shape: readonly number[]): number[] {
  const stride = new Array<number>(shape.length);
  for (let d = shape.length - 1, s = 1; d >= 0; d--) { stride[d] = s; s *= shape[d]!; }
  return stride;
}

export interface StateDictPthOptions {
  /** Storage dtype for floating tensors (integer buffers keep theirs). Default: the tensor's own dtype. */
  floatStorage?: 'F16' | 'F32';
  /** Nest the state dict as {wrapper: state_dict, epoch, ...} as training scripts do. */
  wrapper?: 'model' | 'state_dict';
  /** Emit tensors as nn.Parameter (_rebuild_parameter). */
  parameters?: boolean;
}

/** A state dict as torch.save(model.state_dict()) would write it (one storage per tensor). */
export function stateDictToPth(sd: StateDict, opts: StateDictPthOptions = {}): Uint8Array {
  const storages = new Map<string, Storage>();
  const entries: [string, PyValue][] = [];
  let key = 0;
  for (const [name, t] of sd) {
    const floating = t.data instanceof Float32Array;
    const dtype = floating && opts.floatStorage ? opts.floatStorage : t.dtype;
    const storage = String(key++);
    storages.set(storage, { dtype, data: t.data });
    entries.push([name, { tensor: { storage, offset: 0, size: [...t.shape], stride: contiguousStride(t.shape) }, parameter: opts.parameters ?? false }]);
  }
  const stateDict: PyDict = { ordered: true, metadata: true, dict: entries };
  const root: PyValue = opts.wrapper
    ? { dict: [[opts.wrapper, stateDict], ['epoch', 41], ['best_loss', { float: 0.1234 }], ['step', { long: -5n }],
      ['optimizer', { dict: [['state', { dict: [] }], ['param_groups', { list: [{ dict: [['lr', { float: 1e-4 }]] }] }]] }]] }
    : stateDict;
  return torchSave(root, storages);
}
