// `onesam segment` on a DICOM folder (issue 9): the series read from the files (slice order from geometry, the
// Modality routing the request), prompts in patient millimetres and slices named by SOP Instance UID mapped to the
// same voxels as their voxel equivalents, and a DICOM SEG output that dciodvfy accepts and that reads back to
// exactly the labels written as raw; over --server every codec family, a multi-frame image, an RGB photograph and a
// folder travel as the DICOM upload and give the labels of the same pixels.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readDicomInput } from '../../src/cli/dicom-files.ts';
import { writeDicomUpload } from '../../src/volume/dicom/framing.ts';
import { decodeLimits } from '../../src/volume/limits.ts';
import { readSeries } from '../../src/volume/dicom/series.ts';
import { readSegmentation } from '../../src/volume/dicom/seg-reader.ts';
import { PUBLIC_CASES } from '../helpers/cases.ts';
import { dciodvfy, PYDICOM_FILES, pydicomCtSeriesBatch, pydicomFolder, tool } from '../helpers/dicom-tools.ts';
import { runOnesam, type CommandResult } from '../helpers/onesam-cli.ts';

const dir = mkdtempSync(join(tmpdir(), 'onesam-cli-dicom-'));
const CT5N = join(PYDICOM_FILES, 'dicomdirtests', '98892001', 'CT5N');

const segment = (args: string[]): Promise<CommandResult> => runOnesam(['segment', ...args], { timeoutMs: 180_000 });

test('a DICOM folder with prompts in mm and by SOP Instance UID: a valid SEG holding the labels of the voxel prompts', async () => {
  const series = readSeries(pydicomFolder(join('dicomdirtests', '98892001', 'CT5N')));
  const [depth, height, width] = series.shape;
  assert.deepEqual([depth, height, width], [5, 16, 16]);
  // Voxel (column, row, slice) to LPS mm through the series' own affine.
  const mm = (i: number, j: number, k: number): number[] => series.geometry.affineLps.slice(0, 3).map((r) => r[0]! * i + r[1]! * j + r[2]! * k + r[3]!);
  const inMm = join(dir, 'mm.json');
  writeFileSync(inMm, JSON.stringify({ prompts: [
    // Corners on the centres of voxels (2, 3) and (11, 12): the box covering those pixels is x 2..12, y 3..13.
    { label: 1, patient_box: { corner_a: mm(2, 3, 0), corner_b: mm(11, 12, 4) }, segment: { label: 'Phantom body', type: { code_value: '4147007', coding_scheme: 'SCT', code_meaning: 'Mass' } } },
    { label: 2, box2d: { x_min: 4, y_min: 4, x_max: 9, y_max: 9, slice: { sop_instance_uid: series.slices[2]!.sopInstanceUid } } },
  ] }));
  const inVoxels = join(dir, 'voxels.json');
  writeFileSync(inVoxels, JSON.stringify({ prompts: [
    { label: 1, box3d: { x_min: 2, y_min: 3, z_min: 0, x_max: 12, y_max: 13, z_max: 4 } },
    { label: 2, box2d: { x_min: 4, y_min: 4, x_max: 9, y_max: 9, z: 2 } },
  ] }));
  const seg = join(dir, 'ct5n-seg.dcm');
  const raw = join(dir, 'ct5n.raw');
  const [fromMm, fromVoxels] = [
    await segment([CT5N, '--prompts', inMm, '-o', seg, '--json', '--workers', '1', '--threads', '2']),
    await segment([CT5N, '--prompts', inVoxels, '-o', raw, '--json', '--workers', '1', '--threads', '2']),
  ];
  assert.equal(fromMm.code, 0, fromMm.stderr);
  assert.equal(fromVoxels.code, 0, fromVoxels.stderr);
  const summary = JSON.parse(fromMm.stdout) as { modality: string; shape: number[]; objects: { label: number; slices: number[] }[] };
  assert.equal(summary.modality, 'CT', 'routed by the files\' Modality');
  assert.deepEqual(summary.shape, [5, 16, 16]);
  assert.deepEqual(summary.objects.map((o) => [o.label, o.slices]), [[1, [0, 4]], [2, [2, 2]]]);

  const labels = new Uint8Array(readFileSync(raw));
  assert.equal(labels.length, depth * height * width);
  assert.ok(labels.includes(1) && labels.includes(2), 'both objects have voxels');
  const bytes = new Uint8Array(readFileSync(seg));
  const check = dciodvfy(seg);
  assert.ok(check.ok, check.output);
  const read = readSegmentation(bytes, series.slices, series.shape);
  assert.deepEqual(read.segments.map((s) => [s.number, s.label]), [[1, 'Phantom body'], [2, 'Object 2']]);
  assert.equal(read.segments[0]!.type?.meaning, 'Mass');
  assert.ok(Buffer.from(read.labels).equals(Buffer.from(labels)), 'the SEG holds the labels of the voxel prompts');
});

test('DICOM input mistakes are usage errors before any model loads', async () => {
  const several = await segment([join(PYDICOM_FILES, 'dicomdirtests', '77654033'), '--box', '1,1,4,4', '-o', join(dir, 'x.dcm')]);
  assert.equal(several.code, 2, several.stderr);
  assert.match(several.stderr, /holds 4 series; choose one with --series/);
  const outside = await segment([CT5N, '--box-mm', '0,0,0,1,1,1', '-o', join(dir, 'y.dcm')]);
  assert.equal(outside.code, 2, outside.stderr);
  assert.match(outside.stderr, /--box-mm "0,0,0,1,1,1": .*outside the volume/);
  const npz = join(PUBLIC_CASES, 'imgs', '2DBox_US_0004.npz');
  const segOfNpz = await segment([npz, '-o', join(dir, 'z.dcm')]);
  assert.equal(segOfNpz.code, 2, segOfNpz.stderr);
  assert.match(segOfNpz.stderr, /DICOM SEG output \(\.dcm\) references the source images, so it needs a DICOM input/);
  // Orthogonal slices in one series (pydicom's MR2, a localizer-like series) are not a volume: one precise error.
  const orthogonal = await segment([join(PYDICOM_FILES, 'dicomdirtests', '98892003', 'MR2'), '--series', '1.3.6.1.4.1.5962.1.1.0.0.0.1196533885.18148.0.136', '--box', '1,1,0,4,4,2', '-o', join(dir, 'o.raw')]);
  assert.equal(orthogonal.code, 1, orthogonal.stderr);
  assert.match(orthogonal.stderr, /DICOM_SERIES_INVALID: .*slices of one volume must be parallel/);
  const seriesOfNpz = await segment([npz, '-o', join(dir, 'z.npz'), '--series', '1.2.3']);
  assert.equal(seriesOfNpz.code, 2, seriesOfNpz.stderr);
  assert.match(seriesOfNpz.stderr, /--series chooses a series of a DICOM folder/);
});

test('over --server a DICOM file or folder travels as the DICOM upload: each codec family, a multi-frame image and an RGB photograph give the labels of the same pixels', async () => {
  const { FakeSegmenter } = await import('../helpers/fake-segmenter.ts');
  const { startTestService } = await import('../helpers/test-service.ts');
  const { loadDicomCodecs } = await import('../../src/volume/dicom/codecs.ts');
  const { decodePayload } = await import('../../src/volume/payload.ts');
  const { pydicomEnhancedCt } = await import('../helpers/dicom-tools.ts');
  // Labels depend on the pixels: the fake paints only the box's voxels whose prepared value reaches 128.
  const fake = new FakeSegmenter({ sliceMs: 0, threshold: 128 });
  const server = await startTestService({ createSegmenter: async () => fake });
  const codecs = await loadDicomCodecs();
  const enhanced = join(dir, 'enhanced-ct.dcm');
  writeFileSync(enhanced, pydicomEnhancedCt());
  // 8-bit JPEG Extended (process 2), written by dcmtk: pydicom ships only 12-bit ones (our own decoder's).
  const extended = join(dir, 'jpeg-extended-8bit.dcm');
  const made = tool('dcmcjpeg', 'dcmtk', ['+ee', join(PYDICOM_FILES, 'SC_ybr_full_422_uncompressed.dcm'), extended]);
  assert.equal(made.status, 0, made.stderr);
  // An axial MR series of three slices (made from MR_small by pydicom, written shuffled into a folder) next to a
  // copy of pydicom's MR2 folder, whose three series are one file each or orthogonal slices: --series picks ours.
  const mrFolder = join(dir, 'mr-study');
  cpSync(join(PYDICOM_FILES, 'dicomdirtests', '98892003', 'MR2'), join(mrFolder, 'MR2'), { recursive: true });
  const mrSlices = pydicomCtSeriesBatch([[0, 1, 2].map((k) => ({ ipp: [0, 0, 4 * k], base: 'MR_small.dcm' }))])[0]!;
  mrSlices.forEach((bytes, k) => writeFileSync(join(mrFolder, `IM${(7 - 3 * k) % 10}`), bytes));
  const mrSeries = readSeries(mrSlices).seriesInstanceUid!;
  const inputs: [string, string][] = [
    ['MR_small_implicit.dcm', '2,2,60,60'],
    ['MR_small_bigendian.dcm', '2,2,60,60'],
    ['MR_small_RLE.dcm', '2,2,60,60'],
    ['MR_small_jpeg_ls_lossless.dcm', '2,2,60,60'],
    ['MR_small_jp2klossless.dcm', '2,2,60,60'],
    ['image_dfl.dcm', '10,10,500,500'],
    ['JPGExtended.dcm', '10,10,250,1000'],
    ['SC_rgb_jpeg_dcmtk.dcm', '5,5,95,95'],
    ['SC_rgb_jpeg_gdcm.dcm', '5,5,95,95'],
  ];
  try {
    await server.service.ready;
    const series: [string, string, string[]][] = [
      ...inputs.map(([name, box]): [string, string, string[]] => [join(PYDICOM_FILES, name), box, []]),
      [extended, '5,5,95,95', []],
      [enhanced, '1,1,0,7,7,2', []],
      [CT5N, '1,1,0,14,14,4', []],
      [mrFolder, '1,1,0,14,14,2', ['--series', mrSeries]],
    ];
    for (const [path, box, extra] of series) {
      const out = join(dir, 'remote.raw');
      const { code, stderr, stdout } = await segment([path, '--box', box, '-o', out, '--server', server.address, '--json', ...extra]);
      assert.equal(code, 0, `${path}: ${stderr}`);
      // The same pixels in-process: the CLI's decoder (the server's), painted by the same fake.
      const upload = path === CT5N || path === mrFolder
        ? writeDicomUpload((await readDicomInput(path, { limits: decodeLimits(), ...(extra.length ? { series: extra[1]! } : {}) })).instances)
        : new Uint8Array(readFileSync(path));
      const decoded = decodePayload({ format: 'dicom' }, upload, {}, codecs);
      const [x0, y0, a, b, c, d] = box.split(',').map(Number) as [number, number, number, number, number, number?];
      const objects = d === undefined
        ? [{ label: 1, prompt: { kind: 'box2d' as const, x0, y0, x1: a, y1: b } }]
        : [{ label: 1, prompt: { kind: 'box3d' as const, x0, y0, z0: a, x1: b, y1: c, z1: d } }];
      const expected = await fake.segment({ requestId: 'x', image: decoded.image, objects, mode: 'route' });
      const got = new Uint8Array(readFileSync(out));
      assert.ok(Buffer.from(got).equals(Buffer.from(expected.labels.buffer, expected.labels.byteOffset, expected.labels.byteLength)), `${path}: labels of the same pixels`);
      assert.ok(expected.labels.includes(1), `${path}: the box holds pixels at or above the threshold`);
      assert.ok(JSON.parse(stdout).shape.length >= 2);
    }
    const request = server.logs.filter((l) => l['msg'] === 'segment request').map((l) => l['format']);
    assert.deepEqual([...new Set(request)], ['dicom'], 'every input travelled as DICOM');
  } finally {
    await server.stop();
  }
});
