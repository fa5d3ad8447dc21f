// Original file: proto/onesam/v1/segmentation.proto


export interface PayloadChunk {
  /**
   * About 1 MiB; the server accepts messages up to its receive limit (8 MiB by default).
   */
  'data'?: (Buffer | Uint8Array | string);
}

export interface PayloadChunk__Output {
  /**
   * About 1 MiB; the server accepts messages up to its receive limit (8 MiB by default).
   */
  'data': (Buffer);
}
