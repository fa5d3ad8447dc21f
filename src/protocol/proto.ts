// Loads the wire contract (proto/onesam/v1) for grpc-js, with the same options the checked-in types in
// src/generated were generated with (package.json `gen:proto`): camelCase fields, enums as strings, 64-bit
// integers as numbers (payload sizes stay far below 2^53), defaults filled in, oneof names as virtual fields.
// The server, the client and reflection all load it through here so they agree on the shapes.
import * as grpc from '@grpc/grpc-js';
import { loadSync, type Options, type PackageDefinition } from '@grpc/proto-loader';
import { protoPath as HEALTH_PROTO } from 'grpc-health-check';
import { fileURLToPath } from 'node:url';
import type { ProtoGrpcType } from '../generated/segmentation.ts';

export const PROTO_DIR = fileURLToPath(new URL('../../proto', import.meta.url));
export const SEGMENTATION_PROTO = 'onesam/v1/segmentation.proto';
export const SEGMENTATION_SERVICE = 'onesam.v1.Segmentation';

export const PROTO_LOADER_OPTIONS: Options = Object.freeze({
  keepCase: false,
  longs: Number,
  enums: String,
  defaults: true,
  oneofs: true,
  includeDirs: [PROTO_DIR],
});

let cached: { definition: PackageDefinition; grpcType: ProtoGrpcType } | undefined;

/** The package definition (our service plus grpc.health.v1, so reflection lists both) and its typed grpc object. */
export function loadSegmentationProto(): { definition: PackageDefinition; grpcType: ProtoGrpcType } {
  if (!cached) {
    const definition = loadSync([SEGMENTATION_PROTO, HEALTH_PROTO], PROTO_LOADER_OPTIONS);
    cached = { definition, grpcType: grpc.loadPackageDefinition(definition) as unknown as ProtoGrpcType };
  }
  return cached;
}
