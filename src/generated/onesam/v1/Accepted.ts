// Original file: proto/onesam/v1/segmentation.proto

import type { EnsembleMode as _onesam_v1_EnsembleMode, EnsembleMode__Output as _onesam_v1_EnsembleMode__Output } from '../../onesam/v1/EnsembleMode.ts';
import type { ImageShape as _onesam_v1_ImageShape, ImageShape__Output as _onesam_v1_ImageShape__Output } from '../../onesam/v1/ImageShape.ts';
import type { PlannedObject as _onesam_v1_PlannedObject, PlannedObject__Output as _onesam_v1_PlannedObject__Output } from '../../onesam/v1/PlannedObject.ts';
import type { NetworkSlices as _onesam_v1_NetworkSlices, NetworkSlices__Output as _onesam_v1_NetworkSlices__Output } from '../../onesam/v1/NetworkSlices.ts';
import type { SessionInfo as _onesam_v1_SessionInfo, SessionInfo__Output as _onesam_v1_SessionInfo__Output } from '../../onesam/v1/SessionInfo.ts';
import type { ModalitySource as _onesam_v1_ModalitySource, ModalitySource__Output as _onesam_v1_ModalitySource__Output } from '../../onesam/v1/ModalitySource.ts';

export interface Accepted {
  'requestId'?: (string);
  /**
   * Canonical modality the request was routed with; empty when unknown.
   */
  'modality'?: (string);
  'network'?: (_onesam_v1_EnsembleMode);
  /**
   * The prepared image: depth (1 for 2D), height, width, channels.
   */
  'image'?: (_onesam_v1_ImageShape | null);
  'objects'?: (_onesam_v1_PlannedObject)[];
  /**
   * Distinct slices each network will encode (an upper bound for scribble walks, which may stop early). Slices a
   * session already holds are counted here too: Summary.slices_reused says how many were not encoded again.
   */
  'slicesToEncode'?: (_onesam_v1_NetworkSlices)[];
  /**
   * Set when the request kept its volume as a session or used one.
   */
  'session'?: (_onesam_v1_SessionInfo | null);
  /**
   * Where `modality` came from.
   */
  'modalitySource'?: (_onesam_v1_ModalitySource);
}

export interface Accepted__Output {
  'requestId': (string);
  /**
   * Canonical modality the request was routed with; empty when unknown.
   */
  'modality': (string);
  'network': (_onesam_v1_EnsembleMode__Output);
  /**
   * The prepared image: depth (1 for 2D), height, width, channels.
   */
  'image': (_onesam_v1_ImageShape__Output | null);
  'objects': (_onesam_v1_PlannedObject__Output)[];
  /**
   * Distinct slices each network will encode (an upper bound for scribble walks, which may stop early). Slices a
   * session already holds are counted here too: Summary.slices_reused says how many were not encoded again.
   */
  'slicesToEncode': (_onesam_v1_NetworkSlices__Output)[];
  /**
   * Set when the request kept its volume as a session or used one.
   */
  'session': (_onesam_v1_SessionInfo__Output | null);
  /**
   * Where `modality` came from.
   */
  'modalitySource': (_onesam_v1_ModalitySource__Output);
}
