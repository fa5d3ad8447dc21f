// DICOM Modality (0008,0060) to the router's modality keys (Modality in ./types.ts), for requests that name none:
// the volume floor reports the code as stored, the router's floor decides what it means.
// Codes are PS3.3 C.7.3.1.1.1 / PS3.16 CID 29; objects that are not acquisitions (SEG, SR, OT, RTDOSE, ...) map to
// nothing, so the request's own modality or the router's default decides.
import type { Modality } from './types.ts';

const ROUTER_MODALITY: Readonly<Record<string, Modality>> = Object.freeze({
  CT: 'CT',
  MR: 'MR',
  PT: 'PET',
  CR: 'XRay',
  DX: 'XRay',
  RF: 'XRay',
  US: 'US',
  ES: 'Endoscopy',
  XC: 'Dermoscopy',
  OP: 'Fundus',
  SM: 'Microscopy',
  GM: 'Microscopy',
  OPT: 'OCT',
  MG: 'Mammography',
});

/** The router modality of a DICOM Modality code, or undefined when it is not one we route by. */
export function modalityFromDicom(code: string | undefined): Modality | undefined {
  if (code === undefined) return undefined;
  return ROUTER_MODALITY[code.trim().toUpperCase()];
}
