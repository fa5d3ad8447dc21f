// Original file: proto/onesam/v1/segmentation.proto


/**
 * A Segmentation stored in a PACS by STOW-RS.
 */
export interface PacsStored {
  'endpoint'?: (string);
  /**
   * Where the PACS says the instance can be retrieved (WADO-RS); empty when it did not say.
   */
  'retrieveUrl'?: (string);
  /**
   * A Warning Reason the PACS attached (it stored the instance, perhaps with attributes coerced), e.g.
   * "0xB000 (coercion of data elements)"; empty without one.
   */
  'warning'?: (string);
}

/**
 * A Segmentation stored in a PACS by STOW-RS.
 */
export interface PacsStored__Output {
  'endpoint': (string);
  /**
   * Where the PACS says the instance can be retrieved (WADO-RS); empty when it did not say.
   */
  'retrieveUrl': (string);
  /**
   * A Warning Reason the PACS attached (it stored the instance, perhaps with attributes coerced), e.g.
   * "0xB000 (coercion of data elements)"; empty without one.
   */
  'warning': (string);
}
