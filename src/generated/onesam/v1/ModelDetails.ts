// Original file: proto/onesam/v1/segmentation.proto

import type { Long } from '@grpc/proto-loader';

export interface ModelDetails {
  /**
   * "litemedsam" or "onesam".
   */
  'architecture'?: (string);
  /**
   * Compute precision of the compiled graphs ("fp32").
   */
  'precision'?: (string);
  /**
   * SHA-256 (hex) of the weights file in the model repository.
   */
  'weightsSha256'?: (string);
  /**
   * Learnable parameters of the network (BatchNorm statistics and fixed positional encodings excluded).
   */
  'parameters'?: (number | string | Long);
  /**
   * The checkpoint file `onesam import` read, and its SHA-256 (compare it with the authors' published file);
   * empty for models whose manifest does not record it.
   */
  'source'?: (string);
  'sourceSha256'?: (string);
  'description'?: (string);
  'license'?: (string);
  /**
   * Modalities the model is meant for (informative; the routing table decides).
   */
  'modalities'?: (string)[];
}

export interface ModelDetails__Output {
  /**
   * "litemedsam" or "onesam".
   */
  'architecture': (string);
  /**
   * Compute precision of the compiled graphs ("fp32").
   */
  'precision': (string);
  /**
   * SHA-256 (hex) of the weights file in the model repository.
   */
  'weightsSha256': (string);
  /**
   * Learnable parameters of the network (BatchNorm statistics and fixed positional encodings excluded).
   */
  'parameters': (number);
  /**
   * The checkpoint file `onesam import` read, and its SHA-256 (compare it with the authors' published file);
   * empty for models whose manifest does not record it.
   */
  'source': (string);
  'sourceSha256': (string);
  'description': (string);
  'license': (string);
  /**
   * Modalities the model is meant for (informative; the routing table decides).
   */
  'modalities': (string)[];
}
