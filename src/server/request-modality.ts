// The modality that routes a request, and where it came from (Accepted.modality_source): the header's own, else,
// for a DICOM upload, what the files' Modality attribute (0008,0060) maps to, else the session's, else none (ROUTE
// then uses its fallback network). A session keeps the modality its opening request resolved, so later requests on
// a DICOM session route as the files said.
import { modalityFromDicom } from '../pipeline/dicom-modality.ts';
import type { Modality } from '../pipeline/types.ts';
import type { DecodedVolume } from '../volume/payload.ts';

export type ModalitySource = 'request' | 'dicom' | 'session' | 'none';

export interface RequestModality {
  readonly modality: Modality | undefined;
  readonly source: ModalitySource;
}

export function requestModality(fromHeader: Modality | undefined, decoded: DecodedVolume, session: { readonly modality: Modality | undefined } | undefined): RequestModality {
  if (fromHeader) return { modality: fromHeader, source: 'request' };
  if (session) return session.modality ? { modality: session.modality, source: 'session' } : { modality: undefined, source: 'none' };
  const fromFiles = modalityFromDicom(decoded.dicomModality);
  if (fromFiles) return { modality: fromFiles, source: 'dicom' };
  return { modality: undefined, source: 'none' };
}
