// The configured PACS endpoints as clients, by name: the only way the server and the CLI reach a PACS. A name that
// is not configured is PACS_ENDPOINT_UNKNOWN, so no request can steer the server to another address.
import { CodedError } from '../errors/coded-error.ts';
import { DicomwebClient, type PacsObserver } from './client.ts';
import type { PacsEndpoint } from './endpoint.ts';

export class PacsDirectory {
  private readonly clients = new Map<string, DicomwebClient>();

  constructor(endpoints: Readonly<Record<string, PacsEndpoint>>, observer: PacsObserver = {}) {
    for (const [name, endpoint] of Object.entries(endpoints)) this.clients.set(name, new DicomwebClient(endpoint, observer));
  }

  /** The configured names, in configuration order. */
  get names(): readonly string[] {
    return [...this.clients.keys()];
  }

  /** The client of endpoint `name`; PACS_ENDPOINT_UNKNOWN (naming `field`) when it is not configured. */
  client(name: string, field?: string): DicomwebClient {
    const client = this.clients.get(name);
    if (!client) {
      const known = this.names;
      throw new CodedError('PACS_ENDPOINT_UNKNOWN', `names no PACS endpoint of this server: ${known.length ? `it knows ${known.join(', ')}` : 'it is configured with none (the `pacs` setting)'}, got "${name.slice(0, 64)}"`, field);
    }
    return client;
  }

  /** Closes every endpoint's idle connections. */
  close(): void {
    for (const client of this.clients.values()) client.close();
  }
}
