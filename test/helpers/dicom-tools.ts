// Real DICOM files and tools for the DICOM tests: pydicom's test files (Debian python3-pydicom), pydicom itself as
// the reference decoder and as a writer of series with known geometry, dciodvfy (dicom3tools) and dcmtk. A missing
// tool fails the test with the Debian package to install (.ci/run installs them); nothing is skipped silently.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export const PYDICOM_FILES = '/usr/lib/python3/dist-packages/pydicom/data/test_files';

function requirePackage(path: string, debianPackage: string): void {
  if (!existsSync(path)) throw new Error(`${path} is missing: install the Debian package with \`apt-get install -y ${debianPackage}\` (.ci/run does)`);
}

/** Bytes of a pydicom test file (relative to its test_files folder). */
export function pydicomFile(name: string): Uint8Array {
  requirePackage(PYDICOM_FILES, 'python3-pydicom');
  return new Uint8Array(readFileSync(join(PYDICOM_FILES, name)));
}

/** The instances of a pydicom test folder, in file-name order (which is not slice order). */
export function pydicomFolder(name: string): Uint8Array[] {
  requirePackage(PYDICOM_FILES, 'python3-pydicom');
  const dir = join(PYDICOM_FILES, name);
  return readdirSync(dir).sort().map((f) => new Uint8Array(readFileSync(join(dir, f))));
}

/** Runs a Python script with pydicom and numpy; returns its stdout parsed as JSON. */
export function python<T>(script: string, args: readonly string[] = []): T {
  requirePackage('/usr/bin/python3', 'python3-pydicom');
  const run = spawnSync('/usr/bin/python3', ['-c', script, ...args], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (run.status !== 0) {
    if (/No module named '(pydicom|numpy|PIL)'/.test(run.stderr)) throw new Error(`pydicom, numpy or Pillow missing: apt-get install -y python3-pydicom python3-numpy python3-pil\n${run.stderr}`);
    throw new Error(`python3 failed (${run.status}):\n${run.stderr}`);
  }
  return JSON.parse(run.stdout) as T;
}

export interface ToolRun {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export function tool(command: string, debianPackage: string, args: readonly string[]): ToolRun {
  requirePackage(`/usr/bin/${command}`, debianPackage);
  const run = spawnSync(`/usr/bin/${command}`, args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

/**
 * dciodvfy's verdict (docs/dicom-notes.md section 3): everything goes to stderr; pass only with exit 0 and no
 * "Error - " line. An exit above 1 is the tool crashing.
 */
export function dciodvfy(path: string): { ok: boolean; errors: string[]; warnings: string[]; output: string } {
  const run = tool('dciodvfy', 'dicom3tools', [path]);
  if (run.status !== null && run.status > 1) throw new Error(`dciodvfy crashed (exit ${run.status}) on ${path}:\n${run.stderr}`);
  const lines = run.stderr.split('\n');
  const errors = lines.filter((l) => l.includes('Error - '));
  return { ok: run.status === 0 && errors.length === 0, errors, warnings: lines.filter((l) => l.includes('Warning - ')), output: run.stderr };
}

/** sha256 of an array's values as little-endian float64, as pydicomPixels computes it. */
export const PIXEL_HASH_PY = `
import hashlib, json, sys, warnings
import numpy as np, pydicom
from pydicom.pixel_data_handlers.util import convert_color_space
warnings.simplefilter('ignore')
def digest(a):
    return hashlib.sha256(np.ascontiguousarray(a).astype('<f8').tobytes()).hexdigest()
`;

/**
 * pydicom's pixel_array of each file as the service presents it: YBR converted to RGB with pydicom's
 * convert_color_space, colour samples over 8 bits reduced to their top 8. Values hashed (sha256 of float64 LE).
 */
export function pydicomPixelHashes(files: readonly string[]): Record<string, { shape: number[]; sha256: string } | { error: string }> {
  return python(`${PIXEL_HASH_PY}
out = {}
for name in sys.argv[1:]:
    ds = pydicom.dcmread(${JSON.stringify(PYDICOM_FILES)} + '/' + name, force=True)
    try:
        a = ds.pixel_array
    except Exception as e:
        out[name] = {'error': str(e)[:200]}
        continue
    if ds.PhotometricInterpretation.startswith('YBR'):
        a = convert_color_space(a, 'YBR_FULL', 'RGB')
    if ds.SamplesPerPixel == 3 and ds.BitsAllocated > 8:
        a = (a >> (ds.BitsStored - 8)).astype('u1')
    out[name] = {'shape': list(a.shape), 'sha256': digest(a)}
print(json.dumps(out))
`, files);
}

export interface SliceSpec {
  /** Image Position (Patient); omitted = the attribute is removed. */
  readonly ipp?: readonly number[];
  /** Image Orientation (Patient); default axial [1,0,0,0,1,0]. */
  readonly iop?: readonly number[];
  readonly series?: string;
  readonly sop?: string;
  readonly rows?: number;
  /** The pydicom test file the slice is copied from; default CT_small.dcm (MR_small.dcm makes an MR series). */
  readonly base?: string;
}

/**
 * Writes single-frame CT instances made from CT_small.dcm (or each slice's `base`) by pydicom: 16 x 16 (or `rows` x 16) int16 pixels whose
 * value is 1000 * (index in `slices`) + row * 16 + column, the given positions and orientations, one series unless
 * a slice names another; returns the Part 10 bytes in `slices` order.
 */
export function pydicomCtSeries(slices: readonly SliceSpec[]): Uint8Array[] {
  return pydicomCtSeriesBatch([slices])[0]!;
}

/** Several series in one Python run (each run costs pydicom's and numpy's import, about a second on a busy CI). */
export function pydicomCtSeriesBatch(seriesList: readonly (readonly SliceSpec[])[]): Uint8Array[][] {
  const files = python<string[][]>(`
import base64, copy, io, json, sys
import numpy as np, pydicom
from pydicom.uid import generate_uid
bases = {}
result = []
for spec in json.loads(sys.argv[1]):
  series = generate_uid()
  out = []
  result.append(out)
  for k, s in enumerate(spec):
      name = s.get('base', 'CT_small.dcm')
      if name not in bases:
          bases[name] = pydicom.dcmread(${JSON.stringify(`${PYDICOM_FILES}/`)} + name)
      ds = copy.deepcopy(bases[name])
      rows = s.get('rows', 16)
      a = (1000 * k + np.arange(rows * 16).reshape(rows, 16)).astype('<i2')
      ds.Rows, ds.Columns = rows, 16
      ds.PixelData = a.tobytes()
      ds.SeriesInstanceUID = s.get('series', series)
      ds.SOPInstanceUID = s.get('sop', generate_uid())
      ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
      ds.InstanceNumber = k + 1
      ds.PixelSpacing = [0.5, 0.75]
      ds.SliceThickness = 2
      if 'ipp' in s:
          ds.ImagePositionPatient = s['ipp']
      else:
          del ds.ImagePositionPatient
      ds.ImageOrientationPatient = s.get('iop', [1, 0, 0, 0, 1, 0])
      buf = io.BytesIO()
      ds.save_as(buf, write_like_original=False)
      out.append(base64.b64encode(buf.getvalue()).decode())
print(json.dumps(result))
`, [JSON.stringify(seriesList)]);
  return files.map((series) => series.map((b64) => new Uint8Array(Buffer.from(b64, 'base64'))));
}

/**
 * An Enhanced CT Image (multi-frame) made by pydicom from CT_small: 3 frames of 8 x 8, frame f filled with 100 (f + 1),
 * stored at z = 3, 0, 1.5 (per-frame Plane Position) with per-frame intercept -f; orientation and pixel measures
 * (0.8 mm, thickness 1.5) shared.
 */
export function pydicomEnhancedCt(): Uint8Array {
  const file = python<string>(`
import base64, io, json
import numpy as np, pydicom
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence
from pydicom.uid import generate_uid
ds = pydicom.dcmread(${JSON.stringify(`${PYDICOM_FILES}/CT_small.dcm`)})
for tag in ['ImagePositionPatient', 'ImageOrientationPatient', 'PixelSpacing', 'SliceThickness', 'RescaleSlope', 'RescaleIntercept']:
    delattr(ds, tag)
ds.SOPClassUID = ds.file_meta.MediaStorageSOPClassUID = '1.2.840.10008.5.1.4.1.1.2.1'
ds.Rows = ds.Columns = 8
ds.NumberOfFrames = 3
ds.PixelData = np.stack([np.full((8, 8), 100 * (f + 1), '<i2') for f in range(3)]).tobytes()
def item(**kw):
    d = Dataset()
    for k, v in kw.items(): setattr(d, k, v)
    return d
shared = item(PlaneOrientationSequence=Sequence([item(ImageOrientationPatient=[1, 0, 0, 0, 1, 0])]),
              PixelMeasuresSequence=Sequence([item(PixelSpacing=[0.8, 0.8], SliceThickness=1.5)]))
ds.SharedFunctionalGroupsSequence = Sequence([shared])
zs = [3.0, 0.0, 1.5]
ds.PerFrameFunctionalGroupsSequence = Sequence([item(
    PlanePositionSequence=Sequence([item(ImagePositionPatient=[0, 0, z])]),
    PixelValueTransformationSequence=Sequence([item(RescaleSlope=1, RescaleIntercept=-f, RescaleType='HU')])) for f, z in enumerate(zs)])
buf = io.BytesIO()
ds.save_as(buf, write_like_original=False)
print(json.dumps(base64.b64encode(buf.getvalue()).decode()))
`);
  return new Uint8Array(Buffer.from(file, 'base64'));
}
