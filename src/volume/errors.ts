// Errors raised while decoding payloads and encoding label volumes. Each code is stable and carries the gRPC status
// it maps to, so the server's single error mapper can read it from here instead of keeping its own list.

export interface VolumeErrorInfo {
  /** The gRPC status name the server answers with. */
  readonly status: 'INVALID_ARGUMENT' | 'RESOURCE_EXHAUSTED';
  readonly description: string;
}

export const VOLUME_ERRORS = Object.freeze({
  PAYLOAD_FORMAT: {
    status: 'INVALID_ARGUMENT',
    description: 'the payload or its header does not describe a volume we can read (unknown format, bad shape or dtype, missing npz key)',
  },
  PAYLOAD_SIZE_MISMATCH: {
    status: 'INVALID_ARGUMENT',
    description: 'the payload byte length differs from what the declared shape and dtype need',
  },
  PAYLOAD_TOO_LARGE: {
    status: 'RESOURCE_EXHAUSTED',
    description: 'the payload would decode to more than the server allows: more voxels than maxVoxels, more decoded bytes than maxPayloadBytes, or more working memory than 4 x maxPayloadBytes; refused from its own headers before it is inflated, or as soon as inflating passes what they declare',
  },
  NIFTI_UNSUPPORTED: {
    status: 'INVALID_ARGUMENT',
    description: 'a valid NIfTI file using a feature we do not read (datatype, 4D series, header/image pair)',
  },
  INTENSITY_INVALID: {
    status: 'INVALID_ARGUMENT',
    description: 'the intensity preparation parameters are invalid or cannot be applied to these voxels',
  },
  LABELS_INVALID: {
    status: 'INVALID_ARGUMENT',
    description: 'the label volume does not fit the geometry or the requested output format',
  },
  DICOM_INVALID: {
    status: 'INVALID_ARGUMENT',
    description: 'a DICOM instance cannot be read: not Part 10 or a bare data set, a damaged element, a missing or inconsistent image attribute (Rows, Bits Allocated, Photometric Interpretation, ...), a damaged compressed frame, or a Segmentation we do not read; the message names the instance by its index in the upload and its SOP Instance UID',
  },
  DICOM_SERIES_INVALID: {
    status: 'INVALID_ARGUMENT',
    description: 'the instances do not form one volume: mixed series, differing rows/columns or pixel formats, missing or duplicate positions, non-parallel orientations, gantry tilt, or non-uniform slice spacing beyond the tolerance; the message names the instances at fault',
  },
  DICOM_UNSUPPORTED: {
    status: 'INVALID_ARGUMENT',
    description: 'a valid DICOM instance using a feature we do not decode: a transfer syntax (named by UID and name), 12-bit lossy JPEG, a segmented palette, a fractional Segmentation',
  },
} satisfies Record<string, VolumeErrorInfo>);

export type VolumeErrorCode = keyof typeof VOLUME_ERRORS;

export class VolumeError extends Error {
  /**
   * @param code stable identifier, see VOLUME_ERRORS
   * @param field path of the request field at fault (`header.raw.shape`, `payload`, `npz.boxes`, ...)
   * @param message what is wrong, for the client; it already starts with the field path
   */
  constructor(readonly code: VolumeErrorCode, readonly field: string, message: string) {
    super(`${field}: ${message}`);
    this.name = 'VolumeError';
  }

  get status(): VolumeErrorInfo['status'] {
    return VOLUME_ERRORS[this.code].status;
  }
}
