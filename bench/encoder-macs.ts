// Multiply-accumulates of one 256x256 slice through the TinyViT image encoder (spec 5.3, 5.4), counted from the
// architecture: convolutions, Linear layers, and the attention products (q k^T and attn v) over the padded windows.
// Element-wise work (LayerNorm, GELU, softmax, adds) is not counted; it is memory-bound and small in MACs.
import { LITEMEDSAM_TINYVIT, patchMergingStride, stageResolutions } from '../src/models/networks/tinyvit/config.ts';

export interface EncoderMacs { readonly total: number; readonly byPart: Record<string, number> }

const HEAD_DIM = 32;

export function encoderMacs(opts: { adapter: boolean }): EncoderMacs {
  const cfg = LITEMEDSAM_TINYVIT;
  const res = stageResolutions(cfg);
  const d = cfg.embedDims;
  const px = (side: number): number => side * side;
  const byPart: Record<string, number> = {};
  const add = (part: string, macs: number): void => { byPart[part] = (byPart[part] ?? 0) + macs; };

  const s0 = px(res[0]!);
  add('patch_embed', s0 * (cfg.inChans * d[0] / 2 + d[0] / 2 * d[0]));
  const hidden0 = d[0] * cfg.mbconvExpandRatio;
  for (let b = 0; b < cfg.depths[0]; b++) add('layers.0', s0 * (2 * d[0] * hidden0 + 9 * hidden0));

  for (let i = 0; i < 4; i++) {
    const dim = d[i]!;
    const side = res[i]!;
    if (i > 0) {
      const ws = cfg.windowSizes[i]!;
      const padded = Math.ceil(side / ws) * ws;
      const windowTokens = px(padded);
      const heads = cfg.numHeads[i]!;
      for (let b = 0; b < cfg.depths[i]!; b++) {
        add(`layers.${i}`, windowTokens * dim * 3 * dim);                          // qkv (padded tokens too)
        add(`layers.${i}`, (windowTokens / (ws * ws)) * heads * 2 * px(ws * ws) * HEAD_DIM); // q k^T, attn v
        add(`layers.${i}`, windowTokens * dim * dim);                              // proj
        add(`layers.${i}`, px(side) * dim * 9);                                    // local depthwise conv
        add(`layers.${i}`, px(side) * 2 * dim * dim * cfg.mlpRatio);               // fc1, fc2
        if (opts.adapter) {
          add('adapters', px(side / 2) * dim * dim * 9);                            // Conv3x3 s2
          add('adapters', px(side / 2) * dim * dim * 16);                           // ConvTranspose4x4 s2
          add('adapters', 2 * dim * dim / 4);                                       // channel MLP
        }
      }
    }
    if (i + 1 < 4) {
      const out = d[i + 1]!;
      const next = side / patchMergingStride(out);
      add(`layers.${i}`, px(side) * dim * out + px(next) * out * 9 + px(next) * out * out);
    }
  }
  const last = px(res[3]!);
  add('neck', last * d[3] * cfg.neckDim + last * cfg.neckDim * cfg.neckDim * 9);
  return { total: Object.values(byPart).reduce((a, b) => a + b, 0), byPart };
}
