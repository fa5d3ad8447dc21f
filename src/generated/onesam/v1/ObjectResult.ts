// Original file: proto/onesam/v1/segmentation.proto

import type { Network as _onesam_v1_Network, Network__Output as _onesam_v1_Network__Output } from '../../onesam/v1/Network.ts';
import type { ObjectQuality as _onesam_v1_ObjectQuality, ObjectQuality__Output as _onesam_v1_ObjectQuality__Output } from '../../onesam/v1/ObjectQuality.ts';
import type { Long } from '@grpc/proto-loader';

export interface ObjectResult {
  'label'?: (number);
  'networks'?: (_onesam_v1_Network)[];
  /**
   * Voxels carrying this label in the output.
   */
  'voxels'?: (number | string | Long);
  /**
   * Slice range the object's walks visited, both ends included.
   */
  'sliceFirst'?: (number);
  'sliceLast'?: (number);
  /**
   * The mask decoder's predicted IoU of this object's masks (SAM's IoU head, clamped to 0..1), over every slice
   * decoded for it: the mean and the lowest. With ENSEMBLE_MODE_FUSE, the networks' predictions averaged per slice.
   */
  'predictedIouMean'?: (number | string);
  'predictedIouMin'?: (number | string);
  /**
   * Volume in millilitres (voxels x the product of the spacing in mm / 1000); unset when the spacing is unknown.
   */
  'volumeMl'?: (number | string);
  /**
   * Slices that actually hold this object's voxels in the output, both ends included; unset when it has none.
   */
  'coveredSliceFirst'?: (number);
  'coveredSliceLast'?: (number);
  /**
   * A walk ended on an empty mask before the volume's edge (scribble propagation beyond the scribbled slices
   * takes that as the object's end). Box walks never stop early.
   */
  'stoppedEarly'?: (boolean);
  /**
   * What a client may do with the mask without reading the numbers above (see docs/api.md).
   */
  'quality'?: (_onesam_v1_ObjectQuality);
  '_volumeMl'?: "volumeMl";
  '_coveredSliceFirst'?: "coveredSliceFirst";
  '_coveredSliceLast'?: "coveredSliceLast";
}

export interface ObjectResult__Output {
  'label': (number);
  'networks': (_onesam_v1_Network__Output)[];
  /**
   * Voxels carrying this label in the output.
   */
  'voxels': (number);
  /**
   * Slice range the object's walks visited, both ends included.
   */
  'sliceFirst': (number);
  'sliceLast': (number);
  /**
   * The mask decoder's predicted IoU of this object's masks (SAM's IoU head, clamped to 0..1), over every slice
   * decoded for it: the mean and the lowest. With ENSEMBLE_MODE_FUSE, the networks' predictions averaged per slice.
   */
  'predictedIouMean': (number);
  'predictedIouMin': (number);
  /**
   * Volume in millilitres (voxels x the product of the spacing in mm / 1000); unset when the spacing is unknown.
   */
  'volumeMl'?: (number);
  /**
   * Slices that actually hold this object's voxels in the output, both ends included; unset when it has none.
   */
  'coveredSliceFirst'?: (number);
  'coveredSliceLast'?: (number);
  /**
   * A walk ended on an empty mask before the volume's edge (scribble propagation beyond the scribbled slices
   * takes that as the object's end). Box walks never stop early.
   */
  'stoppedEarly': (boolean);
  /**
   * What a client may do with the mask without reading the numbers above (see docs/api.md).
   */
  'quality': (_onesam_v1_ObjectQuality__Output);
  '_volumeMl'?: "volumeMl";
  '_coveredSliceFirst'?: "coveredSliceFirst";
  '_coveredSliceLast'?: "coveredSliceLast";
}
