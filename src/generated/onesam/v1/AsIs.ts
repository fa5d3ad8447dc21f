// Original file: proto/onesam/v1/segmentation.proto


export interface AsIs {
}

export interface AsIs__Output {
}
