// Builds small single-file NIfTI-1 / NIfTI-2 uint8 images field by field (nifti1.h, nifti2.h), with the free-text
// fields a scanner or PACS export fills (descrip, aux_file, intent_name, db_name, data_type): the patient-data
// test plants identifiers there, the fuzz test starts its header mutations from these bytes.

export interface NiftiFixture {
  readonly version?: 1 | 2;
  readonly littleEndian?: boolean;
  /** [nx, ny, nz]; nz 1 makes a 2D image (dim[0] = 2). */
  readonly size: readonly [number, number, number];
  readonly pixdim?: readonly [number, number, number];
  readonly descrip?: string;
  readonly auxFile?: string;
  readonly intentName?: string;
  /** NIfTI-1 only (db_name and data_type are unused legacy fields that still hold text in the wild). */
  readonly dbName?: string;
  readonly dataType?: string;
  /** A qform (quaternion b, c, d and offsets) and an sform, so a writer that drops geometry shows. */
  readonly withAffine?: boolean;
  /** Voxel value at flat index i (default: a gradient). */
  readonly voxel?: (i: number) => number;
}

/** Offsets of the fields we set, per version. */
export const NIFTI_FIELDS = {
  1: { size: 348, dataStart: 352, dim: 40, datatype: 70, bitpix: 72, pixdim: 76, voxOffset: 108, descrip: 148, auxFile: 228, qcode: 252, scode: 254, quatern: 256, qoffset: 268, srow: 280, intentName: 328, magic: 344, dbName: 14, dataType: 4 },
  2: { size: 540, dataStart: 544, dim: 16, datatype: 12, bitpix: 14, pixdim: 104, voxOffset: 168, descrip: 240, auxFile: 320, qcode: 344, scode: 348, quatern: 352, qoffset: 376, srow: 400, intentName: 508, magic: 4, dbName: -1, dataType: -1 },
} as const;

export function buildNifti(f: NiftiFixture): Uint8Array {
  const v = f.version ?? 1;
  const le = f.littleEndian ?? true;
  const L = NIFTI_FIELDS[v];
  const [nx, ny, nz] = f.size;
  const count = nx * ny * nz;
  const bytes = new Uint8Array(L.dataStart + count);
  const view = new DataView(bytes.buffer);
  const float = (o: number, x: number): void => (v === 1 ? view.setFloat32(o, x, le) : view.setFloat64(o, x, le));
  const fw = v === 1 ? 4 : 8;
  const text = (offset: number, width: number, value: string | undefined): void => {
    if (value === undefined || offset < 0) return;
    bytes.set(new TextEncoder().encode(value).subarray(0, width), offset);
  };
  view.setInt32(0, L.size, le);
  const dim = [nz > 1 ? 3 : 2, nx, ny, nz, 1, 1, 1, 1];
  const [px, py, pz] = f.pixdim ?? [0.8, 0.8, 2.5];
  const pixdim = [1, px, py, pz, 0, 0, 0, 0];
  if (v === 1) {
    dim.forEach((d, i) => view.setInt16(L.dim + 2 * i, d, le));
    view.setInt16(L.datatype, 2, le);
    view.setInt16(L.bitpix, 8, le);
    pixdim.forEach((p, i) => view.setFloat32(L.pixdim + 4 * i, p, le));
    view.setFloat32(L.voxOffset, L.dataStart, le);
    bytes.set([0x6e, 0x2b, 0x31, 0x00], L.magic);
  } else {
    view.setInt16(L.datatype, 2, le);
    view.setInt16(L.bitpix, 8, le);
    dim.forEach((d, i) => view.setBigInt64(L.dim + 8 * i, BigInt(d), le));
    pixdim.forEach((p, i) => view.setFloat64(L.pixdim + 8 * i, p, le));
    view.setBigInt64(L.voxOffset, BigInt(L.dataStart), le);
    bytes.set([0x6e, 0x2b, 0x32, 0x00, 0x0d, 0x0a, 0x1a, 0x0a], L.magic);
  }
  if (f.withAffine) {
    const code = (o: number, c: number): void => (v === 1 ? view.setInt16(o, c, le) : view.setInt32(o, c, le));
    code(L.qcode, 1);
    [0, 0, 1].forEach((q, i) => float(L.quatern + i * fw, q));
    [12.5, -40, 7].forEach((q, i) => float(L.qoffset + i * fw, q));
    code(L.scode, 2);
    [[-px, 0, 0, 12.5], [0, -py, 0, -40], [0, 0, pz, 7]].forEach((row, r) => row.forEach((x, c) => float(L.srow + (r * 4 + c) * fw, x)));
  }
  text(L.descrip, 80, f.descrip);
  text(L.auxFile, 24, f.auxFile);
  text(L.intentName, 16, f.intentName);
  text(L.dbName, 18, f.dbName);
  text(L.dataType, 10, f.dataType);
  const voxel = f.voxel ?? ((i: number) => (i * 7) & 0xff);
  for (let i = 0; i < count; i++) bytes[L.dataStart + i] = voxel(i);
  return bytes;
}
