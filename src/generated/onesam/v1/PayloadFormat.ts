// Original file: proto/onesam/v1/segmentation.proto

export const PayloadFormat = {
  PAYLOAD_FORMAT_UNSPECIFIED: 'PAYLOAD_FORMAT_UNSPECIFIED',
  /**
   * Little-endian voxels in C order, described by RawVolume.
   */
  PAYLOAD_FORMAT_RAW: 'PAYLOAD_FORMAT_RAW',
  /**
   * A challenge npz: `imgs` (H,W,3) or (D,H,W), optional `boxes`, `scribbles`, `spacing`.
   */
  PAYLOAD_FORMAT_NPZ: 'PAYLOAD_FORMAT_NPZ',
  /**
   * A single-file NIfTI-1 volume (.nii, or .nii.gz bytes), reoriented to (D,H,W) as docs/api.md describes.
   */
  PAYLOAD_FORMAT_NIFTI: 'PAYLOAD_FORMAT_NIFTI',
} as const;

export type PayloadFormat =
  | 'PAYLOAD_FORMAT_UNSPECIFIED'
  | 0
  /**
   * Little-endian voxels in C order, described by RawVolume.
   */
  | 'PAYLOAD_FORMAT_RAW'
  | 1
  /**
   * A challenge npz: `imgs` (H,W,3) or (D,H,W), optional `boxes`, `scribbles`, `spacing`.
   */
  | 'PAYLOAD_FORMAT_NPZ'
  | 2
  /**
   * A single-file NIfTI-1 volume (.nii, or .nii.gz bytes), reoriented to (D,H,W) as docs/api.md describes.
   */
  | 'PAYLOAD_FORMAT_NIFTI'
  | 3

export type PayloadFormat__Output = typeof PayloadFormat[keyof typeof PayloadFormat]
