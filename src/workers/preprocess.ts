// Encoder input for one slice, written into the worker's reusable scratch tensor.
import { preprocessSlice } from '../imaging/index.ts';
import type { SliceImage } from './protocol.ts';

export function preprocessSliceInto(slice: SliceImage, out: Float32Array): void {
  preprocessSlice(slice.pixels, slice.height, slice.width, slice.channels, out);
}
