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
  /**
   * One DICOM series: its Part-10 instances in one upload, framed as docs/formats.md ("DICOM") describes. Slices
   * are ordered along the slice normal, CT values become HU; the Modality attribute routes the request when
   * `modality` is empty, and geometry and source references carry to NIfTI and DICOM SEG outputs.
   */
  PAYLOAD_FORMAT_DICOM: 'PAYLOAD_FORMAT_DICOM',
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
  /**
   * One DICOM series: its Part-10 instances in one upload, framed as docs/formats.md ("DICOM") describes. Slices
   * are ordered along the slice normal, CT values become HU; the Modality attribute routes the request when
   * `modality` is empty, and geometry and source references carry to NIfTI and DICOM SEG outputs.
   */
  | 'PAYLOAD_FORMAT_DICOM'
  | 4

export type PayloadFormat__Output = typeof PayloadFormat[keyof typeof PayloadFormat]
