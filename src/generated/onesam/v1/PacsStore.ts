// Original file: proto/onesam/v1/segmentation.proto


/**
 * Where to store a DICOM SEG output.
 */
export interface PacsStore {
  /**
   * An endpoint the server is configured with; it may differ from the source's.
   */
  'endpoint'?: (string);
  /**
   * Also send the SEG as LabelsChunk messages (Summary.label_bytes counts them); by default none are sent.
   */
  'sendLabels'?: (boolean);
}

/**
 * Where to store a DICOM SEG output.
 */
export interface PacsStore__Output {
  /**
   * An endpoint the server is configured with; it may differ from the source's.
   */
  'endpoint': (string);
  /**
   * Also send the SEG as LabelsChunk messages (Summary.label_bytes counts them); by default none are sent.
   */
  'sendLabels': (boolean);
}
