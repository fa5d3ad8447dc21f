// Static int8 quantisation of a built fp32 graph (the `precision: int8` of a model): decompose what hides its
// matrix products (com.microsoft Attention), pick the MatMul (and on request Conv) nodes with constant weights,
// calibrate their activation ranges on the given inputs by running the fp32 graph, give the strips and bands of one
// layer one range, and insert QDQ pairs with int8 weights.
import { calibrateRanges, type CalibrationInput, type CalibrationOptions } from './calibrate.ts';
import { decodeModel, encodeModel } from './model-proto.ts';
import { decomposeAttention, insertQdq, shareRangesAcrossPieces, quantizableNodes, valuesToCalibrate, type QuantizePolicy } from './qdq-rewrite.ts';

export { CALIBRATION_METHODS, type CalibrationInput, type CalibrationMethod, type CalibrationOptions } from './calibrate.ts';
export type { QuantizePolicy } from './qdq-rewrite.ts';

export interface QuantizeOptions extends CalibrationOptions, QuantizePolicy {}

export async function quantizeGraph(fp32: Uint8Array, input: CalibrationInput, opts: QuantizeOptions): Promise<Uint8Array> {
  if (input.batches.length === 0) throw new Error('int8 quantisation needs at least one calibration input');
  const model = decodeModel(fp32);
  decomposeAttention(model);
  const nodes = quantizableNodes(model, opts);
  const names = valuesToCalibrate(nodes, opts);
  const ranges = await calibrateRanges(model, input, names, opts);
  insertQdq(model, nodes, shareRangesAcrossPieces(nodes, ranges), opts);
  return encodeModel(model);
}
