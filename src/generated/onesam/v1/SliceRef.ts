// Original file: proto/onesam/v1/segmentation.proto


/**
 * One slice of a DICOM input named by the instance it came from: its SOP Instance UID, and for a multi-frame
 * instance the frame number (1-based; 0 means a single-frame instance).
 */
export interface SliceRef {
  'sopInstanceUid'?: (string);
  'frameNumber'?: (number);
}

/**
 * One slice of a DICOM input named by the instance it came from: its SOP Instance UID, and for a multi-frame
 * instance the frame number (1-based; 0 means a single-frame instance).
 */
export interface SliceRef__Output {
  'sopInstanceUid': (string);
  'frameNumber': (number);
}
