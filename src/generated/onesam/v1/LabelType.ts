// Original file: proto/onesam/v1/segmentation.proto

export const LabelType = {
  LABEL_TYPE_UNSPECIFIED: 'LABEL_TYPE_UNSPECIFIED',
  LABEL_TYPE_UINT8: 'LABEL_TYPE_UINT8',
  LABEL_TYPE_UINT16: 'LABEL_TYPE_UINT16',
} as const;

export type LabelType =
  | 'LABEL_TYPE_UNSPECIFIED'
  | 0
  | 'LABEL_TYPE_UINT8'
  | 1
  | 'LABEL_TYPE_UINT16'
  | 2

export type LabelType__Output = typeof LabelType[keyof typeof LabelType]
