// DICOM payloads: one series, framed as framing.ts describes, to the pipeline's 8-bit image. The series' headers
// are read and checked first (one series, the decode limits, the working memory including the intensity
// preparation), then its frames are decoded and prepared. What the series is (its geometry, the image each slice
// came from, the patient and study attributes) stays with the volume as plain data: prompts may name slices by
// SOP Instance UID or boxes in millimetres, NIfTI output carries the series' affine, and a DICOM SEG references
// the source images.
//
// Default intensity preparation, when the request gives none (the reference's per-modality preparation,
// LiteMedSAM's pre_CT_MR.py):
// - colour images, and 8-bit grey images (photographs, secondary captures, most US and endoscopy): as-is;
// - Modality CT: the CT window, level 40, width 400, on Hounsfield units (Rescale Slope/Intercept applied);
// - every other grey image (MR, PT, 16-bit X-ray, ...): percentiles 0.5 / 99.5 of the voxels > 0, as for MR/PET.
import type { DicomCodecs } from './dicom/codecs.ts';
import { readDicomUpload } from './dicom/framing.ts';
import { openSeries, type DicomSeriesInfo } from './dicom/series.ts';
import type { ImageVolume } from './image-volume.ts';
import { CT_WINDOW_DEFAULT, PERCENTILE_DEFAULT, preparationBytes, type IntensityPreparation } from './intensity.ts';
import { checkWorkingBytes, type DecodeLimits } from './limits.ts';
import { imageFrom, prepareVoxels } from './prepared-image.ts';

/** The frame labels of a DICOM input are written in: the series, slice z of the labels being slice z of the volume. */
export interface DicomGeometry {
  readonly kind: 'dicom';
  /** (H, W) for a single slice (a 2D image, one CT slice), (D, H, W) otherwise. */
  readonly labelShape: readonly number[];
  /** (z, y, x) in mm: slice spacing, Pixel Spacing (1 when unknown). */
  readonly spacing: readonly [number, number, number];
  /** Shape, geometry (affines), the source image of each slice, UIDs and the copied patient/study attributes. */
  readonly series: DicomSeriesInfo;
  /** The preparation that made the 8-bit image: the request's, or the series' default (defaults filled in). */
  readonly intensity: IntensityPreparation;
}

export interface DecodedDicom {
  readonly image: ImageVolume;
  readonly geometry: DicomGeometry;
  /** Modality (0008,0060) as stored; the router's floor maps it (src/pipeline/dicom-modality.ts). */
  readonly modalityCode?: string;
}

/** The preparation a series gets when the request names none (see the top of this file). */
export function defaultDicomIntensity(series: Pick<DicomSeriesInfo, 'channels' | 'voxelType' | 'modality'>): IntensityPreparation {
  if (series.channels === 3) return { kind: 'asis' };
  if (series.modality?.trim().toUpperCase() === 'CT') return { kind: 'ct-window', ...CT_WINDOW_DEFAULT };
  if (series.voxelType === 'uint8') return { kind: 'asis' };
  return { kind: 'percentile', ...PERCENTILE_DEFAULT };
}

/**
 * Decodes a DICOM upload. `intensity` undefined takes the series' default. Compressed transfer syntaxes need
 * `codecs` (loadDicomCodecs(), awaited once per thread).
 */
export function decodeDicom(bytes: Uint8Array, intensity: IntensityPreparation | undefined, limits: DecodeLimits, codecs?: DicomCodecs): DecodedDicom {
  const source = openSeries(readDicomUpload(bytes), limits);
  const { info } = source;
  const preparation = intensity ?? defaultDicomIntensity(info);
  const [depth, height, width] = info.shape;
  const count = depth * height * width * info.channels;
  checkWorkingBytes(limits, 'payload', { ...source.workingBytes, preparation: preparationBytes(info.voxelType, count, preparation) });
  const { voxels } = source.read(codecs);
  const layout = { depth, height, width, channels: info.channels };
  const patient = info.geometry.patient;
  const spacing = info.geometry.spacing;
  const image = imageFrom(layout, prepareVoxels(voxels, layout, preparation), patient ? spacing : undefined);
  return {
    image,
    geometry: { kind: 'dicom', labelShape: depth === 1 ? [height, width] : [depth, height, width], spacing, series: info, intensity: preparation },
    ...(info.modality !== undefined ? { modalityCode: info.modality } : {}),
  };
}
