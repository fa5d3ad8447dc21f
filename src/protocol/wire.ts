// Names on the wire (proto enums) <-> names in the pipeline. Kept in one place so the server and the client
// translate the same way.
import type { EnsembleMode as WireMode } from '../generated/onesam/v1/EnsembleMode.ts';
import type { LabelFormat as WireLabelFormat } from '../generated/onesam/v1/LabelFormat.ts';
import { Network, type Network as WireNetwork, type Network__Output } from '../generated/onesam/v1/Network.ts';
import type { ObjectQuality as WireQuality, ObjectQuality__Output } from '../generated/onesam/v1/ObjectQuality.ts';
import type { PayloadFormat as WirePayloadFormat } from '../generated/onesam/v1/PayloadFormat.ts';
import type { VoxelType as WireVoxelType } from '../generated/onesam/v1/VoxelType.ts';
import type { EnsembleMode, ObjectQuality } from '../pipeline/types.ts';
import { NETWORK_NAMES, networkRecord, type NetworkName } from '../models/network-contract.ts';
import type { LabelFormat, PayloadFormat } from '../volume/payload.ts';
import type { RawDType } from '../volume/raw.ts';

/** NETWORK_<NAME> for every network. */
type WireNetworkName = `NETWORK_${Uppercase<NetworkName>}`;
const NETWORKS: Readonly<Record<NetworkName, WireNetworkName>> = Object.freeze(networkRecord((n) => `NETWORK_${n.toUpperCase()}` as WireNetworkName));

export function networkToWire(name: NetworkName): Network__Output {
  // Compiles only while the proto has an enum value for every network.
  return NETWORKS[name];
}

/** A network by its enum name or proto number (the generated Network lists the values in proto order, 0, 1, 2...). */
export function networkFromWire(value: WireNetwork | undefined): NetworkName | undefined {
  const wireName = typeof value === 'number' ? Object.values(Network)[value] : value;
  return NETWORK_NAMES.find((n) => NETWORKS[n] === wireName);
}

export function modeFromWire(value: WireMode | undefined): EnsembleMode | undefined {
  const wireName = String(value ?? 'ENSEMBLE_MODE_UNSPECIFIED');
  if (wireName === 'ENSEMBLE_MODE_UNSPECIFIED' || wireName === 'ENSEMBLE_MODE_ROUTE') return 'route';
  if (wireName === 'ENSEMBLE_MODE_FUSE') return 'fuse';
  return NETWORK_NAMES.find((n) => modeToWire(n) === wireName);
}

export function modeToWire(mode: EnsembleMode): WireMode {
  return `ENSEMBLE_MODE_${mode.toUpperCase()}` as WireMode;
}

const PAYLOAD_FORMATS: Readonly<Record<string, PayloadFormat>> = Object.freeze({
  PAYLOAD_FORMAT_RAW: 'raw', PAYLOAD_FORMAT_NPZ: 'npz', PAYLOAD_FORMAT_NIFTI: 'nifti', PAYLOAD_FORMAT_DICOM: 'dicom',
});

export function payloadFormatFromWire(value: WirePayloadFormat | undefined): PayloadFormat | undefined {
  return PAYLOAD_FORMATS[String(value)];
}

export function payloadFormatToWire(format: PayloadFormat): WirePayloadFormat {
  return `PAYLOAD_FORMAT_${format.toUpperCase()}` as WirePayloadFormat;
}

const LABEL_FORMATS: Readonly<Record<string, LabelFormat>> = Object.freeze({
  LABEL_FORMAT_UNSPECIFIED: 'raw', LABEL_FORMAT_RAW: 'raw', LABEL_FORMAT_NPZ: 'npz', LABEL_FORMAT_NIFTI: 'nifti',
  LABEL_FORMAT_DICOM_SEG: 'dicom-seg',
});

export function labelFormatFromWire(value: WireLabelFormat | undefined): LabelFormat | undefined {
  return LABEL_FORMATS[String(value ?? 'LABEL_FORMAT_UNSPECIFIED')];
}

export function labelFormatToWire(format: LabelFormat): WireLabelFormat {
  // 'dicom-seg' is LABEL_FORMAT_DICOM_SEG.
  return `LABEL_FORMAT_${format.toUpperCase().replace('-', '_')}` as WireLabelFormat;
}

const VOXEL_TYPES: Readonly<Record<string, RawDType>> = Object.freeze({
  VOXEL_TYPE_UINT8: 'uint8', VOXEL_TYPE_INT16: 'int16', VOXEL_TYPE_UINT16: 'uint16', VOXEL_TYPE_FLOAT32: 'float32',
});

export function voxelTypeFromWire(value: WireVoxelType | undefined): RawDType | undefined {
  return VOXEL_TYPES[String(value)];
}

export function voxelTypeToWire(dtype: RawDType): WireVoxelType {
  return `VOXEL_TYPE_${dtype.toUpperCase()}` as WireVoxelType;
}

/** Names a client may use for an enum field, for error messages. */
export function enumChoices(prefix: string, names: readonly string[]): string {
  return names.map((n) => `${prefix}${n.toUpperCase()}`).join(', ');
}

export function qualityToWire(quality: ObjectQuality): ObjectQuality__Output {
  return `OBJECT_QUALITY_${quality.toUpperCase()}` as ObjectQuality__Output;
}

/** A server without quality hints (older than the field) sends UNSPECIFIED: read as `ok`, nothing to flag. */
export function qualityFromWire(value: WireQuality | undefined): ObjectQuality {
  if (value === 'OBJECT_QUALITY_LOW_PREDICTED_IOU' || value === 2) return 'low_predicted_iou';
  if (value === 'OBJECT_QUALITY_EMPTY' || value === 3) return 'empty';
  return 'ok';
}
