// Request messages that never reach a handler: bytes that do not decode as the method's request type, and
// messages above the receive limit (maxMessageBytes). Left to grpc-js, both end inside its own call object, below
// every interceptor and handler: INTERNAL "Error deserializing request" or a bare RESOURCE_EXHAUSTED, with no
// `onesam-error-code` trailer and no log line, and a handler only sees 'cancelled' (so Segment counted a client
// cancel). The guard turns them into MESSAGE_UNDECODABLE (INVALID_ARGUMENT) and MESSAGE_TOO_LARGE
// (RESOURCE_EXHAUSTED), sent with the trailer, logged and counted by `onRefused`, for every method of a service
// installed with `tolerant()`.
//
// Why this shape (grpc-js 1.14, server-interceptors.js):
// - Undecodable: grpc-js calls the method's requestDeserialize when the message arrives and, when it throws,
//   sends the status itself; an interceptor sees neither the error nor which message failed (only the status text,
//   too brittle to match). So the service's deserializers are wrapped to never throw: a message that fails becomes
//   the UNDECODABLE marker, which travels in order with the other messages and meets this interceptor in
//   onReceiveMessage, the public interceptor API, when the handler reads that far. One place covers the unary
//   methods (where grpc-js would otherwise hand the marker to the handler as `call.request`) and Segment alike.
// - Too large: grpc-js refuses the 5-byte length prefix before buffering the message, which is the right place:
//   raising grpc-js's limit and checking sizes in the deserializer would let a client make the server buffer up to
//   4 GiB first. Its status goes through the sendStatus of grpc-js's own call object, which calls it on itself, so
//   the guard, installed as the FIRST server interceptor (it is then handed that object), wraps that one method of
//   it. A RESOURCE_EXHAUSTED without our code reaching it came from grpc-js's receive path: the server sets no send
//   limit, and every status our handlers send carries its code.
import * as grpc from '@grpc/grpc-js';
import { CodedError } from '../errors/coded-error.ts';
import { ERROR_CODE_KEY, mapError, toStatusObject, type MappedError } from '../errors/grpc-status.ts';

/** What a tolerant deserializer returns for bytes the real one rejects; never seen by a handler. */
const UNDECODABLE: unique symbol = Symbol('undecodable request message');

/** `onRefused` is told the method path and the error each refused call ended with (log it, count it). */
export type RefusalListener = (path: string, error: MappedError) => void;

export class MessageGuard {
  /** Calls the guard ended, by their metadata (the one object a handler and the interceptor both see). */
  private readonly refusals = new WeakMap<grpc.Metadata, CodedError>();

  constructor(private readonly maxMessageBytes: number, private readonly onRefused: RefusalListener) {}

  /** The service definition with request deserializers that return a marker instead of throwing. */
  tolerant<T extends grpc.ServiceDefinition>(definition: T): T {
    const methods = Object.entries(definition).map(([name, method]) => {
      const deserialize = method.requestDeserialize;
      const requestDeserialize = (bytes: Buffer): unknown => {
        try {
          return deserialize(bytes);
        } catch {
          return UNDECODABLE;
        }
      };
      return [name, { ...method, requestDeserialize }];
    });
    return Object.fromEntries(methods) as T;
  }

  /**
   * The error the guard ended this call with, if it did: a handler that sees 'cancelled' asks here whether the
   * server, not the client, ended its call.
   */
  refusal(metadata: grpc.Metadata): CodedError | undefined {
    return this.refusals.get(metadata);
  }

  /** Must be the first entry of the server's `interceptors` (see the file comment). */
  readonly interceptor: grpc.ServerInterceptor = (method, call) => {
    let metadata: grpc.Metadata | undefined;
    let refused = false;
    const sendStatus = call.sendStatus.bind(call);
    const refuse = (error: CodedError): void => {
      if (refused) return;
      refused = true;
      if (metadata) this.refusals.set(metadata, error);
      const mapped = mapError(error);
      this.onRefused(method.path, mapped);
      sendStatus(toStatusObject(mapped));
    };
    call.sendStatus = (status) => {
      if (status.code === grpc.status.RESOURCE_EXHAUSTED && !status.metadata?.get(ERROR_CODE_KEY).length) {
        refuse(new CodedError('MESSAGE_TOO_LARGE', `a request message is larger than the server accepts (maxMessageBytes ${this.maxMessageBytes}); send the payload in chunks of about 1 MiB`));
      } else {
        sendStatus(status);
      }
    };
    return new grpc.ServerInterceptingCall(call, {
      start: (next) => {
        next({
          onReceiveMetadata: (received, proceed) => {
            metadata = received;
            proceed(received);
          },
          onReceiveMessage: (message, proceed) => {
            if (message === UNDECODABLE) {
              refuse(new CodedError('MESSAGE_UNDECODABLE', `a request message is not a valid ${requestTypeOf(method.path)} (protobuf decoding failed)`));
            } else {
              proceed(message);
            }
          },
        });
      },
    });
  };
}

/** `/onesam.v1.Segmentation/Segment` -> `Segment request`: the message names the method, never echoes the bytes. */
function requestTypeOf(path: string): string {
  return `${path.slice(path.lastIndexOf('/') + 1)} request`;
}
