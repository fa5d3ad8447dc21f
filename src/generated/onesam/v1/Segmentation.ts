// Original file: proto/onesam/v1/segmentation.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { CloseSessionRequest as _onesam_v1_CloseSessionRequest, CloseSessionRequest__Output as _onesam_v1_CloseSessionRequest__Output } from '../../onesam/v1/CloseSessionRequest.ts';
import type { CloseSessionResponse as _onesam_v1_CloseSessionResponse, CloseSessionResponse__Output as _onesam_v1_CloseSessionResponse__Output } from '../../onesam/v1/CloseSessionResponse.ts';
import type { ListModelsRequest as _onesam_v1_ListModelsRequest, ListModelsRequest__Output as _onesam_v1_ListModelsRequest__Output } from '../../onesam/v1/ListModelsRequest.ts';
import type { ListModelsResponse as _onesam_v1_ListModelsResponse, ListModelsResponse__Output as _onesam_v1_ListModelsResponse__Output } from '../../onesam/v1/ListModelsResponse.ts';
import type { SegmentRequest as _onesam_v1_SegmentRequest, SegmentRequest__Output as _onesam_v1_SegmentRequest__Output } from '../../onesam/v1/SegmentRequest.ts';
import type { SegmentResponse as _onesam_v1_SegmentResponse, SegmentResponse__Output as _onesam_v1_SegmentResponse__Output } from '../../onesam/v1/SegmentResponse.ts';

/**
 * Promptable segmentation of medical images and volumes.
 */
export interface SegmentationClient extends grpc.Client {
  /**
   * Drops a session kept with RequestHeader.keep_session, with its volume and cached slice embeddings; a request
   * already running on it is not interrupted. NOT_FOUND when the server does not hold the session (closed,
   * expired, evicted).
   */
  CloseSession(argument: _onesam_v1_CloseSessionRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_onesam_v1_CloseSessionResponse__Output>): grpc.ClientUnaryCall;
  CloseSession(argument: _onesam_v1_CloseSessionRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_onesam_v1_CloseSessionResponse__Output>): grpc.ClientUnaryCall;
  CloseSession(argument: _onesam_v1_CloseSessionRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_onesam_v1_CloseSessionResponse__Output>): grpc.ClientUnaryCall;
  CloseSession(argument: _onesam_v1_CloseSessionRequest, callback: grpc.requestCallback<_onesam_v1_CloseSessionResponse__Output>): grpc.ClientUnaryCall;
  /**
   * Drops a session kept with RequestHeader.keep_session, with its volume and cached slice embeddings; a request
   * already running on it is not interrupted. NOT_FOUND when the server does not hold the session (closed,
   * expired, evicted).
   */
  closeSession(argument: _onesam_v1_CloseSessionRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_onesam_v1_CloseSessionResponse__Output>): grpc.ClientUnaryCall;
  closeSession(argument: _onesam_v1_CloseSessionRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_onesam_v1_CloseSessionResponse__Output>): grpc.ClientUnaryCall;
  closeSession(argument: _onesam_v1_CloseSessionRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_onesam_v1_CloseSessionResponse__Output>): grpc.ClientUnaryCall;
  closeSession(argument: _onesam_v1_CloseSessionRequest, callback: grpc.requestCallback<_onesam_v1_CloseSessionResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * The networks this server runs, whether they are loaded, and the modality routing table.
   */
  ListModels(argument: _onesam_v1_ListModelsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_onesam_v1_ListModelsResponse__Output>): grpc.ClientUnaryCall;
  ListModels(argument: _onesam_v1_ListModelsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_onesam_v1_ListModelsResponse__Output>): grpc.ClientUnaryCall;
  ListModels(argument: _onesam_v1_ListModelsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_onesam_v1_ListModelsResponse__Output>): grpc.ClientUnaryCall;
  ListModels(argument: _onesam_v1_ListModelsRequest, callback: grpc.requestCallback<_onesam_v1_ListModelsResponse__Output>): grpc.ClientUnaryCall;
  /**
   * The networks this server runs, whether they are loaded, and the modality routing table.
   */
  listModels(argument: _onesam_v1_ListModelsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_onesam_v1_ListModelsResponse__Output>): grpc.ClientUnaryCall;
  listModels(argument: _onesam_v1_ListModelsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_onesam_v1_ListModelsResponse__Output>): grpc.ClientUnaryCall;
  listModels(argument: _onesam_v1_ListModelsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_onesam_v1_ListModelsResponse__Output>): grpc.ClientUnaryCall;
  listModels(argument: _onesam_v1_ListModelsRequest, callback: grpc.requestCallback<_onesam_v1_ListModelsResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * One request per stream. The client sends one SegmentRequest.header, then the payload as SegmentRequest.chunk
   * messages (about 1 MiB each), then half-closes. The server answers accepted, progress*, labels*, summary.
   */
  Segment(metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientDuplexStream<_onesam_v1_SegmentRequest, _onesam_v1_SegmentResponse__Output>;
  Segment(options?: grpc.CallOptions): grpc.ClientDuplexStream<_onesam_v1_SegmentRequest, _onesam_v1_SegmentResponse__Output>;
  /**
   * One request per stream. The client sends one SegmentRequest.header, then the payload as SegmentRequest.chunk
   * messages (about 1 MiB each), then half-closes. The server answers accepted, progress*, labels*, summary.
   */
  segment(metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientDuplexStream<_onesam_v1_SegmentRequest, _onesam_v1_SegmentResponse__Output>;
  segment(options?: grpc.CallOptions): grpc.ClientDuplexStream<_onesam_v1_SegmentRequest, _onesam_v1_SegmentResponse__Output>;
  
}

/**
 * Promptable segmentation of medical images and volumes.
 */
export interface SegmentationHandlers extends grpc.UntypedServiceImplementation {
  /**
   * Drops a session kept with RequestHeader.keep_session, with its volume and cached slice embeddings; a request
   * already running on it is not interrupted. NOT_FOUND when the server does not hold the session (closed,
   * expired, evicted).
   */
  CloseSession: grpc.handleUnaryCall<_onesam_v1_CloseSessionRequest__Output, _onesam_v1_CloseSessionResponse>;
  
  /**
   * The networks this server runs, whether they are loaded, and the modality routing table.
   */
  ListModels: grpc.handleUnaryCall<_onesam_v1_ListModelsRequest__Output, _onesam_v1_ListModelsResponse>;
  
  /**
   * One request per stream. The client sends one SegmentRequest.header, then the payload as SegmentRequest.chunk
   * messages (about 1 MiB each), then half-closes. The server answers accepted, progress*, labels*, summary.
   */
  Segment: grpc.handleBidiStreamingCall<_onesam_v1_SegmentRequest__Output, _onesam_v1_SegmentResponse>;
  
}

export interface SegmentationDefinition extends grpc.ServiceDefinition {
  CloseSession: MethodDefinition<_onesam_v1_CloseSessionRequest, _onesam_v1_CloseSessionResponse, _onesam_v1_CloseSessionRequest__Output, _onesam_v1_CloseSessionResponse__Output>
  ListModels: MethodDefinition<_onesam_v1_ListModelsRequest, _onesam_v1_ListModelsResponse, _onesam_v1_ListModelsRequest__Output, _onesam_v1_ListModelsResponse__Output>
  Segment: MethodDefinition<_onesam_v1_SegmentRequest, _onesam_v1_SegmentResponse, _onesam_v1_SegmentRequest__Output, _onesam_v1_SegmentResponse__Output>
}
