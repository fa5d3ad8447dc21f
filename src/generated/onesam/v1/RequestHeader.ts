// Original file: proto/onesam/v1/segmentation.proto

import type { Payload as _onesam_v1_Payload, Payload__Output as _onesam_v1_Payload__Output } from '../../onesam/v1/Payload.ts';
import type { Prompt as _onesam_v1_Prompt, Prompt__Output as _onesam_v1_Prompt__Output } from '../../onesam/v1/Prompt.ts';
import type { EnsembleMode as _onesam_v1_EnsembleMode, EnsembleMode__Output as _onesam_v1_EnsembleMode__Output } from '../../onesam/v1/EnsembleMode.ts';
import type { OutputOptions as _onesam_v1_OutputOptions, OutputOptions__Output as _onesam_v1_OutputOptions__Output } from '../../onesam/v1/OutputOptions.ts';

export interface RequestHeader {
  /**
   * Caller's identifier, echoed in logs and responses; the server makes one up when empty. At most 128 characters.
   */
  'requestId'?: (string);
  /**
   * Imaging modality as free text ("CT", "MR", "X-Ray", "dermoscopy", ...); empty when unknown. Used by ROUTE.
   */
  'modality'?: (string);
  'payload'?: (_onesam_v1_Payload | null);
  /**
   * Objects to segment. May be empty for an npz payload that carries its own `boxes` or `scribbles`.
   */
  'prompts'?: (_onesam_v1_Prompt)[];
  /**
   * Which network segments the objects; UNSPECIFIED means ROUTE.
   */
  'network'?: (_onesam_v1_EnsembleMode);
  'output'?: (_onesam_v1_OutputOptions | null);
}

export interface RequestHeader__Output {
  /**
   * Caller's identifier, echoed in logs and responses; the server makes one up when empty. At most 128 characters.
   */
  'requestId': (string);
  /**
   * Imaging modality as free text ("CT", "MR", "X-Ray", "dermoscopy", ...); empty when unknown. Used by ROUTE.
   */
  'modality': (string);
  'payload': (_onesam_v1_Payload__Output | null);
  /**
   * Objects to segment. May be empty for an npz payload that carries its own `boxes` or `scribbles`.
   */
  'prompts': (_onesam_v1_Prompt__Output)[];
  /**
   * Which network segments the objects; UNSPECIFIED means ROUTE.
   */
  'network': (_onesam_v1_EnsembleMode__Output);
  'output': (_onesam_v1_OutputOptions__Output | null);
}
