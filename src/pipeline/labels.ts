// Label assembly as the reference does it: objects are written in prompt order and later objects overwrite
// earlier ones. Objects finish out of order here, so each voxel keeps the highest object ordinal that covers it
// (equivalent to writing in order), and ordinals become label values at the end.
// Memory: one byte per voxel when the ordinals and labels fit in uint8 (up to 255 objects with labels <= 255, every
// request from a challenge file or the command line in practice): the ordinal volume becomes the label volume in
// place. A 287 x 512 x 512 CT then holds 75 MiB of labels instead of 150 MiB of uint16 ordinals plus a 75 MiB copy.
// The volume's pages stay untouched (not resident) until a mask is painted on them, and finish() reads only the
// span of each slice that masks reached: reading all of it made the whole 75 MiB resident at the end of a request,
// when the request's memory peaks (measured: +56 MiB peak RSS on the paper CT, bench/README.md).

export interface AssembledLabels {
  /** uint8 when every label fits, else uint16 (the reference's uint8 would wrap labels above 255). */
  readonly labels: Uint8Array | Uint16Array;
  /** Voxels each object ordinal holds in the final volume (index 0 is background). */
  readonly voxelsPerOrdinal: Uint32Array;
  /** First and last slice holding each ordinal in the final volume; -1 for ordinals with no voxels. */
  readonly firstSlice: Int32Array;
  readonly lastSlice: Int32Array;
}

export class LabelAssembler {
  private readonly ordinals: Uint8Array | Uint16Array;
  private readonly plane: number;
  private readonly maxLabel: number;
  /** Per slice, the first and one past the last in-plane index any mask set (first >= end: nothing painted). */
  private readonly paintedFirst: Int32Array;
  private readonly paintedEnd: Int32Array;

  constructor(readonly depth: number, readonly height: number, readonly width: number, private readonly labelOfOrdinal: readonly number[]) {
    this.plane = height * width;
    this.maxLabel = Math.max(0, ...labelOfOrdinal);
    this.ordinals = labelOfOrdinal.length <= 255 && this.maxLabel <= 255 ? new Uint8Array(depth * this.plane) : new Uint16Array(depth * this.plane);
    this.paintedFirst = new Int32Array(depth).fill(this.plane);
    this.paintedEnd = new Int32Array(depth);
  }

  /** Marks the object's mask (0/1, one slice) on slice z. */
  paint(ordinal: number, z: number, mask: Uint8Array): void {
    const base = z * this.plane;
    const o = this.ordinals;
    let first = -1;
    let last = -1;
    for (let i = 0; i < this.plane; i++) {
      if (mask[i] !== 0) {
        if (first < 0) first = i;
        last = i;
        if (o[base + i]! < ordinal) o[base + i] = ordinal;
      }
    }
    if (first < 0) return;
    if (first < this.paintedFirst[z]!) this.paintedFirst[z] = first;
    if (last + 1 > this.paintedEnd[z]!) this.paintedEnd[z] = last + 1;
  }

  /** The labels; with one-byte ordinals they are written over the ordinals, so call it once, at the end. */
  finish(): AssembledLabels {
    const labels = this.ordinals instanceof Uint8Array ? this.ordinals
      : this.maxLabel > 255 ? new Uint16Array(this.ordinals.length) : new Uint8Array(this.ordinals.length);
    const lut = Uint16Array.from([0, ...this.labelOfOrdinal]);
    const voxels = new Uint32Array(lut.length);
    const first = new Int32Array(lut.length).fill(-1);
    const last = new Int32Array(lut.length).fill(-1);
    const o = this.ordinals;
    for (let z = 0; z < this.depth; z++) {
      // Outside the painted span every ordinal is 0, and so is every label (in place, or in a new zeroed array).
      const end = z * this.plane + this.paintedEnd[z]!;
      for (let i = z * this.plane + this.paintedFirst[z]!; i < end; i++) {
        const ord = o[i]!;
        if (ord !== 0) {
          // In place, this overwrites the ordinal just read: each voxel is read once, before it is written.
          labels[i] = lut[ord]!;
          voxels[ord]!++;
          // Slices ascend, so the first hit is the first slice and every hit moves the last one.
          if (first[ord] === -1) first[ord] = z;
          last[ord] = z;
        }
      }
    }
    return { labels, voxelsPerOrdinal: voxels, firstSlice: first, lastSlice: last };
  }
}
