// Original file: proto/onesam/v1/segmentation.proto

export const LabelFormat = {
  LABEL_FORMAT_UNSPECIFIED: 'LABEL_FORMAT_UNSPECIFIED',
  /**
   * Little-endian uint8 or uint16 labels in the input's label shape (the input shape without an RGB axis).
   */
  LABEL_FORMAT_RAW: 'LABEL_FORMAT_RAW',
  /**
   * An npz with one array `segs`, like the challenge's output files.
   */
  LABEL_FORMAT_NPZ: 'LABEL_FORMAT_NPZ',
  /**
   * NIfTI-1 carrying the input's geometry (for raw/npz inputs: their spacing; for DICOM inputs the full affine).
   */
  LABEL_FORMAT_NIFTI: 'LABEL_FORMAT_NIFTI',
  /**
   * DICOM inputs only: a binary DICOM Segmentation in a new series of the source study, one segment per object,
   * referencing the source images (docs/formats.md, "DICOM SEG").
   */
  LABEL_FORMAT_DICOM_SEG: 'LABEL_FORMAT_DICOM_SEG',
} as const;

export type LabelFormat =
  | 'LABEL_FORMAT_UNSPECIFIED'
  | 0
  /**
   * Little-endian uint8 or uint16 labels in the input's label shape (the input shape without an RGB axis).
   */
  | 'LABEL_FORMAT_RAW'
  | 1
  /**
   * An npz with one array `segs`, like the challenge's output files.
   */
  | 'LABEL_FORMAT_NPZ'
  | 2
  /**
   * NIfTI-1 carrying the input's geometry (for raw/npz inputs: their spacing; for DICOM inputs the full affine).
   */
  | 'LABEL_FORMAT_NIFTI'
  | 3
  /**
   * DICOM inputs only: a binary DICOM Segmentation in a new series of the source study, one segment per object,
   * referencing the source images (docs/formats.md, "DICOM SEG").
   */
  | 'LABEL_FORMAT_DICOM_SEG'
  | 4

export type LabelFormat__Output = typeof LabelFormat[keyof typeof LabelFormat]
