// `onesam segment`'s choices from names and flags: the input's kind, --intensity, and the output format.
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { UsageError } from '../../src/cli/args.ts';
import { detectInputKind, inputKindFromBytes, inputKindFromName } from '../../src/cli/input-kind.ts';
import { parseIntensityFlag } from '../../src/cli/intensity-flag.ts';
import { checkOutputForInput, chooseOutputFormat, encodeOutput } from '../../src/cli/output-format.ts';
import { buildNifti } from '../helpers/nifti-builder.ts';
import { readNifti } from '../../src/volume/nifti.ts';
import { readNpz, writeNpz } from '../../src/volume/npz.ts';

async function rejectsUsage(fn: () => Promise<unknown>, pattern: RegExp): Promise<void> {
  await assert.rejects(fn, (e: unknown) => e instanceof UsageError && pattern.test(e.message));
}
function usage(fn: () => unknown, pattern: RegExp): void {
  assert.throws(fn, (e: unknown) => e instanceof UsageError && pattern.test(e.message), `expected a UsageError matching ${pattern}`);
}

describe('input kind', () => {
  it('by name', () => {
    assert.equal(inputKindFromName('3DBox_CT_0001.npz'), 'npz');
    assert.equal(inputKindFromName('/data/ct.NII.GZ'), 'nifti');
    assert.equal(inputKindFromName('ct.nii'), 'nifti');
    assert.equal(inputKindFromName('IM0001.dcm'), 'dicom');
    assert.equal(inputKindFromName('/study/DICOMDIR'), 'dicom');
    assert.equal(inputKindFromName('case_001'), undefined);
    assert.equal(inputKindFromName('ct.gz'), undefined);
  });

  it('by first bytes', () => {
    assert.equal(inputKindFromBytes(writeNpz(new Map([['imgs', { dtype: 'uint8', shape: [1], data: new Uint8Array(1) }]]))), 'npz');
    assert.equal(inputKindFromBytes(buildNifti({ size: [2, 2, 2] })), 'nifti');
    assert.equal(inputKindFromBytes(buildNifti({ size: [2, 2, 2], version: 2 })), 'nifti');
    assert.equal(inputKindFromBytes(buildNifti({ size: [2, 2, 2], littleEndian: false })), 'nifti');
    const dicom = new Uint8Array(200);
    dicom.set([0x44, 0x49, 0x43, 0x4d], 128);
    assert.equal(inputKindFromBytes(dicom), 'dicom');
    assert.equal(inputKindFromBytes(new Uint8Array([1, 2, 3])), undefined);
  });

  it('from the path: a folder is DICOM, an unnamed file is sniffed, anything else is a usage error', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'onesam-kind-'));
    mkdirSync(join(dir, 'series'));
    assert.equal(await detectInputKind(join(dir, 'series')), 'dicom');
    writeFileSync(join(dir, 'case_001'), buildNifti({ size: [2, 2, 2] }));
    assert.equal(await detectInputKind(join(dir, 'case_001')), 'nifti');
    writeFileSync(join(dir, 'notes.txt'), 'hello');
    await rejectsUsage(() => detectInputKind(join(dir, 'notes.txt')), /cannot tell what ".*notes.txt" is from its name or its first bytes: give a challenge .npz/);
    await rejectsUsage(() => detectInputKind(join(dir, 'missing.npz')), /cannot read the input ".*missing.npz": no such file or folder/);
  });
});

describe('--intensity', () => {
  it('mirrors IntensityPreparation, defaults left to the preparation', () => {
    assert.equal(parseIntensityFlag(undefined), undefined);
    assert.deepEqual(parseIntensityFlag('asis'), { kind: 'asis' });
    assert.deepEqual(parseIntensityFlag('ct'), { kind: 'ct-window' });
    assert.deepEqual(parseIntensityFlag('ct:-600,1500'), { kind: 'ct-window', level: -600, width: 1500 });
    assert.deepEqual(parseIntensityFlag('percentile'), { kind: 'percentile' });
    assert.deepEqual(parseIntensityFlag('percentile:1,99'), { kind: 'percentile', low: 1, high: 99 });
  });

  it('refuses bad values naming the flag', () => {
    usage(() => parseIntensityFlag('window'), /^--intensity "window": must be asis, ct\[:level,width\] \(default 40,400\) or percentile\[:low,high\] \(default 0.5,99.5\)$/);
    usage(() => parseIntensityFlag('ct:40'), /^--intensity "ct:40": after "ct:" give two numbers level,width$/);
    usage(() => parseIntensityFlag('ct:40,0'), /the window width must be > 0, got 0/);
    usage(() => parseIntensityFlag('percentile:50,10'), /needs 0 <= low < high <= 100, got 50,10/);
    usage(() => parseIntensityFlag('asis:1'), /asis takes no parameters/);
  });
});

describe('output format', () => {
  it('from the extension, or --format which wins', () => {
    assert.deepEqual(chooseOutputFormat('out.npz', undefined), { name: 'npz', encoding: 'npz', gzip: true });
    assert.deepEqual(chooseOutputFormat('out.nii.gz', undefined), { name: 'nii.gz', encoding: 'nifti', gzip: true });
    assert.deepEqual(chooseOutputFormat('OUT.NII', undefined), { name: 'nii', encoding: 'nifti', gzip: false });
    assert.deepEqual(chooseOutputFormat('labels.raw', undefined), { name: 'raw', encoding: 'raw', gzip: false });
    assert.deepEqual(chooseOutputFormat('seg.dcm', undefined), { name: 'dcm', encoding: 'dicom-seg', gzip: false });
    assert.deepEqual(chooseOutputFormat('labels.bin', 'raw'), { name: 'raw', encoding: 'raw', gzip: false });
    assert.deepEqual(chooseOutputFormat('out.npz', '.nii.gz'), { name: 'nii.gz', encoding: 'nifti', gzip: true });
    usage(() => chooseOutputFormat('out.png', undefined), /^cannot tell the output format from "out.png": end it in .npz, .nii.gz, .nii, .raw, .dcm or give --format$/);
    usage(() => chooseOutputFormat('out.npz', 'png'), /^--format must be one of npz, nii.gz, nii, raw, dcm, got "png"$/);
  });

  it('a DICOM SEG only for a DICOM input', () => {
    const seg = chooseOutputFormat('seg.dcm', undefined);
    usage(() => checkOutputForInput(seg, 'nifti'), /DICOM SEG output \(.dcm\) references the source images, so it needs a DICOM input/);
    checkOutputForInput(seg, 'dicom');
    checkOutputForInput(chooseOutputFormat('o.raw', undefined), 'npz');
  });

  it('encodes with the server label encoder', () => {
    const labels = Uint8Array.from([0, 1, 2, 0, 1, 2]);
    const geometry = { kind: 'array' as const, shape: [1, 2, 3], labelShape: [1, 2, 3], spacing: [2.5, 0.5, 0.5] as const };
    assert.deepEqual(encodeOutput(labels, geometry, chooseOutputFormat('o.raw', undefined)), labels);
    const wide = Uint16Array.from([0, 300, 2, 0, 1, 2]);
    assert.deepEqual([...encodeOutput(wide, geometry, chooseOutputFormat('o.raw', undefined))], [0, 0, 44, 1, 2, 0, 0, 0, 1, 0, 2, 0]);
    const segs = readNpz(encodeOutput(labels, geometry, chooseOutputFormat('o.npz', undefined)), 'o.npz').get('segs')!;
    assert.deepEqual(segs.shape, [1, 2, 3]);
    const nifti = readNifti(encodeOutput(labels, geometry, chooseOutputFormat('o.nii.gz', undefined)));
    assert.deepEqual([...nifti.voxels], [...labels]);
    assert.deepEqual(nifti.geometry.labelShape, [1, 2, 3]);
    assert.deepEqual(nifti.geometry.spacing, [2.5, 0.5, 0.5]);
  });
});
