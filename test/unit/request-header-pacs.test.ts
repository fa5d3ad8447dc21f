// header.pacs and header.store, before anything is fetched: endpoints must be configured (PACS_ENDPOINT_UNKNOWN
// otherwise, listing those that are), UIDs must be UIDs, a PACS source describes no payload of its own, a store
// needs a DICOM SEG output; each refusal names its field.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CodedError } from '../../src/errors/coded-error.ts';
import type { RequestHeader__Output } from '../../src/generated/onesam/v1/RequestHeader.ts';
import { parseHeader, type ParsedHeader } from '../../src/server/request-header.ts';

const LIMITS = { maxPayloadBytes: 1 << 20, pacsEndpoints: ['orthanc', 'archive'] };
const ST = '1.2.826.0.1.3680043.8.498.1';
const SE = '1.2.826.0.1.3680043.8.498.2';

function header(overrides: Partial<RequestHeader__Output> = {}): RequestHeader__Output {
  return {
    requestId: 'r', modality: '', format: 'PAYLOAD_FORMAT_UNSPECIFIED', raw: null, intensity: null, payloadBytes: 0, prompts: [],
    network: 'ENSEMBLE_MODE_UNSPECIFIED', output: null, sessionId: '', keepSession: false,
    pacs: { endpoint: 'orthanc', studyInstanceUid: ST, seriesInstanceUid: SE }, store: null, speedLevel: 0, ...overrides,
  };
}
const SEG_OUTPUT = { format: 'LABEL_FORMAT_DICOM_SEG' as const, gzip: false, forceUint16: false };
const parse = (h: RequestHeader__Output, limits = LIMITS): ParsedHeader => parseHeader(h, limits, () => 'generated');

function refused(h: RequestHeader__Output, code: string, field: string, message: RegExp, limits = LIMITS): void {
  assert.throws(() => parse(h, limits), (err: unknown) => {
    assert.ok(err instanceof CodedError, String(err));
    assert.deepEqual([err.code, err.field], [code, field], err.message);
    assert.match(err.message, message);
    return true;
  });
}

test('a PACS source: the series as a DICOM payload with the header\'s intensity, kept as a session when asked', () => {
  const parsed = parse(header({ keepSession: true, intensity: { preparation: 'ctWindow', ctWindow: { level: 50, width: 350 } } }));
  assert.deepEqual(parsed.source, {
    kind: 'pacs', endpoint: 'orthanc', studyInstanceUid: ST, seriesInstanceUid: SE, keepSession: true,
    payload: { format: 'dicom', intensity: { kind: 'ct-window', level: 50, width: 350 } },
  });
  assert.equal(parse(header({ format: 'PAYLOAD_FORMAT_DICOM' })).source.kind, 'pacs');
  assert.equal(parsed.store, undefined);
});

test('a store: a configured endpoint and a DICOM SEG output, with any DICOM source', () => {
  assert.deepEqual(parse(header({ output: SEG_OUTPUT, store: { endpoint: 'archive', sendLabels: true } })).store, { endpoint: 'archive', sendLabels: true });
  const upload = parse(header({ pacs: null, format: 'PAYLOAD_FORMAT_DICOM', payloadBytes: 10, output: SEG_OUTPUT, store: { endpoint: 'orthanc', sendLabels: false } }));
  assert.deepEqual([upload.source.kind, upload.store], ['upload', { endpoint: 'orthanc', sendLabels: false }]);
  const session = parse(header({ pacs: null, sessionId: 's-1', output: SEG_OUTPUT, store: { endpoint: 'orthanc', sendLabels: false } }));
  assert.equal(session.source.kind, 'session');
});

test('each mistake is refused with its field', () => {
  refused(header({ pacs: { endpoint: 'elsewhere', studyInstanceUid: ST, seriesInstanceUid: SE } }), 'PACS_ENDPOINT_UNKNOWN', 'header.pacs.endpoint', /names no PACS endpoint of this server: it knows orthanc, archive, got "elsewhere"/);
  refused(header({ pacs: { endpoint: 'http://10.0.0.1/dicom-web', studyInstanceUid: ST, seriesInstanceUid: SE } }), 'PACS_ENDPOINT_UNKNOWN', 'header.pacs.endpoint', /got "http:\/\/10\.0\.0\.1\/dicom-web"/);
  refused(header(), 'PACS_ENDPOINT_UNKNOWN', 'header.pacs.endpoint', /it is configured with none \(the `pacs` setting\)/, { maxPayloadBytes: 1 << 20, pacsEndpoints: [] });
  refused(header({ pacs: { endpoint: '', studyInstanceUid: ST, seriesInstanceUid: SE } }), 'HEADER_INVALID', 'header.pacs.endpoint', /is required: one of the PACS endpoints this server is configured with \(orthanc, archive\)/);
  refused(header({ pacs: { endpoint: 'orthanc', studyInstanceUid: '', seriesInstanceUid: SE } }), 'HEADER_INVALID', 'header.pacs.study_instance_uid', /must be a DICOM UID/);
  refused(header({ pacs: { endpoint: 'orthanc', studyInstanceUid: ST, seriesInstanceUid: '1.2/../../x' } }), 'HEADER_INVALID', 'header.pacs.series_instance_uid', /must be a DICOM UID/);
  refused(header({ pacs: { endpoint: 'orthanc', studyInstanceUid: ST, seriesInstanceUid: `1.${'2'.repeat(70)}` } }), 'HEADER_INVALID', 'header.pacs.series_instance_uid', /at most 64 characters/);
  refused(header({ format: 'PAYLOAD_FORMAT_NIFTI' }), 'HEADER_INVALID', 'header.format', /must be unset or PAYLOAD_FORMAT_DICOM when header.pacs names the series/);
  refused(header({ payloadBytes: 5 }), 'HEADER_INVALID', 'header.payload_bytes', /the server fetches it/);
  refused(header({ raw: { shape: [1], dtype: 'VOXEL_TYPE_UINT8', spacing: [] } }), 'HEADER_INVALID', 'header.raw', /must be unset when header.pacs/);
  refused(header({ sessionId: 's-1' }), 'HEADER_INVALID', 'header.pacs', /cannot be combined with header.session_id/);
  refused(header({ store: { endpoint: 'orthanc', sendLabels: false } }), 'HEADER_INVALID', 'header.output.format', /must be LABEL_FORMAT_DICOM_SEG with header.store/);
  refused(header({ output: SEG_OUTPUT, store: { endpoint: 'nope', sendLabels: false } }), 'PACS_ENDPOINT_UNKNOWN', 'header.store.endpoint', /it knows orthanc, archive/);
  refused(header({ output: SEG_OUTPUT, store: { endpoint: '', sendLabels: false } }), 'HEADER_INVALID', 'header.store.endpoint', /is required/);
});
