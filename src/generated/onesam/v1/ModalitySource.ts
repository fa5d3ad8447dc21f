// Original file: proto/onesam/v1/segmentation.proto

export const ModalitySource = {
  MODALITY_SOURCE_UNSPECIFIED: 'MODALITY_SOURCE_UNSPECIFIED',
  /**
   * No modality: ROUTE used the fallback network.
   */
  MODALITY_SOURCE_NONE: 'MODALITY_SOURCE_NONE',
  /**
   * RequestHeader.modality.
   */
  MODALITY_SOURCE_REQUEST: 'MODALITY_SOURCE_REQUEST',
  /**
   * The DICOM files' Modality attribute (0008,0060).
   */
  MODALITY_SOURCE_DICOM: 'MODALITY_SOURCE_DICOM',
  /**
   * The session's modality.
   */
  MODALITY_SOURCE_SESSION: 'MODALITY_SOURCE_SESSION',
} as const;

export type ModalitySource =
  | 'MODALITY_SOURCE_UNSPECIFIED'
  | 0
  /**
   * No modality: ROUTE used the fallback network.
   */
  | 'MODALITY_SOURCE_NONE'
  | 1
  /**
   * RequestHeader.modality.
   */
  | 'MODALITY_SOURCE_REQUEST'
  | 2
  /**
   * The DICOM files' Modality attribute (0008,0060).
   */
  | 'MODALITY_SOURCE_DICOM'
  | 3
  /**
   * The session's modality.
   */
  | 'MODALITY_SOURCE_SESSION'
  | 4

export type ModalitySource__Output = typeof ModalitySource[keyof typeof ModalitySource]
