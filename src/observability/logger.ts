// The JSON logger: pino, one child per request carrying its id. Two guarantees: fields that could identify a
// patient or carry a credential are redacted wherever they appear at the top level or one level down, and binary
// values (voxel data, label volumes, chunks) are replaced by their size before a line is written.
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

/** A request's logger: every line carries the request id and the RPC method. */
export function requestLogger(root: Logger, requestId: string, method: string): Logger {
  return root.child({ requestId, method });
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
