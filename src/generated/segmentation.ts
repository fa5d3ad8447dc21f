import type * as grpc from '@grpc/grpc-js';
import type { EnumTypeDefinition, MessageTypeDefinition } from '@grpc/proto-loader';

import type { Accepted as _onesam_v1_Accepted, Accepted__Output as _onesam_v1_Accepted__Output } from './onesam/v1/Accepted.ts';
import type { AsIs as _onesam_v1_AsIs, AsIs__Output as _onesam_v1_AsIs__Output } from './onesam/v1/AsIs.ts';
import type { Box2D as _onesam_v1_Box2D, Box2D__Output as _onesam_v1_Box2D__Output } from './onesam/v1/Box2D.ts';
import type { Box3D as _onesam_v1_Box3D, Box3D__Output as _onesam_v1_Box3D__Output } from './onesam/v1/Box3D.ts';
import type { CloseSessionRequest as _onesam_v1_CloseSessionRequest, CloseSessionRequest__Output as _onesam_v1_CloseSessionRequest__Output } from './onesam/v1/CloseSessionRequest.ts';
import type { CloseSessionResponse as _onesam_v1_CloseSessionResponse, CloseSessionResponse__Output as _onesam_v1_CloseSessionResponse__Output } from './onesam/v1/CloseSessionResponse.ts';
import type { CodedConcept as _onesam_v1_CodedConcept, CodedConcept__Output as _onesam_v1_CodedConcept__Output } from './onesam/v1/CodedConcept.ts';
import type { CtWindow as _onesam_v1_CtWindow, CtWindow__Output as _onesam_v1_CtWindow__Output } from './onesam/v1/CtWindow.ts';
import type { DicomSegInfo as _onesam_v1_DicomSegInfo, DicomSegInfo__Output as _onesam_v1_DicomSegInfo__Output } from './onesam/v1/DicomSegInfo.ts';
import type { ImageShape as _onesam_v1_ImageShape, ImageShape__Output as _onesam_v1_ImageShape__Output } from './onesam/v1/ImageShape.ts';
import type { IntensityPreparation as _onesam_v1_IntensityPreparation, IntensityPreparation__Output as _onesam_v1_IntensityPreparation__Output } from './onesam/v1/IntensityPreparation.ts';
import type { LabelsChunk as _onesam_v1_LabelsChunk, LabelsChunk__Output as _onesam_v1_LabelsChunk__Output } from './onesam/v1/LabelsChunk.ts';
import type { ListModelsRequest as _onesam_v1_ListModelsRequest, ListModelsRequest__Output as _onesam_v1_ListModelsRequest__Output } from './onesam/v1/ListModelsRequest.ts';
import type { ListModelsResponse as _onesam_v1_ListModelsResponse, ListModelsResponse__Output as _onesam_v1_ListModelsResponse__Output } from './onesam/v1/ListModelsResponse.ts';
import type { ModelDetails as _onesam_v1_ModelDetails, ModelDetails__Output as _onesam_v1_ModelDetails__Output } from './onesam/v1/ModelDetails.ts';
import type { ModelStatus as _onesam_v1_ModelStatus, ModelStatus__Output as _onesam_v1_ModelStatus__Output } from './onesam/v1/ModelStatus.ts';
import type { NetworkSlices as _onesam_v1_NetworkSlices, NetworkSlices__Output as _onesam_v1_NetworkSlices__Output } from './onesam/v1/NetworkSlices.ts';
import type { ObjectResult as _onesam_v1_ObjectResult, ObjectResult__Output as _onesam_v1_ObjectResult__Output } from './onesam/v1/ObjectResult.ts';
import type { OutputOptions as _onesam_v1_OutputOptions, OutputOptions__Output as _onesam_v1_OutputOptions__Output } from './onesam/v1/OutputOptions.ts';
import type { PacsSource as _onesam_v1_PacsSource, PacsSource__Output as _onesam_v1_PacsSource__Output } from './onesam/v1/PacsSource.ts';
import type { PacsStore as _onesam_v1_PacsStore, PacsStore__Output as _onesam_v1_PacsStore__Output } from './onesam/v1/PacsStore.ts';
import type { PacsStored as _onesam_v1_PacsStored, PacsStored__Output as _onesam_v1_PacsStored__Output } from './onesam/v1/PacsStored.ts';
import type { PatientBox as _onesam_v1_PatientBox, PatientBox__Output as _onesam_v1_PatientBox__Output } from './onesam/v1/PatientBox.ts';
import type { PayloadChunk as _onesam_v1_PayloadChunk, PayloadChunk__Output as _onesam_v1_PayloadChunk__Output } from './onesam/v1/PayloadChunk.ts';
import type { Percentile as _onesam_v1_Percentile, Percentile__Output as _onesam_v1_Percentile__Output } from './onesam/v1/Percentile.ts';
import type { PlannedObject as _onesam_v1_PlannedObject, PlannedObject__Output as _onesam_v1_PlannedObject__Output } from './onesam/v1/PlannedObject.ts';
import type { Point as _onesam_v1_Point, Point__Output as _onesam_v1_Point__Output } from './onesam/v1/Point.ts';
import type { Progress as _onesam_v1_Progress, Progress__Output as _onesam_v1_Progress__Output } from './onesam/v1/Progress.ts';
import type { Prompt as _onesam_v1_Prompt, Prompt__Output as _onesam_v1_Prompt__Output } from './onesam/v1/Prompt.ts';
import type { RawVolume as _onesam_v1_RawVolume, RawVolume__Output as _onesam_v1_RawVolume__Output } from './onesam/v1/RawVolume.ts';
import type { RequestHeader as _onesam_v1_RequestHeader, RequestHeader__Output as _onesam_v1_RequestHeader__Output } from './onesam/v1/RequestHeader.ts';
import type { Route as _onesam_v1_Route, Route__Output as _onesam_v1_Route__Output } from './onesam/v1/Route.ts';
import type { Scribble as _onesam_v1_Scribble, Scribble__Output as _onesam_v1_Scribble__Output } from './onesam/v1/Scribble.ts';
import type { SegmentDescription as _onesam_v1_SegmentDescription, SegmentDescription__Output as _onesam_v1_SegmentDescription__Output } from './onesam/v1/SegmentDescription.ts';
import type { SegmentRequest as _onesam_v1_SegmentRequest, SegmentRequest__Output as _onesam_v1_SegmentRequest__Output } from './onesam/v1/SegmentRequest.ts';
import type { SegmentResponse as _onesam_v1_SegmentResponse, SegmentResponse__Output as _onesam_v1_SegmentResponse__Output } from './onesam/v1/SegmentResponse.ts';
import type { SegmentationClient as _onesam_v1_SegmentationClient, SegmentationDefinition as _onesam_v1_SegmentationDefinition } from './onesam/v1/Segmentation.ts';
import type { SessionInfo as _onesam_v1_SessionInfo, SessionInfo__Output as _onesam_v1_SessionInfo__Output } from './onesam/v1/SessionInfo.ts';
import type { SliceRef as _onesam_v1_SliceRef, SliceRef__Output as _onesam_v1_SliceRef__Output } from './onesam/v1/SliceRef.ts';
import type { StageTimes as _onesam_v1_StageTimes, StageTimes__Output as _onesam_v1_StageTimes__Output } from './onesam/v1/StageTimes.ts';
import type { Stroke as _onesam_v1_Stroke, Stroke__Output as _onesam_v1_Stroke__Output } from './onesam/v1/Stroke.ts';
import type { Summary as _onesam_v1_Summary, Summary__Output as _onesam_v1_Summary__Output } from './onesam/v1/Summary.ts';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  onesam: {
    v1: {
      Accepted: MessageTypeDefinition<_onesam_v1_Accepted, _onesam_v1_Accepted__Output>
      AsIs: MessageTypeDefinition<_onesam_v1_AsIs, _onesam_v1_AsIs__Output>
      Box2D: MessageTypeDefinition<_onesam_v1_Box2D, _onesam_v1_Box2D__Output>
      Box3D: MessageTypeDefinition<_onesam_v1_Box3D, _onesam_v1_Box3D__Output>
      CloseSessionRequest: MessageTypeDefinition<_onesam_v1_CloseSessionRequest, _onesam_v1_CloseSessionRequest__Output>
      CloseSessionResponse: MessageTypeDefinition<_onesam_v1_CloseSessionResponse, _onesam_v1_CloseSessionResponse__Output>
      CodedConcept: MessageTypeDefinition<_onesam_v1_CodedConcept, _onesam_v1_CodedConcept__Output>
      CtWindow: MessageTypeDefinition<_onesam_v1_CtWindow, _onesam_v1_CtWindow__Output>
      DicomSegInfo: MessageTypeDefinition<_onesam_v1_DicomSegInfo, _onesam_v1_DicomSegInfo__Output>
      EnsembleMode: EnumTypeDefinition
      ImageShape: MessageTypeDefinition<_onesam_v1_ImageShape, _onesam_v1_ImageShape__Output>
      IntensityPreparation: MessageTypeDefinition<_onesam_v1_IntensityPreparation, _onesam_v1_IntensityPreparation__Output>
      LabelFormat: EnumTypeDefinition
      LabelType: EnumTypeDefinition
      LabelsChunk: MessageTypeDefinition<_onesam_v1_LabelsChunk, _onesam_v1_LabelsChunk__Output>
      ListModelsRequest: MessageTypeDefinition<_onesam_v1_ListModelsRequest, _onesam_v1_ListModelsRequest__Output>
      ListModelsResponse: MessageTypeDefinition<_onesam_v1_ListModelsResponse, _onesam_v1_ListModelsResponse__Output>
      ModalitySource: EnumTypeDefinition
      ModelDetails: MessageTypeDefinition<_onesam_v1_ModelDetails, _onesam_v1_ModelDetails__Output>
      ModelStatus: MessageTypeDefinition<_onesam_v1_ModelStatus, _onesam_v1_ModelStatus__Output>
      Network: EnumTypeDefinition
      NetworkSlices: MessageTypeDefinition<_onesam_v1_NetworkSlices, _onesam_v1_NetworkSlices__Output>
      ObjectQuality: EnumTypeDefinition
      ObjectResult: MessageTypeDefinition<_onesam_v1_ObjectResult, _onesam_v1_ObjectResult__Output>
      OutputOptions: MessageTypeDefinition<_onesam_v1_OutputOptions, _onesam_v1_OutputOptions__Output>
      PacsSource: MessageTypeDefinition<_onesam_v1_PacsSource, _onesam_v1_PacsSource__Output>
      PacsStore: MessageTypeDefinition<_onesam_v1_PacsStore, _onesam_v1_PacsStore__Output>
      PacsStored: MessageTypeDefinition<_onesam_v1_PacsStored, _onesam_v1_PacsStored__Output>
      PatientBox: MessageTypeDefinition<_onesam_v1_PatientBox, _onesam_v1_PatientBox__Output>
      PayloadChunk: MessageTypeDefinition<_onesam_v1_PayloadChunk, _onesam_v1_PayloadChunk__Output>
      PayloadFormat: EnumTypeDefinition
      Percentile: MessageTypeDefinition<_onesam_v1_Percentile, _onesam_v1_Percentile__Output>
      PlannedObject: MessageTypeDefinition<_onesam_v1_PlannedObject, _onesam_v1_PlannedObject__Output>
      Point: MessageTypeDefinition<_onesam_v1_Point, _onesam_v1_Point__Output>
      Progress: MessageTypeDefinition<_onesam_v1_Progress, _onesam_v1_Progress__Output>
      Prompt: MessageTypeDefinition<_onesam_v1_Prompt, _onesam_v1_Prompt__Output>
      RawVolume: MessageTypeDefinition<_onesam_v1_RawVolume, _onesam_v1_RawVolume__Output>
      RequestHeader: MessageTypeDefinition<_onesam_v1_RequestHeader, _onesam_v1_RequestHeader__Output>
      Route: MessageTypeDefinition<_onesam_v1_Route, _onesam_v1_Route__Output>
      Scribble: MessageTypeDefinition<_onesam_v1_Scribble, _onesam_v1_Scribble__Output>
      SegmentDescription: MessageTypeDefinition<_onesam_v1_SegmentDescription, _onesam_v1_SegmentDescription__Output>
      SegmentRequest: MessageTypeDefinition<_onesam_v1_SegmentRequest, _onesam_v1_SegmentRequest__Output>
      SegmentResponse: MessageTypeDefinition<_onesam_v1_SegmentResponse, _onesam_v1_SegmentResponse__Output>
      /**
       * Promptable segmentation of medical images and volumes.
       */
      Segmentation: SubtypeConstructor<typeof grpc.Client, _onesam_v1_SegmentationClient> & { service: _onesam_v1_SegmentationDefinition }
      SessionInfo: MessageTypeDefinition<_onesam_v1_SessionInfo, _onesam_v1_SessionInfo__Output>
      SliceRef: MessageTypeDefinition<_onesam_v1_SliceRef, _onesam_v1_SliceRef__Output>
      StageTimes: MessageTypeDefinition<_onesam_v1_StageTimes, _onesam_v1_StageTimes__Output>
      Stroke: MessageTypeDefinition<_onesam_v1_Stroke, _onesam_v1_Stroke__Output>
      Summary: MessageTypeDefinition<_onesam_v1_Summary, _onesam_v1_Summary__Output>
      VoxelType: EnumTypeDefinition
    }
  }
}

