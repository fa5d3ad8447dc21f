// Typed, checked access to the image encoder's tensors in a full LiteMedSAM/OneSAM state dict.
import { CheckpointError } from '../../checkpoint/errors.ts';
import type { StateDict } from '../../checkpoint/tensor.ts';
import { foldBatchNorm, type ConvWeights } from '../../onnx/ops.ts';

/** BatchNorm2d default eps; Conv2d_BN never overrides it. */
const BATCH_NORM_EPS = 1e-5;

export class EncoderWeights {
  constructor(private readonly stateDict: StateDict, private readonly prefix = 'image_encoder.') {}

  /** The float tensor `<prefix><key>`; throws a CHECKPOINT_ARCH_MISMATCH naming the key if absent or misshapen. */
  f32(key: string, shape: readonly number[]): Float32Array {
    const full = this.prefix + key;
    const t = this.stateDict.get(full);
    if (!t) throw new CheckpointError('CHECKPOINT_ARCH_MISMATCH', `image encoder weight ${full} is missing from the checkpoint`);
    if (!(t.data instanceof Float32Array)) {
      throw new CheckpointError('CHECKPOINT_ARCH_MISMATCH', `image encoder weight ${full} has dtype ${t.dtype}, expected a floating dtype`);
    }
    if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
      throw new CheckpointError('CHECKPOINT_ARCH_MISMATCH',
        `image encoder weight ${full} has shape [${t.shape.join(',')}], expected [${shape.join(',')}]`);
    }
    return t.data;
  }

  /** A Conv2d_BN (`<key>.c`, `<key>.bn`) with the eval-mode BatchNorm folded into the convolution. */
  convBn(key: string, cin: number, cout: number, k: number, groups = 1): ConvWeights {
    const weightShape = [cout, cin / groups, k, k];
    return foldBatchNorm({ weight: this.f32(`${key}.c.weight`, weightShape), weightShape }, {
      weight: this.f32(`${key}.bn.weight`, [cout]),
      bias: this.f32(`${key}.bn.bias`, [cout]),
      runningMean: this.f32(`${key}.bn.running_mean`, [cout]),
      runningVar: this.f32(`${key}.bn.running_var`, [cout]),
      eps: BATCH_NORM_EPS,
    });
  }
}
