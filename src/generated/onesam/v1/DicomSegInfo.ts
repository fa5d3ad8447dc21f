// Original file: proto/onesam/v1/segmentation.proto


/**
 * The identity of a written DICOM Segmentation: a new instance in a new series of the source study.
 */
export interface DicomSegInfo {
  'sopInstanceUid'?: (string);
  'seriesInstanceUid'?: (string);
  /**
   * The source series' study, which the Segmentation belongs to.
   */
  'studyInstanceUid'?: (string);
}

/**
 * The identity of a written DICOM Segmentation: a new instance in a new series of the source study.
 */
export interface DicomSegInfo__Output {
  'sopInstanceUid': (string);
  'seriesInstanceUid': (string);
  /**
   * The source series' study, which the Segmentation belongs to.
   */
  'studyInstanceUid': (string);
}
