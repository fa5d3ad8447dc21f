// The exact state dict each network's architecture implies, and the strict check of a checkpoint against it:
// every key and shape is derived from the configuration (./architectures.ts), in the order PyTorch's
// module.state_dict() lists them (a module's own tensors before its children's), so that a checkpoint is
// checked strictly before any graph is built from it.
import type { MaskDecoderSpec, PromptEncoderSpec, TinyVitSpec } from './architectures.ts';
import { CheckpointError } from './checkpoint/errors.ts';
import type { StateDict } from './checkpoint/tensor.ts';
import { NETWORK_NAMES, NETWORKS, type NetworkName } from './network-contract.ts';

export interface ExpectedTensor {
  readonly key: string;
  readonly shape: readonly number[];
  /** Integer buffers (BatchNorm's num_batches_tracked); every other entry is floating point. */
  readonly integer: boolean;
}

/** Accumulates entries under a module path, mirroring nn.Module naming. */
class KeyList {
  readonly entries: ExpectedTensor[] = [];
  add(key: string, shape: readonly number[], integer = false): void {
    this.entries.push({ key, shape: [...shape], integer });
  }
  linear(p: string, cin: number, cout: number, bias = true): void {
    this.add(`${p}.weight`, [cout, cin]);
    if (bias) this.add(`${p}.bias`, [cout]);
  }
  norm(p: string, c: number): void {
    this.add(`${p}.weight`, [c]);
    this.add(`${p}.bias`, [c]);
  }
  conv(p: string, cin: number, cout: number, k: number, { groups = 1, bias = true } = {}): void {
    this.add(`${p}.weight`, [cout, cin / groups, k, k]);
    if (bias) this.add(`${p}.bias`, [cout]);
  }
  /** ConvTranspose2d stores its weight as (in, out, k, k). */
  convTranspose(p: string, cin: number, cout: number, k: number, bias = true): void {
    this.add(`${p}.weight`, [cin, cout, k, k]);
    if (bias) this.add(`${p}.bias`, [cout]);
  }
  /** TinyViT's Conv2d_BN: bias-free conv `.c` + BatchNorm2d `.bn` with running stats. */
  convBn(p: string, cin: number, cout: number, k: number, groups = 1): void {
    this.conv(`${p}.c`, cin, cout, k, { groups, bias: false });
    this.norm(`${p}.bn`, cout);
    this.add(`${p}.bn.running_mean`, [cout]);
    this.add(`${p}.bn.running_var`, [cout]);
    this.add(`${p}.bn.num_batches_tracked`, [], true);
  }
  /** SAM's MLP: `layers.{0..depth-1}` Linear stack. */
  mlp(p: string, cin: number, hidden: number, cout: number, depth: number): void {
    for (let i = 0; i < depth; i++) this.linear(`${p}.layers.${i}`, i === 0 ? cin : hidden, i === depth - 1 ? cout : hidden);
  }
}

function imageEncoderKeys(k: KeyList, p: string, e: TinyVitSpec): void {
  const dims = e.embedDims;
  const stem = dims[0]! / 2;
  k.convBn(`${p}.patch_embed.seq.0`, e.inChans, stem, e.patchEmbedKernel);
  k.convBn(`${p}.patch_embed.seq.2`, stem, dims[0]!, e.patchEmbedKernel);
  for (let i = 0; i < dims.length; i++) {
    const dim = dims[i]!;
    const layer = `${p}.layers.${i}`;
    for (let b = 0; b < e.depths[i]!; b++) {
      const blk = `${layer}.blocks.${b}`;
      if (i === 0) {
        // ConvLayer of MBConv blocks: expand 1x1, depthwise 3x3, project 1x1.
        const hidden = dim * e.mbconvExpandRatio;
        k.convBn(`${blk}.conv1`, dim, hidden, 1);
        k.convBn(`${blk}.conv2`, hidden, hidden, 3, hidden);
        k.convBn(`${blk}.conv3`, hidden, dim, 1);
        continue;
      }
      const heads = e.numHeads[i]!;
      const ws = e.windowSizes[i]!;
      k.add(`${blk}.attn.attention_biases`, [heads, ws * ws]);
      k.norm(`${blk}.attn.norm`, dim);
      // key_dim = dim/heads and attn_ratio 1, so qkv is dim -> 3*dim and proj dim -> dim.
      k.linear(`${blk}.attn.qkv`, dim, 3 * dim);
      k.linear(`${blk}.attn.proj`, dim, dim);
      k.norm(`${blk}.mlp.norm`, dim);
      k.linear(`${blk}.mlp.fc1`, dim, dim * e.mlpRatio);
      k.linear(`${blk}.mlp.fc2`, dim * e.mlpRatio, dim);
      k.convBn(`${blk}.local_conv`, dim, dim, 3, dim);
      if (e.adapter) {
        const hidden = Math.trunc(dim * e.adapter.hiddenRatio);
        k.norm(`${blk}.Adapter.norm`, dim);
        k.linear(`${blk}.Adapter.channel.0`, dim, hidden, false);
        k.linear(`${blk}.Adapter.channel.2`, hidden, dim, false);
        k.conv(`${blk}.Adapter.spatial.0`, dim, dim, e.adapter.spatialKernel, { bias: false });
        k.convTranspose(`${blk}.Adapter.spatial.2`, dim, dim, e.adapter.upKernel, false);
      }
    }
    if (i + 1 < dims.length) {
      // PatchMerging: 1x1 widen, depthwise 3x3 (stride 2 or 1), 1x1.
      const out = dims[i + 1]!;
      k.convBn(`${layer}.downsample.conv1`, dim, out, 1);
      k.convBn(`${layer}.downsample.conv2`, out, out, 3, out);
      k.convBn(`${layer}.downsample.conv3`, out, out, 1);
    }
  }
  const last = dims[dims.length - 1]!;
  k.conv(`${p}.neck.0`, last, e.neckDim, 1, { bias: false });
  k.norm(`${p}.neck.1`, e.neckDim);
  k.conv(`${p}.neck.2`, e.neckDim, e.neckDim, 3, { bias: false });
  k.norm(`${p}.neck.3`, e.neckDim);
}

function attentionKeys(k: KeyList, p: string, dim: number, downsample: number): void {
  const inner = dim / downsample;
  k.linear(`${p}.q_proj`, dim, inner);
  k.linear(`${p}.k_proj`, dim, inner);
  k.linear(`${p}.v_proj`, dim, inner);
  k.linear(`${p}.out_proj`, inner, dim);
}

/** Two 2x ConvTranspose up-scalings with a LayerNorm2d between (`.0`, `.1`, GELU, `.3`). */
function upscalingKeys(k: KeyList, p: string, cin: number, mid: number, cout: number): void {
  k.convTranspose(`${p}.0`, cin, mid, 2);
  k.norm(`${p}.1`, mid);
  k.convTranspose(`${p}.3`, mid, cout, 2);
}

function maskDecoderKeys(k: KeyList, p: string, d: MaskDecoderSpec): void {
  const t = `${p}.transformer`;
  for (let l = 0; l < d.depth; l++) {
    const layer = `${t}.layers.${l}`;
    attentionKeys(k, `${layer}.self_attn`, d.dim, 1);
    k.norm(`${layer}.norm1`, d.dim);
    attentionKeys(k, `${layer}.cross_attn_token_to_image`, d.dim, d.attentionDownsampleRate);
    k.norm(`${layer}.norm2`, d.dim);
    k.linear(`${layer}.mlp.lin1`, d.dim, d.mlpDim);
    k.linear(`${layer}.mlp.lin2`, d.mlpDim, d.dim);
    k.norm(`${layer}.norm3`, d.dim);
    k.norm(`${layer}.norm4`, d.dim);
    attentionKeys(k, `${layer}.cross_attn_image_to_token`, d.dim, d.attentionDownsampleRate);
  }
  attentionKeys(k, `${t}.final_attn_token_to_image`, d.dim, d.attentionDownsampleRate);
  k.norm(`${t}.norm_final_attn`, d.dim);

  const [up1, up2] = d.upscaleDims;
  k.add(`${p}.iou_token.weight`, [1, d.dim]);
  k.add(`${p}.mask_tokens.weight`, [d.numMaskTokens, d.dim]);
  upscalingKeys(k, `${p}.output_upscaling`, d.dim, up1, up2);
  for (let i = 0; i < d.numMaskTokens; i++) k.mlp(`${p}.output_hypernetworks_mlps.${i}`, d.dim, d.dim, up2, 3);
  k.mlp(`${p}.iou_prediction_head`, d.dim, d.iouHeadHidden, d.numMaskTokens, d.iouHeadDepth);

  if (d.hq) {
    k.add(`${p}.hf_token.weight`, [1, d.dim]);
    k.mlp(`${p}.hf_mlp`, d.dim, d.dim, up2, 3);
    upscalingKeys(k, `${p}.compress_vit_feat`, d.hq.vitDim, d.dim, up2);
    upscalingKeys(k, `${p}.embedding_encoder`, d.dim, up1, up2);
    // embedding_maskfeature: Conv3x3(32->64) -> LN2d -> GELU -> Conv3x3(64->32).
    k.conv(`${p}.embedding_maskfeature.0`, up2, up1, 3);
    k.norm(`${p}.embedding_maskfeature.1`, up1);
    k.conv(`${p}.embedding_maskfeature.3`, up1, up2, 3);
  }
}

function promptEncoderKeys(k: KeyList, p: string, s: PromptEncoderSpec): void {
  k.add(`${p}.pe_layer.positional_encoding_gaussian_matrix`, [2, s.embedDim / 2]);
  for (let i = 0; i < s.pointEmbeddings; i++) k.add(`${p}.point_embeddings.${i}.weight`, [1, s.embedDim]);
  k.add(`${p}.not_a_point_embed.weight`, [1, s.embedDim]);
  // mask_downscaling: Conv k2s2 (1 -> c/4) LN2d GELU, Conv k2s2 (-> c) LN2d GELU, Conv 1x1 (-> embedDim).
  const quarter = s.maskInChans / 4;
  k.conv(`${p}.mask_downscaling.0`, 1, quarter, 2);
  k.norm(`${p}.mask_downscaling.1`, quarter);
  k.conv(`${p}.mask_downscaling.3`, quarter, s.maskInChans, 2);
  k.norm(`${p}.mask_downscaling.4`, s.maskInChans);
  k.conv(`${p}.mask_downscaling.6`, s.maskInChans, s.embedDim, 1);
  k.add(`${p}.no_mask_embed.weight`, [1, s.embedDim]);
}

const expectedCache = new Map<NetworkName, readonly ExpectedTensor[]>();

/** Every state-dict entry of `arch`, in MedSAM_Lite's registration order (image_encoder, mask_decoder, prompt_encoder). */
export function expectedStateDict(arch: NetworkName): readonly ExpectedTensor[] {
  let list = expectedCache.get(arch);
  if (!list) {
    const spec = NETWORKS[arch].architecture;
    const k = new KeyList();
    imageEncoderKeys(k, 'image_encoder', spec.encoder);
    maskDecoderKeys(k, 'mask_decoder', spec.decoder);
    promptEncoderKeys(k, 'prompt_encoder', spec.prompt);
    list = Object.freeze(k.entries);
    expectedCache.set(arch, list);
  }
  return list;
}

/** Learnable parameters (BatchNorm running stats and the prompt encoder's PE matrix are buffers). */
export function parameterCount(arch: NetworkName): number {
  return expectedStateDict(arch)
    .filter((t) => !/\.running_(mean|var)$|num_batches_tracked$|positional_encoding_gaussian_matrix$/.test(t.key))
    .reduce((n, t) => n + t.shape.reduce((a, b) => a * b, 1), 0);
}

export interface ArchitectureDiff {
  readonly missing: readonly string[];
  readonly unexpected: readonly string[];
  readonly mismatched: readonly { key: string; expected: readonly number[]; actual: readonly number[] }[];
  readonly wrongDtype: readonly { key: string; dtype: string; expected: 'integer' | 'floating' }[];
}

const INTEGER_DTYPES = new Set(['I64', 'I32', 'I16', 'I8', 'U8', 'BOOL']);

/** Compares a state dict with an architecture, key by key (strict=True semantics plus shape and dtype class). */
export function diffArchitecture(sd: StateDict, arch: NetworkName): ArchitectureDiff {
  const expected = expectedStateDict(arch);
  const expectedKeys = new Set(expected.map((t) => t.key));
  const missing: string[] = [];
  const mismatched: ArchitectureDiff['mismatched'][number][] = [];
  const wrongDtype: ArchitectureDiff['wrongDtype'][number][] = [];
  for (const e of expected) {
    const t = sd.get(e.key);
    if (!t) { missing.push(e.key); continue; }
    if (t.shape.length !== e.shape.length || t.shape.some((d, i) => d !== e.shape[i])) {
      mismatched.push({ key: e.key, expected: e.shape, actual: t.shape });
    } else if (INTEGER_DTYPES.has(t.dtype) !== e.integer) {
      wrongDtype.push({ key: e.key, dtype: t.dtype, expected: e.integer ? 'integer' : 'floating' });
    }
  }
  const unexpected = [...sd.keys()].filter((key) => !expectedKeys.has(key));
  return { missing, unexpected, mismatched, wrongDtype };
}

function isClean(d: ArchitectureDiff): boolean {
  return d.missing.length + d.unexpected.length + d.mismatched.length + d.wrongDtype.length === 0;
}

/** The architecture a state dict matches exactly, if any. */
export function detectArchitecture(sd: StateDict): NetworkName | null {
  return NETWORK_NAMES.find((a) => isClean(diffArchitecture(sd, a))) ?? null;
}

const LIST_CAP = 8;

function capped(label: string, items: readonly string[]): string | null {
  if (items.length === 0) return null;
  const shown = items.slice(0, LIST_CAP).join(', ');
  return `${items.length} ${label}: ${shown}${items.length > LIST_CAP ? `, ... (${items.length - LIST_CAP} more)` : ''}`;
}

/**
 * Throws one CHECKPOINT_ARCH_MISMATCH listing missing keys, unexpected keys, shape and dtype mismatches
 * (each capped, with counts), and naming the architecture the checkpoint does match when there is one.
 */
export function checkArchitecture(sd: StateDict, arch: NetworkName, source = 'checkpoint'): void {
  const d = diffArchitecture(sd, arch);
  if (isClean(d)) return;
  const parts = [
    capped('missing keys', d.missing),
    capped('unexpected keys', d.unexpected),
    capped('shape mismatches', d.mismatched.map((m) => `${m.key} [${m.actual.join(',')}] expected [${m.expected.join(',')}]`)),
    capped('dtype mismatches', d.wrongDtype.map((m) => `${m.key} ${m.dtype} expected ${m.expected}`)),
  ].filter((p): p is string => p !== null);
  const other = NETWORK_NAMES.find((a) => a !== arch && isClean(diffArchitecture(sd, a)));
  const hint = other ? `; it matches the ${other} architecture instead` : '';
  throw new CheckpointError('CHECKPOINT_ARCH_MISMATCH',
    `${source} does not match the ${arch} architecture (${expectedStateDict(arch).length} tensors expected, ${sd.size} found): ${parts.join('; ')}${hint}`);
}
