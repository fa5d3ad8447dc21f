// What crosses the boundary to the codec thread (payload decoding and label encoding), typed in one place. Large
// arrays are transferred, never copied: the payload and the label volume go in, the prepared image and the encoded
// labels come back, each as the sole owner of its ArrayBuffer.
import type { DecodedVolume, DecodeOptions, EncodedOutput, LabelFormat, PayloadHeader, SegOutputOptions, VolumeGeometry } from '../volume/payload.ts';
import type { PackedError } from './error-transport.ts';

export interface CodecPing {
  readonly kind: 'ping';
}

export interface CodecDecodeTask {
  readonly kind: 'decode';
  readonly header: PayloadHeader;
  /** The whole payload; its ArrayBuffer is transferred to the codec thread. */
  readonly bytes: Uint8Array;
  readonly options: DecodeOptions;
}

export interface LabelEncoding {
  /** D*H*W label values; the ArrayBuffer is transferred to the codec thread (unusable by the caller afterwards). */
  readonly labels: Uint8Array | Uint16Array;
  readonly geometry: VolumeGeometry;
  readonly format: LabelFormat;
  readonly gzip: boolean;
  /** Widen uint8 labels to uint16 before encoding (the client asked for uint16 whatever the labels need). */
  readonly forceUint16: boolean;
  /** DICOM SEG output: the segments and the algorithm identification. */
  readonly seg?: SegOutputOptions;
}

export interface CodecEncodeTask extends LabelEncoding {
  readonly kind: 'encode';
}

export type CodecTask = CodecPing | CodecDecodeTask | CodecEncodeTask;

export interface EncodedLabels {
  readonly bytes: Uint8Array;
  /** The label type that was encoded (uint16 when the labels needed it or the client forced it). */
  readonly dtype: 'uint8' | 'uint16';
  /** DICOM SEG output: the written instance's SOP Instance UID and Series Instance UID. */
  readonly segmentation?: EncodedOutput['segmentation'];
}

/** A task's answer: errors are returned as data (see error-transport.ts), not thrown across the boundary. */
export type CodecReply<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: PackedError };

export type CodecResult = null | DecodedVolume | EncodedLabels;

/**
 * A view that is the only user of its ArrayBuffer, so the buffer can be transferred. Transferring moves a whole
 * buffer: a view into a larger one (a pooled Buffer, an npz member inside its zip entry, a caller's sub-array)
 * would drag the rest along or detach memory other views still use, and shared memory cannot be transferred at
 * all; those are copied into an exactly sized buffer instead. Empty views are copied too: an empty view may be
 * one whose buffer was already transferred, and piscina never settles a task whose transfer list holds a
 * detached buffer.
 */
export function ownBuffer(view: Uint8Array): Uint8Array;
export function ownBuffer(view: Uint16Array): Uint16Array;
export function ownBuffer(view: Uint32Array): Uint32Array;
export function ownBuffer(view: Uint8Array | Uint16Array): Uint8Array | Uint16Array;
export function ownBuffer(view: Uint8Array | Uint16Array | Uint32Array): Uint8Array | Uint16Array | Uint32Array {
  const sole = view.byteLength > 0 && view.buffer instanceof ArrayBuffer && view.byteOffset === 0 && view.byteLength === view.buffer.byteLength;
  if (sole) return view;
  // Not slice(): on a Node Buffer it returns a view, not a copy.
  const copy = view instanceof Uint16Array ? new Uint16Array(view.length) : view instanceof Uint32Array ? new Uint32Array(view.length) : new Uint8Array(view.length);
  if (copy.length > 0) copy.set(view);
  return copy;
}
