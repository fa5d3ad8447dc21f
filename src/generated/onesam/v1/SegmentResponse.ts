// Original file: proto/onesam/v1/segmentation.proto

import type { Accepted as _onesam_v1_Accepted, Accepted__Output as _onesam_v1_Accepted__Output } from '../../onesam/v1/Accepted.ts';
import type { Progress as _onesam_v1_Progress, Progress__Output as _onesam_v1_Progress__Output } from '../../onesam/v1/Progress.ts';
import type { LabelsChunk as _onesam_v1_LabelsChunk, LabelsChunk__Output as _onesam_v1_LabelsChunk__Output } from '../../onesam/v1/LabelsChunk.ts';
import type { Summary as _onesam_v1_Summary, Summary__Output as _onesam_v1_Summary__Output } from '../../onesam/v1/Summary.ts';

export interface SegmentResponse {
  /**
   * First: the payload was read and the prompts are valid; what the server will do.
   */
  'accepted'?: (_onesam_v1_Accepted | null);
  /**
   * While working: cumulative counts.
   */
  'progress'?: (_onesam_v1_Progress | null);
  /**
   * The encoded label volume, in order, about 1 MiB per message.
   */
  'labels'?: (_onesam_v1_LabelsChunk | null);
  /**
   * Last message before the OK status.
   */
  'summary'?: (_onesam_v1_Summary | null);
  'message'?: "accepted"|"progress"|"labels"|"summary";
}

export interface SegmentResponse__Output {
  /**
   * First: the payload was read and the prompts are valid; what the server will do.
   */
  'accepted'?: (_onesam_v1_Accepted__Output | null);
  /**
   * While working: cumulative counts.
   */
  'progress'?: (_onesam_v1_Progress__Output | null);
  /**
   * The encoded label volume, in order, about 1 MiB per message.
   */
  'labels'?: (_onesam_v1_LabelsChunk__Output | null);
  /**
   * Last message before the OK status.
   */
  'summary'?: (_onesam_v1_Summary__Output | null);
  'message'?: "accepted"|"progress"|"labels"|"summary";
}
