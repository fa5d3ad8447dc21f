// One HTTP exchange with a PACS endpoint: its base URL, its credentials (read from their files for each request, so
// a rotated token is used at once), its CA, its connect and silence timeouts, on a keep-alive agent of its own.
// node:http rather than fetch: fetch cannot take a CA per endpoint without the undici package, and a socket-level
// silence timeout is what a long WADO-RS transfer needs (a total deadline would cut a slow but moving series).
import { readFile } from 'node:fs/promises';
import * as http from 'node:http';
import * as https from 'node:https';
import { readFileSync } from 'node:fs';
import type { Socket } from 'node:net';
import type { PacsEndpoint } from './endpoint.ts';

export interface PacsRequest {
  readonly method: 'GET' | 'POST';
  /** Below the endpoint's root, starting with "/" (`/studies/1.2.3/series`). */
  readonly path: string;
  readonly query?: URLSearchParams;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: Uint8Array;
}

export interface PacsResponse {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  /** The body as it streams in; read it to the end (or destroy it) to free the connection. */
  readonly body: http.IncomingMessage;
}

/** Why an exchange failed before or while the response streamed: the connection, not the PACS's answer. */
export class TransportError extends Error {
  constructor(message: string, readonly kind: 'connect' | 'timeout' | 'network' | 'tls' | 'credentials', options?: ErrorOptions) {
    super(message, options);
    this.name = 'TransportError';
  }
}

export class PacsHttp {
  private readonly agent: http.Agent;
  private readonly base: URL;

  constructor(readonly endpoint: PacsEndpoint) {
    this.base = new URL(endpoint.url);
    const options = { keepAlive: true, maxSockets: 16 };
    this.agent = this.base.protocol === 'https:'
      ? new https.Agent({ ...options, ...(endpoint.caFile !== undefined ? { ca: readFileSync(endpoint.caFile) } : {}) })
      : new http.Agent(options);
  }

  /** The full URL of `path` under the endpoint's root (logs and `onesam pacs` show it). */
  url(path: string, query?: URLSearchParams): URL {
    const url = new URL(this.base.href + path);
    if (query) url.search = query.toString();
    return url;
  }

  async send(request: PacsRequest, signal?: AbortSignal): Promise<PacsResponse> {
    const authorization = await this.authorization();
    const url = this.url(request.path, request.query);
    const transport = url.protocol === 'https:' ? https : http;
    const { connectTimeoutMs, responseTimeoutMs } = this.endpoint;
    return new Promise<PacsResponse>((resolve, reject) => {
      const req = transport.request(url, {
        method: request.method,
        agent: this.agent,
        headers: {
          ...request.headers,
          ...(authorization ? { authorization } : {}),
          ...(request.body ? { 'content-length': String(request.body.length) } : {}),
        },
        ...(signal ? { signal } : {}),
      });
      let settled = false;
      let response: http.IncomingMessage | undefined;
      const fail = (error: Error): void => {
        if (settled) return;
        settled = true;
        req.destroy();
        reject(error);
      };
      const connectTimer = setTimeout(() => fail(new TransportError(`accepted no connection within ${connectTimeoutMs} ms (connectTimeoutMs)`, 'timeout')), connectTimeoutMs);
      const silent = (): void => {
        const error = new TransportError(`was silent for ${responseTimeoutMs} ms (responseTimeoutMs)`, 'timeout');
        // Once the response is out, the silence ends its body stream instead: the reader sees this error.
        if (response) response.destroy(error);
        else fail(error);
      };
      const connected = (socket: Socket): void => {
        clearTimeout(connectTimer);
        // From here the limit is on silence: waiting for the headers, then between pieces of the body. The socket
        // may be kept alive for the next request: the listener and the timeout leave with this exchange.
        socket.setTimeout(responseTimeoutMs);
        socket.on('timeout', silent);
        req.once('close', () => {
          socket.off('timeout', silent);
          socket.setTimeout(0);
        });
      };
      req.on('socket', (socket: Socket) => {
        if (!socket.connecting) connected(socket);
        else socket.once(url.protocol === 'https:' ? 'secureConnect' : 'connect', () => connected(socket));
      });
      req.on('error', (err: NodeJS.ErrnoException) => {
        clearTimeout(connectTimer);
        if (err.name === 'AbortError') return fail(err);
        fail(transportError(err));
      });
      req.on('response', (res) => {
        clearTimeout(connectTimer);
        if (settled) {
          res.destroy();
          return;
        }
        settled = true;
        response = res;
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: res });
      });
      req.end(request.body);
    });
  }

  /** Closes idle keep-alive connections (the service's shutdown, the CLI's exit). */
  close(): void {
    this.agent.destroy();
  }

  private async authorization(): Promise<string | undefined> {
    const { auth } = this.endpoint;
    const secret = async (path: string): Promise<string> => {
      try {
        // A trailing newline is the editor's, not the secret's.
        return (await readFile(path, 'utf8')).replace(/\r?\n$/, '');
      } catch (err) {
        throw new TransportError(`cannot be used: this server's credentials file for it cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'})`, 'credentials', { cause: err });
      }
    };
    switch (auth.type) {
      case 'none':
        return undefined;
      case 'basic':
        return `Basic ${Buffer.from(`${auth.username}:${await secret(auth.passwordFile)}`).toString('base64')}`;
      case 'bearer':
        return `Bearer ${(await secret(auth.tokenFile)).trim()}`;
    }
  }
}

/** What went wrong with the connection, as a phrase after `PACS endpoint "name"` (no addresses: clients read it). */
function transportError(err: NodeJS.ErrnoException): TransportError {
  const code = err.code ?? '';
  if (code === 'ECONNREFUSED') return new TransportError('refused the connection (ECONNREFUSED)', 'connect', { cause: err });
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return new TransportError(`has a host name that does not resolve (${code})`, 'connect', { cause: err });
  if (code === 'EHOSTUNREACH' || code === 'ENETUNREACH') return new TransportError(`cannot be reached (${code})`, 'connect', { cause: err });
  // Certificate verification codes are OpenSSL's (UNABLE_TO_VERIFY_LEAF_SIGNATURE, CERT_HAS_EXPIRED, ...), Node's
  // own start with ERR_TLS / ERR_SSL: retrying cannot fix any of them.
  if (/^(ERR_TLS|ERR_SSL|UNABLE_TO_|SELF_SIGNED|DEPTH_ZERO|CERT_)|CERT/.test(code)) {
    return new TransportError(`failed the TLS handshake (${code}); is the endpoint's caFile the CA that signed its certificate?`, 'tls', { cause: err });
  }
  return new TransportError(`broke the connection (${code || err.message})`, 'network', { cause: err });
}
