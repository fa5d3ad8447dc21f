// `onesam segment <folder>`: DICOM files found at any depth, grouped by series (never by folder), DICOMDIR indexes
// and non-DICOM files passed over, one series chosen, and the files of a damaged instance named.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UsageError } from '../../src/cli/args.ts';
import { readDicomInput } from '../../src/cli/dicom-files.ts';
import { CodedError } from '../../src/errors/coded-error.ts';
import { decodeLimits } from '../../src/volume/limits.ts';
import { PYDICOM_FILES } from '../helpers/dicom-tools.ts';

const limits = decodeLimits({});
const DICOMDIR_TESTS = join(PYDICOM_FILES, 'dicomdirtests');
const CT5N_UID = '1.3.6.1.4.1.5962.1.1.0.0.0.1194734704.16302.0.6';

test('a folder with one series gives its instances; a single file is a series of one', async () => {
  const ct5 = await readDicomInput(join(DICOMDIR_TESTS, '98892001', 'CT5N'), { limits });
  assert.equal(ct5.series.seriesInstanceUid, CT5N_UID);
  assert.equal(ct5.series.modality, 'CT');
  assert.equal(ct5.instances.length, 5);
  const single = await readDicomInput(join(PYDICOM_FILES, 'CT_small.dcm'), { limits });
  assert.equal(single.instances.length, 1);
});

test('several series: the person is shown them and chooses one with --series; DICOMDIR and other files are passed over', async () => {
  await assert.rejects(readDicomInput(DICOMDIR_TESTS, { limits }), (err: unknown) => {
    assert.ok(err instanceof UsageError);
    assert.match(err.message, /holds \d+ series; choose one with --series/);
    assert.ok(err.message.includes(`${CT5N_UID}  CT  5 files`), err.message);
    return true;
  });
  const chosen = await readDicomInput(DICOMDIR_TESTS, { limits, series: CT5N_UID });
  assert.equal(chosen.instances.length, 5);
  await assert.rejects(readDicomInput(DICOMDIR_TESTS, { limits, series: '1.2.3' }), /--series 1\.2\.3 is not among the series/);
});

test('a damaged DICOM file is named; a folder without DICOM images is a usage error; the total read is bounded', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'cli-dicom-'));
  try {
    writeFileSync(join(dir, 'README.txt'), 'not DICOM');
    await assert.rejects(readDicomInput(dir, { limits }), (err: unknown) => err instanceof UsageError && /no DICOM image files/.test(err.message));
    cpSync(join(DICOMDIR_TESTS, '98892001', 'CT5N'), join(dir, 'nested', 'CT5N'), { recursive: true });
    const bad = new Uint8Array(200);
    bad.set([0x44, 0x49, 0x43, 0x4d], 128);
    writeFileSync(join(dir, 'nested', 'broken.dcm'), bad);
    await assert.rejects(readDicomInput(dir, { limits }), (err: unknown) => {
      assert.ok(err instanceof CodedError);
      assert.equal(err.code, 'DICOM_INVALID');
      assert.ok(err.detail.startsWith(join(dir, 'nested', 'broken.dcm')), err.detail);
      return true;
    });
    rmSync(join(dir, 'nested', 'broken.dcm'));
    assert.equal((await readDicomInput(dir, { limits })).instances.length, 5);
    await assert.rejects(readDicomInput(dir, { limits: decodeLimits({ maxDecodedBytes: 4096 }) }), (err: unknown) => err instanceof CodedError && err.code === 'PAYLOAD_TOO_LARGE');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
