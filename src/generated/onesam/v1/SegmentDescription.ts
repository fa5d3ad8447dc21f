// Original file: proto/onesam/v1/segmentation.proto

import type { CodedConcept as _onesam_v1_CodedConcept, CodedConcept__Output as _onesam_v1_CodedConcept__Output } from '../../onesam/v1/CodedConcept.ts';

/**
 * How a DICOM SEG describes one object (segment).
 */
export interface SegmentDescription {
  /**
   * Segment Label; default "Object <label>". At most 64 characters.
   */
  'label'?: (string);
  /**
   * Segmented Property Category (CID 7150); default SCT 85756007 "Tissue".
   */
  'category'?: (_onesam_v1_CodedConcept | null);
  /**
   * Segmented Property Type (CID 7151); default SCT 85756007 "Tissue".
   */
  'type'?: (_onesam_v1_CodedConcept | null);
}

/**
 * How a DICOM SEG describes one object (segment).
 */
export interface SegmentDescription__Output {
  /**
   * Segment Label; default "Object <label>". At most 64 characters.
   */
  'label': (string);
  /**
   * Segmented Property Category (CID 7150); default SCT 85756007 "Tissue".
   */
  'category': (_onesam_v1_CodedConcept__Output | null);
  /**
   * Segmented Property Type (CID 7151); default SCT 85756007 "Tissue".
   */
  'type': (_onesam_v1_CodedConcept__Output | null);
}
