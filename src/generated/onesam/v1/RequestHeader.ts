// Original file: proto/onesam/v1/segmentation.proto

import type { PayloadFormat as _onesam_v1_PayloadFormat, PayloadFormat__Output as _onesam_v1_PayloadFormat__Output } from '../../onesam/v1/PayloadFormat.ts';
import type { RawVolume as _onesam_v1_RawVolume, RawVolume__Output as _onesam_v1_RawVolume__Output } from '../../onesam/v1/RawVolume.ts';
import type { IntensityPreparation as _onesam_v1_IntensityPreparation, IntensityPreparation__Output as _onesam_v1_IntensityPreparation__Output } from '../../onesam/v1/IntensityPreparation.ts';
import type { Prompt as _onesam_v1_Prompt, Prompt__Output as _onesam_v1_Prompt__Output } from '../../onesam/v1/Prompt.ts';
import type { EnsembleMode as _onesam_v1_EnsembleMode, EnsembleMode__Output as _onesam_v1_EnsembleMode__Output } from '../../onesam/v1/EnsembleMode.ts';
import type { OutputOptions as _onesam_v1_OutputOptions, OutputOptions__Output as _onesam_v1_OutputOptions__Output } from '../../onesam/v1/OutputOptions.ts';
import type { PacsSource as _onesam_v1_PacsSource, PacsSource__Output as _onesam_v1_PacsSource__Output } from '../../onesam/v1/PacsSource.ts';
import type { PacsStore as _onesam_v1_PacsStore, PacsStore__Output as _onesam_v1_PacsStore__Output } from '../../onesam/v1/PacsStore.ts';
import type { Long } from '@grpc/proto-loader';

export interface RequestHeader {
  /**
   * Caller's identifier, echoed in logs and responses; the server makes one up when empty. At most 128 printable
   * ASCII characters.
   */
  'requestId'?: (string);
  /**
   * Imaging modality as free text ("CT", "MR", "X-Ray", "dermoscopy", ...); empty when unknown. Used by ROUTE;
   * names the server does not recognise are refused (see ListModels for the table).
   */
  'modality'?: (string);
  'format'?: (_onesam_v1_PayloadFormat);
  /**
   * Required for PAYLOAD_FORMAT_RAW, ignored otherwise.
   */
  'raw'?: (_onesam_v1_RawVolume | null);
  /**
   * How stored voxel values become 0..255; unset means as-is, except for PAYLOAD_FORMAT_DICOM, where the series
   * decides (CT window for CT, as-is for colour and 8-bit grey, percentiles otherwise; docs/formats.md).
   */
  'intensity'?: (_onesam_v1_IntensityPreparation | null);
  /**
   * Total bytes the chunks will carry. Required (> 0); the server refuses sizes above its configured maximum
   * before reading any chunk, and a stream whose chunks go past this size.
   */
  'payloadBytes'?: (number | string | Long);
  /**
   * Objects to segment. May be empty for an npz payload that carries its own `boxes` or `scribbles`.
   */
  'prompts'?: (_onesam_v1_Prompt)[];
  /**
   * Which network segments the objects; UNSPECIFIED means ROUTE.
   */
  'network'?: (_onesam_v1_EnsembleMode);
  'output'?: (_onesam_v1_OutputOptions | null);
  /**
   * Segment the volume an earlier request kept (its Accepted.session.session_id) instead of uploading one: then
   * format, raw, intensity and payload_bytes stay unset and no chunk follows the header. Slice embeddings the
   * session already holds are reused, so prompting again costs decodes only. Modality defaults to the session's.
   */
  'sessionId'?: (string);
  /**
   * Keep this request's prepared volume, and the slice embeddings computed for it, as a session for later requests
   * (see session_id). The server drops a session after its idle time, on CloseSession, or when it needs the room
   * for a newer one (least recently used first); a request naming a dropped session gets NOT_FOUND. With no prompts
   * (none in the header or the npz) the request only uploads: the answer is accepted and summary, no labels.
   */
  'keepSession'?: (boolean);
  /**
   * Read the volume from a PACS instead of uploading it (docs/pacs.md): the server retrieves the series with
   * WADO-RS and reads it as a PAYLOAD_FORMAT_DICOM upload. Then format is unset or PAYLOAD_FORMAT_DICOM, raw and
   * payload_bytes stay unset and no chunk follows the header; intensity and keep_session apply as for an upload
   * (a kept session holds the series, fetched once).
   */
  'pacs'?: (_onesam_v1_PacsSource | null);
  /**
   * Store the DICOM SEG output in a PACS with STOW-RS, into the source's study (docs/pacs.md). Needs
   * output.format LABEL_FORMAT_DICOM_SEG. Summary.stored says where it went; the SEG's bytes are sent back as
   * labels only when send_labels is set.
   */
  'store'?: (_onesam_v1_PacsStore | null);
  /**
   * Speed level N of 3D box walks (docs/pipeline.md, "Speed levels"): encode and decode the box's middle slice, its
   * end slices and every N-th slice, and fill the slices between by shape interpolation of the two computed
   * neighbours' masks. 1 is the exact walk (every slice, the reference's masks); 0 (unset) takes the server's
   * speedLevel setting (default 1). At most 8. 2D images and scribbles ignore it.
   */
  'speedLevel'?: (number);
}

export interface RequestHeader__Output {
  /**
   * Caller's identifier, echoed in logs and responses; the server makes one up when empty. At most 128 printable
   * ASCII characters.
   */
  'requestId': (string);
  /**
   * Imaging modality as free text ("CT", "MR", "X-Ray", "dermoscopy", ...); empty when unknown. Used by ROUTE;
   * names the server does not recognise are refused (see ListModels for the table).
   */
  'modality': (string);
  'format': (_onesam_v1_PayloadFormat__Output);
  /**
   * Required for PAYLOAD_FORMAT_RAW, ignored otherwise.
   */
  'raw': (_onesam_v1_RawVolume__Output | null);
  /**
   * How stored voxel values become 0..255; unset means as-is, except for PAYLOAD_FORMAT_DICOM, where the series
   * decides (CT window for CT, as-is for colour and 8-bit grey, percentiles otherwise; docs/formats.md).
   */
  'intensity': (_onesam_v1_IntensityPreparation__Output | null);
  /**
   * Total bytes the chunks will carry. Required (> 0); the server refuses sizes above its configured maximum
   * before reading any chunk, and a stream whose chunks go past this size.
   */
  'payloadBytes': (number);
  /**
   * Objects to segment. May be empty for an npz payload that carries its own `boxes` or `scribbles`.
   */
  'prompts': (_onesam_v1_Prompt__Output)[];
  /**
   * Which network segments the objects; UNSPECIFIED means ROUTE.
   */
  'network': (_onesam_v1_EnsembleMode__Output);
  'output': (_onesam_v1_OutputOptions__Output | null);
  /**
   * Segment the volume an earlier request kept (its Accepted.session.session_id) instead of uploading one: then
   * format, raw, intensity and payload_bytes stay unset and no chunk follows the header. Slice embeddings the
   * session already holds are reused, so prompting again costs decodes only. Modality defaults to the session's.
   */
  'sessionId': (string);
  /**
   * Keep this request's prepared volume, and the slice embeddings computed for it, as a session for later requests
   * (see session_id). The server drops a session after its idle time, on CloseSession, or when it needs the room
   * for a newer one (least recently used first); a request naming a dropped session gets NOT_FOUND. With no prompts
   * (none in the header or the npz) the request only uploads: the answer is accepted and summary, no labels.
   */
  'keepSession': (boolean);
  /**
   * Read the volume from a PACS instead of uploading it (docs/pacs.md): the server retrieves the series with
   * WADO-RS and reads it as a PAYLOAD_FORMAT_DICOM upload. Then format is unset or PAYLOAD_FORMAT_DICOM, raw and
   * payload_bytes stay unset and no chunk follows the header; intensity and keep_session apply as for an upload
   * (a kept session holds the series, fetched once).
   */
  'pacs': (_onesam_v1_PacsSource__Output | null);
  /**
   * Store the DICOM SEG output in a PACS with STOW-RS, into the source's study (docs/pacs.md). Needs
   * output.format LABEL_FORMAT_DICOM_SEG. Summary.stored says where it went; the SEG's bytes are sent back as
   * labels only when send_labels is set.
   */
  'store': (_onesam_v1_PacsStore__Output | null);
  /**
   * Speed level N of 3D box walks (docs/pipeline.md, "Speed levels"): encode and decode the box's middle slice, its
   * end slices and every N-th slice, and fill the slices between by shape interpolation of the two computed
   * neighbours' masks. 1 is the exact walk (every slice, the reference's masks); 0 (unset) takes the server's
   * speedLevel setting (default 1). At most 8. 2D images and scribbles ignore it.
   */
  'speedLevel': (number);
}
