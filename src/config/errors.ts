// A configuration value that cannot be used. Raised only at start-up, before any port opens; never sent to a
// client. `field` is the config path (`tls.cert`), `source` says where the bad value came from.
export class ConfigError extends Error {
  readonly code = 'CONFIG_INVALID';
  constructor(readonly field: string, readonly source: string, message: string) {
    super(`config.${field} (${source}): ${message}`);
    this.name = 'ConfigError';
  }
}
