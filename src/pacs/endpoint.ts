// A PACS the server may talk to: a DICOMweb base URL under a name, with its credentials, TLS trust and patience.
// Endpoints come from the configuration only (src/config/pacs-setting.ts checks them once at start): a request
// names an endpoint, never a URL, so no client can make the server fetch an address of its choosing.

/** How the server proves itself to the PACS. Secrets stay in files, read when a request is made (rotation works). */
export type PacsAuth =
  | { readonly type: 'none' }
  | { readonly type: 'basic'; readonly username: string; readonly passwordFile: string }
  | { readonly type: 'bearer'; readonly tokenFile: string };

export interface PacsEndpoint {
  /** The name requests and the CLI use (`orthanc`, `archive`). */
  readonly name: string;
  /** The DICOMweb root (`https://pacs.example.org/dicom-web`), without a trailing slash. */
  readonly url: string;
  readonly auth: PacsAuth;
  /** PEM CA bundle trusted for this endpoint's https certificate, instead of Node's default roots. */
  readonly caFile?: string;
  /** Longest wait for the TCP (and TLS) connection. */
  readonly connectTimeoutMs: number;
  /** Longest silence once connected: waiting for the response headers, or for the next bytes of the body. */
  readonly responseTimeoutMs: number;
  /** Further attempts after a transient failure (connect error, timeout, 5xx, 429); 0: one attempt only. */
  readonly retries: number;
  /** First retry delay; each later one doubles, with full jitter. */
  readonly retryDelayMs: number;
}

export const PACS_ENDPOINT_DEFAULTS = Object.freeze({
  // A LAN PACS answers a SYN in milliseconds; 10 s outlasts a SYN retransmission or two on a lossy WAN link.
  connectTimeoutMs: 10_000,
  // Orthanc and dcm4chee assemble a WADO-RS series before the first byte: a few seconds for a 500-slice CT on a
  // busy archive, far less than a minute; the limit is on silence, so a long transfer that keeps moving never hits it.
  responseTimeoutMs: 60_000,
  retries: 2,
  retryDelayMs: 500,
});

/** Endpoint names: short, URL- and log-safe, never a URL themselves. */
export const ENDPOINT_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
