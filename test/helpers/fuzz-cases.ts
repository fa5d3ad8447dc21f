// The Segment fuzz: fast-check arbitraries for whole calls (a message sequence and how the client ends it), a
// runner that plays one call against a server over a plain grpc-js client (messages as raw bytes, so undecodable
// ones can be sent too), and the property every call must satisfy. Shared by test/integration/fuzz.test.ts (a
// few hundred cases per `npm test`) and bench/fuzz.ts (>= 10,000 against the demo models).
//
// The property: every call ends with a status in ALLOWED; every non-OK status the server sent carries an
// `onesam-error-code` trailer; never INTERNAL or UNKNOWN; a call the client cancelled ends CANCELLED (or with the
// server's own status if that came first). Whether the server is still SERVING and still answers a known-good
// request is checked by the callers, between and after the cases.
import * as grpc from '@grpc/grpc-js';
import fc from 'fast-check';
import { ERROR_CODE_KEY } from '../../src/errors/grpc-status.ts';
import type { Prompt } from '../../src/generated/onesam/v1/Prompt.ts';
import type { RequestHeader } from '../../src/generated/onesam/v1/RequestHeader.ts';
import type { SegmentRequest } from '../../src/generated/onesam/v1/SegmentRequest.ts';
import { loadSegmentationProto } from '../../src/protocol/proto.ts';
import {
  byteDamage, concat, gzipDamage, hostileDouble, hostileInt, niftiDamage, npzWithHostileNpy, validPayload, zipDamage, type ValidPayload,
} from './fuzz-payloads.ts';

/** How the client ends its side: half-close after the last message, or cancel after message `after` (and a pause). */
export type CallEnd = { readonly kind: 'half-close' } | { readonly kind: 'cancel'; readonly after: number; readonly delayMs: number };

export interface FuzzCase {
  /** What kind of damage the case carries, for the statistics: 'valid', 'header', 'npz-zip', ... */
  readonly family: string;
  /** The SegmentRequest messages as sent (raw bytes: some do not decode on purpose). */
  readonly messages: readonly Uint8Array[];
  readonly end: CallEnd;
  /** An undamaged request: it should end OK (the callers count how many do). */
  readonly valid: boolean;
}

export interface CallOutcome {
  readonly code: grpc.status;
  readonly details: string;
  /** The `onesam-error-code` trailer, when the server sent one. */
  readonly errorCode: string | undefined;
  /** True when the client cancelled before any status arrived (the CANCELLED is then grpc-js's own). */
  readonly clientCancelled: boolean;
  readonly responses: number;
  readonly ms: number;
}

/** Statuses a call may end with. UNKNOWN, INTERNAL, UNAVAILABLE (the server is up) and the rest are failures. */
export const ALLOWED = new Set<grpc.status>([
  grpc.status.OK, grpc.status.INVALID_ARGUMENT, grpc.status.RESOURCE_EXHAUSTED, grpc.status.NOT_FOUND, grpc.status.FAILED_PRECONDITION,
  grpc.status.CANCELLED,
]);

const SEGMENT_PATH = '/onesam.v1.Segmentation/Segment';

let serializer: ((value: SegmentRequest) => Buffer) | undefined;
/** Encodes a SegmentRequest as grpc-js would (proto-loader's serializer: enums by name or any number). */
export function encodeRequest(message: SegmentRequest): Uint8Array {
  serializer ??= (loadSegmentationProto().definition['onesam.v1.Segmentation'] as unknown as Record<string, { requestSerialize(v: unknown): Buffer }>)['Segment']!.requestSerialize;
  return serializer(message);
}

const headerMessage = (header: RequestHeader): Uint8Array => encodeRequest({ header });
const chunkMessage = (data: Uint8Array): Uint8Array => encodeRequest({ chunk: { data } });

// ---- arbitraries ----------------------------------------------------------------------------------------------

const enumOr = <T extends string>(...names: T[]): fc.Arbitrary<T | number> =>
  fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...names) }, { weight: 1, arbitrary: fc.integer({ min: -3, max: 100 }) });

/** Client text: empty, short, unicode, long, control characters, and names the server knows. */
const text = fc.oneof(
  { weight: 2, arbitrary: fc.constant('') },
  { weight: 2, arbitrary: fc.string({ maxLength: 24 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 40 }) },
  { weight: 1, arbitrary: fc.string({ minLength: 120, maxLength: 400 }) },
  { weight: 1, arbitrary: fc.constantFrom('CT', 'mr', 'X-Ray', 'dermoscopy', '\u0000', 'a b', '../../etc/passwd', '%s%n', '\u202e', 'ÄÖÜ') },
);

const hostilePrompt: fc.Arbitrary<Prompt> = fc.record({
  label: hostileInt,
  kind: fc.constantFrom('box2d', 'box3d', 'scribble', 'none'),
  nums: fc.array(hostileDouble, { minLength: 6, maxLength: 6 }),
  ints: fc.array(hostileInt, { minLength: 3, maxLength: 3 }),
  strokes: fc.array(fc.array(fc.record({ x: hostileInt, y: hostileInt, z: hostileInt }), { maxLength: 6 }), { maxLength: 3 }),
}).map(({ label, kind, nums, ints, strokes }): Prompt => {
  const [a, b, c, d, e, f] = nums as [number, number, number, number, number, number];
  switch (kind) {
    case 'box2d': return { label, box2d: { xMin: a, yMin: b, xMax: c, yMax: d, ...(ints[0]! % 2 === 0 ? { z: ints[1]! } : {}) } };
    case 'box3d': return { label, box3d: { xMin: a, yMin: b, zMin: ints[0]!, xMax: e, yMax: f, zMax: ints[2]! } };
    case 'scribble': return { label, scribble: { strokes: strokes.map((points) => ({ points })) } };
    default: return { label };
  }
});

/** Every header field with random enums, huge and negative numbers and random strings. */
export const hostileHeader: fc.Arbitrary<RequestHeader> = fc.record({
  requestId: text,
  modality: text,
  format: enumOr('PAYLOAD_FORMAT_RAW', 'PAYLOAD_FORMAT_NPZ', 'PAYLOAD_FORMAT_NIFTI', 'PAYLOAD_FORMAT_UNSPECIFIED'),
  raw: fc.option(fc.record({
    shape: fc.array(hostileInt, { maxLength: 5 }),
    dtype: enumOr('VOXEL_TYPE_UINT8', 'VOXEL_TYPE_INT16', 'VOXEL_TYPE_UINT16', 'VOXEL_TYPE_FLOAT32', 'VOXEL_TYPE_UNSPECIFIED'),
    spacing: fc.array(hostileDouble, { maxLength: 4 }),
  }), { nil: undefined }),
  intensity: fc.option(fc.oneof(
    fc.constant({ asis: {} }),
    fc.record({ ctWindow: fc.record({ level: hostileDouble, width: hostileDouble }, { requiredKeys: [] }) }),
    fc.record({ percentile: fc.record({ low: hostileDouble, high: hostileDouble }, { requiredKeys: [] }) }),
  ), { nil: undefined }),
  payloadBytes: fc.oneof(hostileInt, fc.constantFrom(2 ** 63, 2 ** 64 - 1, 1e15)),
  prompts: fc.array(hostilePrompt, { maxLength: 4 }),
  network: enumOr('ENSEMBLE_MODE_ROUTE', 'ENSEMBLE_MODE_LITEMEDSAM', 'ENSEMBLE_MODE_ONESAM', 'ENSEMBLE_MODE_FUSE'),
  output: fc.option(fc.record({ format: enumOr('LABEL_FORMAT_RAW', 'LABEL_FORMAT_NPZ', 'LABEL_FORMAT_NIFTI'), gzip: fc.boolean(), forceUint16: fc.boolean() }), { nil: undefined }),
  sessionId: fc.oneof({ weight: 5, arbitrary: fc.constant('') }, { weight: 1, arbitrary: text }, { weight: 1, arbitrary: fc.uuid() }),
  keepSession: fc.boolean(),
}, { requiredKeys: [] }) as fc.Arbitrary<RequestHeader>;

/** One field of a valid header replaced by a hostile value. */
const headerPatch: fc.Arbitrary<(h: RequestHeader, payload: Uint8Array) => RequestHeader> = fc.oneof(
  hostileHeader.chain((hostile) => fc.constantFrom(...(Object.keys(hostile) as (keyof RequestHeader)[]), 'requestId').map((key) => (h: RequestHeader) => ({ ...h, [key]: hostile[key] }))),
  fc.constantFrom(-1, 1, -1000, 1_000_000).map((delta) => (h: RequestHeader, payload: Uint8Array) => ({ ...h, payloadBytes: Math.max(0, payload.length + delta) })),
  fc.uuid().map((sessionId) => (h: RequestHeader) => ({ ...h, sessionId })),
  // A session request (prompts only) naming a session this server never held: a UUID or any client text.
  fc.oneof(fc.uuid(), text).map((sessionId) => (h: RequestHeader) => ({ sessionId, prompts: h.prompts, network: h.network, output: h.output, modality: h.modality })),
);

type PayloadDamage = { family: string; damage: (b: Uint8Array) => Uint8Array };
/** Plain byte damage: flips and overwrites of voxel bytes often leave a readable image, then it is segmented. */
const bytesDamage = (format: ValidPayload['format']): fc.Arbitrary<PayloadDamage> => byteDamage.map((damage) => ({ family: `${format}-bytes`, damage }));

/** Damage to the format's structure: zip records and npy headers, NIfTI header fields and gzip framing. */
function structureDamage(format: ValidPayload['format']): fc.Arbitrary<PayloadDamage> {
  if (format === 'npz') {
    return fc.oneof(
      zipDamage.map((damage) => ({ family: 'npz-zip', damage })),
      npzWithHostileNpy.map((npz) => ({ family: 'npz-npy-header', damage: () => npz })),
    );
  }
  if (format === 'nifti') {
    return fc.oneof(
      niftiDamage.map((damage) => ({ family: 'nifti-header', damage: (b: Uint8Array) => (b[0] === 0x1f ? b : damage(b)) })),
      gzipDamage.map((damage) => ({ family: 'nifti-gzip', damage })),
    );
  }
  // Raw has no structure but its length: cut it or add to it.
  return fc.tuple(fc.integer({ min: 1, max: 64 }), fc.boolean()).map(([n, cut]) => ({
    family: 'raw-length', damage: (b: Uint8Array) => (cut ? b.subarray(0, Math.max(0, b.length - n)) : concat(b, new Uint8Array(n))),
  }));
}

function damagedPayloadCase(damage: (format: ValidPayload['format']) => fc.Arbitrary<PayloadDamage>): fc.Arbitrary<FuzzCase> {
  return fc.tuple(validPayload, chunking).chain(([v, cuts]) => damage(v.format).chain(({ family, damage: apply }) => {
    const payload = apply(v.payload);
    return build(family, headerMessage({ ...v.header, payloadBytes: payload.length }), payload, cuts, false);
  }));
}

type Message = { kind: 'header' | 'chunk' | 'other'; bytes: Uint8Array };

/** Changes to the message sequence: order, sizes, extra or missing chunks, second headers, garbage messages. */
const sequenceDamage: fc.Arbitrary<{ family: string; apply: (m: Message[]) => Message[] }> = fc.oneof(
  fc.nat().map((i) => ({ family: 'seq-drop-chunk', apply: (m: Message[]) => removeAt(m, 1 + (i % Math.max(1, m.length - 1))) })),
  fc.nat().map((i) => ({ family: 'seq-duplicate-chunk', apply: (m: Message[]) => { const j = 1 + (i % Math.max(1, m.length - 1)); return m[j] ? insertAt<Message>(m, j, m[j]!) : m; } })),
  fc.tuple(fc.nat(), fc.uint8Array({ maxLength: 300 })).map(([i, data]) => ({ family: 'seq-extra-chunk', apply: (m: Message[]) => insertAt<Message>(m, 1 + (i % m.length), { kind: 'chunk', bytes: chunkMessage(data) }) })),
  fc.tuple(fc.nat(), hostileHeader).map(([i, h]) => ({ family: 'seq-second-header', apply: (m: Message[]) => insertAt<Message>(m, 1 + (i % m.length), { kind: 'header', bytes: headerMessage(h) }) })),
  fc.nat().map((i) => ({ family: 'seq-empty-message', apply: (m: Message[]) => insertAt<Message>(m, i % (m.length + 1), { kind: 'other', bytes: new Uint8Array(0) }) })),
  fc.tuple(fc.nat(), fc.uint8Array({ minLength: 1, maxLength: 200 })).map(([i, bytes]) => ({ family: 'seq-undecodable-message', apply: (m: Message[]) => insertAt<Message>(m, i % (m.length + 1), { kind: 'other', bytes }) })),
  fc.tuple(fc.nat(), fc.nat()).map(([i, j]) => ({ family: 'seq-swap', apply: (m: Message[]) => swap(m, i % m.length, j % m.length) })),
  fc.constant({ family: 'seq-no-header', apply: (m: Message[]) => m.slice(1) }),
  fc.constant({ family: 'seq-header-only', apply: (m: Message[]) => m.slice(0, 1) }),
  // A protobuf field of the right number and the wrong wire type, or a length past the end.
  fc.tuple(fc.nat(), fc.constantFrom([0x08, 0x01], [0x0a, 0xff, 0xff, 0x03], [0x12, 0x05, 0x0a], [0x0d, 1, 2, 3, 4], [0x0a, 0x02, 0x30, 0xff])).map(([i, bytes]) => ({
    family: 'seq-bad-wire-type', apply: (m: Message[]) => insertAt<Message>(m, i % (m.length + 1), { kind: 'other', bytes: Uint8Array.from(bytes) }),
  })),
);

/** Chunk boundaries: one chunk, random cut points (empty chunks included), or many tiny chunks. */
const chunking = fc.oneof(
  { weight: 3, arbitrary: fc.constant<number[]>([]) },
  { weight: 2, arbitrary: fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 1, maxLength: 6 }) },
  { weight: 1, arbitrary: fc.constant<number[]>([-1]) },
);

function split(payload: Uint8Array, cuts: number[]): Uint8Array[] {
  if (payload.length === 0) return [];
  if (cuts[0] === -1) {
    const size = Math.max(1, Math.ceil(payload.length / 40));
    const parts: Uint8Array[] = [];
    for (let at = 0; at < payload.length; at += size) parts.push(payload.subarray(at, at + size));
    return parts;
  }
  const points = [...new Set(cuts.map((c) => Math.floor(c * payload.length)))].sort((a, b) => a - b);
  const parts: Uint8Array[] = [];
  let last = 0;
  for (const p of [...points, payload.length]) {
    parts.push(payload.subarray(last, p)); // an equal neighbour makes an empty chunk, which is legal
    last = p;
  }
  return parts;
}

const callEnd = (messages: number): fc.Arbitrary<CallEnd> => fc.oneof(
  { weight: 8, arbitrary: fc.constant<CallEnd>({ kind: 'half-close' }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('cancel' as const), after: fc.integer({ min: 0, max: messages }), delayMs: fc.integer({ min: 0, max: 40 }) }) },
);

function build(family: string, header: Uint8Array | undefined, payload: Uint8Array, cuts: number[], valid: boolean, seq?: (m: Message[]) => Message[]): fc.Arbitrary<FuzzCase> {
  let messages: Message[] = [...(header ? [{ kind: 'header' as const, bytes: header }] : []), ...split(payload, cuts).map((c) => ({ kind: 'chunk' as const, bytes: chunkMessage(c) }))];
  if (seq) messages = seq(messages);
  const bytes = messages.map((m) => m.bytes);
  return callEnd(bytes.length).map((end) => tagged({ family: end.kind === 'cancel' ? `${family}+cancel` : family, messages: bytes, end, valid: valid && end.kind === 'half-close' }));
}

const validHeader = (v: ValidPayload): RequestHeader => ({ ...v.header, payloadBytes: v.payload.length });

/** Relative weights of the case families (see fuzzCaseArbitrary). */
export interface FamilyWeights {
  /** Undamaged requests: segmented for real, the expensive cases with the demo models. */
  readonly valid: number;
  /** A valid request with one header field hostile (often still valid: then it is segmented too). */
  readonly headerField: number;
  /** A valid header with a payload damaged in its structure (zip records, npy header, NIfTI fields, gzip, length). */
  readonly payload: number;
  /** A valid header with payload bytes flipped, overwritten, cut or added to. */
  readonly payloadBytes: number;
  /** A valid request with its message sequence changed. */
  readonly sequence: number;
  /** A header with every field random, and random payload bytes. */
  readonly headerRandom: number;
  /** Messages of random bytes. */
  readonly rawMessages: number;
  /** Valid payload bytes under the wrong format name. */
  readonly formatSwap: number;
}

/** The test's mix: about one case in six is an undamaged request, a quarter end OK. */
export const DEFAULT_WEIGHTS: FamilyWeights = Object.freeze({ valid: 3, headerField: 4, payload: 3, payloadBytes: 2, sequence: 3, headerRandom: 2, rawMessages: 1, formatSwap: 1 });

/** A whole Segment call, drawn from the families by weight. */
export function fuzzCaseArbitrary(weights: FamilyWeights = DEFAULT_WEIGHTS): fc.Arbitrary<FuzzCase> {
  return fc.oneof(
    { weight: weights.valid, arbitrary: fc.tuple(validPayload, chunking).chain(([v, cuts]) => build(`valid-${v.format}`, headerMessage(validHeader(v)), v.payload, cuts, true)) },
    { weight: weights.headerField, arbitrary: fc.tuple(validPayload, headerPatch, chunking).chain(([v, patch, cuts]) => build('header-field', headerMessage(patch(validHeader(v), v.payload)), v.payload, cuts, false)) },
    { weight: weights.payload, arbitrary: damagedPayloadCase(structureDamage) },
    { weight: weights.payloadBytes, arbitrary: damagedPayloadCase(bytesDamage) },
    { weight: weights.sequence, arbitrary: fc.tuple(validPayload, chunking, sequenceDamage).chain(([v, cuts, s]) => build(s.family, headerMessage(validHeader(v)), v.payload, cuts, false, s.apply)) },
    { weight: weights.headerRandom, arbitrary: fc.tuple(hostileHeader, fc.uint8Array({ maxLength: 2048 }), chunking).chain(([h, payload, cuts]) => build('header-random', headerMessage(h), payload, cuts, false)) },
    { weight: weights.rawMessages, arbitrary: fc.array(fc.uint8Array({ maxLength: 256 }), { minLength: 1, maxLength: 4 }).chain((raw) => callEnd(raw.length).map((end) => tagged({ family: 'raw-messages', messages: raw, end, valid: false }))) },
    { weight: weights.formatSwap, arbitrary: fc.tuple(validPayload, fc.constantFrom('npz', 'nifti', 'raw')).filter(([v, as]) => v.format !== as).chain(([v, as]) => {
      // The right bytes under the wrong format name: npz sent as NIfTI, NIfTI as raw, and so on.
      const format = as === 'npz' ? 'PAYLOAD_FORMAT_NPZ' : as === 'nifti' ? 'PAYLOAD_FORMAT_NIFTI' : 'PAYLOAD_FORMAT_RAW';
      return build(`format-swap-${v.format}-as-${as}`, headerMessage({ ...validHeader(v), format, ...(as === 'raw' && !v.header.raw ? { raw: { shape: [16, 16], dtype: 'VOXEL_TYPE_UINT8' } } : {}) }), v.payload, [], false);
    }) },
  );
}

export const fuzzCase: fc.Arbitrary<FuzzCase> = fuzzCaseArbitrary();

/** A message larger than the server's receive limit (maxMessageBytes): only for the callers that ask for it. */
export function oversizedMessageCase(limitBytes: number): FuzzCase {
  // An npz header (nothing in it to check against the size) announcing the chunk, then the chunk in one message.
  return tagged({ family: 'oversized-message', messages: [headerMessage({ format: 'PAYLOAD_FORMAT_NPZ', payloadBytes: limitBytes + 64 }), chunkMessage(new Uint8Array(limitBytes + 64))], end: { kind: 'half-close' }, valid: false });
}

/** fast-check prints a failing case through this: family, end and messages as base64, enough to replay it. */
function tagged(c: FuzzCase): FuzzCase {
  return Object.assign(c, {
    [fc.toStringMethod]: () => JSON.stringify({ family: c.family, end: c.end, messages: c.messages.map((m) => (m.length > 512 ? `${Buffer.from(m.subarray(0, 512)).toString('base64')}...(${m.length} bytes)` : Buffer.from(m).toString('base64'))) }),
  });
}

function insertAt<T>(list: T[], i: number, item: T): T[] {
  return [...list.slice(0, i), item, ...list.slice(i)];
}
function removeAt<T>(list: T[], i: number): T[] {
  return list.length <= 1 ? list : [...list.slice(0, i), ...list.slice(i + 1)];
}
function swap<T>(list: T[], i: number, j: number): T[] {
  const out = [...list];
  [out[i], out[j]] = [out[j]!, out[i]!];
  return out;
}

// ---- running a case -------------------------------------------------------------------------------------------

/** A raw client for the Segment method: messages go out as the bytes given, responses are not decoded. */
export function rawSegmentClient(address: string): grpc.Client {
  return new grpc.Client(address, grpc.credentials.createInsecure(), { 'grpc.max_receive_message_length': 64 * 1024 * 1024 });
}

export function runCase(client: grpc.Client, c: FuzzCase, options: { readonly timeoutMs: number; readonly metadata?: grpc.Metadata }): Promise<CallOutcome> {
  const started = performance.now();
  const identity = (b: Buffer): Buffer => b;
  const call = client.makeBidiStreamRequest<Buffer, Buffer>(SEGMENT_PATH, identity, identity, options.metadata ?? new grpc.Metadata(), { deadline: Date.now() + options.timeoutMs });
  let responses = 0;
  let cancelledByUs = false;
  let ended = false;
  return new Promise<CallOutcome>((resolve) => {
    call.on('data', () => responses++);
    call.on('error', () => undefined);
    call.on('status', (status: grpc.StatusObject) => {
      ended = true;
      const trailer = status.metadata.get(ERROR_CODE_KEY)[0];
      resolve({
        code: status.code, details: status.details, errorCode: trailer === undefined ? undefined : String(trailer),
        clientCancelled: cancelledByUs && status.code === grpc.status.CANCELLED && trailer === undefined, responses, ms: performance.now() - started,
      });
    });
    void (async () => {
      for (let i = 0; i < c.messages.length && !ended; i++) {
        if (c.end.kind === 'cancel' && i === c.end.after) break;
        if (!call.write(Buffer.from(c.messages[i]!.buffer, c.messages[i]!.byteOffset, c.messages[i]!.byteLength))) await drained(call);
      }
      if (ended) return;
      if (c.end.kind === 'cancel') {
        await new Promise((r) => setTimeout(r, (c.end as { delayMs: number }).delayMs));
        if (ended) return;
        cancelledByUs = true;
        call.cancel();
      } else {
        call.end();
      }
    })();
  });
}

function drained(call: grpc.ClientDuplexStream<Buffer, Buffer>): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      for (const e of ['drain', 'status', 'error', 'close']) call.off(e, done);
      resolve();
    };
    for (const e of ['drain', 'status', 'error', 'close']) call.on(e, done);
  });
}

/** Why an outcome breaks the property, or undefined when it holds. */
export function violation(c: FuzzCase, o: CallOutcome): string | undefined {
  const name = grpc.status[o.code] ?? String(o.code);
  if (o.code === grpc.status.INTERNAL || o.code === grpc.status.UNKNOWN) return `${name} (${o.errorCode ?? 'no trailer'}): ${o.details}`;
  if (!ALLOWED.has(o.code)) return `status ${name} is not allowed (${o.errorCode ?? 'no trailer'}): ${o.details}`;
  if (o.code === grpc.status.CANCELLED && !o.clientCancelled) {
    return c.end.kind === 'cancel' && o.errorCode === undefined ? undefined : `CANCELLED that the client did not ask for: ${o.details}`;
  }
  if (o.code !== grpc.status.OK && o.code !== grpc.status.CANCELLED && o.errorCode === undefined) return `${name} without an ${ERROR_CODE_KEY} trailer: ${o.details}`;
  return undefined;
}

/** A known-good request (2D raw, one box), for "the server still serves" checks. */
export function knownGoodCase(): FuzzCase {
  const payload = new Uint8Array(32 * 32).map((_, i) => (i * 5) & 0xff);
  const header: RequestHeader = { requestId: 'fuzz-known-good', format: 'PAYLOAD_FORMAT_RAW', raw: { shape: [32, 32], dtype: 'VOXEL_TYPE_UINT8' }, payloadBytes: payload.length, prompts: [{ label: 1, box2d: { xMin: 4, yMin: 4, xMax: 20, yMax: 24 } }] };
  return tagged({ family: 'known-good', messages: [headerMessage(header), chunkMessage(payload)], end: { kind: 'half-close' }, valid: true });
}

/** Tallies outcomes: statuses by name and error code, per family, OK valid requests. */
export class FuzzTally {
  readonly byStatus = new Map<string, number>();
  readonly byCode = new Map<string, number>();
  readonly byFamily = new Map<string, number>();
  readonly violations: { family: string; why: string; replay: string }[] = [];
  cases = 0;
  validOk = 0;
  valid = 0;

  add(c: FuzzCase, o: CallOutcome): string | undefined {
    this.cases++;
    const status = grpc.status[o.code] ?? String(o.code);
    bump(this.byStatus, o.clientCancelled ? 'CANCELLED (by the client)' : status);
    bump(this.byCode, o.errorCode ?? (o.code === grpc.status.OK ? 'OK' : o.clientCancelled ? '(client cancel)' : '(no trailer)'));
    bump(this.byFamily, c.family.replace(/\+cancel$/, ''));
    if (c.valid) {
      this.valid++;
      if (o.code === grpc.status.OK) this.validOk++;
    }
    const why = violation(c, o);
    if (why) this.violations.push({ family: c.family, why, replay: String((c as unknown as Record<symbol, () => string>)[fc.toStringMethod]?.()) });
    return why;
  }
}

function bump(map: Map<string, number>, key: string): void {
  map.set(key, (map.get(key) ?? 0) + 1);
}

export { concat };
