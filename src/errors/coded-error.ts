// The one error shape for every failure a client can be told about: the server's own (stream protocol, limits,
// admission), the pipeline's (prompts, image, routing, memory) and the payload layer's (decoding, labels). It
// keeps apart a stable code from the registry, the path of the request field at fault and the detail; `message`
// is composed from them ("field: detail"), the text clients and logs read. A layer that hands an error on under
// another path (pipeline `prompts[2]` -> `header.prompts[2]`) composes the new path with rebased() or fieldUnder().
import { rebaseField, withField } from './field-path.ts';
import type { ErrorCode } from './registry.ts';

export class CodedError extends Error {
  /**
   * @param code stable identifier from the registry: it decides the gRPC status and log level
   * @param detail what is wrong, for the client, without the field path
   * @param field path of the request field at fault (`header.raw.shape`, `prompts[2].box2d`, `npz.boxes`, ...)
   */
  constructor(readonly code: ErrorCode, readonly detail: string, readonly field?: string, options?: ErrorOptions) {
    super(withField(field, detail), options);
    this.name = 'CodedError';
  }

  /**
   * The same error with its field's leading segment `from` replaced by `to` (`prompts[2].box2d`, `prompts` ->
   * `header.prompts`: `header.prompts[2].box2d`); this error itself when its field is elsewhere.
   */
  rebased(from: string, to: string): CodedError {
    const field = this.field ? rebaseField(this.field, from, to) : undefined;
    return field === undefined ? this : new CodedError(this.code, this.detail, field);
  }
}
