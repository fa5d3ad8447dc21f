// `onesam segment` as users run it: bad challenge files fail with one clear line and a non-zero exit before any
// model loads; good ones route by modality, as the --json summary shows; NIfTI inputs, prompts from flags and files,
// every output format and the overlay picture (issue 9).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decode as decodePng } from 'fast-png';
import type { SegmentOptions } from '../../src/pipeline/segmenter.ts';
import type { ImageVolume, SegmentationRequest, SegmentationResult } from '../../src/pipeline/types.ts';
import { niftiGeometryForArray, readNifti, writeNiftiLabels } from '../../src/volume/nifti.ts';
import { readNpz, writeNpz } from '../../src/volume/npz.ts';
import type { NdArray } from '../../src/volume/npy.ts';
import { decodePayload } from '../../src/volume/payload.ts';
import { PUBLIC_CASES } from '../helpers/cases.ts';
import { FakeSegmenter } from '../helpers/fake-segmenter.ts';
import { startTestService } from '../helpers/test-service.ts';
import { runOnesam, type CommandResult } from '../helpers/onesam-cli.ts';

const dir = mkdtempSync(join(tmpdir(), 'onesam-cli-'));

const segment = (args: string[]): Promise<CommandResult> => runOnesam(['segment', ...args], { timeoutMs: 120_000 });

function writeCase(name: string, arrays: Map<string, NdArray>): string {
  const path = join(dir, name);
  writeFileSync(path, writeNpz(arrays));
  return path;
}

const ct = readNpz(new Uint8Array(readFileSync(join(PUBLIC_CASES, 'imgs', '3DBox_CT_0003.npz'))), 'ct');
const boxes3d = (rows: number[][]): NdArray => ({ dtype: 'int64', shape: [rows.length, 6], data: BigInt64Array.from(rows.flat().map(BigInt)) });

const badInputs: [string, () => string, RegExp][] = [
  ['a missing key', () => writeCase('3DBox_CT_0101.npz', new Map([['imgs', ct.get('imgs')!]])), /missing key "boxes"/],
  ['a box outside the image', () => writeCase('3DBox_CT_0102.npz', new Map([['imgs', ct.get('imgs')!], ['boxes', boxes3d([[177, 87, 5, 364, 109, 15]])]])), /prompts\[0\]\.box3d: .*extends past the image \(width 300/],
  ['z_min >= z_max', () => writeCase('3DBox_CT_0103.npz', new Map([['imgs', ct.get('imgs')!], ['boxes', boxes3d([[177, 87, 9, 264, 109, 9]])]])), /z_min 9 must be less than z_max 9/],
  ['a wrong dtype', () => writeCase('3DBox_CT_0104.npz', new Map<string, NdArray>([['imgs', { dtype: 'float32', shape: [2, 4, 4], data: new Float32Array(32) }], ['boxes', boxes3d([[0, 0, 0, 3, 3, 1]])]])), /imgs: must be uint8/],
  ['a wrong shape', () => writeCase('2DBox_US_0105.npz', new Map<string, NdArray>([['imgs', { dtype: 'uint8', shape: [4, 4, 4, 3], data: new Uint8Array(192) }], ['boxes', { dtype: 'int64', shape: [1, 4], data: BigInt64Array.of(0n, 0n, 2n, 2n) }]])), /imgs: a 2D case needs shape \(H,W,3\) or \(H,W\), got \(4,4,4,3\)/],
  ['2D boxes of the wrong width', () => writeCase('2DBox_US_0106.npz', new Map<string, NdArray>([['imgs', { dtype: 'uint8', shape: [4, 4, 3], data: new Uint8Array(48) }], ['boxes', boxes3d([[0, 0, 0, 3, 3, 1]])]])), /boxes: a 2D case needs boxes of shape \(N,4\), got \(1,6\)/],
  ['a truncated npz', () => {
    const path = join(dir, '3DBox_CT_0107.npz');
    const whole = readFileSync(join(PUBLIC_CASES, 'imgs', '3DBox_CT_0003.npz'));
    writeFileSync(path, whole.subarray(0, Math.floor(whole.length / 2)));
    return path;
  }, /NPZ_TRUNCATED|truncated/i],
];

for (const [what, make, message] of badInputs) {
  test(`segment rejects ${what} with one clear line and exit 1`, async () => {
    const { code, stderr, stdout } = await segment([make(), '-o', join(dir, 'out.npz')]);
    assert.equal(code, 1, stderr);
    assert.equal(stdout, '');
    assert.match(stderr, message);
    assert.equal(stderr.trim().split('\n').length, 1, `one line: ${stderr}`);
    assert.doesNotMatch(stderr, /\n\s+at /, 'no stack trace');
  });
}

test('segment usage errors exit 2', async () => {
  const { code, stderr } = await segment([join(PUBLIC_CASES, 'imgs', '2DBox_US_0006.npz'), '-o', join(dir, 'o.npz'), '--model', 'medsam']);
  assert.equal(code, 2);
  assert.match(stderr, /--model must be one of route, litemedsam, onesam, fuse/);
});

test('route mode sends each case to the network of its modality, visible in --json', async () => {
  for (const [name, network] of [['2DBox_XRay_0010.npz', 'onesam'], ['2DBox_US_0006.npz', 'litemedsam']] as const) {
    const out = join(dir, name);
    const { code, stdout, stderr } = await segment([join(PUBLIC_CASES, 'imgs', name), '-o', out, '--json']);
    assert.equal(code, 0, stderr);
    const summary = JSON.parse(stdout) as { mode: string; objects: { networks: string[]; voxels: number }[]; slicesEncoded: Record<string, number>; wallMs: number; stagesMs: Record<string, number> };
    assert.equal(summary.mode, 'route');
    for (const o of summary.objects) assert.deepEqual(o.networks, [network]);
    assert.equal(summary.slicesEncoded[network], 1);
    assert.ok(summary.wallMs > 0 && summary.stagesMs['encode']! > 0);
    const segs = readNpz(new Uint8Array(readFileSync(out)), out).get('segs')!;
    assert.equal(segs.dtype, 'uint8');
  }
});

// Issue 9: what a person has. A small CT case (five slices of the public 3DBox_CT_0003) as a challenge npz and as a
// NIfTI written by the project's own writer; prompts from flags and a JSON file; every output format; the picture.
const crop = (() => {
  const imgs = ct.get('imgs')!;
  const [, h, w] = imgs.shape as [number, number, number];
  const data = (imgs.data as Uint8Array).slice(4 * h * w, 9 * h * w);
  return { shape: [5, h, w], data, spacing: [2.5, 0.8, 0.8] as const };
})();
const cropNpz = writeCase('3DBox_CT_0201.npz', new Map<string, NdArray>([
  ['imgs', { dtype: 'uint8', shape: crop.shape, data: crop.data }],
  ['boxes', boxes3d([[177, 87, 1, 264, 109, 3]])],
  ['spacing', { dtype: 'float64', shape: [3], data: Float64Array.from(crop.spacing) }],
]));
const cropNifti = join(dir, 'ct_crop.nii.gz');
writeFileSync(cropNifti, writeNiftiLabels(crop.data, niftiGeometryForArray({ kind: 'array', shape: crop.shape, labelShape: crop.shape, spacing: crop.spacing }), true));

test('a NIfTI input with --box gives the labels of the same case as an npz; .raw and .nii.gz outputs; --overlay', async () => {
  // The npz with its own box: raw labels, the shape in --json, and the picture.
  const raw = join(dir, 'crop.raw');
  const png = join(dir, 'crop.png');
  const fromNpz = await segment([cropNpz, '-o', raw, '--overlay', png, '--json']);
  assert.equal(fromNpz.code, 0, fromNpz.stderr);
  assert.equal(fromNpz.stderr, '', 'no progress bar when stderr is not a terminal');
  const summary = JSON.parse(fromNpz.stdout) as { shape: number[]; labelDtype: string; format: string; overlaySlices: number[]; objects: { label: number; voxels: number }[] };
  assert.deepEqual([summary.shape, summary.labelDtype, summary.format], [[5, 150, 300], 'uint8', 'raw']);
  const labels = new Uint8Array(readFileSync(raw));
  assert.equal(labels.length, 5 * 150 * 300);
  assert.ok(summary.objects[0]!.voxels > 0 && labels.filter((v) => v === 1).length === summary.objects[0]!.voxels);
  // Slices 1..3 hold the box and the mask: three tiles of 256 x 128 (300 x 150 scaled), two per row.
  assert.deepEqual(summary.overlaySlices, [1, 2, 3]);
  const picture = decodePng(readFileSync(png));
  assert.deepEqual([picture.width, picture.height, picture.channels], [2 * 256 + 2, 2 * 128 + 2, 3]);

  // The NIfTI with the same box as a flag: the same labels, in a NIfTI with the input's geometry.
  const nii = join(dir, 'crop-labels.nii.gz');
  const fromNifti = await segment([cropNifti, '--box', '177,87,1,264,109,3', '--modality', 'CT', '-o', nii]);
  assert.equal(fromNifti.code, 0, fromNifti.stderr);
  assert.match(fromNifti.stdout, /^ct_crop\.nii\.gz: 1 objects, networks onesam, .* -> .*crop-labels\.nii\.gz\n$/);
  const back = readNifti(new Uint8Array(readFileSync(nii)));
  assert.deepEqual(back.geometry.labelShape, [5, 150, 300]);
  assert.deepEqual(back.geometry.spacing, [2.5, 0.8, 0.8].map(Math.fround), 'pixdim is float32');
  assert.ok(Buffer.from(back.voxels as Uint8Array).equals(Buffer.from(labels)), 'NIfTI + --box labels equal the npz labels');
});

test('over --server a NIfTI travels as NIfTI with its --intensity, prompts from a JSON file', async () => {
  const images: ImageVolume[] = [];
  class RecordingSegmenter extends FakeSegmenter {
    override segment(request: SegmentationRequest, options?: SegmentOptions): Promise<SegmentationResult> {
      images.push(request.image);
      return super.segment(request, options);
    }
  }
  const server = await startTestService({ createSegmenter: async () => new RecordingSegmenter() });
  try {
    await server.service.ready;
    const prompts = join(dir, 'prompts.json');
    writeFileSync(prompts, JSON.stringify({ prompts: [
      { label: 2, box2d: { x_min: 10, y_min: 20, x_max: 30, y_max: 25, z: 4 } },
      { label: 7, box3d: { x_min: 100, y_min: 50, z_min: 0, x_max: 110, y_max: 60, z_max: 1 } },
    ] }));
    const out = join(dir, 'remote.nii');
    const { code, stdout, stderr } = await segment([cropNifti, '--prompts', prompts, '--intensity', 'ct:120,200', '-o', out, '--server', server.address, '--json']);
    assert.equal(code, 0, stderr);
    assert.deepEqual(JSON.parse(stdout).objects.map((o: { label: number; voxels: number }) => [o.label, o.voxels]), [[2, 20 * 5], [7, 2 * 10 * 10]]);
    const request = server.logs.find((l) => l['msg'] === 'segment request')!;
    assert.equal(request['format'], 'nifti');
    // The server prepared the file with the window the flag gave, as the CLI does in-process.
    const local = decodePayload({ format: 'nifti', intensity: { kind: 'ct-window', level: 120, width: 200 } }, new Uint8Array(readFileSync(cropNifti)));
    assert.ok(Buffer.from(images[0]!.data).equals(Buffer.from(local.image.data)));
    const labels = readNifti(new Uint8Array(readFileSync(out))).voxels;
    assert.equal(labels[(4 * 150 + 20) * 300 + 10], 2);
    assert.equal(labels[(1 * 150 + 59) * 300 + 109], 7);
    assert.equal(labels[(2 * 150 + 59) * 300 + 109], 0);
  } finally {
    await server.stop();
  }
});

test('prompt, input and output mistakes are usage errors naming the flag and value, before any model loads', async () => {
  const npz = join(PUBLIC_CASES, 'imgs', '2DBox_US_0006.npz');
  const cases: [string[], RegExp][] = [
    [[cropNifti, '-o', join(dir, 'e.nii.gz'), '--box', '1,2,3'], /^onesam segment: --box "1,2,3": needs x0,y0,x1,y1 /],
    [[cropNifti, '-o', join(dir, 'e.nii.gz'), '--box', '10,10,40,40'], /--box "10,10,40,40": a 2D box on a 5-slice volume needs its slice: x0,y0,x1,y1,z/],
    [[cropNifti, '-o', join(dir, 'e.nii.gz'), '--box', '177,87,1,364,109,3'], /--box "177,87,1,364,109,3": box3d: box \[177, 87, 364, 109\] extends past the image \(width 300, height 150\)/],
    [[cropNifti, '-o', join(dir, 'e.nii.gz'), '--box-mm', '-20,14,-102,31,60,-102'], /--box-mm "-20,14,-102,31,60,-102": a box in patient millimetres needs a DICOM input/],
    [[cropNifti, '-o', join(dir, 'e.nii.gz'), '--box', '1,1,5,5,0', '--prompts', join(dir, 'prompts.json')], /--box \/ --box-mm and --prompts are exclusive/],
    [[cropNifti, '-o', join(dir, 'e.nii.gz')], /a NIfTI input carries no prompts: give --box or --prompts/],
    [[cropNifti, '-o', join(dir, 'e.dcm'), '--box', '1,1,5,5,0'], /a DICOM SEG output \(\.dcm\) references the source images, so it needs a DICOM input/],
    [[npz, '-o', join(dir, 'e.png')], /cannot tell the output format from ".*e\.png": end it in \.npz, \.nii\.gz, \.nii, \.raw, \.dcm or give --format/],
    [[npz, '-o', join(dir, 'e.npz'), '--intensity', 'window'], /--intensity "window": must be asis, ct\[:level,width\]/],
    [[npz, '-o', join(dir, 'e.npz'), '--overlay', join(dir, 'e.jpg')], /--overlay writes a PNG picture: name it \.png/],
  ];
  const runs = await Promise.all(cases.map(([args]) => segment(args)));
  runs.forEach(({ code, stdout, stderr }, i) => {
    assert.equal(code, 2, `${cases[i]![0].join(' ')}: ${stderr}`);
    assert.equal(stdout, '');
    assert.match(stderr.split('\n')[0]!, cases[i]![1]);
    assert.match(stderr, /\nusage: onesam segment <input> -o <output> \[options\]\n/);
  });
});
