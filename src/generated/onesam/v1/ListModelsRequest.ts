// Original file: proto/onesam/v1/segmentation.proto


export interface ListModelsRequest {
}

export interface ListModelsRequest__Output {
}
