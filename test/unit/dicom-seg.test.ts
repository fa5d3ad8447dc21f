// DICOM SEG written from label volumes over real and built series: dciodvfy (dicom3tools) finds no error, and
// reading it back, by our reader and by pydicom, gives exactly the labels; dcmtk parses it.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { readSegmentation } from '../../src/volume/dicom/seg-reader.ts';
import { writeSegmentation, type SegmentationAlgorithm, type SegmentDescription } from '../../src/volume/dicom/seg-writer.ts';
import { openSeries, type DicomSeriesInfo } from '../../src/volume/dicom/series.ts';
import { CodedError } from '../../src/errors/coded-error.ts';
import { dciodvfy, pydicomCtSeries, pydicomEnhancedCt, pydicomFile, pydicomFolder, python, tool } from '../helpers/dicom-tools.ts';

const dir = mkdtempSync(join(tmpdir(), 'onesam-seg-'));
after(() => { if (!process.env.KEEP_SEG) rmSync(dir, { recursive: true, force: true }); });

const ALGORITHM: SegmentationAlgorithm = {
  name: 'OneSAM Serve',
  version: '0.1.0',
  networks: [{ name: 'litemedsam', weights: 'sha256:4f2a01' }, { name: 'onesam', weights: 'sha256:9bc3e7' }],
};

/** Labels: a box of label 1 on even slices, label 3 on odd ones, and label 3 in one corner of slice 0. */
function boxes(info: DicomSeriesInfo): Uint8Array {
  const [depth, rows, columns] = info.shape;
  const labels = new Uint8Array(depth * rows * columns);
  for (let z = 0; z < depth; z++) {
    for (let y = 2; y < Math.min(rows, 9); y++) for (let x = 3; x < Math.min(columns, 11); x++) labels[z * rows * columns + y * columns + x] = z % 2 ? 3 : 1;
  }
  labels[0] = 3;
  return labels;
}

const SEGMENTS: SegmentDescription[] = [
  { label: 1, text: 'Liver', type: { value: '10200004', scheme: 'SCT', meaning: 'Liver' }, category: { value: '123037004', scheme: 'SCT', meaning: 'Anatomical Structure' } },
  { label: 3, text: 'object 3' },
];

/**
 * pydicom's reading of a SEG: per frame, referenced segment, source SOP Instance UID (and frame number) and the
 * unpacked bits; also each frame's plane position.
 */
function pydicomSegment(path: string, sources: readonly string[], shape: readonly number[]): { labels: number[]; positions: number[][] } {
  return python(`
import json, sys, numpy as np, pydicom
ds = pydicom.dcmread(sys.argv[1])
sources = json.loads(sys.argv[2]); shape = json.loads(sys.argv[3])
frames = ds.pixel_array.reshape(int(ds.NumberOfFrames), ds.Rows, ds.Columns)
numbers = {int(s.SegmentNumber): s for s in ds.SegmentSequence}
out = np.zeros(shape, 'u2')
positions = []
for f, g in enumerate(ds.PerFrameFunctionalGroupsSequence):
    seg = int(g.SegmentIdentificationSequence[0].ReferencedSegmentNumber)
    assert seg in numbers
    src = g.DerivationImageSequence[0].SourceImageSequence[0]
    z = sources.index(src.ReferencedSOPInstanceUID + '/' + str(src.get('ReferencedFrameNumber', 1)))
    out[z][frames[f] == 1] = seg
    positions.append([float(v) for v in g.PlanePositionSequence[0].ImagePositionPatient])
print(json.dumps({'labels': out.ravel().tolist(), 'positions': positions}))
`, [path, JSON.stringify(sources), JSON.stringify(shape)]);
}

function roundTrip(name: string, instances: Uint8Array[], labels?: Uint8Array): { info: DicomSeriesInfo; frames: number; warnings: string[]; positions: number[][] } {
  const { info } = openSeries(instances);
  const volume = labels ?? boxes(info);
  const seg = writeSegmentation(volume, info, SEGMENTS, ALGORITHM, { now: new Date(Date.UTC(2026, 10, 30, 12, 0, 0)) });
  const path = join(dir, `${name}.dcm`);
  writeFileSync(path, seg.bytes);
  const verdict = dciodvfy(path);
  assert.ok(verdict.ok, `dciodvfy errors on ${name}:\n${verdict.output}`);
  // Our labels hold segment numbers: label 1 -> segment 1, label 3 -> segment 2.
  const expected = Array.from(volume, (v) => (v === 0 ? 0 : seg.segments.find((s) => s.label === v)!.number));
  const ours = readSegmentation(seg.bytes, info.slices, info.shape);
  assert.deepEqual(Array.from(ours.labels), expected, `${name}: our reader`);
  assert.deepEqual(ours.segments.map((s) => [s.number, s.label, s.type?.meaning]), [[1, 'Liver', 'Liver'], [2, 'object 3', 'Tissue']]);
  assert.equal(ours.referencedSeriesInstanceUid, info.seriesInstanceUid);
  const theirs = pydicomSegment(path, info.slices.map((s) => `${s.sopInstanceUid}/${s.frameNumber ?? 1}`), info.shape);
  assert.deepEqual(theirs.labels, expected, `${name}: pydicom`);
  const dump = tool('dcmdump', 'dcmtk', ['+P', '0020,0052', '+P', '0008,103e', '+P', '0028,0008', path]);
  assert.equal(dump.status, 0, dump.stderr);
  assert.match(dump.stdout, /research segmentation - not for clinical use/);
  return { info, frames: seg.frames, warnings: verdict.warnings, positions: theirs.positions };
}

test('SEG over one real CT slice (CT_small): valid, references it, reads back exactly', () => {
  const { frames, warnings } = roundTrip('ct-small', [pydicomFile('CT_small.dcm')]);
  assert.equal(frames, 2); // one slice, two segments
  // The only warning is the zero Patient Weight copied from the source.
  assert.deepEqual(warnings.map((w) => w.replace(/^.*Warning - /, '')), ['Value is zero for value 1 of attribute <Patient\'s Weight>']);
});

test('SEG over the real CT5N series: empty frames omitted, per-frame positions and sources', () => {
  const instances = pydicomFolder('dicomdirtests/98892001/CT5N');
  const { info, frames, positions } = roundTrip('ct5n', instances);
  // Segment 1 (label 1) on slices 0, 2, 4; segment 2 (label 3) on slices 0 (corner), 1, 3.
  assert.equal(frames, 6);
  assert.deepEqual(positions, [0, 2, 4, 0, 1, 3].map((k) => [...info.slices[k]!.position!]));
});

test('SEG over a built oblique series with known geometry; dcentvfy agrees on patient and study', () => {
  const iop = [0, 1, 0, 0, 0, -1];
  const instances = pydicomCtSeries([3, 0, 2, 1].map((k) => ({ ipp: [-4 * k, -20, 30], iop })));
  roundTrip('oblique', instances);
  const paths = instances.map((bytes, i) => {
    const path = join(dir, `source-${i}.dcm`);
    writeFileSync(path, bytes);
    return path;
  });
  const check = tool('dcentvfy', 'dicom3tools', [join(dir, 'oblique.dcm'), ...paths]);
  assert.doesNotMatch(check.stderr, /Error/, check.stderr);
});

test('SEG over a multi-frame Enhanced CT references each source frame by number', () => {
  const { info, frames } = roundTrip('enhanced', [pydicomEnhancedCt()]);
  assert.deepEqual(info.slices.map((s) => s.frameNumber), [2, 3, 1]);
  assert.equal(frames, 4);
});

test('an empty result still makes a valid SEG (one empty frame); undescribed labels are refused', () => {
  const instances = pydicomFolder('dicomdirtests/98892001/CT5N');
  const { info } = openSeries(instances);
  const empty = new Uint8Array(info.shape[0] * info.shape[1] * info.shape[2]);
  roundTrip('empty', instances, empty);
  const stray = boxes(info);
  stray[5] = 7;
  assert.throws(() => writeSegmentation(stray, info, SEGMENTS, ALGORITHM), (err: unknown) => err instanceof CodedError && err.code === 'LABELS_INVALID' && /label 7 appears in the volume but has no segment description/.test(err.message));
  assert.throws(() => writeSegmentation(new Uint8Array(3), info, SEGMENTS, ALGORITHM), /has 3 voxels but the series is 5x16x16/);
});
