// DICOM through the payload layer: decodePayload's 'dicom' format (framing, limits with the intensity preparation
// counted from the headers, the documented default preparations, the geometry kept as plain data), and the label
// outputs of a DICOM input: NIfTI whose sform and qform are the series' affine (checked with our reader and with
// nifti-reader-js against the DICOM geometry), and DICOM SEG read back to the same labels.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as niftiReader from 'nifti-reader-js';
import { CodedError } from '../../src/errors/coded-error.ts';
import { loadDicomCodecs } from '../../src/volume/dicom/codecs.ts';
import { writeDicomUpload } from '../../src/volume/dicom/framing.ts';
import { readSegmentation } from '../../src/volume/dicom/seg-reader.ts';
import { openSeries, readSeries } from '../../src/volume/dicom/series.ts';
import { defaultDicomIntensity } from '../../src/volume/dicom-volume.ts';
import { ctWindow, percentileWindow } from '../../src/volume/intensity.ts';
import { readNifti } from '../../src/volume/nifti.ts';
import { decodePayload, encodeLabelOutput, encodeLabels, type DecodedVolume, type SegOutputOptions } from '../../src/volume/payload.ts';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dciodvfy, pydicomCtSeriesBatch, pydicomFile, tool } from '../helpers/dicom-tools.ts';

const ALGORITHM: SegOutputOptions['algorithm'] = { name: 'OneSAM Serve', version: '0.1.0', networks: [{ name: 'litemedsam', weights: 'sha256:00' }] };

// Rows along (0.8, 0.6, 0), columns along -z: normal (-0.6, 0.8, 0). Sent shuffled; 2.5 mm apart.
const OBLIQUE_IOP = [0.8, 0.6, 0, 0, 0, -1];
const NORMAL = [-0.6, 0.8, 0];
const ORIGIN = [10, -20, 30];
const [oblique, axial] = pydicomCtSeriesBatch([
  [2, 0, 3, 1].map((k) => ({ ipp: ORIGIN.map((o, i) => o + 2.5 * k * NORMAL[i]!), iop: OBLIQUE_IOP })),
  [0, 1, 2].map((k) => ({ ipp: [0, 0, 5 * k] })),
]) as [Uint8Array[], Uint8Array[]];

function dicom(instances: readonly Uint8Array[], intensity?: Parameters<typeof decodePayload>[0]['intensity'], options = {}): DecodedVolume {
  return decodePayload({ format: 'dicom', ...(intensity ? { intensity } : {}) }, writeDicomUpload(instances), options);
}

function codedError(fn: () => unknown, code: string, field: string, message?: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof CodedError, String(err));
    assert.equal(err.code, code);
    assert.equal(err.field, field);
    if (message) assert.match(err.message, message);
    return true;
  });
}

test('a CT series: HU through the CT window 40/400 by default, the series geometry and Modality kept', () => {
  const decoded = dicom(oblique);
  const volume = readSeries(oblique);
  assert.deepEqual([decoded.image.depth, decoded.image.height, decoded.image.width, decoded.image.channels], [4, 16, 16, 1]);
  assert.deepEqual(decoded.image.data, ctWindow(volume.voxels, 40, 400));
  assert.equal(decoded.dicomModality, 'CT');
  const g = decoded.geometry;
  assert.equal(g.kind, 'dicom');
  if (g.kind !== 'dicom') return;
  assert.deepEqual(g.labelShape, [4, 16, 16]);
  assert.deepEqual(g.intensity, { kind: 'ct-window', level: 40, width: 400 });
  assert.deepEqual(g.series.slices.map((s) => s.instanceIndex), [1, 3, 0, 2]);
  assert.ok(Math.abs(g.spacing[0] - 2.5) < 1e-9 && g.spacing[1] === 0.5 && g.spacing[2] === 0.75);
  assert.deepEqual(decoded.image.spacing, g.spacing);
  // Plain data: it crosses to and from the codec thread, and sessions keep it.
  assert.deepEqual(structuredClone(g), g);
  // A preparation the request names wins over the default.
  assert.deepEqual(dicom(oblique, { kind: 'percentile' }).image.data, percentileWindow(volume.voxels, 0.5, 99.5));
});

test('default preparations: MR percentiles, 8-bit grey and colour as-is; a single image has an (H, W) label shape', () => {
  assert.deepEqual(defaultDicomIntensity({ channels: 1, voxelType: 'int16', modality: 'MR' }), { kind: 'percentile', low: 0.5, high: 99.5 });
  assert.deepEqual(defaultDicomIntensity({ channels: 1, voxelType: 'uint16', modality: 'DX' }), { kind: 'percentile', low: 0.5, high: 99.5 });
  assert.deepEqual(defaultDicomIntensity({ channels: 1, voxelType: 'int32', modality: 'ct ' }), { kind: 'ct-window', level: 40, width: 400 });
  assert.deepEqual(defaultDicomIntensity({ channels: 1, voxelType: 'uint8', modality: 'OT' }), { kind: 'asis' });
  assert.deepEqual(defaultDicomIntensity({ channels: 3, voxelType: 'uint8', modality: 'CT' }), { kind: 'asis' });
  const mr = decodePayload({ format: 'dicom' }, pydicomFile('MR_small.dcm'));
  assert.equal(mr.dicomModality, 'MR');
  assert.deepEqual(mr.geometry.labelShape, [64, 64]);
  assert.deepEqual(mr.image.data, percentileWindow(readSeries([pydicomFile('MR_small.dcm')]).voxels, 0.5, 99.5));
  const rgb = decodePayload({ format: 'dicom' }, pydicomFile('SC_rgb_rle.dcm'));
  assert.deepEqual([rgb.image.depth, rgb.image.height, rgb.image.width, rgb.image.channels], [1, 100, 100, 3]);
  assert.deepEqual(rgb.image.data, readSeries([pydicomFile('SC_rgb_rle.dcm')]).voxels);
  assert.equal(rgb.image.spacing, undefined, 'no patient geometry: no spacing for volumes in ml');
  codedError(() => decodePayload({ format: 'dicom', intensity: { kind: 'ct-window' } }, pydicomFile('SC_rgb_rle.dcm')), 'INTENSITY_INVALID', 'header.intensity.kind');
});

test('compressed transfer syntaxes decode with the codecs passed in', async () => {
  const j2k = pydicomFile('MR_small_jp2klossless.dcm');
  assert.throws(() => decodePayload({ format: 'dicom' }, j2k), /needs the codecs/);
  const codecs = await loadDicomCodecs();
  const decoded = decodePayload({ format: 'dicom' }, j2k, {}, codecs);
  assert.deepEqual(decoded.image.data, decodePayload({ format: 'dicom' }, pydicomFile('MR_small.dcm')).image.data);
});

test('limits: voxels and decoded bytes from the headers; the preparation counts against the working memory', () => {
  codedError(() => dicom(axial, undefined, { maxVoxels: 3 * 16 * 16 - 1 }), 'PAYLOAD_TOO_LARGE', 'payload', /maxVoxels/);
  const source = openSeries(axial);
  const count = 3 * 16 * 16;
  const headers = Object.values(source.workingBytes).reduce((a, b) => a + b, 0);
  // The CT window needs the 8-bit image (count bytes) on top of what the series itself allocates.
  assert.equal(dicom(axial, undefined, { maxWorkingBytes: headers + count }).image.data.length, count);
  codedError(() => dicom(axial, undefined, { maxWorkingBytes: headers + count - 1 }), 'PAYLOAD_TOO_LARGE', 'payload', /preparation 768/);
  codedError(() => decodePayload({ format: 'dicom' }, new Uint8Array(0)), 'PAYLOAD_FORMAT', 'payload');
});

/** voxel (i, j, k) through a 4x4 affine. */
function apply(m: readonly (readonly number[])[], i: number, j: number, k: number): number[] {
  return [0, 1, 2].map((r) => m[r]![0]! * i + m[r]![1]! * j + m[r]![2]! * k + m[r]![3]!);
}

test('NIfTI labels of a DICOM input: sform and qform map voxel (i, j, k) to the series\' point in RAS', () => {
  const decoded = dicom(oblique);
  const g = decoded.geometry;
  if (g.kind !== 'dicom') throw new Error('not dicom');
  const labels = new Uint8Array(4 * 16 * 16).map((_, i) => i % 3);
  const file = encodeLabels(labels, g, 'nifti', true);
  const ours = readNifti(file);
  assert.deepEqual(ours.geometry.labelShape, [4, 16, 16]);
  assert.deepEqual(ours.voxels, labels);
  let ab = file.buffer.slice(file.byteOffset, file.byteOffset + file.byteLength) as ArrayBuffer;
  ab = niftiReader.decompress(ab) as ArrayBuffer;
  const header = niftiReader.readHeader(ab)!;
  assert.equal(header.sform_code, 1);
  assert.equal(header.qform_code, 1);
  const affines = { ours: ours.geometry.affine, sform: header.affine, qform: header.getQformMat() };
  for (const [i, j, k] of [[0, 0, 0], [15, 0, 0], [0, 15, 0], [0, 0, 3], [15, 15, 3], [7, 3, 2]] as const) {
    // The DICOM geometry's point: origin + i * column spacing * row direction + j * row spacing * column direction
    // + k * slice step, in LPS; RAS negates x and y.
    const lps = apply(g.series.geometry.affineLps, i, j, k);
    const expected = [-lps[0]!, -lps[1]!, lps[2]!];
    const direct = ORIGIN.map((o, a) => o + i * 0.75 * OBLIQUE_IOP[a]! + j * 0.5 * OBLIQUE_IOP[a + 3]! + k * 2.5 * NORMAL[a]!);
    assert.ok(expected.every((v, a) => Math.abs(v - [-direct[0]!, -direct[1]!, direct[2]!][a]!) < 1e-9));
    for (const [name, m] of Object.entries(affines)) {
      const got = apply(m, i, j, k);
      assert.ok(got.every((v, a) => Math.abs(v - expected[a]!) < 1e-3), `${name} maps (${i}, ${j}, ${k}) to [${got}], DICOM says [${expected}]`);
    }
  }
  // An axial series: LPS to RAS flips x and y (another branch of the quaternion).
  const ax = dicom(axial).geometry;
  if (ax.kind !== 'dicom') throw new Error('not dicom');
  const axialHeader = niftiReader.readHeader(encodeLabels(new Uint8Array(3 * 16 * 16), ax, 'nifti', false).slice().buffer as ArrayBuffer)!;
  for (const m of [axialHeader.affine, axialHeader.getQformMat()]) assert.deepEqual(apply(m, 2, 3, 2), [-2 * 0.75, -3 * 0.5, 10]);
  // Images without patient geometry get spacing only (no qform or sform).
  const rgb = decodePayload({ format: 'dicom' }, pydicomFile('SC_rgb_rle.dcm'));
  const plain = readNifti(encodeLabels(new Uint8Array(100 * 100), rgb.geometry, 'nifti', false));
  assert.deepEqual(plain.geometry.labelShape, [1, 100, 100]);
  assert.deepEqual(plain.geometry.affine, [[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]]);
});

test('DICOM SEG output: the written identity, labels read back; only for DICOM inputs and never gzipped', () => {
  const decoded = dicom(oblique);
  const g = decoded.geometry;
  if (g.kind !== 'dicom') throw new Error('not dicom');
  const labels = new Uint8Array(4 * 16 * 16);
  labels.fill(2, 16 * 16, 16 * 16 + 40);
  labels.fill(5, 3 * 16 * 16 + 7, 3 * 16 * 16 + 30);
  const out = encodeLabelOutput(labels, g, 'dicom-seg', false, { algorithm: ALGORITHM });
  assert.match(out.segmentation!.sopInstanceUid, /^2\.25\.\d+$/);
  assert.match(out.segmentation!.seriesInstanceUid, /^2\.25\.\d+$/);
  const dir = mkdtempSync(join(tmpdir(), 'onesam-payload-seg-'));
  try {
    const path = join(dir, 'seg.dcm');
    writeFileSync(path, out.bytes);
    const verdict = dciodvfy(path);
    assert.ok(verdict.ok, verdict.output);
    assert.equal(tool('dcmdump', 'dcmtk', [path]).status, 0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const back = readSegmentation(out.bytes, g.series.slices, g.series.shape);
  // Default segments: one per label present, numbered in label order, "Object <label>".
  assert.deepEqual(back.segments.map((s) => [s.number, s.label, s.type?.meaning]), [[1, 'Object 2', 'Tissue'], [2, 'Object 5', 'Tissue']]);
  assert.deepEqual(Array.from(back.labels), Array.from(labels, (v) => (v === 2 ? 1 : v === 5 ? 2 : 0)));
  codedError(() => encodeLabels(labels, g, 'dicom-seg', true, { algorithm: ALGORITHM }), 'LABELS_INVALID', 'header.output.gzip');
  const raw = decodePayload({ format: 'raw', raw: { shape: [4, 16, 16], dtype: 'uint8' } }, new Uint8Array(1024));
  codedError(() => encodeLabels(labels, raw.geometry, 'dicom-seg', false, { algorithm: ALGORITHM }), 'LABELS_INVALID', 'header.output.format', /needs a DICOM input/);
});
