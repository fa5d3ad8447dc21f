// Original file: proto/onesam/v1/segmentation.proto

import type { ObjectResult as _onesam_v1_ObjectResult, ObjectResult__Output as _onesam_v1_ObjectResult__Output } from '../../onesam/v1/ObjectResult.ts';
import type { NetworkSlices as _onesam_v1_NetworkSlices, NetworkSlices__Output as _onesam_v1_NetworkSlices__Output } from '../../onesam/v1/NetworkSlices.ts';
import type { StageTimes as _onesam_v1_StageTimes, StageTimes__Output as _onesam_v1_StageTimes__Output } from '../../onesam/v1/StageTimes.ts';
import type { LabelType as _onesam_v1_LabelType, LabelType__Output as _onesam_v1_LabelType__Output } from '../../onesam/v1/LabelType.ts';
import type { LabelFormat as _onesam_v1_LabelFormat, LabelFormat__Output as _onesam_v1_LabelFormat__Output } from '../../onesam/v1/LabelFormat.ts';
import type { SessionInfo as _onesam_v1_SessionInfo, SessionInfo__Output as _onesam_v1_SessionInfo__Output } from '../../onesam/v1/SessionInfo.ts';
import type { DicomSegInfo as _onesam_v1_DicomSegInfo, DicomSegInfo__Output as _onesam_v1_DicomSegInfo__Output } from '../../onesam/v1/DicomSegInfo.ts';
import type { PacsStored as _onesam_v1_PacsStored, PacsStored__Output as _onesam_v1_PacsStored__Output } from '../../onesam/v1/PacsStored.ts';
import type { Long } from '@grpc/proto-loader';

export interface Summary {
  'requestId'?: (string);
  'objects'?: (_onesam_v1_ObjectResult)[];
  'slicesEncoded'?: (_onesam_v1_NetworkSlices)[];
  'stagesMs'?: (_onesam_v1_StageTimes | null);
  /**
   * Server wall time from the header to the summary, milliseconds.
   */
  'wallMs'?: (number | string);
  'labelType'?: (_onesam_v1_LabelType);
  /**
   * Shape of the label volume ((D,H,W) or (H,W)).
   */
  'labelShape'?: (number)[];
  'format'?: (_onesam_v1_LabelFormat);
  'gzip'?: (boolean);
  /**
   * Total bytes of the encoded labels (sum of the LabelsChunk sizes).
   */
  'labelBytes'?: (number | string | Long);
  /**
   * Slice embeddings taken from the session instead of encoded.
   */
  'slicesReused'?: (_onesam_v1_NetworkSlices)[];
  /**
   * The session after this request (its cached slices included), when the request kept or used one.
   */
  'session'?: (_onesam_v1_SessionInfo | null);
  /**
   * LABEL_FORMAT_DICOM_SEG: the Segmentation instance the labels are, for storing it (e.g. STOW-RS to its study).
   */
  'dicomSeg'?: (_onesam_v1_DicomSegInfo | null);
  /**
   * RequestHeader.store: the PACS now holds the Segmentation dicom_seg names.
   */
  'stored'?: (_onesam_v1_PacsStored | null);
  /**
   * The speed level the request ran at (1: exact, every slice computed), and the object slices its 3D box walks
   * filled by shape interpolation instead of decoding them (0 at level 1).
   */
  'speedLevel'?: (number);
  'slicesInterpolated'?: (number);
}

export interface Summary__Output {
  'requestId': (string);
  'objects': (_onesam_v1_ObjectResult__Output)[];
  'slicesEncoded': (_onesam_v1_NetworkSlices__Output)[];
  'stagesMs': (_onesam_v1_StageTimes__Output | null);
  /**
   * Server wall time from the header to the summary, milliseconds.
   */
  'wallMs': (number);
  'labelType': (_onesam_v1_LabelType__Output);
  /**
   * Shape of the label volume ((D,H,W) or (H,W)).
   */
  'labelShape': (number)[];
  'format': (_onesam_v1_LabelFormat__Output);
  'gzip': (boolean);
  /**
   * Total bytes of the encoded labels (sum of the LabelsChunk sizes).
   */
  'labelBytes': (number);
  /**
   * Slice embeddings taken from the session instead of encoded.
   */
  'slicesReused': (_onesam_v1_NetworkSlices__Output)[];
  /**
   * The session after this request (its cached slices included), when the request kept or used one.
   */
  'session': (_onesam_v1_SessionInfo__Output | null);
  /**
   * LABEL_FORMAT_DICOM_SEG: the Segmentation instance the labels are, for storing it (e.g. STOW-RS to its study).
   */
  'dicomSeg': (_onesam_v1_DicomSegInfo__Output | null);
  /**
   * RequestHeader.store: the PACS now holds the Segmentation dicom_seg names.
   */
  'stored': (_onesam_v1_PacsStored__Output | null);
  /**
   * The speed level the request ran at (1: exact, every slice computed), and the object slices its 3D box walks
   * filled by shape interpolation instead of decoding them (0 at level 1).
   */
  'speedLevel': (number);
  'slicesInterpolated': (number);
}
