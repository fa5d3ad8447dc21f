// The Image Pixel module (PS3.3 C.7.6.3) of one instance, read and checked before any pixel is decoded: its size
// (Rows x Columns x Frames x Samples x bytes) is what the decode limits are checked against.
import { CodedError } from '../../errors/coded-error.ts';
import { describeInstance, instanceField, TAG, tagName, type DicomInstance } from './part10.ts';

/** Photometric interpretations we turn into grey or RGB values (pixels.ts). */
export type Photometric =
  | 'MONOCHROME1' | 'MONOCHROME2' | 'RGB' | 'YBR_FULL' | 'YBR_FULL_422' | 'PALETTE COLOR' | 'YBR_RCT' | 'YBR_ICT';

const SAMPLES: Readonly<Record<Photometric, 1 | 3>> = Object.freeze({
  MONOCHROME1: 1, MONOCHROME2: 1, 'PALETTE COLOR': 1, RGB: 3, YBR_FULL: 3, YBR_FULL_422: 3, YBR_RCT: 3, YBR_ICT: 3,
});

export interface PixelLayout {
  readonly rows: number;
  readonly columns: number;
  /** Number of Frames, 1 when absent. */
  readonly frames: number;
  readonly samplesPerPixel: 1 | 3;
  readonly bitsAllocated: 8 | 16 | 32;
  readonly bitsStored: number;
  readonly signed: boolean;
  readonly photometric: Photometric;
  /** 0: samples interleaved per pixel (R G B R G B ...), 1: one plane per sample. */
  readonly planarConfiguration: 0 | 1;
  /** Samples of one decoded frame: rows x columns x samples per pixel. */
  readonly frameSamples: number;
  /** Bytes of one uncompressed frame as stored (YBR_FULL_422 keeps two samples per pixel: PS3.3 C.7.6.3.1.2). */
  readonly nativeFrameBytes: number;
}

/** Reads and checks the Image Pixel module; DICOM_INVALID / DICOM_UNSUPPORTED name the attribute and instance. */
export function pixelLayout(instance: DicomInstance): PixelLayout {
  const a = instance.attributes;
  const field = instanceField(instance.ref);
  const who = describeInstance(instance.ref);
  const invalid = (tag: string, why: string): never => {
    throw new CodedError('DICOM_INVALID', `${who}: ${tagName(tag)} ${why}`, field);
  };
  if (!a.has(TAG.PixelData)) throw new CodedError('DICOM_INVALID', `${who} has no (7FE0,0010) PixelData: it is not an image`, field);
  const required = (tag: string): number => a.uint16(tag) ?? invalid(tag, 'is missing');
  const rows = required(TAG.Rows);
  const columns = required(TAG.Columns);
  if (rows < 1) invalid(TAG.Rows, `must be at least 1, got ${rows}`);
  if (columns < 1) invalid(TAG.Columns, `must be at least 1, got ${columns}`);
  const frames = a.decimal(TAG.NumberOfFrames) ?? 1;
  if (!(Number.isInteger(frames) && frames >= 1)) invalid(TAG.NumberOfFrames, `must be a whole number >= 1, got ${frames}`);
  const photometricText = a.string(TAG.PhotometricInterpretation) ?? invalid(TAG.PhotometricInterpretation, 'is missing');
  if (!(photometricText in SAMPLES)) {
    throw new CodedError('DICOM_UNSUPPORTED', `${who}: ${tagName(TAG.PhotometricInterpretation)} ${photometricText} is not read; we read ${Object.keys(SAMPLES).join(', ')}`, field);
  }
  const photometric = photometricText as Photometric;
  const samplesPerPixel = required(TAG.SamplesPerPixel);
  if (samplesPerPixel !== SAMPLES[photometric]) invalid(TAG.SamplesPerPixel, `is ${samplesPerPixel}, but ${photometric} has ${SAMPLES[photometric]}`);
  const bitsAllocated = required(TAG.BitsAllocated);
  if (bitsAllocated !== 8 && bitsAllocated !== 16 && bitsAllocated !== 32) {
    throw new CodedError('DICOM_UNSUPPORTED', `${who}: ${tagName(TAG.BitsAllocated)} ${bitsAllocated} is not read; images of 8, 16 or 32 bits are`, field);
  }
  const bitsStored = required(TAG.BitsStored);
  if (!(bitsStored >= 1 && bitsStored <= bitsAllocated)) invalid(TAG.BitsStored, `must be 1..${bitsAllocated} (Bits Allocated), got ${bitsStored}`);
  const highBit = required(TAG.HighBit);
  if (highBit !== bitsStored - 1) {
    throw new CodedError('DICOM_UNSUPPORTED', `${who}: ${tagName(TAG.HighBit)} ${highBit} with Bits Stored ${bitsStored}: only pixels stored in the low bits (High Bit = Bits Stored - 1) are read`, field);
  }
  const representation = required(TAG.PixelRepresentation);
  if (representation !== 0 && representation !== 1) invalid(TAG.PixelRepresentation, `must be 0 or 1, got ${representation}`);
  const planar = samplesPerPixel === 3 ? a.uint16(TAG.PlanarConfiguration) ?? 0 : 0;
  if (planar !== 0 && planar !== 1) invalid(TAG.PlanarConfiguration, `must be 0 or 1, got ${planar}`);
  const frameSamples = rows * columns * samplesPerPixel;
  const bytesPerSample = bitsAllocated / 8;
  const nativeFrameBytes = photometric === 'YBR_FULL_422' ? rows * columns * 2 * bytesPerSample : frameSamples * bytesPerSample;
  return {
    rows, columns, frames, samplesPerPixel: SAMPLES[photometric], bitsAllocated, bitsStored, signed: representation === 1, photometric,
    planarConfiguration: planar as 0 | 1, frameSamples, nativeFrameBytes,
  };
}
