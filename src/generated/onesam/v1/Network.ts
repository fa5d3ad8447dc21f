// Original file: proto/onesam/v1/segmentation.proto

export const Network = {
  NETWORK_UNSPECIFIED: 'NETWORK_UNSPECIFIED',
  NETWORK_LITEMEDSAM: 'NETWORK_LITEMEDSAM',
  NETWORK_ONESAM: 'NETWORK_ONESAM',
} as const;

export type Network =
  | 'NETWORK_UNSPECIFIED'
  | 0
  | 'NETWORK_LITEMEDSAM'
  | 1
  | 'NETWORK_ONESAM'
  | 2

export type Network__Output = typeof Network[keyof typeof Network]
