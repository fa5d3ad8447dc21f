// Original file: proto/onesam/v1/segmentation.proto

import type { PayloadFormat as _onesam_v1_PayloadFormat, PayloadFormat__Output as _onesam_v1_PayloadFormat__Output } from '../../onesam/v1/PayloadFormat.ts';
import type { RawVolume as _onesam_v1_RawVolume, RawVolume__Output as _onesam_v1_RawVolume__Output } from '../../onesam/v1/RawVolume.ts';
import type { IntensityPreparation as _onesam_v1_IntensityPreparation, IntensityPreparation__Output as _onesam_v1_IntensityPreparation__Output } from '../../onesam/v1/IntensityPreparation.ts';
import type { Long } from '@grpc/proto-loader';

export interface Payload {
  'format'?: (_onesam_v1_PayloadFormat);
  /**
   * Required for PAYLOAD_FORMAT_RAW, ignored otherwise.
   */
  'raw'?: (_onesam_v1_RawVolume | null);
  /**
   * How stored voxel values become 0..255; unset means as-is.
   */
  'intensity'?: (_onesam_v1_IntensityPreparation | null);
  /**
   * Total bytes the chunks will carry. Required (> 0); the server refuses payloads above its configured maximum
   * before reading them, and any chunk that goes past this size.
   */
  'sizeBytes'?: (number | string | Long);
}

export interface Payload__Output {
  'format': (_onesam_v1_PayloadFormat__Output);
  /**
   * Required for PAYLOAD_FORMAT_RAW, ignored otherwise.
   */
  'raw': (_onesam_v1_RawVolume__Output | null);
  /**
   * How stored voxel values become 0..255; unset means as-is.
   */
  'intensity': (_onesam_v1_IntensityPreparation__Output | null);
  /**
   * Total bytes the chunks will carry. Required (> 0); the server refuses payloads above its configured maximum
   * before reading them, and any chunk that goes past this size.
   */
  'sizeBytes': (number);
}
