// Original file: proto/onesam/v1/segmentation.proto


/**
 * A coded concept (DICOM code sequence item), e.g. SCT 10200004 "Liver".
 */
export interface CodedConcept {
  'codeValue'?: (string);
  'codingScheme'?: (string);
  'codeMeaning'?: (string);
}

/**
 * A coded concept (DICOM code sequence item), e.g. SCT 10200004 "Liver".
 */
export interface CodedConcept__Output {
  'codeValue': (string);
  'codingScheme': (string);
  'codeMeaning': (string);
}
