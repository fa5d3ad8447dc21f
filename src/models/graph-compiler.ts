// What the model repository needs from a graph compiler, apart from the compiler itself: the repository loads the
// project's builders (compile.ts) lazily and tests pass their own, so both sides depend on these types, never on
// each other.
import type { NetworkName } from './network-contract.ts';
import type { StateDict } from './checkpoint/tensor.ts';

export interface CompiledGraphs {
  /** ONNX ModelProto bytes of the image encoder. */
  readonly encoder: Uint8Array;
  /** ONNX ModelProto bytes of the prompt encoder + mask decoder. */
  readonly decoder: Uint8Array;
}

export type CompileGraphs = (arch: NetworkName, weights: StateDict) => CompiledGraphs;

export interface GraphCompiler {
  /** Part of the cache key: graphs built by another version are rebuilt. */
  readonly version: string;
  readonly compile: CompileGraphs;
}
