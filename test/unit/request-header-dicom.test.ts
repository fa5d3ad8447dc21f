// The header's DICOM fields, before any payload byte: PAYLOAD_FORMAT_DICOM with its intensity left to the series,
// LABEL_FORMAT_DICOM_SEG only for DICOM uploads and never gzipped, prompts naming slices by SliceRef or boxes in
// patient mm, and segment descriptions held to the DICOM value rules; each refusal names its field.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CodedError } from '../../src/errors/coded-error.ts';
import type { Prompt__Output } from '../../src/generated/onesam/v1/Prompt.ts';
import type { RequestHeader__Output } from '../../src/generated/onesam/v1/RequestHeader.ts';
import { parseHeader, type ParsedHeader } from '../../src/server/request-header.ts';

const LIMITS = { maxPayloadBytes: 1 << 20 };

function header(overrides: Partial<RequestHeader__Output> = {}): RequestHeader__Output {
  return {
    requestId: 'r', modality: '', format: 'PAYLOAD_FORMAT_DICOM', raw: null, intensity: null, payloadBytes: 100, prompts: [],
    network: 'ENSEMBLE_MODE_UNSPECIFIED', output: null, sessionId: '', keepSession: false, pacs: null, store: null, speedLevel: 0, ...overrides,
  };
}

function box2d(extra: Partial<NonNullable<Prompt__Output['box2d']>> = {}, segment: Prompt__Output['segment'] = null): Prompt__Output {
  return { label: 1, kind: 'box2d', box2d: { xMin: 1, yMin: 2, xMax: 5, yMax: 6, slice: null, ...extra }, segment };
}

const parse = (h: RequestHeader__Output): ParsedHeader => parseHeader(h, LIMITS, () => 'generated');

function refused(h: RequestHeader__Output, code: string, field: string, message?: RegExp): void {
  assert.throws(() => parse(h), (err: unknown) => {
    assert.ok(err instanceof CodedError, String(err));
    assert.equal(err.code, code);
    assert.equal(err.field, field);
    if (message) assert.match(err.detail, message);
    return true;
  });
}

test('a DICOM upload leaves an unset intensity unset (the series decides); a set one is kept', () => {
  const plain = parse(header());
  assert.deepEqual(plain.source, { kind: 'upload', payload: { format: 'dicom' }, payloadBytes: 100, keepSession: false });
  const windowed = parse(header({ intensity: { preparation: 'ctWindow', ctWindow: { level: 50 } } as never }));
  assert.equal(windowed.source.kind === 'upload' && windowed.source.payload.intensity?.kind, 'ct-window');
});

test('DICOM SEG: for DICOM uploads and sessions, never gzipped; an unknown format is named first', () => {
  const seg = { format: 'LABEL_FORMAT_DICOM_SEG', gzip: false, forceUint16: false } as const;
  assert.equal(parse(header({ output: seg })).output.format, 'dicom-seg');
  assert.equal(parse(header({ format: 'PAYLOAD_FORMAT_UNSPECIFIED', payloadBytes: 0, sessionId: 's1', output: seg })).output.format, 'dicom-seg');
  refused(header({ format: 'PAYLOAD_FORMAT_NIFTI', output: seg }), 'HEADER_INVALID', 'header.output.format', /needs a DICOM input .* got PAYLOAD_FORMAT_NIFTI/);
  refused(header({ format: 7 as never, output: seg }), 'HEADER_INVALID', 'header.format', /or PAYLOAD_FORMAT_DICOM, got 7/);
  refused(header({ output: { ...seg, gzip: true } }), 'HEADER_INVALID', 'header.output.gzip');
});

test('SliceRef and patient_box prompts wait for the series; malformed ones are refused with their field', () => {
  const ref = { sopInstanceUid: '1.2.3', frameNumber: 0 };
  const parsed = parse(header({ prompts: [box2d({ slice: ref }), { label: 2, kind: 'patientBox', patientBox: { cornerA: [1, 2, 3], cornerB: [4, 5, 6] }, segment: null }] }));
  assert.deepEqual(parsed.prompts, [
    { label: 1, dicom: { kind: 'box2d', x0: 1, y0: 2, x1: 5, y1: 6, slice: ref } },
    { label: 2, dicom: { kind: 'patient-box', cornerA: [1, 2, 3], cornerB: [4, 5, 6] } },
  ]);
  refused(header({ prompts: [box2d({ slice: ref, z: 0 })] }), 'PROMPT_INVALID', 'header.prompts[0].box2d', /set z or slice, not both/);
  refused(header({ prompts: [box2d({ slice: { sopInstanceUid: '1.2.abc', frameNumber: 0 } })] }), 'PROMPT_INVALID', 'header.prompts[0].box2d.slice.sop_instance_uid');
  const box3d = (extra: object): Prompt__Output => ({ label: 1, kind: 'box3d', box3d: { xMin: 1, yMin: 2, zMin: 0, xMax: 5, yMax: 6, zMax: 0, sliceFirst: null, sliceLast: null, ...extra }, segment: null });
  refused(header({ prompts: [box3d({ sliceFirst: ref })] }), 'PROMPT_INVALID', 'header.prompts[0].box3d.slice_last', /both or neither/);
  refused(header({ prompts: [box3d({ sliceFirst: ref, sliceLast: ref, zMax: 3 })] }), 'PROMPT_INVALID', 'header.prompts[0].box3d', /leave z_min and z_max 0/);
  refused(header({ prompts: [{ label: 1, kind: 'patientBox', patientBox: { cornerA: [1, 2, 3], cornerB: [4, 5] }, segment: null }] }), 'PROMPT_INVALID', 'header.prompts[0].patient_box.corner_b', /three finite numbers/);
  refused(header({ prompts: [{ label: 1, segment: null } as Prompt__Output] }), 'PROMPT_INVALID', 'header.prompts[0]', /box2d, box3d, scribble or patient_box/);
});

test('segment descriptions: unset fields stay unset, DICOM LO and SH rules name the field', () => {
  const concept = { codeValue: '10200004', codingScheme: 'SCT', codeMeaning: 'Liver' };
  const parsed = parse(header({ prompts: [box2d({ z: 0 }, { label: 'Liver', category: null, type: concept }), box2d({ z: 0 }, { label: '', category: null, type: null }), box2d({ z: 0 })] }));
  assert.deepEqual(parsed.segments, [{ text: 'Liver', type: { value: '10200004', scheme: 'SCT', meaning: 'Liver' } }, undefined, undefined]);
  const bad = (segment: Prompt__Output['segment']): RequestHeader__Output => header({ prompts: [box2d({ z: 0 }, segment)] });
  refused(bad({ label: 'x'.repeat(65), category: null, type: null }), 'PROMPT_INVALID', 'header.prompts[0].segment.label');
  refused(bad({ label: 'tab\there', category: null, type: null }), 'PROMPT_INVALID', 'header.prompts[0].segment.label');
  refused(bad({ label: '', category: { ...concept, codeValue: '12345678901234567' }, type: null }), 'PROMPT_INVALID', 'header.prompts[0].segment.category.code_value');
  refused(bad({ label: '', category: null, type: { ...concept, codingScheme: '' } }), 'PROMPT_INVALID', 'header.prompts[0].segment.type.coding_scheme');
  refused(bad({ label: '', category: null, type: { ...concept, codeMeaning: '' } }), 'PROMPT_INVALID', 'header.prompts[0].segment.type.code_meaning');
});
