// Challenge evaluation: Dice and normalised surface Dice exactly as the CVPR 2024 challenge computes them.
export { caseMetrics, NSD_TOLERANCE, NSD_MIN_DSC, type CaseMetrics, type LabelMetrics } from './metrics.ts';
export { evaluateCase, evaluateDirectories, type CaseReport, type EvalReport } from './evaluate.ts';
export { surfaceDistances, surfaceDiceAtTolerance, type SurfaceDistances, type Shape3, type Spacing3 } from './surface-dice.ts';
export { squaredDistanceTransform } from '../imaging/edt.ts';
export { surfelAreaTable, surfelNormals, cornerBit } from './surfel-areas.ts';
export { labelCounts, diceOf, maxLabel } from './dice.ts';
export { EvalError, type EvalErrorCode } from './errors.ts';
