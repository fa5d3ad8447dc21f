// PyTorch `.pth` reader for the zip layout torch.save has written since 1.6:
//   <archive>/data.pkl      the pickled object (protocol 2), tensors as _rebuild_tensor_v2 calls whose storages are
//                           persistent ids ('storage', <dtype>Storage, key, location, numel)
//   <archive>/data/<key>    raw little-endian storage bytes (stored, not compressed; not necessarily aligned)
//   <archive>/byteorder     'little' (absent in older files, which are always little-endian)
// The checkpoint may be a plain state dict or a training checkpoint {"model": state_dict, "optimizer": ...}.
import { unzipSync } from 'fflate';
import { CheckpointError } from './errors.ts';
import { OpaqueGlobal, OpaqueObject, PickleError, unpickle, type PickleCallable } from './pickle.ts';
import { BYTES_PER_ELEMENT, decodeTensorBytes, numel, type CheckpointDType, type CheckpointTensor } from './tensor.ts';

/** torch's legacy storage class names (still what torch.save pickles) and the dtype each holds. */
export const TORCH_STORAGE_DTYPES: Readonly<Record<string, CheckpointDType>> = Object.freeze({
  FloatStorage: 'F32',
  HalfStorage: 'F16',
  BFloat16Storage: 'BF16',
  DoubleStorage: 'F64',
  LongStorage: 'I64',
  IntStorage: 'I32',
  ShortStorage: 'I16',
  CharStorage: 'I8',
  ByteStorage: 'U8',
  BoolStorage: 'BOOL',
});

/** Top-level keys under which training scripts nest the state dict ([ONE] saves {"model": ...}). */
const STATE_DICT_WRAPPER_KEYS = ['model', 'state_dict'] as const;

class StorageType {
  constructor(readonly className: string, readonly dtype: CheckpointDType) {}
}

class StorageRef {
  constructor(readonly key: string, readonly dtype: CheckpointDType, readonly numel: number) {}
}

/** A tensor as the pickle describes it; its values are read from the storage only if it is part of the state dict. */
class TensorRef {
  constructor(
    readonly storage: StorageRef,
    readonly offset: number,
    readonly size: readonly number[],
    readonly stride: readonly number[],
  ) {}
}

/** Names read from a damaged file may hold control characters: escape them so messages stay one line. */
function shown(text: string): string {
  const escaped = JSON.stringify(text).slice(1, -1);
  return escaped.length > 80 ? `${escaped.slice(0, 77)}...` : escaped;
}

function callable(qualifiedName: string, call: (args: readonly unknown[]) => unknown): PickleCallable {
  return { kind: 'callable', qualifiedName, call };
}

function intList(v: unknown, what: string): number[] {
  if (!Array.isArray(v) || !v.every((d) => typeof d === 'number' && Number.isInteger(d) && d >= 0)) {
    throw new PickleError(`${what} is not a tuple of non-negative integers`);
  }
  return v as number[];
}

function rebuildTensor(name: string) {
  return callable(`torch._utils.${name}`, (args) => {
    const [storage, offset, size, stride] = args;
    if (!(storage instanceof StorageRef)) throw new PickleError(`${name}: first argument is not a tensor storage`);
    if (typeof offset !== 'number' || !Number.isInteger(offset) || offset < 0) {
      throw new PickleError(`${name}: storage offset is not a non-negative integer`);
    }
    const sizes = intList(size, `${name}: size`);
    const strides = intList(stride, `${name}: stride`);
    if (sizes.length !== strides.length) throw new PickleError(`${name}: size and stride have different lengths`);
    return new TensorRef(storage, offset, sizes, strides);
  });
}

/** An nn.Parameter unpickles to its data tensor; requires_grad and hooks do not matter for inference. */
function rebuildParameter(name: string) {
  return callable(`torch._utils.${name}`, (args) => {
    if (!(args[0] instanceof TensorRef)) throw new PickleError(`${name}: data is not a tensor`);
    return args[0];
  });
}

const ORDERED_DICT = callable('collections.OrderedDict', (args) => {
  const d = new Map<unknown, unknown>();
  // OrderedDict([(k, v), ...]) form; torch's own pickles pass () and add items with SETITEMS.
  if (Array.isArray(args[0])) for (const pair of args[0]) if (Array.isArray(pair) && pair.length === 2) d.set(pair[0], pair[1]);
  return d;
});

const TORCH_GLOBALS: ReadonlyMap<string, unknown> = new Map<string, unknown>([
  ['collections.OrderedDict', ORDERED_DICT],
  ['torch._utils._rebuild_tensor_v2', rebuildTensor('_rebuild_tensor_v2')],
  ['torch._utils._rebuild_tensor', rebuildTensor('_rebuild_tensor')],
  ['torch._utils._rebuild_parameter', rebuildParameter('_rebuild_parameter')],
  ['torch._utils._rebuild_parameter_with_state', rebuildParameter('_rebuild_parameter_with_state')],
  ...Object.entries(TORCH_STORAGE_DTYPES).map(([cls, dtype]) => [`torch.${cls}`, new StorageType(cls, dtype)] as const),
]);

function persistentLoad(pid: unknown): StorageRef {
  if (!Array.isArray(pid) || pid[0] !== 'storage' || pid.length < 5) {
    throw new PickleError(`persistent id ${describe(pid)} is not a ('storage', type, key, location, numel) tuple`);
  }
  const [, type, key, , count] = pid;
  if (type instanceof OpaqueGlobal) {
    throw new PickleError(`storage type ${shown(`${type.module}.${type.name}`)} is not supported (expected one of ${Object.keys(TORCH_STORAGE_DTYPES).join(', ')})`);
  }
  if (!(type instanceof StorageType)) throw new PickleError('storage type in a persistent id is not a torch storage class');
  if (typeof key !== 'string') throw new PickleError('storage key in a persistent id is not a string');
  if (typeof count !== 'number' || !Number.isInteger(count) || count < 0) throw new PickleError(`storage ${shown(key)}: numel is not a non-negative integer`);
  return new StorageRef(key, type.dtype, count);
}

function describe(v: unknown): string {
  if (v instanceof OpaqueObject) return `${v.global.module}.${v.global.name}(...)`;
  if (v instanceof OpaqueGlobal) return `${v.module}.${v.name}`;
  if (v instanceof Map) return 'dict';
  if (Array.isArray(v)) return 'tuple/list';
  return typeof v;
}

function holdsTensors(v: unknown): v is Map<unknown, unknown> {
  return v instanceof Map && v.size > 0 && [...v.values()].some((t) => t instanceof TensorRef);
}

/**
 * Picks the state dict out of what data.pkl held: a dict of tensors only is one; otherwise its "model" or
 * "state_dict" entry; failing both, a dict that mixes tensors with other values is taken as a damaged state dict
 * (the caller then names the first entry that is not a tensor).
 */
function selectStateDict(root: unknown, source: string): Map<unknown, unknown> {
  if (root instanceof Map) {
    if (holdsTensors(root) && [...root.values()].every((t) => t instanceof TensorRef)) return root;
    for (const key of STATE_DICT_WRAPPER_KEYS) {
      const inner = root.get(key);
      if (holdsTensors(inner)) return inner;
    }
    if (holdsTensors(root)) return root;
    const keys = [...root.keys()].slice(0, 8).map((k) => shown(String(k)));
    throw new CheckpointError('CHECKPOINT_FORMAT',
      `${source}: no state dict found: the pickled dict has keys [${keys.join(', ')}${root.size > 8 ? ', ...' : ''}] ` +
      `and neither holds tensors itself nor under ${STATE_DICT_WRAPPER_KEYS.map((k) => `"${k}"`).join(' or ')}`);
  }
  throw new CheckpointError('CHECKPOINT_FORMAT',
    `${source}: the pickled object is a ${describe(root)}, not a state dict (save model.state_dict(), not the model)`);
}

/** Gathers a (possibly strided) view out of a decoded storage into a new contiguous array. */
function gatherView(storage: Float32Array | Float64Array, t: TensorRef, name: string, source: string): Float32Array | Float64Array {
  const n = numel(t.size);
  if (n === 0) return storage.slice(0, 0);
  let last = t.offset;
  for (let d = 0; d < t.size.length; d++) last += (t.size[d]! - 1) * t.stride[d]!;
  if (last >= storage.length) {
    throw new CheckpointError('CHECKPOINT_CORRUPT',
      `${source}: tensor ${shown(name)} reaches element ${last} of storage ${shown(t.storage.key)}, which holds ${storage.length}`);
  }
  let contiguous = true;
  for (let d = t.size.length - 1, expect = 1; d >= 0; d--) {
    if (t.size[d]! !== 1 && t.stride[d]! !== expect) contiguous = false;
    expect *= t.size[d]!;
  }
  if (contiguous) return storage.slice(t.offset, t.offset + n);
  // Non-contiguous views (e.g. a transposed weight saved without .contiguous()): walk the index space.
  const out = storage instanceof Float32Array ? new Float32Array(n) : new Float64Array(n);
  const idx = new Array<number>(t.size.length).fill(0);
  let src = t.offset;
  for (let i = 0; i < n; i++) {
    out[i] = storage[src]!;
    for (let d = t.size.length - 1; d >= 0; d--) {
      idx[d]!++;
      src += t.stride[d]!;
      if (idx[d]! < t.size[d]!) break;
      src -= t.size[d]! * t.stride[d]!;
      idx[d] = 0;
    }
  }
  return out;
}

function unzipEntries(file: Uint8Array, wanted: (name: string) => boolean, source: string): Record<string, Uint8Array> {
  try {
    return unzipSync(file, { filter: (f) => wanted(f.name) });
  } catch (err) {
    throw new CheckpointError('CHECKPOINT_CORRUPT', `${source}: zip archive is damaged (${(err as Error).message})`);
  }
}

/** The archive folder: the prefix of its single `data.pkl` (torch names it after the file, or 'archive'). */
function archivePrefix(names: string[], source: string): string {
  const pkls = names.filter((n) => n === 'data.pkl' || n.endsWith('/data.pkl'));
  if (pkls.length === 0) {
    throw new CheckpointError('CHECKPOINT_FORMAT', `${source}: zip archive has no data.pkl: not a PyTorch checkpoint`);
  }
  if (pkls.length > 1) throw new CheckpointError('CHECKPOINT_FORMAT', `${source}: zip archive has ${pkls.length} data.pkl entries`);
  return pkls[0]!.slice(0, -'data.pkl'.length);
}

/** Reads a torch.save zip checkpoint into a state dict (tensor name -> tensor), like readSafetensors. */
export function readPth(file: Uint8Array, source = 'checkpoint'): Map<string, CheckpointTensor> {
  const names: string[] = [];
  unzipEntries(file, (name) => { names.push(name); return false; }, source);
  const prefix = archivePrefix(names, source);

  const meta = unzipEntries(file, (n) => n === `${prefix}data.pkl` || n === `${prefix}byteorder`, source);
  const byteorder = meta[`${prefix}byteorder`];
  if (byteorder && new TextDecoder().decode(byteorder).trim() !== 'little') {
    throw new CheckpointError('CHECKPOINT_FORMAT', `${source}: big-endian checkpoints are not supported`);
  }

  let root: unknown;
  try {
    root = unpickle(meta[`${prefix}data.pkl`]!, {
      resolveGlobal: (module, name) => TORCH_GLOBALS.get(`${module}.${name}`),
      persistentLoad,
    });
  } catch (err) {
    if (err instanceof PickleError) {
      throw new CheckpointError('CHECKPOINT_CORRUPT', `${source}: data.pkl cannot be read: ${err.message}`);
    }
    throw err;
  }

  const stateDict = selectStateDict(root, source);
  const refs: [string, TensorRef][] = [];
  for (const [key, value] of stateDict) {
    if (typeof key !== 'string') throw new CheckpointError('CHECKPOINT_FORMAT', `${source}: state dict has a non-string key ${shown(String(key))}`);
    if (!(value instanceof TensorRef)) {
      throw new CheckpointError('CHECKPOINT_FORMAT', `${source}: state dict entry ${shown(key)} is a ${describe(value)}, not a tensor`);
    }
    refs.push([key, value]);
  }

  // Extract only the storages the state dict uses (a training checkpoint also holds optimizer moments).
  const keys = new Set(refs.map(([, t]) => `${prefix}data/${t.storage.key}`));
  const blobs = unzipEntries(file, (n) => keys.has(n), source);
  const decoded = new Map<string, Float32Array | Float64Array>();
  const out = new Map<string, CheckpointTensor>();
  for (const [name, t] of refs) {
    const s = t.storage;
    let storage = decoded.get(s.key);
    if (!storage) {
      const bytes = blobs[`${prefix}data/${s.key}`];
      if (!bytes) throw new CheckpointError('CHECKPOINT_CORRUPT', `${source}: storage data/${shown(s.key)} of tensor ${shown(name)} is missing from the archive`);
      const expected = s.numel * BYTES_PER_ELEMENT[s.dtype];
      if (bytes.byteLength !== expected) {
        throw new CheckpointError(bytes.byteLength < expected ? 'CHECKPOINT_TRUNCATED' : 'CHECKPOINT_CORRUPT',
          `${source}: storage data/${shown(s.key)} of tensor ${shown(name)} has ${bytes.byteLength} bytes, expected ${expected} (${s.numel} x ${s.dtype})`);
      }
      storage = decodeTensorBytes(s.dtype, [s.numel], bytes).data;
      decoded.set(s.key, storage);
    }
    out.set(name, { dtype: s.dtype, shape: [...t.size], data: gatherView(storage, t, name, source) });
  }
  return out;
}
