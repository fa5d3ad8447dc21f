// Pure functions on typed arrays that reproduce the reference pre- and post-processing exactly.
export { MODEL_SIDE, longestSideSize, scaleBox, type Box, type ResizedSize } from './longest-side.ts';
export { resizeArea } from './resize-area.ts';
export { normalizeMinMax, padAndLayoutCHW, preprocessSlice, type PreprocessedSlice } from './normalize.ts';
export { bboxFromMask256 } from './bbox.ts';
export { postprocessLogits, linearAxis, sigmoidAboveHalf } from './postprocess.ts';
