// Decoding DICOM instances in every transfer syntax we read, against pydicom's pixels of the same real files
// (Debian's python3-pydicom test files), or, where pydicom here has no decoder (JPEG-LS, JPEG lossless), against the
// uncompressed sibling files of the same pixels. Refusals name the transfer syntax.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { decodeFrame, loadDicomCodecs, type DicomCodecs } from '../../src/volume/dicom/codecs.ts';
import { readInstance } from '../../src/volume/dicom/part10.ts';
import { writePart10 } from '../../src/volume/dicom/part10-writer.ts';
import { pixelLayout } from '../../src/volume/dicom/pixel-layout.ts';
import { allocateVoxels, greyVoxelType, IDENTITY_RESCALE, writeGreyFrame, writeRgbFrame } from '../../src/volume/dicom/pixels.ts';
import { readSeries } from '../../src/volume/dicom/series.ts';
import { CodedError } from '../../src/errors/coded-error.ts';
import { decodeLimits } from '../../src/volume/limits.ts';
import { pydicomFile, pydicomPixelHashes, python, PIXEL_HASH_PY, PYDICOM_FILES, tool } from '../helpers/dicom-tools.ts';

let codecs: DicomCodecs;
before(async () => {
  codecs = await loadDicomCodecs();
});

/** Stored values of every frame (no rescale), colour as 8-bit RGB: what pydicom's pixel_array holds. */
function storedPixels(bytes: Uint8Array): { shape: number[]; values: Float64Array } {
  const instance = readInstance(bytes, 0, decodeLimits());
  const layout = pixelLayout(instance);
  const colour = layout.samplesPerPixel === 3 || layout.photometric === 'PALETTE COLOR';
  const perFrame = layout.rows * layout.columns * (colour ? 3 : 1);
  const out = colour ? new Uint8Array(perFrame * layout.frames) : allocateVoxels(greyVoxelType(layout, [IDENTITY_RESCALE]), perFrame * layout.frames);
  for (let f = 0; f < layout.frames; f++) {
    const frame = decodeFrame(instance, layout, f, codecs);
    if (colour) writeRgbFrame(frame, layout, instance, out as Uint8Array, f * perFrame);
    else writeGreyFrame(frame, layout, IDENTITY_RESCALE, out, f * perFrame);
  }
  const shape = [...(layout.frames > 1 ? [layout.frames] : []), layout.rows, layout.columns, ...(colour ? [3] : [])];
  return { shape, values: Float64Array.from(out as ArrayLike<number>) };
}

function sha256(values: Float64Array): string {
  return createHash('sha256').update(new Uint8Array(values.buffer, values.byteOffset, values.byteLength)).digest('hex');
}

/** Files pydicom decodes here (numpy, pillow and RLE handlers), by transfer syntax. */
const AGAINST_PYDICOM: Readonly<Record<string, readonly string[]>> = {
  'Explicit VR Little Endian': ['CT_small.dcm', 'MR_small.dcm', 'SC_rgb_small_odd.dcm', 'SC_ybr_full_422_uncompressed.dcm', 'MR_small_padded.dcm'],
  'Implicit VR Little Endian': ['MR_small_implicit.dcm', 'rtdose.dcm', 'SC_rgb_jpeg_dcmd.dcm'],
  'Explicit VR Big Endian': ['MR_small_bigendian.dcm', 'MR_small_expb.dcm', 'ExplVR_BigEnd.dcm', 'rtdose_expb.dcm'],
  'Deflated Explicit VR Little Endian': ['image_dfl.dcm'],
  'RLE Lossless': ['MR_small_RLE.dcm', 'SC_rgb_rle.dcm', 'SC_rgb_rle_2frame.dcm', 'SC_rgb_rle_16bit_2frame.dcm', 'SC_rgb_rle_32bit.dcm', 'rtdose_rle.dcm'],
  'JPEG Baseline (Process 1)': ['SC_rgb_jpeg_dcmtk.dcm', 'SC_rgb_dcmtk_+eb+cy+np.dcm', 'SC_rgb_dcmtk_+eb+cy+s2.dcm', 'SC_rgb_dcmtk_+eb+cr.dcm', 'SC_jpeg_no_color_transform.dcm', 'SC_rgb_jpeg_app14_dcmd.dcm', 'SC_rgb_jpeg_lossy_gdcm.dcm', 'SC_rgb_small_odd_jpeg.dcm'],
  'JPEG 2000 Image Compression (Lossless Only)': ['MR_small_jp2klossless.dcm', 'J2K_pixelrep_mismatch.dcm'],
  'JPEG 2000 Image Compression': ['693_J2KI.dcm', 'JPEG2000.dcm', 'SC_rgb_gdcm_KY.dcm'],
};

test('every transfer syntax pydicom decodes here gives exactly pydicom\'s pixels', () => {
  const files = Object.values(AGAINST_PYDICOM).flat();
  const reference = pydicomPixelHashes(files);
  for (const [syntax, names] of Object.entries(AGAINST_PYDICOM)) {
    for (const name of names) {
      const ref = reference[name]!;
      assert.ok('sha256' in ref, `${name}: pydicom could not decode it (${JSON.stringify(ref)})`);
      const ours = storedPixels(pydicomFile(name));
      assert.equal(readInstance(pydicomFile(name), 0, decodeLimits()).transferSyntax.name, syntax, name);
      assert.deepEqual(ours.shape, ref.shape, `${name} shape`);
      assert.equal(sha256(ours.values), ref.sha256, `${name} (${syntax}) differs from pydicom`);
    }
  }
});

test('JPEG-LS and JPEG lossless (no pydicom decoder here) equal their uncompressed siblings', () => {
  const pairs: [string, string][] = [
    ['MR_small_jpeg_ls_lossless.dcm', 'MR_small.dcm'], // JPEG-LS Lossless
    ['SC_rgb_jpeg_gdcm.dcm', 'SC_rgb_rle.dcm'], // JPEG Lossless SV1, RGB
  ];
  for (const [compressed, plain] of pairs) {
    const a = storedPixels(pydicomFile(compressed));
    const b = storedPixels(pydicomFile(plain));
    assert.deepEqual(a.shape, b.shape);
    assert.equal(sha256(a.values), sha256(b.values), `${compressed} vs ${plain}`);
  }
});

test('a data set without preamble and file meta group (implicit or explicit VR) decodes the same', () => {
  const file = pydicomFile('MR_small.dcm');
  const metaEnd = 132 + 12 + new DataView(file.buffer, file.byteOffset).getUint32(140, true);
  const bare = file.subarray(metaEnd);
  const instance = readInstance(bare, 0, decodeLimits());
  assert.equal(instance.part10, false);
  assert.equal(instance.transferSyntax.name, 'Explicit VR Little Endian');
  assert.equal(sha256(storedPixels(bare).values), sha256(storedPixels(file).values));
  // pydicom's own files without meta: explicit LE and big endian RT plans (no pixels) parse.
  for (const [name, syntax] of [['ExplVR_LitEndNoMeta.dcm', 'Explicit VR Little Endian'], ['ExplVR_BigEndNoMeta.dcm', 'Explicit VR Big Endian']] as const) {
    const parsed = readInstance(pydicomFile(name), 0, decodeLimits());
    assert.equal(parsed.transferSyntax.name, syntax, name);
    assert.equal(parsed.attributes.string('x00080060'), 'RTPLAN');
  }
  const implicitBare = pydicomFile('MR_small_implicit.dcm');
  const implicitEnd = 132 + 12 + new DataView(implicitBare.buffer, implicitBare.byteOffset).getUint32(140, true);
  assert.equal(readInstance(implicitBare.subarray(implicitEnd), 0, decodeLimits()).transferSyntax.name, 'Implicit VR Little Endian');
});

test('CT rescale: readSeries gives pydicom\'s apply_modality_lut values (HU), int32 as int16 - 1024 can leave int16', () => {
  const ref = python<{ sha256: string; dtype: string }>(`${PIXEL_HASH_PY}
from pydicom.pixel_data_handlers.util import apply_modality_lut
ds = pydicom.dcmread(${JSON.stringify(`${PYDICOM_FILES}/CT_small.dcm`)})
a = apply_modality_lut(ds.pixel_array, ds)
print(json.dumps({'sha256': digest(a), 'dtype': str(a.dtype)}))
`);
  const volume = readSeries([pydicomFile('CT_small.dcm')], {}, codecs);
  assert.equal(volume.voxelType, 'int32');
  assert.equal(sha256(Float64Array.from(volume.voxels as ArrayLike<number>)), ref.sha256);
});

test('8-bit JPEG Extended (process 2, made by dcmtk\'s dcmcjpeg +ee) gives exactly pydicom\'s pixels', () => {
  // pydicom's own JPEG Extended files are 12-bit (dicom-jpeg12.test.ts); dcmtk writes the 8-bit process of the same syntax.
  const dir = mkdtempSync(join(tmpdir(), 'dicom-ext8-'));
  try {
    const out = join(dir, 'ext8.dcm');
    const run = tool('dcmcjpeg', 'dcmtk', ['+ee', join(PYDICOM_FILES, 'SC_ybr_full_422_uncompressed.dcm'), out]);
    assert.equal(run.status, 0, run.stderr);
    const bytes = new Uint8Array(readFileSync(out));
    assert.equal(readInstance(bytes, 0, decodeLimits()).transferSyntax.uid, '1.2.840.10008.1.2.4.51');
    const reference = python<{ shape: number[]; sha256: string }>(`${PIXEL_HASH_PY}
ds = pydicom.dcmread(sys.argv[1])
a = convert_color_space(ds.pixel_array, 'YBR_FULL', 'RGB')
print(json.dumps({'shape': list(a.shape), 'sha256': digest(a)}))
`, [out]);
    const ours = storedPixels(bytes);
    assert.deepEqual(ours.shape, reference.shape);
    assert.equal(sha256(ours.values), reference.sha256);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('refused: lossy JPEG of a precision other than 8 or 12 bits names the transfer syntax; an unknown syntax is named by UID and name', () => {
  // 12-bit JPEG Extended is decoded (dicom-jpeg12.test.ts); a SOF1 declaring 16 bits is not lossy JPEG we read.
  const jpeg12 = pydicomFile('JPGExtended.dcm');
  const sof = jpeg12.findIndex((b, i) => b === 0xff && jpeg12[i + 1] === 0xc1);
  const jpeg16 = jpeg12.slice();
  jpeg16[sof + 4] = 16;
  assert.throws(() => storedPixels(jpeg16), (err: unknown) => {
    assert.ok(err instanceof CodedError);
    assert.equal(err.code, 'DICOM_UNSUPPORTED');
    assert.match(err.message, /1\.2\.840\.10008\.1\.2\.4\.51 \(JPEG Extended \(Process 2 & 4\)\) with 16-bit precision is not decoded, only 8- and 12-bit lossy JPEG/);
    return true;
  });
  const file = pydicomFile('MR_small.dcm');
  const metaEnd = 132 + 12 + new DataView(file.buffer, file.byteOffset).getUint32(140, true);
  const htj2k = writePart10(file.subarray(metaEnd), '1.2.840.10008.5.1.4.1.1.4', '1.2.3', '1.2.840.10008.1.2.4.201');
  assert.throws(() => readInstance(htj2k, 4, decodeLimits()), (err: unknown) => {
    assert.ok(err instanceof CodedError);
    assert.equal(err.code, 'DICOM_UNSUPPORTED');
    assert.equal(err.field, 'payload.dicom[4].transferSyntax');
    assert.match(err.message, /transfer syntax 1\.2\.840\.10008\.1\.2\.4\.201 \(High-Throughput JPEG 2000 Image Compression \(Lossless Only\)\), which we do not decode/);
    return true;
  });
  const unknown = writePart10(file.subarray(metaEnd), '1.2.840.10008.5.1.4.1.1.4', '1.2.3', '1.2.3.4.5');
  assert.throws(() => readInstance(unknown, 0, decodeLimits()), /1\.2\.3\.4\.5 \(not a transfer syntax we know\)/);
});

test('truncated pixel data and non-DICOM bytes are one precise error naming the instance', () => {
  assert.throws(() => readInstance(pydicomFile('MR_truncated.dcm'), 2, decodeLimits()), (err: unknown) => {
    assert.ok(err instanceof CodedError);
    assert.equal(err.code, 'PAYLOAD_SIZE_MISMATCH');
    assert.equal(err.field, 'payload.dicom[2]');
    assert.match(err.message, /instance 2 \(SOP Instance UID 1\.3\.6\.1\.4\.1\.5962\.1\.1\.4\.1\.1\.20040826185059\.5457\): Pixel Data declares 8192 bytes but the instance ends after 8130: truncated/);
    return true;
  });
  assert.throws(() => readInstance(new TextEncoder().encode('hello, this is not DICOM at all'), 0, decodeLimits()), (err: unknown) => {
    assert.ok(err instanceof CodedError);
    assert.equal(err.code, 'DICOM_INVALID');
    assert.match(err.message, /instance 0 is not a DICOM Part 10 file/);
    return true;
  });
});

test('limits: Rows x Columns x Frames x Samples x bytes is refused from the header; a deflated data set inflates only to maxDecodedBytes', () => {
  assert.throws(() => readSeries([pydicomFile('CT_small.dcm')], { maxVoxels: 128 * 128 - 1 }), (err: unknown) => {
    assert.ok(err instanceof CodedError);
    assert.equal(err.code, 'PAYLOAD_TOO_LARGE');
    assert.match(err.message, /shape \[1, 128, 128\] is 16384 voxels, more than the maximum of 16383 \(maxVoxels\)/);
    return true;
  });
  assert.throws(() => readSeries([pydicomFile('SC_rgb_rle_2frame.dcm')], { maxDecodedBytes: 2 * 100 * 100 * 3 - 1 }), /shape \[2, 100, 100, 3\] decodes to 60000 bytes/);
  assert.throws(() => readInstance(pydicomFile('image_dfl.dcm'), 0, decodeLimits({ maxDecodedBytes: 100_000 })), (err: unknown) => {
    assert.ok(err instanceof CodedError);
    assert.equal(err.code, 'PAYLOAD_TOO_LARGE');
    assert.match(err.message, /deflated data set inflates to more than 100000 bytes/);
    return true;
  });
});
