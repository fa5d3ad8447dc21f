// From decoded voxels to the pipeline's 8-bit image: the intensity preparation (with the one rule every format
// shares, that RGB is taken as it is) and the ImageVolume of a layout. Shared by the payload decoders.
import { CodedError } from '../errors/coded-error.ts';
import type { ImageVolume } from './image-volume.ts';
import { prepareIntensity, type IntensityPreparation, type VoxelArray } from './intensity.ts';
import type { ArrayLayout } from './raw.ts';

/** The 0..255 bytes of `voxels` under `intensity`; RGB images take only `asis`. */
export function prepareVoxels(voxels: VoxelArray, layout: Pick<ArrayLayout, 'channels'>, intensity: IntensityPreparation): Uint8Array {
  if (layout.channels === 3 && intensity.kind !== 'asis') {
    throw new CodedError('INTENSITY_INVALID', `an RGB image takes only asis, got ${intensity.kind}`, 'header.intensity.kind');
  }
  return prepareIntensity(voxels, intensity, 'header.intensity');
}

export function imageFrom(layout: Omit<ArrayLayout, 'labelShape'>, data: Uint8Array, spacing?: readonly [number, number, number]): ImageVolume {
  return { depth: layout.depth, height: layout.height, width: layout.width, channels: layout.channels, data, ...(spacing ? { spacing } : {}) };
}
