// Series assembly on real files (pydicom's CT5N study) and on series pydicom writes with known geometry: slice
// order along the normal, spacing, affines, per-slice references, and one precise error per broken series.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DICOM_UPLOAD_MAGIC, readDicomUpload, writeDicomUpload } from '../../src/volume/dicom/framing.ts';
import { lpsToVoxel } from '../../src/volume/dicom/geometry.ts';
import { modalityFromDicom } from '../../src/pipeline/dicom-modality.ts';
import { openSeries, readSeries } from '../../src/volume/dicom/series.ts';
import { CodedError } from '../../src/errors/coded-error.ts';
import { pydicomCtSeries, pydicomCtSeriesBatch, pydicomEnhancedCt, pydicomFile, pydicomFolder, python, PYDICOM_FILES } from '../helpers/dicom-tools.ts';

function seriesError(instances: Uint8Array[], code: string, field: string, message: RegExp): void {
  assert.throws(() => openSeries(instances), (err: unknown) => {
    assert.ok(err instanceof CodedError, String(err));
    assert.equal(err.code, code);
    assert.equal(err.field, field);
    assert.match(err.message, message);
    assert.doesNotMatch(err.message, /CompressedSamples|1CT1/, 'no patient name or id in messages');
    return true;
  });
}

test('CT5N: five real CT slices ordered by position, 2.5 mm apart, referenced by SOP Instance UID', () => {
  const instances = pydicomFolder('dicomdirtests/98892001/CT5N');
  const ref = python<{ sop: string; z: number; ipp: number[] }[]>(`
import json, os, pydicom
d = ${JSON.stringify(`${PYDICOM_FILES}/dicomdirtests/98892001/CT5N`)}
out = []
for f in sorted(os.listdir(d)):
    ds = pydicom.dcmread(os.path.join(d, f))
    out.append({'sop': ds.SOPInstanceUID, 'z': float(ds.ImagePositionPatient[2]), 'ipp': [float(v) for v in ds.ImagePositionPatient]})
print(json.dumps(out))
`);
  const volume = readSeries(instances);
  assert.deepEqual(volume.shape, [5, 16, 16]);
  assert.equal(volume.modality, 'CT');
  assert.equal(modalityFromDicom(volume.modality), 'CT');
  const byZ = [...ref].sort((a, b) => a.z - b.z);
  assert.deepEqual(volume.slices.map((s) => s.sopInstanceUid), byZ.map((r) => r.sop));
  assert.deepEqual(volume.slices.map((s) => s.position), byZ.map((r) => r.ipp));
  assert.ok(Math.abs(volume.geometry.spacing[0] - 2.5) < 1e-6);
  assert.deepEqual(volume.geometry.origin, byZ[0]!.ipp);
  assert.equal(volume.geometry.affineRas[0]![3], -byZ[0]!.ipp[0]!);
});

test('a built oblique series, sent shuffled: z order is increasing position along the normal, geometry exact', () => {
  // Rows along +y, columns along -z (a sagittal-like plane): normal = (0,1,0) x (0,0,-1) = (-1, 0, 0).
  const iop = [0, 1, 0, 0, 0, -1];
  const xs = [10, 7, 4, 1]; // along the normal: -10, -7, -4, -1 => increasing order is x = 10, 7, 4, 1
  const shuffled = [2, 0, 3, 1];
  const instances = pydicomCtSeries(shuffled.map((k) => ({ ipp: [xs[k]!, -20, 30], iop })));
  const volume = readSeries(instances);
  assert.deepEqual(volume.shape, [4, 16, 16]);
  assert.deepEqual(volume.geometry.normal.map((v) => v + 0), [-1, 0, 0]);
  assert.deepEqual(volume.slices.map((s) => s.position![0]), [10, 7, 4, 1]);
  assert.deepEqual(volume.slices.map((s) => s.instanceIndex), [1, 3, 0, 2]);
  assert.deepEqual(volume.geometry.spacing, [3, 0.5, 0.75]);
  // Voxel (i, j, k) = origin + i * 0.75 * row + j * 0.5 * column + k * 3 * normal.
  assert.deepEqual(volume.geometry.affineLps, [[0, 0, -3, 10], [0.75, 0, 0, -20], [0, -0.5, 0, 30], [0, 0, 0, 1]]);
  assert.deepEqual(volume.geometry.affineRas, [[0, 0, 3, -10], [-0.75, 0, 0, 20], [0, -0.5, 0, 30], [0, 0, 0, 1]]);
  assert.deepEqual(lpsToVoxel(volume.geometry, [4, -20 + 0.75 * 5, 30 - 0.5 * 2]).map((v) => Math.round(v * 1e9) / 1e9), [5, 2, 2]);
  // Slice z holds the pixels of upload instance k (value 1000 k + row * 16 + column), HU = value - 1024.
  const voxels = volume.voxels;
  volume.slices.forEach((slice, z) => {
    assert.equal(voxels[z * 256 + 3 * 16 + 5], 1000 * slice.instanceIndex + 3 * 16 + 5 - 1024);
  });
});

test('broken series: one precise error each, naming the instance', () => {
  const axial = (z: number): { ipp: number[] } => ({ ipp: [0, 0, z] });
  const [mixed, duplicate, gap, tilted, skewed, sizes, unplaced, twice] = pydicomCtSeriesBatch([
    [axial(0), { ...axial(2), series: '1.2.3.4' }],
    [axial(0), axial(2), axial(2)],
    [axial(0), axial(2), axial(4), axial(8)],
    // Gantry tilt: axial slices whose positions step 0.5 mm in y per 2 mm in z (14 degrees).
    [0, 1, 2].map((k) => ({ ipp: [0, 0.5 * k, 2 * k] })),
    [axial(0), { ipp: [0, 0, 2], iop: [1, 0, 0, 0, 0.995037, 0.099504] }],
    [axial(0), { ...axial(2), rows: 8 }],
    [axial(0), {}],
    [{ ...axial(0), sop: '1.2.3.9' }, { ...axial(2), sop: '1.2.3.9' }],
  ]);
  seriesError(mixed!, 'DICOM_SERIES_INVALID', 'payload.dicom[1]', /instance 1 \(SOP Instance UID [\d.]+\) belongs to series 1\.2\.3\.4, instance 0 \(SOP Instance UID [\d.]+\) to series [\d.]+: send one series per request/);
  seriesError(duplicate!, 'DICOM_SERIES_INVALID', 'payload.dicom[2]', /instance 2 \(SOP Instance UID [\d.]+\) and instance 1 \(SOP Instance UID [\d.]+\) are at the same position \(2\.000 mm along the slice normal\)/);
  seriesError(gap!, 'DICOM_SERIES_INVALID', 'payload.dicom[3]', /instance 2 .* and instance 3 .* are 4\.000 mm apart, the mean slice spacing is 2\.667 mm: a missing slice or non-uniform spacing \(tolerance 1 %\)/);
  seriesError(tilted!, 'DICOM_SERIES_INVALID', 'payload.dicom[2]', /step 14\.04 degrees off their normal: gantry tilt/);
  seriesError(skewed!, 'DICOM_SERIES_INVALID', 'payload.dicom[1]', /has Image Orientation \(Patient\) \[1, 0, 0, 0, 0\.995037, 0\.099504\], instance 0 .* \[1, 0, 0, 0, 1, 0\]: slices of one volume must be parallel/);
  seriesError(sizes!, 'DICOM_SERIES_INVALID', 'payload.dicom[1]', /has rows 8, instance 0 .* has 16: the images of one volume must have the same size/);
  seriesError(unplaced!, 'DICOM_SERIES_INVALID', 'payload.dicom[1]', /has no Image Position\/Orientation \(Patient\) while instance 0 .* has/);
  seriesError(twice!, 'DICOM_SERIES_INVALID', 'payload.dicom[1]', /has the same SOP Instance UID as instance 0: an instance sent twice/);
  // Real files: CT2N's two slices are not parallel; CT2 has a 202.5 mm gap; the MR folders mix series.
  seriesError(pydicomFolder('dicomdirtests/98892001/CT2N'), 'DICOM_SERIES_INVALID', 'payload.dicom[1]', /slices of one volume must be parallel/);
  seriesError(pydicomFolder('dicomdirtests/77654033/CT2'), 'DICOM_SERIES_INVALID', 'payload.dicom[1]', /are 202\.500 mm apart/);
  seriesError(pydicomFolder('dicomdirtests/98892003/MR2'), 'DICOM_SERIES_INVALID', 'payload.dicom[1]', /send one series per request/);
});

test('a truncated instance inside a series is named by its index', () => {
  const series = pydicomCtSeries([{ ipp: [0, 0, 0] }, { ipp: [0, 0, 2] }]);
  // CT_small ends with 138 bytes of Data Set Trailing Padding after its pixels: cut into the pixels.
  const cut = series[1]!.subarray(0, series[1]!.length - 300);
  assert.throws(() => openSeries([series[0]!, cut]), (err: unknown) => err instanceof CodedError && err.code === 'PAYLOAD_SIZE_MISMATCH' && err.field === 'payload.dicom[1]' && /truncated/.test(err.message));
});

test('Enhanced CT multi-frame: frames placed by per-frame plane positions and rescaled per frame', () => {
  const volume = readSeries([pydicomEnhancedCt()]);
  assert.deepEqual(volume.shape, [3, 8, 8]);
  assert.deepEqual(volume.slices.map((s) => s.frameNumber), [2, 3, 1]);
  assert.deepEqual(volume.geometry.spacing, [1.5, 0.8, 0.8]);
  // Frame f holds 100 (f + 1) with intercept -f.
  assert.deepEqual([0, 1, 2].map((z) => volume.voxels[z * 64]), [200 - 1, 300 - 2, 100 - 0]);
});

test('single images: CR MONOCHROME1 inverted before rescale, palette colour to RGB, modality mapping', () => {
  const cr = pydicomFolder('dicomdirtests/77654033/CR1');
  const ref = python<number[]>(`
import json, os, numpy as np, pydicom
d = ${JSON.stringify(`${PYDICOM_FILES}/dicomdirtests/77654033/CR1`)}
ds = pydicom.dcmread(os.path.join(d, os.listdir(d)[0]))
a = ds.pixel_array.astype('f8')
inv = (2 ** ds.BitsStored - 1) - a
print(json.dumps((inv * float(ds.get('RescaleSlope', 1)) + float(ds.get('RescaleIntercept', 0))).ravel().tolist()))
`);
  const volume = readSeries(cr);
  assert.equal(modalityFromDicom(volume.modality), 'XRay');
  assert.equal(volume.geometry.patient, false);
  assert.deepEqual(Array.from(volume.voxels as ArrayLike<number>), ref);

  const palette = python<{ file: string; rgb: number[] }>(`
import base64, io, json, numpy as np, pydicom
from pydicom.pixel_data_handlers.util import apply_color_lut
ds = pydicom.dcmread(${JSON.stringify(`${PYDICOM_FILES}/CT_small.dcm`)})
ds.Rows = ds.Columns = 4
ds.PhotometricInterpretation = 'PALETTE COLOR'
ds.BitsAllocated = ds.BitsStored = 8; ds.HighBit = 7; ds.PixelRepresentation = 0
ds.PixelData = np.arange(16, dtype='u1').tobytes()
ramp = np.arange(256, dtype='<u2')
for c, lut in zip('Red Green Blue'.split(), [ramp * 257, (255 - ramp) * 257, (ramp // 2) * 257]):
    ds.add_new(pydicom.datadict.tag_for_keyword(c + 'PaletteColorLookupTableDescriptor'), 'US', [256, 0, 16])
    ds.add_new(pydicom.datadict.tag_for_keyword(c + 'PaletteColorLookupTableData'), 'OW', lut.astype('<u2').tobytes())
for t in ['RescaleSlope', 'RescaleIntercept']:
    delattr(ds, t)
buf = io.BytesIO(); ds.save_as(buf, write_like_original=False)
rgb = (apply_color_lut(ds.pixel_array, ds) >> 8).ravel().tolist()
print(json.dumps({'file': base64.b64encode(buf.getvalue()).decode(), 'rgb': rgb}))
`);
  const colour = readSeries([new Uint8Array(Buffer.from(palette.file, 'base64'))]);
  assert.equal(colour.channels, 3);
  assert.deepEqual(Array.from(colour.voxels as Uint8Array), palette.rgb);

  assert.equal(modalityFromDicom(readSeries([pydicomFile('ExplVR_BigEnd.dcm')]).modality), 'US');
  const table: Record<string, string | undefined> = { CT: 'CT', MR: 'MR', PT: 'PET', CR: 'XRay', DX: 'XRay', RF: 'XRay', US: 'US', ES: 'Endoscopy', XC: 'Dermoscopy', OP: 'Fundus', SM: 'Microscopy', OPT: 'OCT', MG: 'Mammography', SEG: undefined, OT: undefined, RTDOSE: undefined, SR: undefined };
  for (const [code, key] of Object.entries(table)) assert.equal(modalityFromDicom(code), key, code);
});

test('upload framing: length-prefixed instances round-trip; a bare Part 10 file is one instance; damage is refused', () => {
  const series = pydicomFolder('dicomdirtests/98892001/CT5N');
  const upload = writeDicomUpload(series);
  assert.equal(new TextDecoder().decode(upload.subarray(0, 8)), DICOM_UPLOAD_MAGIC);
  const back = readDicomUpload(upload);
  assert.deepEqual(back.map((b) => Buffer.from(b).toString('base64')), series.map((b) => Buffer.from(b).toString('base64')));
  assert.deepEqual(readSeries(back).shape, [5, 16, 16]);
  const single = pydicomFile('CT_small.dcm');
  assert.equal(readDicomUpload(single)[0], single);
  assert.throws(() => readDicomUpload(upload.subarray(0, upload.length - 10)), (err: unknown) => err instanceof CodedError && err.code === 'PAYLOAD_SIZE_MISMATCH' && err.field === 'payload.dicom[4]');
  assert.throws(() => readDicomUpload(upload, 4), (err: unknown) => err instanceof CodedError && err.code === 'PAYLOAD_TOO_LARGE' && /more than 4 DICOM instances/.test(err.message));
  assert.throws(() => readDicomUpload(upload.subarray(0, 8)), /holds the DICMSER1 magic but no instance/);
});
