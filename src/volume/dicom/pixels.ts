// Pixel interpretation: decoded frames (codecs.ts) to the values a volume holds.
//
// Grey images (MONOCHROME1/2): each sample is masked to Bits Stored (or the codestream's larger precision), sign
// extended when Pixel Representation is 1, MONOCHROME1 is inverted within the stored range (unsigned: max - v,
// signed: -1 - v, so the brightest stored value becomes the darkest, as MONOCHROME2 shows it), then Rescale Slope
// and Intercept map it to output units (HU for CT). The output type is the stored one when no frame rescales, int16
// or int32 when every slope and intercept is an integer and the rescaled stored range fits, float64 otherwise (the
// rule NIfTI scaling follows, nifti.ts).
//
// Colour images become 8-bit RGB, interleaved per pixel: planar data is interleaved, YBR_FULL (and YBR_FULL_422,
// whose chroma pairs are repeated for both pixels) is converted with the PS3.3 C.7.6.3.1.2 matrix in float32 exactly
// as pydicom's convert_color_space does (add 0.5, floor, clip), palette colour is looked up in its LUTs, and samples
// of more than 8 bits keep their top 8.
import { CodedError } from '../../errors/coded-error.ts';
import type { VoxelArray, VoxelType } from '../intensity.ts';
import type { DecodedFrame } from './codecs.ts';
import { describeInstance, instanceField, TAG, type DicomInstance } from './part10.ts';
import type { PixelLayout } from './pixel-layout.ts';

export interface Rescale {
  readonly slope: number;
  readonly intercept: number;
}

export const IDENTITY_RESCALE: Rescale = Object.freeze({ slope: 1, intercept: 0 });

function isIdentity(r: Rescale): boolean {
  return r.slope === 1 && r.intercept === 0;
}

/** The stored value range after masking (before rescale). */
function storedRange(layout: PixelLayout): [number, number] {
  const bits = layout.bitsStored;
  return layout.signed ? [-(2 ** (bits - 1)), 2 ** (bits - 1) - 1] : [0, 2 ** bits - 1];
}

/** The voxel type a grey volume of these frames decodes to (see the header comment). */
export function greyVoxelType(layout: PixelLayout, rescales: readonly Rescale[]): VoxelType {
  if (rescales.every(isIdentity)) {
    const bits = layout.bitsAllocated;
    if (bits === 8) return layout.signed ? 'int8' : 'uint8';
    if (bits === 16) return layout.signed ? 'int16' : 'uint16';
    return layout.signed ? 'int32' : 'uint32';
  }
  if (!rescales.every((r) => Number.isInteger(r.slope) && Number.isInteger(r.intercept))) return 'float64';
  // A codestream may carry more precision than Bits Stored (pixels are then masked with it): bound by Bits Allocated.
  const wide: PixelLayout = { ...layout, bitsStored: layout.bitsAllocated };
  const [lo, hi] = storedRange(wide);
  let min = Infinity;
  let max = -Infinity;
  for (const r of rescales) {
    for (const v of [lo * r.slope + r.intercept, hi * r.slope + r.intercept]) {
      min = Math.min(min, v);
      max = Math.max(max, v);
    }
  }
  if (min >= -32768 && max <= 32767) return 'int16';
  if (min >= -(2 ** 31) && max <= 2 ** 31 - 1) return 'int32';
  return 'float64';
}

const ARRAYS: Readonly<Record<VoxelType, new (length: number) => VoxelArray>> = Object.freeze({
  uint8: Uint8Array, int8: Int8Array, int16: Int16Array, uint16: Uint16Array,
  int32: Int32Array, uint32: Uint32Array, float32: Float32Array, float64: Float64Array,
});

export function allocateVoxels(type: VoxelType, count: number): VoxelArray {
  return new ARRAYS[type](count);
}

/** Writes one grey frame's values into `out` from `offset` (rows x columns values). */
export function writeGreyFrame(frame: DecodedFrame, layout: PixelLayout, rescale: Rescale, out: VoxelArray, offset: number): void {
  const count = layout.rows * layout.columns;
  const bytes = frame.bytes;
  const width = layout.bitsAllocated / 8;
  const bits = Math.min(layout.bitsAllocated, Math.max(layout.bitsStored, frame.precision ?? 0));
  // Masks and shifts on 32-bit integers: the sign-extension shift puts the stored sign bit at bit 31.
  const shift = 32 - bits;
  const invert = frame.photometric === 'MONOCHROME1';
  const maxUnsigned = 2 ** bits - 1;
  const identity = isIdentity(rescale);
  const { slope, intercept } = rescale;
  for (let i = 0; i < count; i++) {
    const at = i * width;
    let raw = bytes[at]!;
    if (width >= 2) raw |= bytes[at + 1]! << 8;
    if (width === 4) raw = (raw | (bytes[at + 2]! << 16) | (bytes[at + 3]! << 24)) >>> 0;
    let v: number;
    if (layout.signed) v = (raw << shift) >> shift;
    else v = bits === 32 ? raw >>> 0 : raw & maxUnsigned;
    if (invert) v = layout.signed ? -1 - v : maxUnsigned - v;
    out[offset + i] = identity ? v : v * slope + intercept;
  }
}

/** Writes one colour frame as 8-bit RGB, interleaved per pixel, into `out` from `offset` (rows x columns x 3). */
export function writeRgbFrame(frame: DecodedFrame, layout: PixelLayout, instance: DicomInstance, out: Uint8Array, offset: number): void {
  const pixels = layout.rows * layout.columns;
  if (frame.photometric === 'PALETTE COLOR') {
    writePaletteFrame(frame, layout, instance, out, offset);
    return;
  }
  const width = layout.bitsAllocated / 8;
  const drop = Math.max(0, layout.bitsStored - 8);
  const sample = (index: number): number => {
    const at = index * width;
    let v = frame.bytes[at]!;
    if (width >= 2) v |= frame.bytes[at + 1]! << 8;
    if (width === 4) v = (v | (frame.bytes[at + 2]! << 16) | (frame.bytes[at + 3]! << 24)) >>> 0;
    return Math.floor(v / 2 ** drop) & 0xff;
  };
  const ybr = frame.photometric === 'YBR_FULL' || frame.photometric === 'YBR_FULL_422';
  // Native YBR_FULL_422 holds Y1 Y2 Cb Cr for each pair of pixels in a row.
  const subsampled = frame.photometric === 'YBR_FULL_422' && frame.bytes.length === (pixels * 2 * width);
  for (let p = 0; p < pixels; p++) {
    let a: number, b: number, c: number;
    if (subsampled) {
      const pair = p >> 1;
      a = sample(pair * 4 + (p & 1));
      b = sample(pair * 4 + 2);
      c = sample(pair * 4 + 3);
    } else if (frame.planar) {
      a = sample(p);
      b = sample(pixels + p);
      c = sample(2 * pixels + p);
    } else {
      a = sample(3 * p);
      b = sample(3 * p + 1);
      c = sample(3 * p + 2);
    }
    const at = offset + 3 * p;
    if (ybr) {
      out[at] = ybrChannel(a, b - 128, c - 128, 0);
      out[at + 1] = ybrChannel(a, b - 128, c - 128, 1);
      out[at + 2] = ybrChannel(a, b - 128, c - 128, 2);
    } else {
      out[at] = a;
      out[at + 1] = b;
      out[at + 2] = c;
    }
  }
}

/** The YBR_FULL to RGB matrix (PS3.3 C.7.6.3.1.2) rounded to float32, as pydicom holds it; columns R, G, B. */
const f = Math.fround;
const YBR_TO_RGB = [
  [f(1), f(1), f(1)],
  [f(0), f(-0.114 * 1.772 / 0.587), f(1.772)],
  [f(1.402), f(-0.299 * 1.402 / 0.587), f(0)],
] as const;

function ybrChannel(y: number, cb: number, cr: number, channel: 0 | 1 | 2): number {
  const v = f(f(f(f(y * YBR_TO_RGB[0][channel]) + f(cb * YBR_TO_RGB[1][channel])) + f(cr * YBR_TO_RGB[2][channel])) + 0.5);
  return Math.min(255, Math.max(0, Math.floor(v)));
}

/** A palette colour LUT (PS3.3 C.7.6.3.1.5): entries, first mapped value, 8-bit output values. */
interface Palette { readonly first: number; readonly entries: Uint8Array }

function writePaletteFrame(frame: DecodedFrame, layout: PixelLayout, instance: DicomInstance, out: Uint8Array, offset: number): void {
  const palettes = [0, 1, 2].map((channel) => paletteOf(instance, channel));
  const pixels = layout.rows * layout.columns;
  const width = layout.bitsAllocated / 8;
  for (let p = 0; p < pixels; p++) {
    let v = frame.bytes[p * width]!;
    if (width === 2) v |= frame.bytes[p * width + 1]! << 8;
    if (layout.signed && width === 2) v = (v << 16) >> 16;
    for (let c = 0; c < 3; c++) {
      const { first, entries } = palettes[c]!;
      const index = Math.min(entries.length - 1, Math.max(0, v - first));
      out[offset + 3 * p + c] = entries[index]!;
    }
  }
}

const DESCRIPTORS = [TAG.RedPaletteDescriptor, TAG.GreenPaletteDescriptor, TAG.BluePaletteDescriptor];
const DATA = [TAG.RedPaletteData, TAG.GreenPaletteData, TAG.BluePaletteData];

function paletteOf(instance: DicomInstance, channel: number): Palette {
  const a = instance.attributes;
  const who = describeInstance(instance.ref);
  const field = instanceField(instance.ref);
  if (a.has(TAG.SegmentedRedPaletteData)) {
    throw new CodedError('DICOM_UNSUPPORTED', `${who}: segmented palette colour LUTs are not read`, field);
  }
  const descriptor = DESCRIPTORS[channel]!;
  const count = a.uint16(descriptor, 0);
  const first = a.uint16(descriptor, 1);
  const bits = a.uint16(descriptor, 2);
  const data = a.bytes(DATA[channel]!);
  if (count === undefined || first === undefined || bits === undefined || !data) {
    throw new CodedError('DICOM_INVALID', `${who}: PALETTE COLOR needs the palette colour LUT descriptors (0028,1101-1103) and data (0028,1201-1203)`, field);
  }
  const entries = count === 0 ? 65536 : count;
  const littleEndian = instance.transferSyntax.littleEndian;
  const out = new Uint8Array(entries);
  if (bits === 16 || data.length >= entries * 2) {
    if (data.length < entries * 2) throw new CodedError('DICOM_INVALID', `${who}: palette LUT data has ${data.length} bytes for ${entries} 16-bit entries`, field);
    for (let i = 0; i < entries; i++) {
      const word = littleEndian ? data[2 * i]! | (data[2 * i + 1]! << 8) : (data[2 * i]! << 8) | data[2 * i + 1]!;
      out[i] = bits === 16 ? word >> 8 : word & 0xff;
    }
  } else {
    // 8-bit entries packed two to a 16-bit word.
    if (data.length < entries) throw new CodedError('DICOM_INVALID', `${who}: palette LUT data has ${data.length} bytes for ${entries} 8-bit entries`, field);
    out.set(data.subarray(0, entries));
  }
  return { first, entries: out };
}
