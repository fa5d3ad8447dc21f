// SAM's prompt encoder (spec 5.5) as graph parts: sparse point/box embeddings and the dense mask embedding,
// plus the constant dense positional encoding of the 64x64 image grid, computed here at build time.
import type { GraphBuilder } from '../../onnx/graph.ts';
import { gelu, layerNorm2d, linear, reshape, transpose } from '../../onnx/ops.ts';
import { EMBED_DIM, GRID, INPUT_SIZE, LAYER_NORM_2D_EPS, MASK_IN_CHANS } from './config.ts';
import { POINT_LABEL } from './point-prompts.ts';
import type { DecoderWeights } from './weights.ts';

const P = 'prompt_encoder.';
const PE_FEATURES = EMBED_DIM / 2;
/** PyTorch multiplies float32 coordinates by the Python float 2*pi, which it rounds to float32 first. */
const TWO_PI_F32 = Math.fround(2 * Math.PI);

export function gaussianMatrix(w: DecoderWeights): Float32Array {
  return w.f32(`${P}pe_layer.positional_encoding_gaussian_matrix`, [2, PE_FEATURES]);
}

/**
 * get_dense_pe(): the random-Fourier encoding of every cell centre of the GRID x GRID image-embedding grid,
 * (EMBED_DIM, GRID, GRID) channel-major (the reference's (1,256,64,64) without the batch axis).
 * Cell (i,j) sits at x = (j+0.5)/GRID, y = (i+0.5)/GRID; encoding = [sin t, cos t], t = 2pi ((2c-1) @ G).
 * Float32 rounding is reproduced step by step, so this matches the reference to a few float32 ulps.
 */
export function densePositionalEncoding(gaussian: Float32Array): Float32Array {
  const cells = GRID * GRID;
  const out = new Float32Array(EMBED_DIM * cells);
  const f = Math.fround;
  for (let i = 0; i < GRID; i++) {
    const y = f(2 * f((i + 0.5) / GRID) - 1);
    for (let j = 0; j < GRID; j++) {
      const x = f(2 * f((j + 0.5) / GRID) - 1);
      const cell = i * GRID + j;
      for (let k = 0; k < PE_FEATURES; k++) {
        const t = f(f(f(x * gaussian[k]!) + f(y * gaussian[PE_FEATURES + k]!)) * TWO_PI_F32);
        out[k * cells + cell] = Math.sin(t);
        out[(PE_FEATURES + k) * cells + cell] = Math.cos(t);
      }
    }
  }
  return out;
}

/** The same encoding as image tokens (1, GRID*GRID, EMBED_DIM): the key_pe of the two-way transformer. */
export function densePositionalTokens(gaussian: Float32Array): Float32Array {
  const chw = densePositionalEncoding(gaussian);
  const cells = GRID * GRID;
  const tokens = new Float32Array(chw.length);
  for (let c = 0; c < EMBED_DIM; c++) for (let n = 0; n < cells; n++) tokens[n * EMBED_DIM + c] = chw[c * cells + n]!;
  return tokens;
}

/** Label values in the order of the rows of the label-embedding table built below. */
const LABEL_ROWS = [POINT_LABEL.padding, POINT_LABEL.background, POINT_LABEL.foreground, POINT_LABEL.boxTopLeft, POINT_LABEL.boxBottomRight];

/**
 * Sparse embeddings (B,P,EMBED_DIM) of points `coords` (B,P,2) in 256-space with `labels` (B,P), as _embed_points
 * (and, for labels 2/3, _embed_boxes). P may be 0. A label outside LABEL_ROWS gets the bare positional encoding.
 */
export function sparsePromptEmbedding(g: GraphBuilder, w: DecoderWeights, coords: string, labels: string): string {
  const name = `${P}points`;
  // (c + 0.5) / size; the input frame is square, so x (by width) and y (by height) share the divisor.
  let c = g.op('Div', [g.op('Add', [coords, g.scalar(0.5)], {}, { name }), g.scalar(INPUT_SIZE)], {}, { name });
  c = g.op('Sub', [g.op('Mul', [c, g.scalar(2)], {}, { name }), g.scalar(1)], {}, { name });
  const t = g.op('Mul', [g.op('MatMul', [c, g.f32(`${P}pe_layer.gaussian`, gaussianMatrix(w), [2, PE_FEATURES])], {}, { name }), g.scalar(TWO_PI_F32)], {}, { name });
  const pe = g.op('Concat', [g.op('Sin', [t], {}, { name }), g.op('Cos', [t], {}, { name })], { axis: -1 }, { name });

  const label = g.op('Unsqueeze', [labels, g.i64([-1])], {}, { name });
  const isPadding = g.op('Equal', [label, g.scalar(POINT_LABEL.padding)], {}, { name });
  const positional = g.op('Where', [isPadding, g.scalar(0), pe], {}, { name });

  // One-hot of the label against LABEL_ROWS times the table [not_a_point; point_embeddings 0..3]: adds exactly one
  // learned row (or none), with no data-dependent indexing that could fail at run time.
  const table = new Float32Array(LABEL_ROWS.length * EMBED_DIM);
  table.set(w.f32(`${P}not_a_point_embed.weight`, [1, EMBED_DIM]), 0);
  for (let i = 0; i < 4; i++) table.set(w.f32(`${P}point_embeddings.${i}.weight`, [1, EMBED_DIM]), (i + 1) * EMBED_DIM);
  const rows = g.f32(`${P}label_values`, Float32Array.from(LABEL_ROWS), [LABEL_ROWS.length]);
  const oneHot = g.op('Cast', [g.op('Equal', [label, rows], {}, { name })], { to: 1 /* FLOAT */ }, { name });
  const learned = g.op('MatMul', [oneHot, g.f32(`${P}label_embeddings`, table, [LABEL_ROWS.length, EMBED_DIM])], {}, { name });
  return g.op('Add', [positional, learned], {}, { name });
}

/**
 * Dense embeddings as image tokens (B, GRID*GRID, EMBED_DIM): mask_downscaling(mask_input) where has_mask_input
 * is 1, no_mask_embed broadcast where it is 0 (SAM's ONNX convention; any value > 0.5 counts as 1).
 */
export function densePromptTokens(g: GraphBuilder, w: DecoderWeights, maskInput: string, hasMaskInput: string): string {
  const k = `${P}mask_downscaling`;
  const quarter = MASK_IN_CHANS / 4;
  const conv = (x: string, idx: number, cin: number, cout: number): string => g.op('Conv', [
    x, g.f32(`${k}.${idx}.weight`, w.f32(`${k}.${idx}.weight`, [cout, cin, 2, 2]), [cout, cin, 2, 2]),
    g.f32(`${k}.${idx}.bias`, w.f32(`${k}.${idx}.bias`, [cout]), [cout]),
  ], { kernel_shape: [2, 2], strides: [2, 2] }, { name: `${k}.${idx}` });
  const ln = (x: string, idx: number, dim: number): string => {
    const n = w.norm(`${k}.${idx}`, dim);
    return layerNorm2d(g, x, n.weight, n.bias, LAYER_NORM_2D_EPS, `${k}.${idx}`);
  };
  let h = gelu(g, ln(conv(maskInput, 0, 1, quarter), 1, quarter));
  h = gelu(g, ln(conv(h, 3, quarter, MASK_IN_CHANS), 4, MASK_IN_CHANS));
  // The final 1x1 conv runs as a MatMul on channels-last tokens, which is the layout the transformer wants.
  h = reshape(g, transpose(g, h, [0, 2, 3, 1], `${k}.6`), [0, GRID * GRID, MASK_IN_CHANS], `${k}.6`);
  const fromMask = linear(g, h, w.f32(`${k}.6.weight`, [EMBED_DIM, MASK_IN_CHANS, 1, 1]), [EMBED_DIM, MASK_IN_CHANS], w.f32(`${k}.6.bias`, [EMBED_DIM]), `${k}.6`);

  const noMask = g.f32(`${P}no_mask_embed`, w.f32(`${P}no_mask_embed.weight`, [1, EMBED_DIM]), [1, 1, EMBED_DIM]);
  const hasMask = g.op('Greater', [reshape(g, hasMaskInput, [-1, 1, 1], `${P}has_mask`), g.scalar(0.5)], {}, { name: `${P}has_mask` });
  return g.op('Where', [hasMask, fromMask, noMask], {}, { name: `${P}dense` });
}
