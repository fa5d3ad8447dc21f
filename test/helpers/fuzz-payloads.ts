// Payload generators for the fuzz test and bench/fuzz.ts: small valid images in each format (raw, npz, NIfTI) with
// prompts inside them, and mutations that break each format where its readers make decisions: zip records and
// sizes, .npy header text, NIfTI header fields, gzip framing, plain byte damage. Images stay tiny (at most
// 3 x 48 x 48) so that a valid request costs one to three encoder runs with the real demo models.
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { zipSync } from 'fflate';
import type { Prompt } from '../../src/generated/onesam/v1/Prompt.ts';
import type { RequestHeader } from '../../src/generated/onesam/v1/RequestHeader.ts';
import type { NdArray } from '../../src/volume/npy.ts';
import { writeNpz } from '../../src/volume/npz.ts';
import { buildNifti, NIFTI_FIELDS } from './nifti-builder.ts';

/** An image shape the pipeline accepts: a 2D grey or RGB image, or a small volume. */
export interface ImageSpec {
  readonly depth: number;
  readonly height: number;
  readonly width: number;
  readonly rgb: boolean;
  /** Voxel content seed (content does not change the cost, only what the networks see). */
  readonly seed: number;
}

/** A valid request's header (without payload_bytes) and payload. */
export interface ValidPayload {
  readonly format: 'raw' | 'npz' | 'nifti';
  readonly header: Omit<RequestHeader, 'payloadBytes'>;
  readonly payload: Uint8Array;
}

export const imageSpec: fc.Arbitrary<ImageSpec> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ depth: fc.constant(1), height: fc.integer({ min: 8, max: 48 }), width: fc.integer({ min: 8, max: 48 }), rgb: fc.boolean(), seed: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ depth: fc.integer({ min: 2, max: 3 }), height: fc.integer({ min: 8, max: 32 }), width: fc.integer({ min: 8, max: 32 }), rgb: fc.constant(false), seed: fc.nat() }) },
);

export function imageBytes(spec: ImageSpec): Uint8Array {
  const n = spec.depth * spec.height * spec.width * (spec.rgb ? 3 : 1);
  const out = new Uint8Array(n);
  let x = spec.seed | 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13; x ^= x >>> 17; x ^= x << 5; // xorshift: cheap noise, different per seed
    out[i] = ((i * 3) & 0x7f) + (x & 0x3f);
  }
  return out;
}

/** A box or scribble inside the image; 3D images get a 3D box (or a box on one slice). */
export function promptIn(spec: ImageSpec): fc.Arbitrary<Prompt> {
  const x = fc.integer({ min: 0, max: spec.width - 2 }).chain((x0) => fc.tuple(fc.constant(x0), fc.integer({ min: x0 + 1, max: spec.width })));
  const y = fc.integer({ min: 0, max: spec.height - 2 }).chain((y0) => fc.tuple(fc.constant(y0), fc.integer({ min: y0 + 1, max: spec.height })));
  const label = fc.oneof({ weight: 8, arbitrary: fc.integer({ min: 1, max: 255 }) }, { weight: 1, arbitrary: fc.integer({ min: 256, max: 65_535 }) });
  const z = fc.integer({ min: 0, max: spec.depth - 1 });
  const box2d = fc.tuple(label, x, y, z).map(([l, [x0, x1], [y0, y1], zz]): Prompt => ({ label: l, box2d: { xMin: x0, yMin: y0, xMax: x1, yMax: y1, ...(spec.depth > 1 || zz > 0 ? { z: zz } : {}) } }));
  const point = fc.record({ x: fc.integer({ min: 0, max: spec.width - 1 }), y: fc.integer({ min: 0, max: spec.height - 1 }) });
  const scribble = fc.tuple(label, z, fc.array(fc.array(point, { minLength: 1, maxLength: 4 }), { minLength: 1, maxLength: 2 }))
    .map(([l, zz, strokes]): Prompt => ({ label: l, scribble: { strokes: strokes.map((s) => ({ points: s.map((p) => ({ ...p, z: zz })) })) } }));
  if (spec.depth === 1) return fc.oneof({ weight: 4, arbitrary: box2d }, { weight: 1, arbitrary: scribble });
  const zRange = fc.integer({ min: 0, max: spec.depth - 2 }).chain((z0) => fc.tuple(fc.constant(z0), fc.integer({ min: z0 + 1, max: spec.depth - 1 })));
  const box3d = fc.tuple(label, x, y, zRange).map(([l, [x0, x1], [y0, y1], [z0, z1]]): Prompt => ({ label: l, box3d: { xMin: x0, yMin: y0, zMin: z0, xMax: x1, yMax: y1, zMax: z1 } }));
  return fc.oneof({ weight: 3, arbitrary: box3d }, { weight: 1, arbitrary: box2d });
}

const outputOptions = fc.record({
  format: fc.constantFrom('LABEL_FORMAT_RAW', 'LABEL_FORMAT_NPZ', 'LABEL_FORMAT_NIFTI', 'LABEL_FORMAT_UNSPECIFIED'),
  gzip: fc.boolean(),
  forceUint16: fc.boolean(),
});
/** FUSE runs both networks: twice the cost, so rarer. */
const network = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom('ENSEMBLE_MODE_ROUTE', 'ENSEMBLE_MODE_UNSPECIFIED', 'ENSEMBLE_MODE_LITEMEDSAM', 'ENSEMBLE_MODE_ONESAM') },
  { weight: 1, arbitrary: fc.constant('ENSEMBLE_MODE_FUSE') },
);
const modality = fc.constantFrom('', 'CT', 'MR', 'PET', 'US', 'X-Ray', 'dermoscopy', 'Endo', 'Fundus', 'Microscopy', 'OCT', 'Mammography');

/** A complete valid request on a tiny image, in one of the three formats. */
export const validPayload: fc.Arbitrary<ValidPayload> = imageSpec.chain((spec) => {
  const prompts = fc.array(promptIn(spec), { minLength: 1, maxLength: 2 });
  const common = fc.record({ prompts, network, output: outputOptions, modality, keepSession: fc.boolean().map((b) => b && spec.seed % 4 === 0) });
  const formats: fc.Arbitrary<ValidPayload>[] = [
    fc.tuple(common, fc.constantFrom('uint8', 'int16', 'float32')).map(([c, dtype]) => rawPayload(spec, c, dtype)),
    fc.tuple(common, fc.boolean(), fc.boolean()).map(([c, fileBoxes, compress]) => npzPayload(spec, c, fileBoxes, compress)),
  ];
  if (!spec.rgb) formats.push(fc.tuple(common, fc.constantFrom(1, 2) as fc.Arbitrary<1 | 2>, fc.boolean(), fc.boolean()).map(([c, v, le, gz]) => niftiPayload(spec, c, v, le, gz)));
  return fc.oneof(...formats);
});

type Common = { prompts: Prompt[]; network: string; output: { format: string; gzip: boolean; forceUint16: boolean }; modality: string; keepSession: boolean };

function headerOf(c: Common, rest: Partial<RequestHeader>): Omit<RequestHeader, 'payloadBytes'> {
  return { prompts: c.prompts, network: c.network as never, output: c.output as never, modality: c.modality, keepSession: c.keepSession, ...rest };
}

function shapeOf(spec: ImageSpec): number[] {
  return spec.rgb ? [spec.height, spec.width, 3] : spec.depth > 1 ? [spec.depth, spec.height, spec.width] : [spec.height, spec.width];
}

function rawPayload(spec: ImageSpec, c: Common, dtype: 'uint8' | 'int16' | 'float32'): ValidPayload {
  const bytes = imageBytes(spec);
  if (dtype === 'uint8' || spec.rgb) {
    return { format: 'raw', header: headerOf(c, { format: 'PAYLOAD_FORMAT_RAW', raw: { shape: shapeOf(spec), dtype: 'VOXEL_TYPE_UINT8' } }), payload: bytes };
  }
  // Wider types need an intensity preparation: a CT window or percentiles (asis refuses values outside 0..255).
  const wide = dtype === 'int16' ? Int16Array.from(bytes, (v) => v * 8 - 1000) : Float32Array.from(bytes, (v) => v / 7 - 3);
  const intensity = dtype === 'int16' ? { ctWindow: {} } : { percentile: { low: 1, high: 99 } };
  return {
    format: 'raw',
    header: headerOf(c, { format: 'PAYLOAD_FORMAT_RAW', raw: { shape: shapeOf(spec), dtype: dtype === 'int16' ? 'VOXEL_TYPE_INT16' : 'VOXEL_TYPE_FLOAT32', spacing: [2, 0.7, 0.7] }, intensity }),
    payload: new Uint8Array(wide.buffer),
  };
}

function npzPayload(spec: ImageSpec, c: Common, fileBoxes: boolean, compress: boolean): ValidPayload {
  const arrays = new Map<string, NdArray>([['imgs', { dtype: 'uint8', shape: shapeOf(spec), data: imageBytes(spec) }]]);
  // Boxes in the file (the challenge layout) instead of header prompts: 2D (N, 4) or 3D (N, 6), int64.
  const boxes = c.prompts.flatMap((p) => (spec.depth === 1 && p.box2d ? [[p.box2d.xMin, p.box2d.yMin, p.box2d.xMax, p.box2d.yMax]] : p.box3d ? [[p.box3d.xMin, p.box3d.yMin, p.box3d.zMin, p.box3d.xMax, p.box3d.yMax, p.box3d.zMax]] : []));
  const useFile = fileBoxes && boxes.length > 0 && boxes.every((b) => b.length === boxes[0]!.length);
  if (useFile) arrays.set('boxes', { dtype: 'int64', shape: [boxes.length, boxes[0]!.length], data: BigInt64Array.from(boxes.flat().map((v) => BigInt(v as number))) });
  if (spec.depth > 1) arrays.set('spacing', { dtype: 'float64', shape: [3], data: Float64Array.of(2.5, 0.8, 0.8) });
  return { format: 'npz', header: headerOf(useFile ? { ...c, prompts: [] } : c, { format: 'PAYLOAD_FORMAT_NPZ' }), payload: writeNpz(arrays, { compress }) };
}

function niftiPayload(spec: ImageSpec, c: Common, version: 1 | 2, littleEndian: boolean, gzip: boolean): ValidPayload {
  const bytes = imageBytes(spec);
  const file = buildNifti({ version, littleEndian, size: [spec.width, spec.height, spec.depth], withAffine: spec.seed % 2 === 0, descrip: 'fuzz', voxel: (i) => bytes[i]! });
  return { format: 'nifti', header: headerOf(c, { format: 'PAYLOAD_FORMAT_NIFTI' }), payload: gzip ? new Uint8Array(gzipSync(file)) : file };
}

// ---- mutations ------------------------------------------------------------------------------------------------

/** Numbers readers trip on: zero, signs, type limits, NaN and infinities. */
export const hostileInt = fc.oneof(
  { weight: 3, arbitrary: fc.integer({ min: -4, max: 70 }) },
  { weight: 2, arbitrary: fc.constantFrom(0, -1, 1, 255, 256, 32_767, -32_768, 65_535, 2 ** 31 - 1, -(2 ** 31), 2 ** 32 - 1, 2 ** 53) },
);
export const hostileDouble = fc.oneof(
  { weight: 3, arbitrary: fc.double({ min: -100, max: 100, noNaN: true }) },
  { weight: 2, arbitrary: fc.constantFrom(NaN, Infinity, -Infinity, -0, 1e308, -1e308, 5e-324, 2 ** 53) },
  { weight: 1, arbitrary: fc.double() },
);

/** Generic byte damage: flips, truncation, appended or inserted garbage, a range overwritten. */
export const byteDamage: fc.Arbitrary<(b: Uint8Array) => Uint8Array> = fc.oneof(
  fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 8 }).map((flips) => (b: Uint8Array) => {
    const out = b.slice();
    for (const [at, v] of flips) if (out.length > 0) out[at % out.length] = v;
    return out;
  }),
  fc.double({ min: 0, max: 1, noNaN: true }).map((f) => (b: Uint8Array) => b.slice(0, Math.floor(b.length * f))),
  fc.uint8Array({ minLength: 1, maxLength: 64 }).map((g) => (b: Uint8Array) => concat(b, g)),
  fc.tuple(fc.nat(), fc.uint8Array({ minLength: 1, maxLength: 32 })).map(([at, g]) => (b: Uint8Array) => {
    const i = b.length ? at % b.length : 0;
    return concat(b.subarray(0, i), g, b.subarray(i));
  }),
  fc.tuple(fc.nat(), fc.integer({ min: 1, max: 64 }), fc.constantFrom(0x00, 0xff, 0x7f)).map(([at, n, v]) => (b: Uint8Array) => {
    const out = b.slice();
    if (out.length) out.fill(v, at % out.length, (at % out.length) + n);
    return out;
  }),
);

const LFH = 0x04034b50;
const CDH = 0x02014b50;
const EOCD = 0x06054b50;

/**
 * A zip field set to a hostile value: in a local header or a central directory entry the method, the sizes, the
 * name length, the extra length or the data offset; in the end record the entry counts, the directory size or
 * offset, or the comment length.
 */
export const zipDamage: fc.Arbitrary<(b: Uint8Array) => Uint8Array> = fc
  .tuple(fc.constantFrom('lfh', 'cdh', 'eocd'), fc.nat(), fc.integer({ min: 0, max: 7 }), fc.constantFrom(0, 1, 8, 99, 0xffff, 0xffffffff, 0x7fffffff, 0x40000000, 12, 30))
  .map(([record, nth, field, value]) => (b: Uint8Array) => {
    const out = b.slice();
    const view = new DataView(out.buffer);
    const sig = record === 'lfh' ? LFH : record === 'cdh' ? CDH : EOCD;
    const places: number[] = [];
    for (let i = 0; i + 4 <= out.length; i++) if (view.getUint32(i, true) === sig) places.push(i);
    if (places.length === 0) return out;
    const at = places[nth % places.length]!;
    // [offset, width] of the fields a reader decides on, per record (APPNOTE.TXT 4.3.7, 4.3.12, 4.3.16).
    const fields: Record<string, [number, 2 | 4][]> = {
      lfh: [[8, 2], [14, 4], [18, 4], [22, 4], [26, 2], [28, 2], [6, 2], [4, 2]],
      cdh: [[10, 2], [16, 4], [20, 4], [24, 4], [28, 2], [30, 2], [42, 4], [32, 2]],
      eocd: [[8, 2], [10, 2], [12, 4], [16, 4], [20, 2], [4, 2], [6, 2], [10, 2]],
    };
    const [offset, width] = fields[record]![field]!;
    if (at + offset + width > out.length) return out;
    if (width === 2) view.setUint16(at + offset, value & 0xffff, true);
    else view.setUint32(at + offset, value >>> 0, true);
    return out;
  });

/** .npy header text: well-formed with hostile values, or not a dict at all. */
export const npyHeaderText: fc.Arbitrary<string> = fc.oneof(
  fc.record({
    descr: fc.constantFrom('|u1', '<u1', '<i2', '<u2', '<f4', '<f8', '<i8', '>i2', '>f4', '|b1', '<U10', '|O', '<c16', '<f2', 'u1', '', "'"),
    fortran: fc.constantFrom('False', 'True', 'None', '0', 'false'),
    shape: fc.array(fc.oneof(fc.integer({ min: 0, max: 64 }), fc.constantFrom(-1, 2 ** 31, 2 ** 53, 1e20, 99_999_999)), { maxLength: 6 }),
    trailing: fc.constantFrom('', ',', ', }', ' }', ", 'extra': 1", ')'),
  }).map(({ descr, fortran, shape, trailing }) => `{'descr': '${descr}', 'fortran_order': ${fortran}, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''})${trailing}, }`),
  fc.string({ maxLength: 120 }),
  fc.string({ unit: 'binary', maxLength: 60 }),
);

/** An npz whose `imgs` member has a hostile header (and some data), stored or deflated. */
export const npzWithHostileNpy: fc.Arbitrary<Uint8Array> = fc
  .tuple(npyHeaderText, fc.integer({ min: 0, max: 4096 }), fc.constantFrom(1, 2, 3, 9), fc.boolean(), fc.boolean())
  .map(([header, dataBytes, major, compress, withBoxes]) => {
    const files: Record<string, [Uint8Array, { level: 0 | 6 }]> = { 'imgs.npy': [npyFile(header, dataBytes, major), { level: compress ? 6 : 0 }] };
    if (withBoxes) files['boxes.npy'] = [npyFile("{'descr': '<i8', 'fortran_order': False, 'shape': (1, 4), }", 32, 1), { level: 0 }];
    return zipSync(files);
  });

function npyFile(header: string, dataBytes: number, major: number): Uint8Array {
  const text = new TextEncoder().encode(header);
  const pre = major === 1 ? 10 : 12;
  const total = Math.ceil((pre + text.length + 1) / 64) * 64;
  const out = new Uint8Array(total + dataBytes);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, major, 0]);
  const view = new DataView(out.buffer);
  if (major === 1) view.setUint16(8, Math.min(0xffff, total - pre), true);
  else view.setUint32(8, total - pre, true);
  out.fill(0x20, pre, total - 1);
  out.set(text.subarray(0, total - pre - 1), pre);
  out[total - 1] = 0x0a;
  for (let i = total; i < out.length; i++) out[i] = i & 0xff;
  return out;
}

/** A NIfTI header field (dim, datatype, bitpix, vox_offset, sizeof_hdr, magic, scaling, codes) set hostile. */
export const niftiDamage: fc.Arbitrary<(b: Uint8Array) => Uint8Array> = fc
  .tuple(fc.constantFrom('dim', 'datatype', 'bitpix', 'voxOffset', 'sizeofHdr', 'magic', 'slope', 'pixdim', 'qcode', 'scode', 'srow'), fc.integer({ min: 0, max: 7 }), hostileInt, hostileDouble)
  .map(([field, index, int, real]) => (b: Uint8Array) => {
    const out = b.slice();
    if (out.length < 348) return out;
    const view = new DataView(out.buffer);
    const version = view.getInt32(0, true) === 540 || view.getInt32(0, false) === 540 ? 2 : 1;
    const le = view.getInt32(0, true) === 348 || view.getInt32(0, true) === 540;
    if (version === 2 && out.length < 540) return out;
    const L = NIFTI_FIELDS[version];
    const int16 = (o: number, v: number): void => view.setInt16(o, v | 0, le);
    const float = (o: number, v: number): void => (version === 1 ? view.setFloat32(o, v, le) : view.setFloat64(o, v, le));
    switch (field) {
      case 'dim':
        if (version === 1) int16(L.dim + 2 * index, int);
        else view.setBigInt64(L.dim + 8 * index, BigInt(Math.trunc(int)), le);
        break;
      case 'datatype': int16(L.datatype, [2, 4, 8, 16, 64, 256, 512, 768, 1, 32, 128, 1024, 1536, 2304, int][index % 8 + (int & 7)] ?? int); break;
      case 'bitpix': int16(L.bitpix, int); break;
      case 'voxOffset':
        if (version === 1) view.setFloat32(L.voxOffset, [real, int, 0, 348, 351, 1e9][index % 6]!, le);
        else view.setBigInt64(L.voxOffset, BigInt(Math.trunc([int, 0, 540, 2 ** 40][index % 4]!)), le);
        break;
      case 'sizeofHdr': view.setInt32(0, [348, 540, int, 0][index % 4]!, [true, false][index & 1]!); break;
      case 'magic': out.set(new TextEncoder().encode(['ni1\0', 'n+2\0', 'n+1\0', 'xx\0\0'][index % 4]!), L.magic); break;
      case 'slope': float(version === 1 ? 112 : 176, real); float(version === 1 ? 116 : 184, [real, 0, 1e30][index % 3]!); break;
      case 'pixdim': float(L.pixdim + (version === 1 ? 4 : 8) * index, real); break;
      case 'qcode': int16(L.qcode, int); break;
      case 'scode': int16(L.scode, int); break;
      case 'srow': float(L.srow + (version === 1 ? 4 : 8) * index, real); break;
    }
    return out;
  });

/** gzip framing damage: a truncated stream, a wrong CRC or length trailer, a bad header flag, a second member. */
export const gzipDamage: fc.Arbitrary<(b: Uint8Array) => Uint8Array> = fc.tuple(fc.constantFrom('truncate', 'crc', 'isize', 'flags', 'method', 'concat'), fc.nat()).map(([kind, n]) => (b: Uint8Array) => {
  const gz = b[0] === 0x1f && b[1] === 0x8b ? b.slice() : new Uint8Array(gzipSync(b));
  const view = new DataView(gz.buffer);
  switch (kind) {
    case 'truncate': return gz.slice(0, 10 + (n % Math.max(1, gz.length - 10)));
    case 'crc': view.setUint32(gz.length - 8, n >>> 0, true); return gz;
    case 'isize': view.setUint32(gz.length - 4, [0, 0xffffffff, n >>> 0][n % 3]!, true); return gz;
    case 'flags': gz[3] = n & 0xff; return gz;
    case 'method': gz[2] = n & 0xff; return gz;
    case 'concat': return concat(gz, gz.subarray(0, n % gz.length));
  }
  return gz;
});

export function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
