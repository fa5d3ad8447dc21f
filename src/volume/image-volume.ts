// The prepared image every layer above the payload decoders works on. It lives on the volume floor because the
// decoders produce it (src/volume/payload.ts, challenge.ts); the workers, the pipeline and the front ends take it
// from here.

/** An 8-bit image or volume, already prepared to 0..255 (intensity preparation happens before the pipeline). */
export interface ImageVolume {
  /** Number of slices; 1 for a 2D image. */
  readonly depth: number;
  readonly height: number;
  readonly width: number;
  /** 1 (grey, replicated to 3 channels for the encoder) or 3 (RGB as stored, HWC). */
  readonly channels: 1 | 3;
  /** depth * height * width * channels bytes, slice-major then row-major, channels last. */
  readonly data: Uint8Array;
  /** (z, y, x) voxel spacing when known; not used by inference. */
  readonly spacing?: readonly [number, number, number];
}
