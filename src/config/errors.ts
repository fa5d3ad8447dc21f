// A configuration value that cannot be used. Raised only at start-up, before any port opens; never sent to a
// client, so it has no registry code. Like a CodedError it keeps the field path (`tls.cert`) and the detail
// apart and composes its message from them, with `source` (where the bad value came from) beside the path:
// `config.tls.cert (ONESAM_TLS_CERT): ...`.
import { fieldUnder, withField } from '../errors/field-path.ts';

export class ConfigError extends Error {
  readonly code = 'CONFIG_INVALID';
  constructor(readonly field: string, readonly source: string, readonly detail: string) {
    super(withField(`${fieldUnder('config', field)} (${source})`, detail));
    this.name = 'ConfigError';
  }
}
