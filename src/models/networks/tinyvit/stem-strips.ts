// LiteMedSAM's full-resolution stage (patch embed, layers.0's MBConv blocks and the PatchMerging that ends it)
// computed in horizontal strips of the 256x256 frame, then concatenated.
//
// Why: this stage's activations are (N,256,256,256) float tensors, 64 MiB each. glibc serves allocations that
// large with a fresh mmap every time, so every run first-touches them again, and on the VMs this service runs on a
// first-touched page costs 10-20 us: 16k page faults per 64 MiB tensor, about a third of the encoder's CPU time
// (bench/README.md, "encoder-profile"). In strips the tensors are a few MiB, come back from glibc's heap already
// resident and stay in cache between the ops of a strip.
//
// Exact: every operation here is per pixel except the 3x3 depthwise convolutions. Each strip reads the rows its
// convolutions need (a halo of one row per 3x3 convolution) and pads with zeros only at the frame's own top and
// bottom edges, so every output pixel sums the same products as the whole-frame graph.
import type { GraphBuilder } from '../../onnx/graph.ts';
import { gelu, type ConvWeights } from '../../onnx/ops.ts';
import type { EncoderWeights } from './weights.ts';

/** Strips the stage is cut into; each strip's widest tensor is (N,256,rows+halo,256): 64 MiB / STRIPS. */
export const STEM_STRIPS = 8;

/** A convolution whose weights are initializers once, applied to several strips with their own row padding. */
interface SharedConv {
  readonly weight: string;
  readonly bias: string;
  readonly k: number;
  readonly groups: number;
  readonly stride: number;
  readonly name: string;
}

function sharedConv(g: GraphBuilder, w: ConvWeights, name: string, opts: { groups?: number; stride?: number } = {}): SharedConv {
  const out = w.weightShape[0]!;
  return {
    weight: g.f32(`${name}.weight`, w.weight, w.weightShape),
    bias: g.f32(`${name}.bias`, w.bias ?? new Float32Array(out), [out]),
    k: w.weightShape[2]!,
    groups: opts.groups ?? 1,
    stride: opts.stride ?? 1,
    name,
  };
}

/** Conv with zero padding of one column left and right, and of `top` / `bottom` rows (3x3 only; 1x1 pads nothing). */
function applyConv(g: GraphBuilder, x: string, c: SharedConv, top: number, bottom: number): string {
  const side = c.k === 1 ? 0 : 1;
  return g.op('Conv', [x, c.weight, c.bias], {
    kernel_shape: [c.k, c.k],
    strides: [c.stride, c.stride],
    pads: [c.k === 1 ? 0 : top, side, c.k === 1 ? 0 : bottom, side],
    group: c.groups,
  }, { name: c.name });
}

/** Rows [from, to) of an NCHW tensor whose first row is frame row `offset`. */
function rows(g: GraphBuilder, x: string, offset: number, from: number, to: number, name: string): string {
  return g.op('Slice', [x, g.i64([from - offset]), g.i64([to - offset]), g.i64([2])], {}, { name });
}

interface RowRange { readonly from: number; readonly to: number }

/** The input rows a 3x3 convolution (stride `stride`, padding 1) reads for output rows `out`, within [0, side). */
function inputRows(out: RowRange, stride: number, side: number): RowRange {
  return { from: Math.max(0, out.from * stride - 1), to: Math.min(side, (out.to - 1) * stride + 2) };
}

/**
 * patch_embed -> layers.0 (MBConv blocks) -> layers.0.downsample up to its last 1x1 convolution, in strips.
 * Input NCHW (N,inChans,side,side); returns NCHW (N,out,side/2,side/2) after the depthwise conv's GELU, i.e.
 * what patchMerging's final 1x1 reads.
 */
export function stemInStrips(g: GraphBuilder, w: EncoderWeights, image: string, sizes: {
  inChans: number; dim: number; out: number; side: number; blocks: number; expandRatio: number;
}): string {
  const { inChans, dim, out, side, blocks, expandRatio } = sizes;
  const hidden = dim * expandRatio;
  const pe = 'patch_embed.seq';
  const embed0 = sharedConv(g, w.convBn(`${pe}.0`, inChans, dim / 2, 1), `${pe}.0`);
  const embed2 = sharedConv(g, w.convBn(`${pe}.2`, dim / 2, dim, 1), `${pe}.2`);
  const mb = Array.from({ length: blocks }, (_, b) => {
    const key = `layers.0.blocks.${b}`;
    return {
      key,
      conv1: sharedConv(g, w.convBn(`${key}.conv1`, dim, hidden, 1), `${key}.conv1`),
      conv2: sharedConv(g, w.convBn(`${key}.conv2`, hidden, hidden, 3, hidden), `${key}.conv2`, { groups: hidden }),
      conv3: sharedConv(g, w.convBn(`${key}.conv3`, hidden, dim, 1), `${key}.conv3`),
    };
  });
  const pm = 'layers.0.downsample';
  const merge1 = sharedConv(g, w.convBn(`${pm}.conv1`, dim, out, 1), `${pm}.conv1`);
  const merge2 = sharedConv(g, w.convBn(`${pm}.conv2`, out, out, 3, out), `${pm}.conv2`, { groups: out, stride: 2 });

  const outSide = side / 2;
  const strips: string[] = [];
  for (let s = 0; s < STEM_STRIPS; s++) {
    const outRows = { from: Math.round((s * outSide) / STEM_STRIPS), to: Math.round(((s + 1) * outSide) / STEM_STRIPS) };
    // Rows each convolution must produce, walking back from the strip's output rows to the image rows.
    const need: RowRange[] = [inputRows(outRows, 2, side)];
    for (let b = 0; b < blocks; b++) need.push(inputRows(need[need.length - 1]!, 1, side));
    const imageRows = need[need.length - 1]!;

    let x = rows(g, image, 0, imageRows.from, imageRows.to, `strip${s}`);
    x = applyConv(g, gelu(g, applyConv(g, x, embed0, 0, 0), `${pe}.1`), embed2, 0, 0);
    let have = imageRows;
    for (let b = 0; b < blocks; b++) {
      const want = need[blocks - 1 - b]!;
      const { key, conv1, conv2, conv3 } = mb[b]!;
      let h = gelu(g, applyConv(g, x, conv1, 0, 0), `${key}.conv1`);
      const top = want.from === 0 ? 1 : 0;
      const bottom = want.to === side ? 1 : 0;
      h = gelu(g, applyConv(g, h, conv2, top, bottom), `${key}.conv2`);
      h = applyConv(g, h, conv3, 0, 0);
      const shortcut = rows(g, x, have.from, want.from, want.to, key);
      x = gelu(g, g.op('Add', [h, shortcut], {}, { name: key }), `${key}.act`);
      have = want;
    }
    let h = gelu(g, applyConv(g, x, merge1, 0, 0), `${pm}.conv1`);
    h = gelu(g, applyConv(g, h, merge2, outRows.from === 0 ? 1 : 0, 0), `${pm}.conv2`);
    strips.push(h);
  }
  return g.op('Concat', strips, { axis: 2 }, { name: pm });
}
