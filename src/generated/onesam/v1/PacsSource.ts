// Original file: proto/onesam/v1/segmentation.proto


/**
 * A series on a PACS: an endpoint the server is configured with (its `pacs` setting; never a URL) and the UIDs.
 */
export interface PacsSource {
  'endpoint'?: (string);
  'studyInstanceUid'?: (string);
  'seriesInstanceUid'?: (string);
}

/**
 * A series on a PACS: an endpoint the server is configured with (its `pacs` setting; never a URL) and the UIDs.
 */
export interface PacsSource__Output {
  'endpoint': (string);
  'studyInstanceUid': (string);
  'seriesInstanceUid': (string);
}
