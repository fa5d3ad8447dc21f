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

/** The calibration behind an int8 build: what the activation ranges are measured on. */
export interface CalibrationSource {
  /** Identifies the inputs (e.g. SHA-256 of the case files): part of the cache key. */
  readonly fingerprint: string;
  /** The encoder inputs, (1,3,256,256) float32 each; read only when a build is needed. */
  readonly inputs: () => readonly Float32Array[];
}

/** `precision: int8` of a model: the image encoder quantised statically (src/models/quantize). */
export interface Int8Request {
  readonly precision: 'int8';
  /** How activation ranges are taken from the calibration runs (minmax or percentile). */
  readonly method: 'minmax' | 'percentile';
  readonly calibration: CalibrationSource;
}

/** Builds a model's graphs: fp32 without `int8`, or with its encoder quantised. */
export type CompileGraphs = (arch: NetworkName, weights: StateDict, int8?: Int8Request) => CompiledGraphs | Promise<CompiledGraphs>;

export interface GraphCompiler {
  /** Part of the cache key: graphs built by another version are rebuilt. */
  readonly version: string;
  readonly compile: CompileGraphs;
}
