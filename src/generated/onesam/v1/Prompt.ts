// Original file: proto/onesam/v1/segmentation.proto

import type { Box2D as _onesam_v1_Box2D, Box2D__Output as _onesam_v1_Box2D__Output } from '../../onesam/v1/Box2D.ts';
import type { Box3D as _onesam_v1_Box3D, Box3D__Output as _onesam_v1_Box3D__Output } from '../../onesam/v1/Box3D.ts';
import type { Scribble as _onesam_v1_Scribble, Scribble__Output as _onesam_v1_Scribble__Output } from '../../onesam/v1/Scribble.ts';
import type { PatientBox as _onesam_v1_PatientBox, PatientBox__Output as _onesam_v1_PatientBox__Output } from '../../onesam/v1/PatientBox.ts';
import type { SegmentDescription as _onesam_v1_SegmentDescription, SegmentDescription__Output as _onesam_v1_SegmentDescription__Output } from '../../onesam/v1/SegmentDescription.ts';

export interface Prompt {
  /**
   * Value written into the label volume for this object, 1..65535. Labels above 255 make the labels uint16.
   */
  'label'?: (number);
  'box2d'?: (_onesam_v1_Box2D | null);
  'box3d'?: (_onesam_v1_Box3D | null);
  'scribble'?: (_onesam_v1_Scribble | null);
  /**
   * DICOM inputs only: a box in patient coordinates, mapped through the series geometry.
   */
  'patientBox'?: (_onesam_v1_PatientBox | null);
  /**
   * How a DICOM SEG output describes this object; unset fields take the defaults docs/api.md lists. Ignored by
   * the other output formats.
   */
  'segment'?: (_onesam_v1_SegmentDescription | null);
  'kind'?: "box2d"|"box3d"|"scribble"|"patientBox";
}

export interface Prompt__Output {
  /**
   * Value written into the label volume for this object, 1..65535. Labels above 255 make the labels uint16.
   */
  'label': (number);
  'box2d'?: (_onesam_v1_Box2D__Output | null);
  'box3d'?: (_onesam_v1_Box3D__Output | null);
  'scribble'?: (_onesam_v1_Scribble__Output | null);
  /**
   * DICOM inputs only: a box in patient coordinates, mapped through the series geometry.
   */
  'patientBox'?: (_onesam_v1_PatientBox__Output | null);
  /**
   * How a DICOM SEG output describes this object; unset fields take the defaults docs/api.md lists. Ignored by
   * the other output formats.
   */
  'segment': (_onesam_v1_SegmentDescription__Output | null);
  'kind'?: "box2d"|"box3d"|"scribble"|"patientBox";
}
