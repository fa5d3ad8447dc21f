// Errors raised while decoding payloads and encoding label volumes. The codes, and the gRPC status each travels
// as, are in the registry (src/errors/registry.ts), the one place that decides how a failure looks on the wire.
import type { VolumeErrorCode } from '../errors/registry.ts';

export type { VolumeErrorCode };

export class VolumeError extends Error {
  /**
   * @param code stable identifier, see the registry
   * @param field path of the request field at fault (`header.raw.shape`, `payload`, `npz.boxes`, ...)
   * @param message what is wrong, for the client; it already starts with the field path
   */
  constructor(readonly code: VolumeErrorCode, readonly field: string, message: string) {
    super(`${field}: ${message}`);
    this.name = 'VolumeError';
  }
}
