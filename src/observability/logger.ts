// The JSON logger: pino, one child per request carrying its id. Three guarantees: fields that could identify a
// patient or carry a credential are redacted wherever they appear at the top level or one level down, binary
// values (voxel data, label volumes, chunks) are replaced by their size before a line is written, and text a
// client chose never reaches a line. Clients put what they like into free-text fields: a gateway once sent the
// file name `Patient_<NAME>_<MRN>.npz` as request_id, and key names, modality text and session ids are just as
// free. So request lines carry the server's own request id (a UUID, sent back to the client to correlate by), a
// client's id only when it is a random UUID or ULID (loggableClientId), and error lines carry the stable code and
// field path, never the message (which quotes the client; it goes to the client).
import { pino, type DestinationStream, type Logger } from 'pino';
import type { LogLevel } from '../config/schema.ts';

export type { Logger };

/** DICOM-style and lower-camel identifiers of a person, plus credentials. */
const SENSITIVE_KEYS = [
  'PatientName', 'PatientID', 'PatientBirthDate', 'BirthDate', 'PatientAddress', 'OtherPatientIDs', 'AccessionNumber',
  'patientName', 'patientId', 'birthDate', 'accessionNumber',
  'authorization', 'authToken', 'token', 'password',
];
export const REDACT_PATHS: readonly string[] = Object.freeze(SENSITIVE_KEYS.flatMap((k) => [k, `*.${k}`]));

export interface LoggerOptions {
  readonly level: LogLevel;
  /** Where lines go; default stdout. Tests pass a stream and parse the lines. */
  readonly destination?: DestinationStream;
  /** Fields on every line (service name, version). */
  readonly base?: Readonly<Record<string, unknown>>;
}

export function createLogger(options: LoggerOptions): Logger {
  return pino(
    {
      level: options.level,
      base: { service: 'onesam', ...options.base },
      redact: { paths: [...REDACT_PATHS], censor: '[redacted]' },
      // Level names, not pino's numbers: what log pipelines (Loki, Cloud Logging) filter on.
      formatters: { level: (label) => ({ level: label }), log: withoutBinary },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    options.destination ?? pino.destination({ dest: 1, sync: false }),
  );
}

/**
 * Request ids of the random forms gateways generate: a UUID (any version) or a ULID. Such an id carries nothing
 * about a patient, so it may appear in logs as sent.
 */
const RANDOM_ID = /^(?:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|[0-9A-HJKMNP-TV-Z]{26})$/i;

/**
 * A client's request id as it may appear in logs: as sent when it is a UUID or ULID, otherwise not at all. A hash
 * is no way out: an unsalted hash of a file name or an accession number is reversed by trying the few million
 * names of that form. Gateways whose ids are free text correlate through the server's own id instead, which
 * every Segment call sends back in the `onesam-server-request-id` response header.
 */
export function loggableClientId(id: string): string | undefined {
  return RANDOM_ID.test(id) ? id : undefined;
}

/**
 * A request's logger: every line carries the server's request id (a UUID the server made), the RPC method and,
 * when the client sent a UUID or ULID as its request id, that id as `clientRequestId` (loggableClientId).
 */
export function requestLogger(root: Logger, requestId: string, method: string, clientRequestId?: string): Logger {
  const loggable = clientRequestId === undefined ? undefined : loggableClientId(clientRequestId);
  return root.child({ requestId, method, ...(loggable ? { clientRequestId: loggable } : {}) });
}

/** Longest message kept from an unexpected error, after quoted text is taken out. */
const MAX_ERROR_MESSAGE = 300;

/**
 * An unexpected (INTERNAL) error as a log field: its class, code and stack frames, and its message with anything
 * quoted ("..." '...' `...`) replaced, since messages built by libraries or our own code may quote the input
 * that broke them. Pino's own err serializer would log the message, and every own property, verbatim.
 */
export function errorForLog(err: unknown): Record<string, unknown> {
  if (!(err instanceof Error)) return { type: typeof err };
  const code = (err as { code?: unknown }).code;
  const frames = (err.stack ?? '').split('\n').filter((line) => /^\s+at /.test(line)).map((line) => line.trim());
  const message = err.message.replace(/"[^"]*"|'[^']*'|`[^`]*`/g, '[quoted]').replace(/"|'|`/g, '');
  return {
    type: err.name,
    ...(typeof code === 'string' && /^[A-Z0-9_]{1,64}$/.test(code) ? { code } : {}),
    message: message.length > MAX_ERROR_MESSAGE ? `${message.slice(0, MAX_ERROR_MESSAGE)}...` : message,
    stack: frames.slice(0, 20),
  };
}

function withoutBinary(object: Record<string, unknown>): Record<string, unknown> {
  let out: Record<string, unknown> | undefined;
  for (const [key, value] of Object.entries(object)) {
    if (ArrayBuffer.isView(value) || value instanceof ArrayBuffer || value instanceof SharedArrayBuffer) {
      out ??= { ...object };
      out[key] = `[${value.byteLength} bytes]`;
    }
  }
  return out ?? object;
}
