// Original file: proto/onesam/v1/segmentation.proto


/**
 * Milliseconds per stage. Pipeline stages are summed over objects and workers, so they may exceed wall time.
 */
export interface StageTimes {
  /**
   * Receiving the payload and decoding it to 8-bit (intensity preparation included).
   */
  'ingest'?: (number | string);
  'preprocess'?: (number | string);
  'encode'?: (number | string);
  'decode'?: (number | string);
  'postprocess'?: (number | string);
  'assemble'?: (number | string);
  /**
   * Time tasks waited for a free worker.
   */
  'queue'?: (number | string);
  /**
   * Encoding the labels and writing them to the stream (storing them in a PACS included).
   */
  'send'?: (number | string);
  /**
   * RequestHeader.pacs: retrieving the series from the PACS (part of ingest).
   */
  'fetch'?: (number | string);
  /**
   * RequestHeader.store: storing the SEG in the PACS (part of send).
   */
  'store'?: (number | string);
}

/**
 * Milliseconds per stage. Pipeline stages are summed over objects and workers, so they may exceed wall time.
 */
export interface StageTimes__Output {
  /**
   * Receiving the payload and decoding it to 8-bit (intensity preparation included).
   */
  'ingest': (number);
  'preprocess': (number);
  'encode': (number);
  'decode': (number);
  'postprocess': (number);
  'assemble': (number);
  /**
   * Time tasks waited for a free worker.
   */
  'queue': (number);
  /**
   * Encoding the labels and writing them to the stream (storing them in a PACS included).
   */
  'send': (number);
  /**
   * RequestHeader.pacs: retrieving the series from the PACS (part of ingest).
   */
  'fetch': (number);
  /**
   * RequestHeader.store: storing the SEG in the PACS (part of send).
   */
  'store': (number);
}
