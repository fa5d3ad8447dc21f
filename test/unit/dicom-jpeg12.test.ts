// 12-bit lossy JPEG (JPEG Extended, process 4: 1.2.840.10008.1.2.4.51) through our own decoder (jpeg-extended12.ts)
// against dcmtk's dcmdjpeg (IJG libjpeg built for 12 bits), read back with our own reader: every sample must be
// equal. Files: pydicom's two 12-bit NM files, CT and MR compressed by dcmcjpeg +ee (dcmtk writes process 4 for more
// than 8 bits), colour at 4:4:4, 4:2:2 and 4:2:0, and the same streams re-coded with restart markers and
// non-interleaved scans (test/helpers/jpeg-recode.ts), which dcmcjpeg does not write.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { CodedError } from '../../src/errors/coded-error.ts';
import { decodeFrame, loadDicomCodecs, type DicomCodecs } from '../../src/volume/dicom/codecs.ts';
import { readInstance, TAG } from '../../src/volume/dicom/part10.ts';
import { pixelLayout } from '../../src/volume/dicom/pixel-layout.ts';
import { allocateVoxels, greyVoxelType, IDENTITY_RESCALE, writeGreyFrame } from '../../src/volume/dicom/pixels.ts';
import { decodeLimits } from '../../src/volume/limits.ts';
import { python, PYDICOM_FILES, tool } from '../helpers/dicom-tools.ts';
import { recodeJpeg } from '../helpers/jpeg-recode.ts';

let codecs: DicomCodecs;
let dir: string;
before(async () => {
  codecs = await loadDicomCodecs();
  dir = mkdtempSync(join(tmpdir(), 'dicom-jpeg12-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

const read = (bytes: Uint8Array): ReturnType<typeof readInstance> => readInstance(bytes, 0, decodeLimits());

/** Every frame's decoded samples (little-endian 16-bit, interleaved per pixel), as decodeFrame returns them. */
function decodedSamples(bytes: Uint8Array): Uint16Array[] {
  const instance = read(bytes);
  const layout = pixelLayout(instance);
  return Array.from({ length: layout.frames }, (_, f) => {
    const frame = decodeFrame(instance, layout, f, codecs).bytes;
    return Uint16Array.from({ length: frame.length / 2 }, (_, i) => frame[2 * i]! | (frame[2 * i + 1]! << 8));
  });
}

/** Grey stored values of every frame, masked and sign-extended as a volume gets them (no rescale). */
function storedValues(bytes: Uint8Array): number[] {
  const instance = read(bytes);
  const layout = pixelLayout(instance);
  const perFrame = layout.rows * layout.columns;
  const out = allocateVoxels(greyVoxelType(layout, [IDENTITY_RESCALE]), perFrame * layout.frames);
  for (let f = 0; f < layout.frames; f++) writeGreyFrame(decodeFrame(instance, layout, f, codecs), layout, IDENTITY_RESCALE, out, f * perFrame);
  return Array.from(out as ArrayLike<number>);
}

let made = 0;
/** A file written by a dcmtk tool into the test's folder. */
function dcmtk(command: string, args: readonly string[], input: string): string {
  const out = join(dir, `${made++}-${command}.dcm`);
  const run = tool(command, 'dcmtk', [...args, input, out]);
  assert.equal(run.status, 0, `${command} ${args.join(' ')} ${input}: ${run.stderr}`);
  return out;
}

/** dcmdjpeg's pixels (never converting colour, so the components are compared as coded), Explicit VR LE. */
function dcmdjpeg(path: string): Uint8Array {
  const out = dcmtk('dcmdjpeg', ['+cn', '+te'], path);
  const bytes = new Uint8Array(readFileSync(out));
  assert.equal(read(bytes).transferSyntax.name, 'Explicit VR Little Endian');
  return bytes;
}

function assertSameSamples(ours: Uint16Array[], theirs: Uint16Array[], what: string): void {
  assert.equal(ours.length, theirs.length, `${what}: frames`);
  ours.forEach((frame, f) => {
    assert.equal(frame.length, theirs[f]!.length, `${what} frame ${f + 1}: samples`);
    const differing = frame.reduce((n, v, i) => n + (v === theirs[f]![i] ? 0 : 1), 0);
    assert.equal(differing, 0, `${what} frame ${f + 1}: ${differing} of ${frame.length} samples differ from dcmdjpeg's`);
  });
}

/** Our samples of a compressed file equal dcmdjpeg's; returns the decompressed file. */
function assertAsDcmdjpeg(path: string, what: string): Uint8Array {
  const compressed = new Uint8Array(readFileSync(path));
  const instance = read(compressed);
  assert.equal(instance.transferSyntax.uid, '1.2.840.10008.1.2.4.51', what);
  const reference = dcmdjpeg(path);
  assertSameSamples(decodedSamples(compressed), decodedSamples(reference), what);
  return reference;
}

/** The first JPEG frame of an encapsulated instance. */
function firstFrame(bytes: Uint8Array): Uint8Array {
  const element = read(bytes).attributes.element(TAG.PixelData)!;
  const fragment = element.fragments![0]!;
  return bytes.subarray(fragment.position, fragment.position + fragment.length);
}

/** The instance with its encapsulated Pixel Data (its last element) replaced by these frames, one fragment each. */
function withFrames(bytes: Uint8Array, frames: readonly Uint8Array[]): Uint8Array {
  const element = read(bytes).attributes.element(TAG.PixelData)!;
  const parts: number[] = [0xfe, 0xff, 0x00, 0xe0, 0, 0, 0, 0]; // an empty basic offset table
  for (const frame of frames) {
    const length = frame.length + (frame.length % 2);
    parts.push(0xfe, 0xff, 0x00, 0xe0, length & 0xff, (length >> 8) & 0xff, (length >> 16) & 0xff, length >>> 24, ...frame);
    if (frame.length % 2) parts.push(0);
  }
  parts.push(0xfe, 0xff, 0xdd, 0xe0, 0, 0, 0, 0);
  const out = new Uint8Array(element.dataOffset + parts.length);
  out.set(bytes.subarray(0, element.dataOffset));
  out.set(parts, element.dataOffset);
  return out;
}

/** Where marker 0xFF `code` starts in a JPEG stream (-1: absent). */
function marker(frame: Uint8Array, code: number): number {
  return frame.findIndex((b, i) => b === 0xff && frame[i + 1] === code);
}

function saved(bytes: Uint8Array, name: string): string {
  const path = join(dir, name);
  writeFileSync(path, bytes);
  return path;
}

test('pydicom\'s 12-bit NM files (JPGExtended.dcm; JPEG-lossy.dcm, whose scan says Se = 0) give dcmdjpeg\'s pixels exactly', () => {
  for (const name of ['JPGExtended.dcm', 'JPEG-lossy.dcm']) {
    const path = join(PYDICOM_FILES, name);
    const reference = assertAsDcmdjpeg(path, name);
    const ours = storedValues(new Uint8Array(readFileSync(path)));
    assert.equal(ours.length, 1024 * 256);
    assert.deepEqual(ours, storedValues(reference), name);
  }
});

test('CT_small and MR_small (16-bit signed) compressed by dcmcjpeg +ee give dcmdjpeg\'s pixels exactly, at quality 90 and 1 (16-bit quantisation tables)', () => {
  for (const name of ['CT_small.dcm', 'MR_small.dcm']) {
    for (const quality of ['90', '1']) {
      const path = dcmtk('dcmcjpeg', ['+ee', '+q', quality], join(PYDICOM_FILES, name));
      const frame = firstFrame(new Uint8Array(readFileSync(path)));
      assert.equal(frame[marker(frame, 0xc1) + 4], 12, `${name}: dcmcjpeg wrote a 12-bit SOF1`);
      if (quality === '1') assert.equal(frame[marker(frame, 0xdb) + 4]! >> 4, 1, `${name}: a 16-bit DQT`);
      const reference = assertAsDcmdjpeg(path, `${name} +q ${quality}`);
      assert.deepEqual(storedValues(new Uint8Array(readFileSync(path))), storedValues(reference), `${name} +q ${quality}`);
    }
  }
});

let rgbSource: string | undefined;
/** A 37 x 29 RGB image of 16-bit samples that vary smoothly and at random (so upsampling's rounding shows). */
function variedRgb(): string {
  if (rgbSource) return rgbSource;
  const path = join(dir, 'rgb16.dcm');
  python(`
import json, sys
import numpy as np, pydicom
ds = pydicom.dcmread(${JSON.stringify(`${PYDICOM_FILES}/SC_rgb_small_odd.dcm`)})
rows, cols = 29, 37
y, x = np.mgrid[0:rows, 0:cols]
noise = np.random.default_rng(7).integers(0, 65535, (rows, cols))
a = np.stack([32768 + 20000 * np.sin(x / 3.0 + y / 5.0), 32768 + 20000 * np.cos(x / 4.0 - y / 2.5), noise], axis=-1).astype('<u2')
ds.Rows, ds.Columns = rows, cols
ds.BitsAllocated, ds.BitsStored, ds.HighBit = 16, 16, 15
ds.PixelData = a.tobytes()
ds.save_as(sys.argv[1], write_like_original=False)
print(json.dumps(True))
`, [path]);
  rgbSource = path;
  return path;
}

test('12-bit colour at 4:4:4, 4:2:2 and 4:2:0 (dcmcjpeg +ee +s4, +s2, +n1) gives dcmdjpeg\'s components exactly, upsampling included', () => {
  // The 3 x 3 image (8-bit, forced to 12 with +bt) has chroma 2 samples wide, which libjpeg repeats instead of filtering.
  for (const [source, force] of [[variedRgb(), []], [join(PYDICOM_FILES, 'SC_rgb_small_odd.dcm'), ['+bt']]] as const) {
    for (const [option, sampling] of [['+s4', 0x11], ['+s2', 0x21], ['+n1', 0x22]] as const) {
      const path = dcmtk('dcmcjpeg', ['+ee', ...force, option], source);
      const frame = firstFrame(new Uint8Array(readFileSync(path)));
      const sof = marker(frame, 0xc1);
      assert.equal(frame[sof + 4], 12);
      assert.equal(frame[sof + 11], sampling, `${option}: luminance sampling`);
      assertAsDcmdjpeg(path, `colour ${option} ${source}`);
    }
  }
});

test('restart intervals and non-interleaved scans (streams re-coded with RSTn every few MCUs) decode exactly as dcmdjpeg decodes them and the original', () => {
  const cases: [string, string, number, boolean][] = [
    ['JPGExtended', join(PYDICOM_FILES, 'JPGExtended.dcm'), 7, false], // 4096 MCUs: RST0..RST7 many times over
    ['CT_small', dcmtk('dcmcjpeg', ['+ee'], join(PYDICOM_FILES, 'CT_small.dcm')), 1, false],
    ['colour 4:2:0', dcmtk('dcmcjpeg', ['+ee', '+n1'], variedRgb()), 2, false], // 3 x 2 MCUs of 16 x 16
    ['colour 4:2:0, one scan per component', dcmtk('dcmcjpeg', ['+ee', '+n1'], variedRgb()), 5, true],
    ['colour 4:2:2, one scan per component', dcmtk('dcmcjpeg', ['+ee', '+s2'], variedRgb()), 2, true],
  ];
  for (const [what, path, restartInterval, separateScans] of cases) {
    const original = new Uint8Array(readFileSync(path));
    const recoded = recodeJpeg(firstFrame(original), { restartInterval, separateScans });
    assert.ok(recoded.some((b, i) => b === 0xff && recoded[i + 1] === 0xd0 + 1), `${what}: RST1 written`);
    const recodedPath = saved(withFrames(original, [recoded]), `recoded-${what.replace(/\W+/g, '-')}.dcm`);
    // dcmdjpeg gives the same pixels for both streams (the coefficients are the same) and so do we.
    const reference = decodedSamples(dcmdjpeg(recodedPath));
    assertSameSamples(reference, decodedSamples(dcmdjpeg(path)), `${what}: dcmdjpeg, re-coded vs original`);
    assertSameSamples(decodedSamples(new Uint8Array(readFileSync(recodedPath))), reference, `${what} re-coded`);
  }
});

test('a truncated or corrupted 12-bit stream is DICOM_INVALID naming the instance and the fault, found at once', () => {
  const original = new Uint8Array(readFileSync(join(PYDICOM_FILES, 'JPGExtended.dcm')));
  const frame = firstFrame(original);
  const scanData = marker(frame, 0xda) + 10;
  const corrupt = (edit: (f: Uint8Array) => Uint8Array): Uint8Array => withFrames(original, [edit(frame.slice())]);
  const withRestarts = recodeJpeg(frame, { restartInterval: 4, separateScans: false });
  const rst3 = marker(withRestarts, 0xd3);
  const counts = marker(frame, 0xc4) + 5; // the first table's code counts by length
  const lengthWithTwo = frame.subarray(counts, counts + 16).findIndex((n) => n >= 2);
  const cases: [string, Uint8Array, RegExp][] = [
    ['truncated in the middle of the scan', corrupt((f) => f.subarray(0, scanData + 3000)), /the entropy-coded data ends in MCU \d+ of 4096/],
    ['truncated in a marker segment', corrupt((f) => f.subarray(0, marker(f, 0xc4) + 30)), /the segment of marker 0xFFC4 \(71 bytes\) runs past the end of the stream/],
    ['entropy data overwritten with 1 bits', corrupt((f) => { for (let i = scanData + 100; i < scanData + 140; i += 2) f.set([0xff, 0x00], i); return f; }), /a Huffman code that the table does not define/],
    ['a restart marker missing', withFrames(original, [Uint8Array.from([...withRestarts.subarray(0, rst3), ...withRestarts.subarray(rst3 + 2)])]), /restart marker RST3 expected, found marker 0xFFD4/],
    // Two codes of length 1 (moved from a longer length, so the segment still adds up): no room for the others.
    ['a Huffman table with more codes than fit', corrupt((f) => { f[counts + lengthWithTwo]! -= 2; f[counts]! += 2; return f; }), /a Huffman table has more codes than its code lengths allow/],
    ['a scan that names no table', corrupt((f) => { f[marker(f, 0xda) + 6] = 0x33; return f; }), /component 1 uses DC Huffman table 3, which is not defined/],
  ];
  for (const [what, bytes, reason] of cases) {
    const started = performance.now();
    assert.throws(() => decodedSamples(bytes), (err: unknown) => {
      assert.ok(err instanceof CodedError, `${what}: ${String(err)}`);
      assert.equal(err.code, 'DICOM_INVALID', what);
      assert.equal(err.field, 'payload.dicom[0]', what);
      assert.match(err.message, /^payload\.dicom\[0\]: instance 0 \(SOP Instance UID [\d.]+\) frame 1: JPEG Extended \(Process 2 & 4\) data cannot be decoded \(/, what);
      assert.match(err.message, reason, what);
      return true;
    }, what);
    assert.ok(performance.now() - started < 2000, `${what}: took ${performance.now() - started} ms`);
  }
});

test('a 12-bit stream the decoder does not handle (progressive) is DICOM_UNSUPPORTED naming the syntax and the process', () => {
  const original = new Uint8Array(readFileSync(join(PYDICOM_FILES, 'JPGExtended.dcm')));
  const frame = firstFrame(original).slice();
  frame[marker(frame, 0xc1) + 1] = 0xc2;
  assert.throws(() => decodedSamples(withFrames(original, [frame])), (err: unknown) => {
    assert.ok(err instanceof CodedError);
    assert.equal(err.code, 'DICOM_UNSUPPORTED');
    assert.equal(err.field, 'payload.dicom[0].transferSyntax');
    assert.match(err.message, /1\.2\.840\.10008\.1\.2\.4\.51 \(JPEG Extended \(Process 2 & 4\)\) with 12-bit precision: progressive DCT JPEG \(marker 0xFFC2\) is not decoded/);
    return true;
  });
});
