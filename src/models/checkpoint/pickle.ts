// A small, non-executing pickle virtual machine for the opcodes torch.save emits (protocol 2, plus the few
// protocol 3-5 opcodes newer pickles use). Nothing named in a pickle is ever imported or run: GLOBAL only
// resolves through the caller's allow-list, and everything else becomes an inert OpaqueObject.
//
// Why not the npm `pickleparser`: it reads LONG1 as unsigned (negative longs come out wrong), returns
// `undefined` for a missing memo entry instead of failing, builds plain-object dicts (a `__proto__` key
// reaches the prototype) and throws untyped errors from deep inside; a checkpoint reader needs the opposite.

/** A value produced by GLOBAL that the caller did not allow: kept as its name, never resolved. */
export class OpaqueGlobal {
  constructor(readonly module: string, readonly name: string) {}
}

/** The result of calling an OpaqueGlobal (REDUCE / NEWOBJ), with the BUILD state if any. */
export class OpaqueObject {
  state: unknown = undefined;
  constructor(readonly global: OpaqueGlobal, readonly args: readonly unknown[]) {}
}

/** A callable the caller allows GLOBAL to resolve to (e.g. torch._utils._rebuild_tensor_v2). */
export interface PickleCallable {
  readonly kind: 'callable';
  readonly qualifiedName: string;
  call(args: readonly unknown[]): unknown;
}

export interface UnpickleOptions {
  /** Returns the value GLOBAL `module.name` stands for, or undefined to keep it opaque. */
  resolveGlobal(module: string, name: string): unknown;
  /** BINPERSID: maps a persistent id to the object it names. */
  persistentLoad(pid: unknown): unknown;
}

export class PickleError extends Error {
  /** `offset` is the opcode's byte position; callables throw without one and the VM adds it. */
  constructor(readonly reason: string, readonly offset?: number) {
    super(offset === undefined ? reason : `${reason} (at byte ${offset})`);
    this.name = 'PickleError';
  }
}

/** Dict-like objects (dict, OrderedDict) unpickle to Map; lists and tuples to arrays. */
export type PickleDict = Map<unknown, unknown>;

const MAX_MARK_DEPTH = 10_000;

const enum Op {
  MARK = 0x28, STOP = 0x2e, POP = 0x30, POP_MARK = 0x31, DUP = 0x32,
  BININT = 0x4a, BININT1 = 0x4b, BININT2 = 0x4d, NONE = 0x4e, BINPERSID = 0x51, REDUCE = 0x52,
  BINSTRING = 0x54, SHORT_BINSTRING = 0x55, BINUNICODE = 0x58, BINBYTES = 0x42, SHORT_BINBYTES = 0x43,
  BINFLOAT = 0x47, EMPTY_LIST = 0x5d, APPEND = 0x61, BUILD = 0x62, GLOBAL = 0x63, DICT = 0x64, APPENDS = 0x65,
  BINGET = 0x68, LONG_BINGET = 0x6a, LIST = 0x6c, BINPUT = 0x71, LONG_BINPUT = 0x72, SETITEM = 0x73,
  TUPLE = 0x74, SETITEMS = 0x75, EMPTY_DICT = 0x7d, EMPTY_TUPLE = 0x29,
  PROTO = 0x80, NEWOBJ = 0x81, TUPLE1 = 0x85, TUPLE2 = 0x86, TUPLE3 = 0x87, NEWTRUE = 0x88, NEWFALSE = 0x89,
  LONG1 = 0x8a, LONG4 = 0x8b, SHORT_BINUNICODE = 0x8c, BINUNICODE8 = 0x8d, BINBYTES8 = 0x8e,
  EMPTY_SET = 0x8f, ADDITEMS = 0x90, FROZENSET = 0x91, STACK_GLOBAL = 0x93, MEMOIZE = 0x94, FRAME = 0x95,
}

class Reader {
  pos = 0;
  private readonly view: DataView;
  constructor(readonly bytes: Uint8Array) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
  need(n: number): number {
    const at = this.pos;
    if (n < 0 || at + n > this.bytes.byteLength) {
      throw new PickleError(`pickle ends after ${this.bytes.byteLength} bytes while ${n} more were expected`, at);
    }
    this.pos += n;
    return at;
  }
  u8(): number { return this.bytes[this.need(1)]!; }
  u16(): number { return this.view.getUint16(this.need(2), true); }
  i32(): number { return this.view.getInt32(this.need(4), true); }
  u32(): number { return this.view.getUint32(this.need(4), true); }
  u64(): number {
    const at = this.need(8);
    const v = this.view.getBigUint64(at, true);
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new PickleError(`length ${v} is too large`, at);
    return Number(v);
  }
  f64be(): number { return this.view.getFloat64(this.need(8), false); }
  take(n: number): Uint8Array { const at = this.need(n); return this.bytes.subarray(at, at + n); }
  utf8(n: number): string { return new TextDecoder('utf-8', { fatal: false }).decode(this.take(n)); }
  line(): string {
    const start = this.pos;
    const end = this.bytes.indexOf(0x0a, start);
    if (end < 0) throw new PickleError('pickle ends inside a text line', start);
    this.pos = end + 1;
    return new TextDecoder('latin1').decode(this.bytes.subarray(start, end));
  }
}

/** Python's two's-complement little-endian long (LONG1/LONG4); a number when it fits exactly, else a bigint. */
function decodeLong(bytes: Uint8Array): number | bigint {
  if (bytes.length === 0) return 0;
  let v = 0n;
  for (let i = bytes.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(bytes[i]!);
  if (bytes[bytes.length - 1]! & 0x80) v -= 1n << BigInt(8 * bytes.length);
  return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
}

function isCallable(v: unknown): v is PickleCallable {
  return typeof v === 'object' && v !== null && (v as PickleCallable).kind === 'callable';
}

/** Runs the pickle program in `bytes` and returns the object STOP leaves on the stack. */
export function unpickle(bytes: Uint8Array, opts: UnpickleOptions): unknown {
  const r = new Reader(bytes);
  let stack: unknown[] = [];
  const marks: unknown[][] = [];
  const memo = new Map<number, unknown>();
  let opAt = 0;

  const fail = (message: string): never => { throw new PickleError(message, opAt); };
  const pop = (): unknown => (stack.length > 0 ? stack.pop() : fail('stack underflow'));
  const top = (): unknown => (stack.length > 0 ? stack[stack.length - 1] : fail('stack underflow'));
  const popMark = (): unknown[] => {
    const items = stack;
    const outer = marks.pop();
    if (!outer) fail('no MARK for an opcode that needs one');
    stack = outer!;
    return items;
  };
  const memoGet = (i: number): unknown => (memo.has(i) ? memo.get(i) : fail(`memo entry ${i} was never stored`));
  const asDict = (v: unknown): PickleDict => (v instanceof Map ? v : fail('SETITEM(S) target is not a dict'));
  const asList = (v: unknown): unknown[] => (Array.isArray(v) ? v : fail('APPEND(S) target is not a list'));
  const asArgs = (v: unknown): unknown[] => (Array.isArray(v) ? v : fail('call arguments are not a tuple'));
  const atOpcode = <T>(f: () => T): T => {
    try {
      return f();
    } catch (err) {
      if (err instanceof PickleError && err.offset === undefined) throw new PickleError(err.reason, opAt);
      throw err;
    }
  };
  const callGlobal = (fn: unknown, args: unknown[]): unknown => {
    if (isCallable(fn)) return atOpcode(() => fn.call(args));
    if (fn instanceof OpaqueGlobal) return new OpaqueObject(fn, args);
    return fail('REDUCE/NEWOBJ on a value that is not a class or function');
  };
  const global = (module: string, name: string): unknown => opts.resolveGlobal(module, name) ?? new OpaqueGlobal(module, name);

  for (;;) {
    opAt = r.pos;
    const op = r.u8();
    switch (op) {
      case Op.PROTO: {
        const v = r.u8();
        if (v > 5) fail(`unsupported pickle protocol ${v}`);
        break;
      }
      case Op.FRAME: r.take(8); break;
      case Op.STOP: {
        const result = pop();
        if (stack.length !== 0 || marks.length !== 0) fail('STOP with values left on the stack');
        return result;
      }
      case Op.MARK:
        if (marks.length >= MAX_MARK_DEPTH) fail('MARKs nested too deeply');
        marks.push(stack);
        stack = [];
        break;
      case Op.POP: pop(); break;
      case Op.POP_MARK: popMark(); break;
      case Op.DUP: stack.push(top()); break;

      case Op.NONE: stack.push(null); break;
      case Op.NEWTRUE: stack.push(true); break;
      case Op.NEWFALSE: stack.push(false); break;
      case Op.BININT: stack.push(r.i32()); break;
      case Op.BININT1: stack.push(r.u8()); break;
      case Op.BININT2: stack.push(r.u16()); break;
      case Op.LONG1: stack.push(decodeLong(r.take(r.u8()))); break;
      case Op.LONG4: {
        const n = r.i32();
        if (n < 0) fail('negative LONG4 length');
        stack.push(decodeLong(r.take(n)));
        break;
      }
      case Op.BINFLOAT: stack.push(r.f64be()); break;

      case Op.BINUNICODE: stack.push(r.utf8(r.u32())); break;
      case Op.SHORT_BINUNICODE: stack.push(r.utf8(r.u8())); break;
      case Op.BINUNICODE8: stack.push(r.utf8(r.u64())); break;
      // Python 2 str: bytes, which torch's legacy pickles only use for ASCII names.
      case Op.BINSTRING: stack.push(new TextDecoder('latin1').decode(r.take(r.i32()))); break;
      case Op.SHORT_BINSTRING: stack.push(new TextDecoder('latin1').decode(r.take(r.u8()))); break;
      case Op.BINBYTES: stack.push(r.take(r.u32())); break;
      case Op.SHORT_BINBYTES: stack.push(r.take(r.u8())); break;
      case Op.BINBYTES8: stack.push(r.take(r.u64())); break;

      case Op.EMPTY_TUPLE: stack.push([]); break;
      case Op.TUPLE: { const items = popMark(); stack.push(items); break; }
      case Op.TUPLE1: { const a = pop(); stack.push([a]); break; }
      case Op.TUPLE2: { const b = pop(); const a = pop(); stack.push([a, b]); break; }
      case Op.TUPLE3: { const c = pop(); const b = pop(); const a = pop(); stack.push([a, b, c]); break; }
      case Op.EMPTY_LIST: stack.push([]); break;
      case Op.LIST: { const items = popMark(); stack.push(items); break; }
      case Op.APPEND: { const v = pop(); asList(top()).push(v); break; }
      case Op.APPENDS: { const items = popMark(); asList(top()).push(...items); break; }
      case Op.EMPTY_DICT: stack.push(new Map()); break;
      case Op.DICT: {
        const items = popMark();
        if (items.length % 2) fail('DICT with an odd number of items');
        const d: PickleDict = new Map();
        for (let i = 0; i < items.length; i += 2) d.set(items[i], items[i + 1]);
        stack.push(d);
        break;
      }
      case Op.SETITEM: { const v = pop(); const k = pop(); asDict(top()).set(k, v); break; }
      case Op.SETITEMS: {
        const items = popMark();
        if (items.length % 2) fail('SETITEMS with an odd number of items');
        const d = asDict(top());
        for (let i = 0; i < items.length; i += 2) d.set(items[i], items[i + 1]);
        break;
      }
      // Sets carry no tensors; they unpickle to arrays so that nothing is lost.
      case Op.EMPTY_SET: stack.push([]); break;
      case Op.ADDITEMS: { const items = popMark(); asList(top()).push(...items); break; }
      case Op.FROZENSET: { const items = popMark(); stack.push(items); break; }

      case Op.BINPUT: memo.set(r.u8(), top()); break;
      case Op.LONG_BINPUT: memo.set(r.u32(), top()); break;
      case Op.MEMOIZE: memo.set(memo.size, top()); break;
      case Op.BINGET: stack.push(memoGet(r.u8())); break;
      case Op.LONG_BINGET: stack.push(memoGet(r.u32())); break;

      case Op.GLOBAL: { const module = r.line(); const name = r.line(); stack.push(global(module, name)); break; }
      case Op.STACK_GLOBAL: {
        const name = pop();
        const module = pop();
        if (typeof module !== 'string' || typeof name !== 'string') fail('STACK_GLOBAL needs two strings');
        stack.push(global(module as string, name as string));
        break;
      }
      case Op.REDUCE: { const args = asArgs(pop()); const fn = pop(); stack.push(callGlobal(fn, args)); break; }
      case Op.NEWOBJ: { const args = asArgs(pop()); const cls = pop(); stack.push(callGlobal(cls, args)); break; }
      case Op.BUILD: {
        const state = pop();
        const target = top();
        // An OrderedDict's BUILD state is its instance __dict__ (a state dict's `_metadata`): not tensors.
        if (target instanceof OpaqueObject) target.state = state;
        break;
      }
      case Op.BINPERSID: { const pid = pop(); stack.push(atOpcode(() => opts.persistentLoad(pid))); break; }

      default:
        fail(`unsupported pickle opcode 0x${op.toString(16).padStart(2, '0')}`);
    }
  }
}
