// DICOM over gRPC against the real server with a fake Segmenter that paints only the prompt's voxels whose prepared
// value reaches 128, so labels depend on the pixels, their order and orientation: real series (pydicom's CT5N, a
// multi-frame Enhanced CT, RGB photographs, every listed transfer syntax) and built ones give the same labels as
// pydicom's pixels sent as PAYLOAD_FORMAT_RAW with the same preparation. Every SEG answer passes dciodvfy and reads
// back (our reader and pydicom) to those labels. Modality comes from the files; prompts by SOP Instance UID and in
// mm; sessions; one precise error per bad series, and the server stays SERVING.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { SegmentInput } from '../../src/client/client.ts';
import { rawLabels } from '../../src/client/labels.ts';
import { ERROR_CODE_KEY, ERROR_FIELD_KEY } from '../../src/errors/grpc-status.ts';
import type { IntensityPreparation as WireIntensity } from '../../src/generated/onesam/v1/IntensityPreparation.ts';
import type { Prompt } from '../../src/generated/onesam/v1/Prompt.ts';
import type { RequestHeader } from '../../src/generated/onesam/v1/RequestHeader.ts';
import type { SegmentOutcome } from '../../src/client/client.ts';
import { SERVICE_VERSION } from '../../src/server/seg-output.ts';
import { writeDicomUpload } from '../../src/volume/dicom/framing.ts';
import { readSegmentation } from '../../src/volume/dicom/seg-reader.ts';
import { openSeries, type DicomSeriesInfo } from '../../src/volume/dicom/series.ts';
import { FakeSegmenter } from '../helpers/fake-segmenter.ts';
import { box2d, box3d } from '../helpers/requests.ts';
import { dciodvfy, PIXEL_HASH_PY, PYDICOM_FILES, pydicomCtSeriesBatch, pydicomEnhancedCt, pydicomFile, pydicomFolder, python } from '../helpers/dicom-tools.ts';
import { grpcError, startTestService, type TestService } from '../helpers/test-service.ts';

const dir = mkdtempSync(join(tmpdir(), 'onesam-dicom-'));
let server: TestService;
const fake = new FakeSegmenter({ sliceMs: 0, threshold: 128 });

// Built series with known geometry: an oblique CT (rows along (0.8, 0.6, 0), columns along -z, normal (-0.6, 0.8,
// 0), 2.5 mm apart, 0.5 x 0.75 mm pixels), sent shuffled; an axial MR; a tilted CT and one with two slices at one
// position (both refused).
const IOP = [0.8, 0.6, 0, 0, 0, -1];
const NORMAL = [-0.6, 0.8, 0];
const ORIGIN = [10, -20, 30];
const [obliqueCt, axialMr, tilted, samePosition] = pydicomCtSeriesBatch([
  [2, 0, 3, 1].map((k) => ({ ipp: ORIGIN.map((o, i) => o + 2.5 * k * NORMAL[i]!), iop: IOP })),
  [0, 1, 2].map((k) => ({ ipp: [0, 0, 4 * k], base: 'MR_small.dcm' })),
  [0, 1, 2].map((k) => ({ ipp: [0, 1.5 * k, 2 * k] })),
  [0, 1, 2].map((k) => ({ ipp: [0, 0, k === 2 ? 0 : 3 * k] })),
]) as [Uint8Array[], Uint8Array[], Uint8Array[], Uint8Array[]];

/** A DICOM case: its instances (as files pydicom reads) and the file(s) pydicom reads for the reference pixels. */
interface Case {
  readonly instances: Uint8Array[];
  readonly files: string[];
  readonly reference: string[];
}
const cases = new Map<string, Case>();

function addCase(name: string, instances: Uint8Array[], referenceFiles?: string[]): void {
  const files = instances.map((bytes, i) => {
    const path = join(dir, `${name}-${i}.dcm`);
    writeFileSync(path, bytes);
    return path;
  });
  cases.set(name, { instances, files, reference: referenceFiles ?? files });
}

const MR_SMALL = `${PYDICOM_FILES}/MR_small.dcm`;
const TRANSFER_SYNTAXES: Readonly<Record<string, string>> = {
  'MR_small.dcm': 'explicit VR little endian',
  'MR_small_implicit.dcm': 'implicit VR little endian',
  'MR_small_bigendian.dcm': 'explicit VR big endian',
  'MR_small_expb.dcm': 'explicit VR big endian (expb)',
  'MR_small_RLE.dcm': 'RLE lossless',
  'MR_small_jpeg_ls_lossless.dcm': 'JPEG-LS lossless',
  'MR_small_jp2klossless.dcm': 'JPEG 2000 lossless',
  'image_dfl.dcm': 'deflated explicit VR little endian',
  'SC_rgb_jpeg_dcmtk.dcm': 'JPEG baseline, YBR_FULL',
  'SC_rgb_dcmtk_+eb+cy+np.dcm': 'JPEG baseline, YBR_FULL_422',
  'SC_rgb_jpeg_gdcm.dcm': 'JPEG lossless SV1, RGB',
  'SC_rgb_gdcm_KY.dcm': 'JPEG 2000, RGB',
  'SC_rgb_rle.dcm': 'RLE, RGB',
  'SC_ybr_full_422_uncompressed.dcm': 'explicit VR little endian, YBR_FULL_422',
  'ExplVR_BigEnd.dcm': 'explicit VR big endian, RGB ultrasound',
};
/** Files pydicom cannot decode here (no JPEG-LS or JPEG lossless handler): a lossless sibling has the same pixels. */
const REFERENCE_FILE: Readonly<Record<string, string>> = { 'MR_small_jpeg_ls_lossless.dcm': MR_SMALL, 'SC_rgb_jpeg_gdcm.dcm': `${PYDICOM_FILES}/SC_rgb_rle.dcm` };

/** pydicom's pixels of each case as the service presents them: slices by position, rescaled, YBR as RGB. */
interface Reference { readonly shape: number[]; readonly dtype: 'uint8' | 'int16'; readonly data: string; readonly modality: string }
let references: Record<string, Reference>;

before(async () => {
  addCase('ct5n', pydicomFolder('dicomdirtests/98892001/CT5N'));
  addCase('oblique-ct', obliqueCt);
  addCase('mr-series', axialMr);
  addCase('enhanced-ct', [pydicomEnhancedCt()]);
  for (const name of Object.keys(TRANSFER_SYNTAXES)) addCase(name, [pydicomFile(name)], [REFERENCE_FILE[name] ?? `${PYDICOM_FILES}/${name}`]);
  references = python(`${PIXEL_HASH_PY}
import base64
out = {}
for name, files in json.loads(sys.argv[1]).items():
    slices = []
    modality = ''
    for f in files:
        ds = pydicom.dcmread(f, force=True)
        modality = ds.Modality
        a = ds.pixel_array
        if ds.PhotometricInterpretation.startswith('YBR'):
            a = convert_color_space(a, 'YBR_FULL', 'RGB')
        frames = int(ds.get('NumberOfFrames', 1))
        if frames == 1:
            a = a[None]
        per = ds.get('PerFrameFunctionalGroupsSequence')
        shared = ds.get('SharedFunctionalGroupsSequence')
        for f_ in range(frames):
            img = a[f_].astype('f8')
            if per:
                g = per[f_]
                t = g.PixelValueTransformationSequence[0]
                img = img * float(t.RescaleSlope) + float(t.RescaleIntercept)
                ipp = [float(v) for v in g.PlanePositionSequence[0].ImagePositionPatient]
                iop = [float(v) for v in shared[0].PlaneOrientationSequence[0].ImageOrientationPatient]
            else:
                if 'RescaleSlope' in ds:
                    img = img * float(ds.RescaleSlope) + float(ds.RescaleIntercept)
                ipp = [float(v) for v in ds.ImagePositionPatient] if 'ImagePositionPatient' in ds else None
                iop = [float(v) for v in ds.ImageOrientationPatient] if 'ImageOrientationPatient' in ds else None
            key = float(np.dot(ipp, np.cross(iop[:3], iop[3:]))) if ipp else len(slices)
            slices.append((key, img))
    slices.sort(key=lambda s: s[0])
    v = np.stack([s[1] for s in slices])
    rgb = v.ndim == 4
    dtype = 'uint8' if rgb or (v.min() >= 0 and v.max() <= 255 and ds.BitsAllocated == 8) else 'int16'
    assert v.min() >= -32768 and v.max() <= 32767
    out[name] = {'shape': list(v.shape), 'dtype': dtype, 'data': base64.b64encode(v.astype('<u1' if dtype == 'uint8' else '<i2').tobytes()).decode(), 'modality': modality}
print(json.dumps(out))
`, [JSON.stringify(Object.fromEntries([...cases].map(([name, c]) => [name, c.reference])))]);
  server = await startTestService({ createSegmenter: async () => fake });
  await server.service.ready;
});
after(async () => {
  await server?.stop();
  if (!process.env.KEEP_SEG) rmSync(dir, { recursive: true, force: true });
});

const INTENSITY: Readonly<Record<string, WireIntensity>> = {
  ct: { ctWindow: { level: 40, width: 400 } },
  percentile: { percentile: { low: 0.5, high: 99.5 } },
  asis: { asis: {} },
};

function dicomRequest(name: string, header: Partial<Omit<RequestHeader, 'payloadBytes'>>): SegmentInput {
  return { header: { requestId: `dicom-${name}`, format: 'PAYLOAD_FORMAT_DICOM', ...header }, payload: writeDicomUpload(cases.get(name)!.instances) };
}

/** The same pixels as pydicom reads them, sent as raw with the given preparation. */
function rawTwin(name: string, header: Partial<Omit<RequestHeader, 'payloadBytes'>>, intensity: WireIntensity): SegmentInput {
  const ref = references[name]!;
  // (1, H, W) and (1, H, W, 3) are 2D images: (H, W) and (H, W, 3) on the wire.
  const shape = ref.shape[0] === 1 ? ref.shape.slice(1) : ref.shape;
  return {
    header: { requestId: `raw-${name}`, format: 'PAYLOAD_FORMAT_RAW', raw: { shape, dtype: ref.dtype === 'uint8' ? 'VOXEL_TYPE_UINT8' : 'VOXEL_TYPE_INT16' }, intensity, ...header },
    payload: new Uint8Array(Buffer.from(ref.data, 'base64')),
  };
}

/** Whole-image prompts: a box2d on a 2D image, a box3d over every slice of a volume, inset by 2 pixels. */
function wholeImage(name: string): Prompt[] {
  const [depth, height, width] = references[name]!.shape as [number, number, number];
  return depth === 1 ? [box2d(1, 2, 2, width - 2, height - 2)] : [box3d(1, 2, 2, 0, width - 2, height - 2, depth - 1)];
}

function boxVoxels(name: string): number {
  const [depth, height, width] = references[name]!.shape as [number, number, number];
  return depth * (height - 4) * (width - 4);
}

const written: { path: string; info: DicomSeriesInfo; labels: number[] }[] = [];

/**
 * Checks a SEG answer: dciodvfy finds no error, our reader gives `expected` (label values, mapped from segment
 * numbers by the segment labels "Object <label>" or `labelOf`), Summary.dicom_seg names it. Queued for pydicom.
 */
function checkSeg(name: string, outcome: SegmentOutcome, expected: Uint8Array | Uint16Array, labelOf: (segmentLabel: string) => number = (s) => Number(s.replace('Object ', ''))): void {
  const { info } = openSeries(cases.get(name)!.instances);
  const path = join(dir, `seg-${name}-${written.length}.dcm`);
  writeFileSync(path, outcome.labels);
  const verdict = dciodvfy(path);
  assert.ok(verdict.ok, `dciodvfy errors on the SEG of ${name}:\n${verdict.output}`);
  const back = readSegmentation(outcome.labels, info.slices, info.shape);
  const bySegment = new Map(back.segments.map((s) => [s.number, labelOf(s.label)]));
  const labels = Array.from(back.labels, (n) => (n === 0 ? 0 : bySegment.get(n)!));
  assert.deepEqual(labels, Array.from(expected), `${name}: our reading of the SEG`);
  const seg = outcome.summary.dicomSeg!;
  assert.match(seg.sopInstanceUid, /^2\.25\./);
  assert.ok(Buffer.from(outcome.labels).includes(Buffer.from(seg.sopInstanceUid)) && Buffer.from(outcome.labels).includes(Buffer.from(seg.seriesInstanceUid)));
  assert.equal(seg.studyInstanceUid, info.studyInstanceUid);
  assert.equal(outcome.summary.format, 'LABEL_FORMAT_DICOM_SEG');
  written.push({ path, info, labels });
}

/** The fake's threshold for a case: the ultrasound's red channel is 196..255 over most of the image. */
const THRESHOLD: Readonly<Record<string, number>> = { 'ExplVR_BigEnd.dcm': 250 };

async function dicomAgainstRaw(name: string, preparation: keyof typeof INTENSITY, modality: string, source: string): Promise<void> {
  const prompts = wholeImage(name);
  fake.threshold = THRESHOLD[name] ?? 128;
  const asDicom = await server.client().segment(dicomRequest(name, { prompts, output: { format: 'LABEL_FORMAT_DICOM_SEG' } }));
  const asRaw = await server.client().segment(rawTwin(name, { prompts }, INTENSITY[preparation]!));
  assert.deepEqual(asDicom.accepted.image, asRaw.accepted.image, `${name}: the same image`);
  assert.equal(asDicom.accepted.modality, modality, `${name}: modality`);
  assert.equal(asDicom.accepted.modalitySource, source, `${name}: modality source`);
  const expected = rawLabels(asRaw.labels, asRaw.summary);
  const painted = expected.filter((v) => v !== 0).length;
  assert.ok(painted > 0 && painted < boxVoxels(name), `${name}: the threshold splits the box (${painted} of ${boxVoxels(name)} voxels), so the comparison sees the pixels`);
  checkSeg(name, asDicom, expected);
}

test('a real CT series (CT5N): HU through the CT window by default, routed as CT from the files', async () => {
  await dicomAgainstRaw('ct5n', 'ct', 'CT', 'MODALITY_SOURCE_DICOM');
});

test('a built oblique CT sent shuffled, an MR series and a multi-frame Enhanced CT', async () => {
  await dicomAgainstRaw('oblique-ct', 'ct', 'CT', 'MODALITY_SOURCE_DICOM');
  await dicomAgainstRaw('mr-series', 'percentile', 'MR', 'MODALITY_SOURCE_DICOM');
  await dicomAgainstRaw('enhanced-ct', 'ct', 'CT', 'MODALITY_SOURCE_DICOM');
});

test('each listed transfer syntax, grey and RGB photographs included', async () => {
  for (const [name, what] of Object.entries(TRANSFER_SYNTAXES)) {
    const ref = references[name]!;
    const rgb = ref.shape.length === 4;
    const preparation = rgb || ref.dtype === 'uint8' ? 'asis' : 'percentile';
    const modality = ref.modality === 'MR' ? 'MR' : ref.modality === 'US' ? 'US' : '';
    await dicomAgainstRaw(name, preparation, modality, modality ? 'MODALITY_SOURCE_DICOM' : 'MODALITY_SOURCE_NONE').catch((err: unknown) => {
      throw new Error(`${name} (${what}): ${(err as Error).message}`);
    });
  }
});

test('raw and NIfTI answers of a DICOM input; a header modality wins over the files', async () => {
  const prompts = wholeImage('oblique-ct');
  const asRaw = await server.client().segment(rawTwin('oblique-ct', { prompts }, INTENSITY.ct!));
  const raw = await server.client().segment(dicomRequest('oblique-ct', { prompts, modality: 'MR' }));
  assert.equal(raw.accepted.modality, 'MR');
  assert.equal(raw.accepted.modalitySource, 'MODALITY_SOURCE_REQUEST');
  assert.deepEqual(raw.summary.labelShape, [4, 16, 16]);
  assert.deepEqual(raw.labels, asRaw.labels);
  const nifti = await server.client().segment(dicomRequest('oblique-ct', { prompts, output: { format: 'LABEL_FORMAT_NIFTI', gzip: true } }));
  assert.equal(nifti.summary.format, 'LABEL_FORMAT_NIFTI');
  assert.equal(nifti.summary.dicomSeg, null);
  const { readNifti } = await import('../../src/volume/nifti.ts');
  const file = readNifti(nifti.labels);
  assert.deepEqual(file.voxels, rawLabels(asRaw.labels, asRaw.summary));
  // The sform is the series' affine in RAS: voxel (0, 0, 0) is the first slice's position with x and y negated.
  assert.deepEqual(file.geometry.affine.map((row) => row[3]).slice(0, 3), [-ORIGIN[0]!, -ORIGIN[1]!, ORIGIN[2]!].map(Math.fround));
});

/** The LPS point of voxel (column i, row j, slice k) of the oblique series, from its construction. */
function obliquePoint(i: number, j: number, k: number): number[] {
  return ORIGIN.map((o, a) => o + i * 0.75 * IOP[a]! + j * 0.5 * IOP[a + 3]! + k * 2.5 * NORMAL[a]!);
}

test('prompts by SOP Instance UID and in patient mm give the same labels as the voxel prompts they name', async () => {
  const { info } = openSeries(obliqueCt);
  const sop = (z: number): { sopInstanceUid: string; frameNumber: number } => ({ sopInstanceUid: info.slices[z]!.sopInstanceUid, frameNumber: 0 });
  const segment = { label: 'Lesion', category: { codeValue: '49755003', codingScheme: 'SCT', codeMeaning: 'Morphologically Abnormal Structure' }, type: { codeValue: '4147007', codingScheme: 'SCT', codeMeaning: 'Mass' } };
  const dicomPrompts: Prompt[] = [
    { label: 1, box2d: { xMin: 1, yMin: 1, xMax: 15, yMax: 15, slice: sop(1) }, segment },
    { label: 2, box3d: { xMin: 2, yMin: 3, xMax: 9, yMax: 12, sliceFirst: sop(3), sliceLast: sop(2) } },
    // Pixel centres (4, 2) to (13, 14) of slice 0, as a viewer's rectangle would be measured: pixels 4..13 x 2..14.
    { label: 3, patientBox: { cornerA: obliquePoint(4, 2, 0), cornerB: obliquePoint(13, 14, 0) } },
    // Pixel edges on slices 1 and 3: a 3D box over slices 1..3.
    { label: 4, patientBox: { cornerA: obliquePoint(10.5, 0.5, 1), cornerB: obliquePoint(14.5, 4.5, 3) } },
  ];
  const voxelPrompts: Prompt[] = [box2d(1, 1, 1, 15, 15, 1), box3d(2, 2, 3, 2, 9, 12, 3), box2d(3, 4, 2, 14, 15, 0), box3d(4, 11, 1, 1, 15, 5, 3)];
  const byRef = await server.client().segment(dicomRequest('oblique-ct', { prompts: dicomPrompts, output: { format: 'LABEL_FORMAT_DICOM_SEG' } }));
  assert.deepEqual(byRef.accepted.objects.map((o) => [o.label, o.sliceFirst, o.sliceLast]), [[1, 1, 1], [2, 2, 3], [3, 0, 0], [4, 1, 3]]);
  const byVoxel = await server.client().segment(dicomRequest('oblique-ct', { prompts: voxelPrompts }));
  const segments = readSegmentation(byRef.labels, info.slices, info.shape).segments;
  assert.deepEqual(segments.map((s) => [s.label, s.category?.meaning, s.type?.meaning]), [
    ['Lesion', 'Morphologically Abnormal Structure', 'Mass'], ['Object 2', 'Tissue', 'Tissue'], ['Object 3', 'Tissue', 'Tissue'], ['Object 4', 'Tissue', 'Tissue'],
  ]);
  const labelOf = (s: string): number => (s === 'Lesion' ? 1 : Number(s.replace('Object ', '')));
  checkSeg('oblique-ct', byRef, rawLabels(byVoxel.labels, byVoxel.summary), labelOf);
});

async function expectFailure(input: SegmentInput, code: string, field: string, message?: RegExp): Promise<void> {
  const err = await server.client().segment(input).then(() => assert.fail(`expected ${code} at ${field}`), grpcError);
  assert.deepEqual(err.metadata?.get(ERROR_CODE_KEY), [code], err.details);
  assert.deepEqual(err.metadata?.get(ERROR_FIELD_KEY), [field], err.details);
  if (message) assert.match(err.details, message);
}

test('prompts in DICOM terms that miss, and DICOM outputs the input cannot have, are refused with their field', async () => {
  const prompts = (p: Prompt): Partial<RequestHeader> => ({ prompts: [p] });
  await expectFailure(dicomRequest('oblique-ct', prompts({ label: 1, box2d: { xMin: 1, yMin: 1, xMax: 5, yMax: 5, slice: { sopInstanceUid: '1.2.3.4', frameNumber: 0 } } })),
    'PROMPT_INVALID', 'header.prompts[0].box2d.slice.sop_instance_uid', /1\.2\.3\.4 is not an instance of this series/);
  await expectFailure(dicomRequest('oblique-ct', prompts({ label: 1, patientBox: { cornerA: obliquePoint(1, 1, 0), cornerB: obliquePoint(20, 1, 0) } })),
    'PROMPT_INVALID', 'header.prompts[0].patient_box.corner_b', /outside the volume/);
  await expectFailure(dicomRequest('SC_rgb_rle.dcm', prompts({ label: 1, patientBox: { cornerA: [0, 0, 0], cornerB: [1, 1, 0] } })),
    'PROMPT_INVALID', 'header.prompts[0].patient_box', /needs a series placed in patient coordinates/);
  await expectFailure(rawTwin('ct5n', prompts({ label: 1, box2d: { xMin: 1, yMin: 1, xMax: 5, yMax: 5, slice: { sopInstanceUid: '1.2.3', frameNumber: 0 } } }), INTENSITY.ct!),
    'PROMPT_INVALID', 'header.prompts[0].box2d.slice', /only a DICOM input has/);
  await expectFailure(dicomRequest('oblique-ct', prompts({ label: 1, box2d: { xMin: 1, yMin: 1, xMax: 5, yMax: 5, z: 1, slice: { sopInstanceUid: '1.2.3', frameNumber: 0 } } })),
    'PROMPT_INVALID', 'header.prompts[0].box2d', /set z or slice, not both/);
  await expectFailure(dicomRequest('oblique-ct', { ...prompts(box2d(1, 1, 1, 5, 5, 0)), output: { format: 'LABEL_FORMAT_DICOM_SEG', gzip: true } }), 'HEADER_INVALID', 'header.output.gzip');
  await expectFailure(rawTwin('ct5n', { prompts: wholeImage('ct5n'), output: { format: 'LABEL_FORMAT_DICOM_SEG' } }, INTENSITY.ct!),
    'HEADER_INVALID', 'header.output.format', /LABEL_FORMAT_DICOM_SEG needs a DICOM input \(PAYLOAD_FORMAT_DICOM, or a session holding one\), got PAYLOAD_FORMAT_RAW/);
  await expectFailure(dicomRequest('oblique-ct', prompts({ label: 1, box2d: { xMin: 1, yMin: 1, xMax: 5, yMax: 5, z: 0 }, segment: { label: 'a\\b' } })),
    'PROMPT_INVALID', 'header.prompts[0].segment.label');
});

test('a session keeps the DICOM geometry: a later request asks for SEG and routes by the files\' modality', async () => {
  const kept = await server.client().segment(dicomRequest('ct5n', { keepSession: true, prompts: [] }));
  const sessionId = kept.accepted.session!.sessionId;
  assert.equal(kept.accepted.modalitySource, 'MODALITY_SOURCE_DICOM');
  const prompts = wholeImage('ct5n');
  const later = await server.client().segment({ header: { sessionId, prompts, output: { format: 'LABEL_FORMAT_DICOM_SEG' } }, payload: new Uint8Array(0) });
  assert.equal(later.accepted.modality, 'CT');
  assert.equal(later.accepted.modalitySource, 'MODALITY_SOURCE_SESSION');
  const asRaw = await server.client().segment(rawTwin('ct5n', { prompts }, INTENSITY.ct!));
  checkSeg('ct5n', later, rawLabels(asRaw.labels, asRaw.summary));
  // A session holding a raw volume has no DICOM to reference.
  const rawSession = await server.client().segment(rawTwin('ct5n', { keepSession: true, prompts: [] }, INTENSITY.ct!));
  await expectFailure({ header: { sessionId: rawSession.accepted.session!.sessionId, prompts, output: { format: 'LABEL_FORMAT_DICOM_SEG' } }, payload: new Uint8Array(0) },
    'HEADER_INVALID', 'header.output.format', /this session's volume was not uploaded as DICOM/);
});

test('bad series each get one precise error, and the server stays SERVING', async () => {
  const upload = (instances: Uint8Array[]): SegmentInput => ({ header: { format: 'PAYLOAD_FORMAT_DICOM', prompts: [box2d(1, 1, 1, 5, 5, 0)] }, payload: writeDicomUpload(instances) });
  await expectFailure(upload([...pydicomFolder('dicomdirtests/98892001/CT5N').slice(0, 2), pydicomFile('MR_small.dcm')]), 'DICOM_SERIES_INVALID', 'payload.dicom[2]', /belongs to series/);
  const ct5n = pydicomFolder('dicomdirtests/98892001/CT5N');
  await expectFailure(upload([...ct5n, ct5n[1]!]), 'DICOM_SERIES_INVALID', 'payload.dicom[5]', /same SOP Instance UID as instance 1: an instance sent twice/);
  await expectFailure(upload(samePosition), 'DICOM_SERIES_INVALID', 'payload.dicom[2]', /at the same position/);
  await expectFailure(upload(tilted), 'DICOM_SERIES_INVALID', 'payload.dicom[2]', /degrees off their normal: gantry tilt/);
  await expectFailure(upload(pydicomFolder('dicomdirtests/98892001/CT2N')), 'DICOM_SERIES_INVALID', 'payload.dicom[1]', /must be parallel/);
  await expectFailure(upload([pydicomFile('MR_truncated.dcm')]), 'PAYLOAD_SIZE_MISMATCH', 'payload.dicom[0]', /truncated/);
  const framed = writeDicomUpload(obliqueCt);
  await expectFailure({ ...upload([]), payload: framed.subarray(0, framed.length - 10) }, 'PAYLOAD_SIZE_MISMATCH', 'payload.dicom[3]', /truncated upload/);
  // JPEG Extended decodes at 8 and 12 bits; a frame header declaring 16-bit lossy JPEG is refused.
  const jpeg16 = pydicomFile('JPGExtended.dcm').slice();
  jpeg16[jpeg16.findIndex((b, i) => b === 0xff && jpeg16[i + 1] === 0xc1) + 4] = 16;
  await expectFailure(upload([jpeg16]), 'DICOM_UNSUPPORTED', 'payload.dicom[0].transferSyntax', /1\.2\.840\.10008\.1\.2\.4\.51 .* with 16-bit precision/);
  await expectFailure(upload([pydicomFile('rtstruct.dcm')]), 'DICOM_INVALID', 'payload.dicom[0]');
  assert.equal(await server.health(''), 'SERVING');
  // Still answering DICOM after the refusals.
  const after = await server.client().segment(dicomRequest('MR_small.dcm', { prompts: wholeImage('MR_small.dcm') }));
  assert.equal(after.accepted.modality, 'MR');
});

test('every SEG written reads back with pydicom to the same labels; the algorithm identification names the networks', () => {
  const read = python<{ labels: number[]; software: string[]; description: string; manufacturer: string }[]>(`
import json, sys, numpy as np, pydicom
out = []
for item in json.loads(sys.argv[1]):
    ds = pydicom.dcmread(item['path'])
    sources = item['sources']
    frames = ds.pixel_array.reshape(int(ds.NumberOfFrames), ds.Rows, ds.Columns)
    label_of = {int(s.SegmentNumber): s.SegmentLabel for s in ds.SegmentSequence}
    labels = np.zeros(item['shape'], 'u2')
    for f, g in enumerate(ds.PerFrameFunctionalGroupsSequence):
        src = g.DerivationImageSequence[0].SourceImageSequence[0]
        z = sources.index(src.ReferencedSOPInstanceUID + '/' + str(src.get('ReferencedFrameNumber', 1)))
        text = label_of[int(g.SegmentIdentificationSequence[0].ReferencedSegmentNumber)]
        labels[z][frames[f] == 1] = 1 if text == 'Lesion' else int(text.split(' ')[1])
    sv = ds.SoftwareVersions
    out.append({'labels': labels.ravel().tolist(), 'software': [str(v) for v in (sv if isinstance(sv, pydicom.multival.MultiValue) else [sv])], 'description': ds.SeriesDescription, 'manufacturer': ds.Manufacturer})
print(json.dumps(out))
`, [JSON.stringify(written.map((w) => ({ path: w.path, shape: w.info.shape, sources: w.info.slices.map((s) => `${s.sopInstanceUid}/${s.frameNumber ?? 1}`) })))]);
  assert.ok(written.length >= 20, `${written.length} SEGs written`);
  read.forEach((r, i) => {
    assert.deepEqual(r.labels, written[i]!.labels, written[i]!.path);
    assert.equal(r.manufacturer, 'OneSAM Serve');
    assert.match(r.description, /research/);
    assert.equal(r.software[0], `OneSAM Serve ${SERVICE_VERSION}`);
    // The fake's networks have no repository details: their weights are "unknown", never silently left out.
    assert.match(r.software.slice(1).join('|'), /^(litemedsam|onesam) fake-\w+ weights unknown/);
  });
  assert.equal(SERVICE_VERSION, (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version);
});

test('header.format lists DICOM; unknown output formats list DICOM SEG', async () => {
  await expectFailure({ header: { format: 9 as never, prompts: [] }, payload: new Uint8Array(4) }, 'HEADER_INVALID', 'header.format', /PAYLOAD_FORMAT_NIFTI or PAYLOAD_FORMAT_DICOM/);
  await expectFailure(dicomRequest('ct5n', { output: { format: 9 as never } }), 'HEADER_INVALID', 'header.output.format', /or LABEL_FORMAT_DICOM_SEG/);
});
