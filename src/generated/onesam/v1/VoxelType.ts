// Original file: proto/onesam/v1/segmentation.proto

export const VoxelType = {
  VOXEL_TYPE_UNSPECIFIED: 'VOXEL_TYPE_UNSPECIFIED',
  VOXEL_TYPE_UINT8: 'VOXEL_TYPE_UINT8',
  VOXEL_TYPE_INT16: 'VOXEL_TYPE_INT16',
  VOXEL_TYPE_UINT16: 'VOXEL_TYPE_UINT16',
  VOXEL_TYPE_FLOAT32: 'VOXEL_TYPE_FLOAT32',
} as const;

export type VoxelType =
  | 'VOXEL_TYPE_UNSPECIFIED'
  | 0
  | 'VOXEL_TYPE_UINT8'
  | 1
  | 'VOXEL_TYPE_INT16'
  | 2
  | 'VOXEL_TYPE_UINT16'
  | 3
  | 'VOXEL_TYPE_FLOAT32'
  | 4

export type VoxelType__Output = typeof VoxelType[keyof typeof VoxelType]
