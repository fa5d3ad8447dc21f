// NIfTI-1 and NIfTI-2 single-file images (.nii, and .nii.gz recognised by the gzip magic), read into the (D, H, W)
// order prompts use, and label volumes written back with the input's header.
//
// Axis order, and why there is no reorientation: NIfTI stores voxels with i (x) fastest, then j (y), then k (z).
// We present the volume as D = nz, H = ny, W = nx, which is exactly that memory order read as a C-order (D, H, W)
// array; in nibabel terms it is `img.get_fdata().transpose(2, 1, 0)`. We do not resample or flip the data by its
// affine (qform/sform): slice d of our volume is slice k = d of the file, row h is j = h, column w is i = w. Boxes
// and scribbles are therefore given in voxel indices of the file as stored, and labels written back with the same
// header line up voxel for voxel in any viewer. The affine and the axis codes it implies are reported in the
// geometry for clients that want to map prompts from world or display coordinates themselves.
import { gzipSync } from 'node:zlib';
import { CodedError } from '../errors/coded-error.ts';
import { inflateBounded, inflatedPrefix, InflateLimitError } from './inflate.ts';
import { VOXEL_BYTES, type VoxelArray, type VoxelType } from './intensity.ts';
import { checkArraySize, checkWorkingBytes, decodeLimits, type DecodeLimits } from './limits.ts';
import { qformOf } from './nifti-qform.ts';
import { plainBytes, type ArrayGeometry } from './raw.ts';

export interface NiftiGeometry {
  readonly kind: 'nifti';
  readonly version: 1 | 2;
  readonly littleEndian: boolean;
  /** The input's header (348 bytes for NIfTI-1, 540 for NIfTI-2), copied; the label writer patches a copy of it. */
  readonly header: Uint8Array;
  /** dim[0..7] as stored. */
  readonly dim: readonly number[];
  /** The input's datatype code (informational; labels are written as uint8 or uint16). */
  readonly datatype: number;
  /** [nz, ny, nx]: the (D, H, W) shape of the image and of the labels. */
  readonly labelShape: readonly [number, number, number];
  /** (z, y, x) spacing: pixdim[3], pixdim[2], pixdim[1]. */
  readonly spacing: readonly [number, number, number];
  /**
   * Voxel (i, j, k) to world (x, y, z) 4x4, by nibabel's preference: sform when sform_code > 0, else qform when
   * qform_code > 0, else pixdim scaling.
   */
  readonly affine: readonly (readonly number[])[];
  /** Where each of i, j, k points in RAS+ world coordinates, e.g. 'LPS' or 'RAS' (nibabel's aff2axcodes). */
  readonly axisCodes: string;
}

export interface NiftiVolume {
  /** nz * ny * nx voxels in file order, scl_slope / scl_inter applied (then Float64Array). */
  readonly voxels: VoxelArray;
  readonly geometry: NiftiGeometry;
}

/** Size limits (limits.ts); any not given takes its default. */
export type NiftiReadOptions = Partial<DecodeLimits>;

/**
 * Extension bytes (between the header and vox_offset) we inflate. Real extensions (DICOM tags, AFNI XML) are
 * kilobytes; without a cap a tiny .nii.gz could declare gigabytes of "extensions" that all have to be inflated.
 */
export const MAX_NIFTI_EXTENSION_BYTES = 16 * 1024 * 1024;

/** Field offsets and widths of the two header versions (nifti1.h, nifti2.h). */
const LAYOUT = {
  1: {
    size: 348, dataStart: 352, magic: 344, dim: 40, dimBytes: 2, datatype: 70, bitpix: 72, pixdim: 76, floatBytes: 4,
    voxOffset: 108, sclSlope: 112, sclInter: 116, calMax: 124, calMin: 128, qformCode: 252, sformCode: 254, codeBytes: 2,
    quatern: 256, qoffset: 268, srow: 280, intentCode: 68, intentCodeBytes: 2, intentP: 56, intentName: 328,
  },
  2: {
    size: 540, dataStart: 544, magic: 4, dim: 16, dimBytes: 8, datatype: 12, bitpix: 14, pixdim: 104, floatBytes: 8,
    voxOffset: 168, sclSlope: 176, sclInter: 184, calMax: 192, calMin: 200, qformCode: 344, sformCode: 348, codeBytes: 4,
    quatern: 352, qoffset: 376, srow: 400, intentCode: 504, intentCodeBytes: 4, intentP: 80, intentName: 508,
  },
} as const;
type Layout = (typeof LAYOUT)[1 | 2];

/** Datatype codes we read, with bytes per voxel (nifti1.h NIFTI_TYPE_*). */
const DATATYPES: Readonly<Record<number, { name: VoxelType; bytes: number }>> = Object.freeze({
  2: { name: 'uint8', bytes: 1 },
  4: { name: 'int16', bytes: 2 },
  8: { name: 'int32', bytes: 4 },
  16: { name: 'float32', bytes: 4 },
  64: { name: 'float64', bytes: 8 },
  256: { name: 'int8', bytes: 1 },
  512: { name: 'uint16', bytes: 2 },
  768: { name: 'uint32', bytes: 4 },
});
const DT_UINT8 = 2;
const DT_UINT16 = 512;
const NIFTI_INTENT_LABEL = 1002;
const NIFTI_UNITS_MM = 2;

export function isGzip(bytes: Uint8Array): boolean {
  return bytes.byteLength >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/** A NIfTI payload whose header has been read and checked against the limits; nothing large is allocated yet. */
export interface NiftiSource {
  /** (D, H, W) = [nz, ny, nx]. */
  readonly labelShape: readonly [number, number, number];
  readonly count: number;
  /** The type of the voxels read() returns: the stored datatype, or the type scl_slope / scl_inter scaling makes. */
  readonly voxelType: VoxelType;
  /** Buffers read() will allocate, by what they are for (bytes): for the working-memory check (limits.ts). */
  readonly workingBytes: Readonly<Record<string, number>>;
  /** Inflates (gzip) and reads the voxels. */
  read(): NiftiVolume;
}

/**
 * Reads and checks a NIfTI header against the limits, inflating only the header of a .nii.gz. Refuses a volume
 * over maxVoxels, a decompressed file over maxDecodedBytes and extensions over MAX_NIFTI_EXTENSION_BYTES before
 * anything else is inflated or allocated; read() then inflates with zlib stopping at the size the header implies.
 */
export function openNifti(input: Uint8Array, options: NiftiReadOptions = {}): NiftiSource {
  const limits = decodeLimits(options);
  const gzip = isGzip(input);
  const bytes = plainBytes(input);
  const headerBytes = gzip ? gunzipOrRefuse(() => inflatedPrefix('gzip', bytes, LAYOUT[2].size)) : bytes;
  const header = new NiftiHeaderReader(headerBytes);
  const { layout, littleEndian } = header;

  const dim = Array.from({ length: 8 }, (_, i) => header.int(layout.dim + i * layout.dimBytes, layout.dimBytes));
  const ndim = dim[0]!;
  if (!(ndim >= 1 && ndim <= 7)) throw new CodedError('PAYLOAD_FORMAT', `must be 1..7, got ${ndim}`, 'payload.nifti.dim[0]');
  for (let i = 1; i <= ndim; i++) {
    if (!(dim[i]! >= 1)) throw new CodedError('PAYLOAD_FORMAT', `must be >= 1, got ${dim[i]}`, `payload.nifti.dim[${i}]`);
  }
  for (let i = 4; i <= ndim; i++) {
    if (dim[i] !== 1) {
      throw new CodedError('NIFTI_UNSUPPORTED', `is ${dim[i]}: only single 2D/3D volumes are segmented, not 4D series`, `payload.nifti.dim[${i}]`);
    }
  }
  const nx = dim[1]!;
  const ny = ndim >= 2 ? dim[2]! : 1;
  const nz = ndim >= 3 ? dim[3]! : 1;

  const datatype = header.int(layout.datatype, 2);
  const type = DATATYPES[datatype];
  if (!type) {
    throw new CodedError('NIFTI_UNSUPPORTED', `code ${datatype} is not supported; use uint8, int8, int16, uint16, int32, uint32, float32 or float64`, 'payload.nifti.datatype');
  }
  const voxOffset = header.voxOffset();
  if (!(Number.isInteger(voxOffset) && voxOffset >= layout.size)) {
    throw new CodedError('PAYLOAD_FORMAT', `must be an integer >= ${layout.size} (the header size), got ${voxOffset}`, 'payload.nifti.vox_offset');
  }
  const count = nx * ny * nz;
  // Limits before anything that depends on the sizes: dims multiply to any number a hostile header wants.
  checkArraySize(limits, 'payload', [nz, ny, nx], count, type.bytes);
  const dataBytes = count * type.bytes;
  const fileBytes = voxOffset + dataBytes;
  if (gzip) {
    if (voxOffset - layout.dataStart > MAX_NIFTI_EXTENSION_BYTES) {
      throw new CodedError('PAYLOAD_TOO_LARGE', `is ${voxOffset}: extensions over ${MAX_NIFTI_EXTENSION_BYTES} bytes are not read`, 'payload.nifti.vox_offset');
    }
    if (fileBytes > limits.maxDecodedBytes) {
      throw new CodedError('PAYLOAD_TOO_LARGE', `decompresses to ${fileBytes} bytes (vox_offset ${voxOffset} + ${nx}x${ny}x${nz} ${type.name}), more than the maximum of ${limits.maxDecodedBytes} (maxDecodedBytes)`, 'payload');
    }
  } else if (fileBytes > bytes.byteLength) {
    throw truncated(nx, ny, nz, type.name, voxOffset, fileBytes, bytes.byteLength);
  }

  const slope = header.float(layout.sclSlope);
  const inter = header.float(layout.sclInter);
  const scaling = scalingOf(type.name, slope, inter);
  // The voxels are used in place (in the inflated file, or in the caller's payload as raw payloads are) when they
  // are little-endian and aligned for their type; otherwise read() copies them.
  const inPlace = (littleEndian || type.bytes === 1) && ((gzip ? 0 : bytes.byteOffset) + voxOffset) % type.bytes === 0;
  const workingBytes = {
    decompressed: gzip ? fileBytes : 0,
    copy: inPlace ? 0 : dataBytes,
    scaled: scaling ? count * VOXEL_BYTES[scaling.type] : 0,
  };

  return {
    labelShape: [nz, ny, nx],
    count,
    voxelType: scaling?.type ?? type.name,
    workingBytes,
    read(): NiftiVolume {
      let file = bytes;
      if (gzip) {
        file = gunzipOrRefuse(() => {
          try {
            return inflateBounded('gzip', bytes, fileBytes);
          } catch (err) {
            if (err instanceof InflateLimitError) {
              throw new CodedError('PAYLOAD_TOO_LARGE', `decompresses to more than the ${fileBytes} bytes its header describes (vox_offset ${voxOffset} + ${nx}x${ny}x${nz} ${type.name})`, 'payload');
            }
            throw err;
          }
        });
        if (fileBytes > file.byteLength) throw truncated(nx, ny, nz, type.name, voxOffset, fileBytes, file.byteLength);
      }
      const stored = voxelArray(datatype, file.subarray(voxOffset, voxOffset + dataBytes), count, littleEndian);
      const voxels = scaling ? applyScaling(stored, scaling) : stored;
      const fileHeader = new NiftiHeaderReader(file);
      const pixdim = Array.from({ length: 8 }, (_, i) => fileHeader.float(layout.pixdim + i * layout.floatBytes));
      const affine = bestAffine(fileHeader, pixdim);
      return {
        voxels,
        geometry: {
          kind: 'nifti',
          version: header.version,
          littleEndian,
          header: file.slice(0, layout.size),
          dim,
          datatype,
          labelShape: [nz, ny, nx],
          spacing: [positiveOr1(pixdim[3]!), positiveOr1(pixdim[2]!), positiveOr1(pixdim[1]!)],
          affine,
          axisCodes: axisCodes(affine),
        },
      };
    },
  };
}

/** Reads a NIfTI file (checked against the limits, working memory included) into voxels and geometry. */
export function readNifti(input: Uint8Array, options: NiftiReadOptions = {}): NiftiVolume {
  const source = openNifti(input, options);
  checkWorkingBytes(decodeLimits(options), 'payload', source.workingBytes);
  return source.read();
}

function truncated(nx: number, ny: number, nz: number, type: string, voxOffset: number, needed: number, have: number): CodedError {
  return new CodedError(
    'PAYLOAD_SIZE_MISMATCH',
    `NIfTI of ${nx}x${ny}x${nz} ${type} needs ${needed} bytes (vox_offset ${voxOffset}), the file has ${have}: truncated`,
    'payload',
  );
}

/** Runs a gunzip step; zlib and fflate failures become PAYLOAD_FORMAT naming `payload`. */
function gunzipOrRefuse(step: () => Uint8Array): Uint8Array {
  try {
    return step();
  } catch (err) {
    if (err instanceof CodedError) throw err;
    throw new CodedError('PAYLOAD_FORMAT', `starts with the gzip magic but is not valid gzip (${(err as Error).message})`, 'payload');
  }
}

/** Reads header fields in the file's byte order, after detecting version and endianness from sizeof_hdr. */
class NiftiHeaderReader {
  readonly version: 1 | 2;
  readonly littleEndian: boolean;
  readonly layout: Layout;
  private readonly view: DataView;

  constructor(file: Uint8Array) {
    if (file.byteLength < LAYOUT[1].size) {
      throw new CodedError('PAYLOAD_FORMAT', `${file.byteLength} bytes is too short for a NIfTI header (348 bytes)`, 'payload');
    }
    this.view = new DataView(file.buffer, file.byteOffset, file.byteLength);
    const le = this.view.getInt32(0, true);
    const be = this.view.getInt32(0, false);
    if (le === 348 || be === 348) this.version = 1;
    else if (le === 540 || be === 540) this.version = 2;
    else throw new CodedError('PAYLOAD_FORMAT', `is not a NIfTI file: sizeof_hdr is ${le}, expected 348 or 540`, 'payload');
    this.littleEndian = le === 348 || le === 540;
    this.layout = LAYOUT[this.version];
    if (file.byteLength < this.layout.size) {
      throw new CodedError('PAYLOAD_FORMAT', `${file.byteLength} bytes is too short for a NIfTI-2 header (540 bytes)`, 'payload');
    }
    const magic = String.fromCharCode(...file.subarray(this.layout.magic, this.layout.magic + 3));
    if (magic === `ni${this.version}`) {
      throw new CodedError('NIFTI_UNSUPPORTED', `is "ni${this.version}" (header and image in separate files); send a single-file .nii or .nii.gz`, 'payload.nifti.magic');
    }
    if (magic !== `n+${this.version}`) {
      throw new CodedError('PAYLOAD_FORMAT', `must be "n+${this.version}", got ${JSON.stringify(magic)}`, 'payload.nifti.magic');
    }
  }

  /** Signed integer of 2, 4 or 8 bytes. */
  int(offset: number, bytes: 2 | 4 | 8): number {
    if (bytes === 2) return this.view.getInt16(offset, this.littleEndian);
    if (bytes === 4) return this.view.getInt32(offset, this.littleEndian);
    return Number(this.view.getBigInt64(offset, this.littleEndian));
  }

  /** Byte offset of the voxels: a float32 in NIfTI-1 (it must still hold an integer), an int64 in NIfTI-2. */
  voxOffset(): number {
    const offset = this.layout.voxOffset;
    return this.version === 1 ? this.view.getFloat32(offset, this.littleEndian) : this.int(offset, 8);
  }

  float(offset: number): number {
    return this.layout.floatBytes === 4 ? this.view.getFloat32(offset, this.littleEndian) : this.view.getFloat64(offset, this.littleEndian);
  }
}

function voxelArray(datatype: number, bytes: Uint8Array, count: number, littleEndian: boolean): VoxelArray {
  const width = DATATYPES[datatype]!.bytes;
  const swap = !littleEndian && width > 1;
  // In place when we can; otherwise a fresh, aligned copy (the voxels may sit at any offset of the payload), with
  // the bytes swapped for big-endian files.
  const inPlace = !swap && bytes.byteOffset % width === 0 && bytes.buffer instanceof ArrayBuffer;
  const data = inPlace ? bytes : bytes.slice();
  if (swap) {
    for (let i = 0; i < data.length; i += width) data.subarray(i, i + width).reverse();
  }
  const { buffer, byteOffset } = data;
  switch (datatype) {
    case 2: return data;
    case 256: return new Int8Array(buffer, byteOffset, count);
    case 4: return new Int16Array(buffer, byteOffset, count);
    case 512: return new Uint16Array(buffer, byteOffset, count);
    case 8: return new Int32Array(buffer, byteOffset, count);
    case 768: return new Uint32Array(buffer, byteOffset, count);
    case 16: return new Float32Array(buffer, byteOffset, count);
    case 64: return new Float64Array(buffer, byteOffset, count);
    default: throw new Error(`unreachable datatype ${datatype}`);
  }
}

interface Scaling {
  readonly slope: number;
  readonly inter: number;
  /** int32 when every scaled value of the stored type is an int32 (exact, half of float64), else float64. */
  readonly type: 'int32' | 'float64';
}

const INTEGER_RANGES: Readonly<Partial<Record<VoxelType, readonly [number, number]>>> = Object.freeze({
  uint8: [0, 255], int8: [-128, 127], uint16: [0, 65535], int16: [-32768, 32767], int32: [-(2 ** 31), 2 ** 31 - 1], uint32: [0, 2 ** 32 - 1],
});

/**
 * value = stored * scl_slope + scl_inter, unless the slope is 0 or not finite ("no scaling", nifti1.h) or the
 * identity. The values are the float64 results either way; int32 holds them exactly when slope and intercept are
 * integers and the stored type's whole range stays inside int32 (the usual CT case, slope 1 and intercept -1024),
 * and the intensity preparation computes on integers in float64 as it would on the float64 copy.
 */
function scalingOf(type: VoxelType, slope: number, inter: number): Scaling | undefined {
  if (!Number.isFinite(slope) || slope === 0) return undefined;
  const offset = Number.isFinite(inter) ? inter : 0;
  if (slope === 1 && offset === 0) return undefined;
  const range = INTEGER_RANGES[type];
  if (range && Number.isInteger(slope) && Number.isInteger(offset)) {
    const ends = [range[0] * slope + offset, range[1] * slope + offset];
    if (ends.every((v) => v >= -(2 ** 31) && v <= 2 ** 31 - 1)) return { slope, inter: offset, type: 'int32' };
  }
  return { slope, inter: offset, type: 'float64' };
}

function applyScaling(stored: VoxelArray, scaling: Scaling): VoxelArray {
  const out = scaling.type === 'int32' ? new Int32Array(stored.length) : new Float64Array(stored.length);
  const { slope, inter } = scaling;
  for (let i = 0; i < stored.length; i++) out[i] = stored[i]! * slope + inter;
  return out;
}

function positiveOr1(x: number): number {
  return Number.isFinite(x) && x > 0 ? x : 1;
}

function bestAffine(h: NiftiHeaderReader, pixdim: number[]): number[][] {
  const L = h.layout;
  const sformCode = h.int(L.sformCode, L.codeBytes);
  const qformCode = h.int(L.qformCode, L.codeBytes);
  if (sformCode > 0) {
    const rows = [0, 1, 2].map((r) => [0, 1, 2, 3].map((c) => h.float(L.srow + (r * 4 + c) * L.floatBytes)));
    return [...rows, [0, 0, 0, 1]];
  }
  const dx = positiveOr1(pixdim[1]!);
  const dy = positiveOr1(pixdim[2]!);
  const dz = positiveOr1(pixdim[3]!);
  if (qformCode > 0) {
    let [b, c, d] = [0, 1, 2].map((i) => h.float(L.quatern + i * L.floatBytes)) as [number, number, number];
    const [ox, oy, oz] = [0, 1, 2].map((i) => h.float(L.qoffset + i * L.floatBytes)) as [number, number, number];
    // nifti1_io quatern_to_mat44: a = sqrt(1 - b^2 - c^2 - d^2); when that is ~0, renormalise (b, c, d), a = 0.
    let a = 1 - (b * b + c * c + d * d);
    if (a < 1e-7) {
      const n = 1 / Math.sqrt(b * b + c * c + d * d);
      b *= n; c *= n; d *= n;
      a = 0;
    } else {
      a = Math.sqrt(a);
    }
    const qfac = pixdim[0]! < 0 ? -1 : 1;
    const R = [
      [a * a + b * b - c * c - d * d, 2 * (b * c - a * d), 2 * (b * d + a * c)],
      [2 * (b * c + a * d), a * a + c * c - b * b - d * d, 2 * (c * d - a * b)],
      [2 * (b * d - a * c), 2 * (c * d + a * b), a * a + d * d - c * c - b * b],
    ];
    const scale = [dx, dy, qfac * dz];
    // `+ 0` turns the -0 of flipped zero entries into 0, so affines compare and print cleanly.
    return [
      [...R[0]!.map((r, i) => r * scale[i]! + 0), ox],
      [...R[1]!.map((r, i) => r * scale[i]! + 0), oy],
      [...R[2]!.map((r, i) => r * scale[i]! + 0), oz],
      [0, 0, 0, 1],
    ];
  }
  return [[dx, 0, 0, 0], [0, dy, 0, 0], [0, 0, dz, 0], [0, 0, 0, 1]];
}

/** For each voxel axis, the world axis it mostly follows and its direction, as RAS+ letters (nibabel aff2axcodes). */
function axisCodes(affine: readonly (readonly number[])[]): string {
  const letters = [['L', 'R'], ['P', 'A'], ['I', 'S']] as const;
  let codes = '';
  for (let col = 0; col < 3; col++) {
    let best = 0;
    for (let row = 1; row < 3; row++) if (Math.abs(affine[row]![col]!) > Math.abs(affine[best]![col]!)) best = row;
    codes += letters[best]![affine[best]![col]! >= 0 ? 1 : 0];
  }
  return codes;
}

/**
 * The header bytes a label file takes from its input, as [offset, length]: sizeof_hdr (it carries the byte order),
 * dim_info, dim, pixdim, xyzt_units, qform/sform codes, quaternion, offsets and the sform rows. Nothing else: the
 * free-text fields (descrip, aux_file, intent_name, db_name, data_type, NIfTI-2's unused_str) are where scanners
 * and PACS exports write patient names and ids, and a label file sent back must not carry them.
 */
const GEOMETRY_BYTES: Readonly<Record<1 | 2, readonly (readonly [number, number])[]>> = Object.freeze({
  1: [[0, 4], [39, 1], [40, 16], [76, 32], [123, 1], [252, 4], [256, 12], [268, 12], [280, 48]],
  2: [[0, 4], [16, 64], [104, 64], [344, 8], [352, 24], [376, 24], [400, 96], [500, 4], [524, 1]],
});
/** NIfTI-2's 8-byte magic (nifti2.h); NIfTI-1's is "n+1\0". */
const MAGIC: Readonly<Record<1 | 2, readonly number[]>> = Object.freeze({
  1: [0x6e, 0x2b, 0x31, 0x00],
  2: [0x6e, 0x2b, 0x32, 0x00, 0x0d, 0x0a, 0x1a, 0x0a],
});

/**
 * Write labels as a single-file NIfTI in the input's version and byte order: the input's geometry (GEOMETRY_BYTES)
 * and nothing else of its header, datatype and bitpix uint8/uint16, no scaling or calibration, intent
 * NIFTI_INTENT_LABEL, no extensions, voxels right after the header. For raw/npz inputs a minimal NIfTI-1 header is
 * made from the shape and spacing (no qform/sform: voxel coordinates scaled by pixdim).
 */
export function writeNiftiLabels(labels: Uint8Array | Uint16Array, geometry: NiftiGeometry | ArrayGeometry, gzip: boolean): Uint8Array {
  const nifti = geometry.kind === 'nifti' ? geometry : niftiGeometryForArray(geometry);
  const [nz, ny, nx] = nifti.labelShape;
  if (labels.length !== nx * ny * nz) {
    throw new CodedError('LABELS_INVALID', `has ${labels.length} voxels but the geometry is ${nz}x${ny}x${nx}`, 'labels');
  }
  const L = LAYOUT[nifti.version];
  const le = nifti.littleEndian;
  const bytesPerLabel = labels instanceof Uint16Array ? 2 : 1;
  const out = new Uint8Array(L.dataStart + labels.length * bytesPerLabel);
  for (const [offset, length] of GEOMETRY_BYTES[nifti.version]) out.set(nifti.header.subarray(offset, offset + length), offset);
  const view = new DataView(out.buffer);
  view.setInt16(L.datatype, bytesPerLabel === 2 ? DT_UINT16 : DT_UINT8, le);
  view.setInt16(L.bitpix, bytesPerLabel * 8, le);
  if (nifti.version === 1) view.setFloat32(L.voxOffset, L.dataStart, le);
  else view.setBigInt64(L.voxOffset, BigInt(L.dataStart), le);
  // Scaling, calibration and intent parameters stay 0: no scaling, no calibration.
  if (L.intentCodeBytes === 2) view.setInt16(L.intentCode, NIFTI_INTENT_LABEL, le);
  else view.setInt32(L.intentCode, NIFTI_INTENT_LABEL, le);
  out.set(MAGIC[nifti.version], L.magic);
  // Bytes L.size .. L.dataStart stay zero: the extension flag says "no extensions".
  if (bytesPerLabel === 1) {
    out.set(labels, L.dataStart);
  } else {
    for (let i = 0; i < labels.length; i++) view.setUint16(L.dataStart + i * 2, labels[i]!, le);
  }
  return gzip ? plainBytes(gzipSync(out)) : out;
}

/** A NIfTI-1 geometry describing a raw or npz array (labels (D, H, W) or (H, W)) and its (z, y, x) spacing. */
export function niftiGeometryForArray(geometry: ArrayGeometry): NiftiGeometry {
  const shape = geometry.labelShape;
  const [nz, ny, nx] = shape.length === 3 ? [shape[0]!, shape[1]!, shape[2]!] : [1, shape[0]!, shape[1]!];
  const [sz, sy, sx] = geometry.spacing ?? [1, 1, 1];
  const dim = [shape.length, nx, ny, nz, 1, 1, 1, 1];
  const { header } = nifti1Header(dim, [1, sx, sy, sz, 0, 0, 0, 0], geometry.spacing !== undefined);
  const affine = [[sx, 0, 0, 0], [0, sy, 0, 0], [0, 0, sz, 0], [0, 0, 0, 1]];
  return {
    kind: 'nifti',
    version: 1,
    littleEndian: true,
    header,
    dim,
    datatype: DT_UINT8,
    labelShape: [nz, ny, nx],
    spacing: [sz, sy, sx],
    affine,
    axisCodes: axisCodes(affine),
  };
}

/** A blank little-endian NIfTI-1 header with its size, dim and pixdim written, and units mm when `mm`. */
function nifti1Header(dim: readonly number[], pixdim: readonly number[], mm: boolean): { header: Uint8Array; view: DataView; L: (typeof LAYOUT)[1] } {
  const L = LAYOUT[1];
  const header = new Uint8Array(L.size);
  const view = new DataView(header.buffer);
  view.setInt32(0, L.size, true);
  dim.forEach((d, i) => view.setInt16(L.dim + i * 2, d, true));
  pixdim.forEach((p, i) => view.setFloat32(L.pixdim + i * 4, p, true));
  if (mm) view.setUint8(123, NIFTI_UNITS_MM); // xyzt_units
  return { header, view, L };
}

/** NIFTI_XFORM_SCANNER_ANAT: coordinates in the scanner's frame, which DICOM patient coordinates are. */
const NIFTI_XFORM_SCANNER_ANAT = 1;

/**
 * A NIfTI-1 geometry for a (D, H, W) grid placed by `affine` (voxel (i = column, j = row, k = slice, 1) to RAS+
 * mm): the affine as the sform, its orthonormalised form as the qform (nifti-qform.ts), both with code SCANNER_ANAT,
 * pixdim the affine's column lengths, units mm. Used for labels of DICOM inputs, whose affine is the series'.
 */
export function niftiGeometryForAffine(shape: readonly [number, number, number], affine: readonly (readonly number[])[]): NiftiGeometry {
  const [nz, ny, nx] = shape;
  const dim = [3, nx, ny, nz, 1, 1, 1, 1];
  const q = qformOf(affine);
  const { header, view, L } = nifti1Header(dim, [q.qfac, ...q.pixdim, 0, 0, 0, 0], true);
  view.setInt16(L.qformCode, NIFTI_XFORM_SCANNER_ANAT, true);
  view.setInt16(L.sformCode, NIFTI_XFORM_SCANNER_ANAT, true);
  q.quatern.forEach((v, i) => view.setFloat32(L.quatern + i * 4, v, true));
  q.offset.forEach((v, i) => view.setFloat32(L.qoffset + i * 4, v, true));
  for (let r = 0; r < 3; r++) for (let c = 0; c < 4; c++) view.setFloat32(L.srow + (r * 4 + c) * 4, affine[r]![c]!, true);
  const stored = [0, 1, 2].map((r) => [0, 1, 2, 3].map((c) => Math.fround(affine[r]![c]!)));
  return {
    kind: 'nifti',
    version: 1,
    littleEndian: true,
    header,
    dim,
    datatype: DT_UINT8,
    labelShape: [nz, ny, nx],
    spacing: [q.pixdim[2], q.pixdim[1], q.pixdim[0]],
    affine: [...stored, [0, 0, 0, 1]],
    axisCodes: axisCodes(stored),
  };
}
