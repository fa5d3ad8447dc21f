// Typed, checked access to the prompt encoder's and mask decoder's tensors in a full LiteMedSAM/OneSAM state dict.
import { CheckpointError } from '../../checkpoint/errors.ts';
import type { StateDict } from '../../checkpoint/tensor.ts';

export class DecoderWeights {
  constructor(private readonly stateDict: StateDict) {}

  /** The float tensor `key` (full state-dict name); throws CHECKPOINT_ARCH_MISMATCH naming the key if absent or misshapen. */
  f32(key: string, shape: readonly number[]): Float32Array {
    const t = this.stateDict.get(key);
    if (!t) throw new CheckpointError('CHECKPOINT_ARCH_MISMATCH', `decoder weight ${key} is missing from the checkpoint`);
    if (!(t.data instanceof Float32Array)) {
      throw new CheckpointError('CHECKPOINT_ARCH_MISMATCH', `decoder weight ${key} has dtype ${t.dtype}, expected a floating dtype`);
    }
    if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
      throw new CheckpointError('CHECKPOINT_ARCH_MISMATCH',
        `decoder weight ${key} has shape [${t.shape.join(',')}], expected [${shape.join(',')}]`);
    }
    return t.data;
  }

  /** nn.Linear `<key>.weight` (out, in) and `<key>.bias` (out). */
  linear(key: string, out: number, inp: number): LinearWeights {
    return { weight: this.f32(`${key}.weight`, [out, inp]), bias: this.f32(`${key}.bias`, [out]), out, inp };
  }

  /** An affine norm's `<key>.weight` and `<key>.bias`, both (dim). */
  norm(key: string, dim: number): NormWeights {
    return { weight: this.f32(`${key}.weight`, [dim]), bias: this.f32(`${key}.bias`, [dim]) };
  }
}

export interface LinearWeights {
  readonly weight: Float32Array;
  readonly bias: Float32Array;
  readonly out: number;
  readonly inp: number;
}

export interface NormWeights {
  readonly weight: Float32Array;
  readonly bias: Float32Array;
}
