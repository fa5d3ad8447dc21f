// Exact Euclidean distance transform with anisotropic sampling (Felzenszwalb & Huttenlocher's separable lower
// envelope of parabolas), equal to scipy.ndimage.distance_transform_edt(~features, sampling).

/**
 * Squared distance from every voxel of a C-order volume of `shape` to the nearest feature voxel (feature != 0),
 * with `spacing` per axis; Infinity everywhere when there is no feature. Axes are processed 0, 1, 2, so each
 * value is accumulated as (d0*s0)^2 + (d1*s1)^2 + (d2*s2)^2 in that order, the order in which SciPy sums the
 * squared components of the vector to the nearest feature.
 */
export function squaredDistanceTransform(features: Uint8Array, shape: readonly number[], spacing: readonly number[]): Float64Array {
  const size = shape.reduce((a, b) => a * b, 1);
  if (features.length !== size) throw new RangeError(`squaredDistanceTransform: ${features.length} voxels for shape (${shape.join(',')})`);
  if (spacing.length !== shape.length) throw new RangeError('squaredDistanceTransform: one spacing per axis is needed');
  const dist = new Float64Array(size);
  for (let i = 0; i < size; i++) dist[i] = features[i] ? 0 : Infinity;
  const longest = Math.max(...shape);
  const f = new Float64Array(longest);
  const out = new Float64Array(longest);
  const v = new Int32Array(longest);
  const z = new Float64Array(longest + 1);
  for (let axis = 0; axis < shape.length; axis++) {
    const n = shape[axis]!;
    const stride = shape.slice(axis + 1).reduce((a, b) => a * b, 1);
    const lines = size / n;
    for (let line = 0; line < lines; line++) {
      // line index -> start offset: split into the part above the axis and the part below it
      const start = Math.floor(line / stride) * stride * n + (line % stride);
      let any = false;
      for (let q = 0; q < n; q++) {
        const value = dist[start + q * stride]!;
        f[q] = value;
        if (value !== Infinity) any = true;
      }
      if (!any) continue;
      lowerEnvelope(f, n, spacing[axis]!, out, v, z);
      for (let q = 0; q < n; q++) dist[start + q * stride] = out[q]!;
    }
  }
  return dist;
}

/** One 1D pass: out[q] = min_p f[p] + ((q - p) * s)^2 over finite f[p] (at least one). */
function lowerEnvelope(f: Float64Array, n: number, s: number, out: Float64Array, v: Int32Array, z: Float64Array): void {
  const s2 = s * s;
  let k = -1;
  for (let q = 0; q < n; q++) {
    const fq = f[q]!;
    if (fq === Infinity) continue;
    let x = -Infinity;
    while (k >= 0) {
      const p = v[k]!;
      // where the parabola rooted at q starts to lie below the one rooted at p (in index units)
      x = (fq - f[p]! + s2 * (q * q - p * p)) / (2 * s2 * (q - p));
      if (x > z[k]!) break;
      k--;
    }
    if (k < 0) x = -Infinity;
    k++;
    v[k] = q;
    z[k] = x;
    z[k + 1] = Infinity;
  }
  k = 0;
  for (let q = 0; q < n; q++) {
    while (z[k + 1]! < q) k++;
    const p = v[k]!;
    const d = (q - p) * s;
    out[q] = f[p]! + d * d;
  }
}
