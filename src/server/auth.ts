// Optional bearer-token check, as a server interceptor so it runs before any handler sees the call. Health checks
// are exempt: Kubernetes' gRPC probes cannot send metadata.
import { timingSafeEqual, createHash } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import { CodedError } from '../errors/coded-error.ts';
import { mapError, toStatusObject } from '../errors/grpc-status.ts';

const EXEMPT_PREFIX = '/grpc.health.v1.Health/';

/** `onReject` is told the method path of each refused call (for the errors metric). */
export function bearerTokenInterceptor(token: string, onReject: (path: string) => void = () => undefined): grpc.ServerInterceptor {
  // Compare digests so the comparison takes the same time whatever the length of the presented token.
  const expected = createHash('sha256').update(token).digest();
  const accepts = (metadata: grpc.Metadata): boolean => {
    const values = metadata.get('authorization');
    if (values.length !== 1) return false;
    const match = /^Bearer (\S+)$/.exec(String(values[0]));
    return match !== null && timingSafeEqual(createHash('sha256').update(match[1]!).digest(), expected);
  };
  return (method, call) => {
    if (method.path.startsWith(EXEMPT_PREFIX)) return new grpc.ServerInterceptingCall(call);
    return new grpc.ServerInterceptingCall(call, {
      start: (next) => {
        next({
          onReceiveMetadata: (metadata, proceed) => {
            if (accepts(metadata)) {
              proceed(metadata);
              return;
            }
            onReject(method.path);
            const mapped = mapError(new CodedError('UNAUTHENTICATED', 'this server requires `authorization: Bearer <token>` metadata'));
            call.sendStatus(toStatusObject(mapped));
          },
        });
      },
    });
  };
}
