// Original file: proto/onesam/v1/segmentation.proto

import type { Long } from '@grpc/proto-loader';

export interface Progress {
  'slicesEncoded'?: (number);
  'slicesTotal'?: (number);
  'objectsDone'?: (number);
  'objectsTotal'?: (number);
  /**
   * RequestHeader.pacs: the instances and bytes of the series received from the PACS so far. These messages come
   * before Accepted, while the series streams in.
   */
  'instancesFetched'?: (number);
  'bytesFetched'?: (number | string | Long);
  /**
   * RequestHeader.store: set from the moment the SEG is being sent to the PACS.
   */
  'storing'?: (boolean);
}

export interface Progress__Output {
  'slicesEncoded': (number);
  'slicesTotal': (number);
  'objectsDone': (number);
  'objectsTotal': (number);
  /**
   * RequestHeader.pacs: the instances and bytes of the series received from the PACS so far. These messages come
   * before Accepted, while the series streams in.
   */
  'instancesFetched': (number);
  'bytesFetched': (number);
  /**
   * RequestHeader.store: set from the moment the SEG is being sent to the PACS.
   */
  'storing': (boolean);
}
