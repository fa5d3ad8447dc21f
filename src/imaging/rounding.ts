// Rounding helpers that reproduce C/C++ conversions used by OpenCV and PyTorch.

/**
 * cvRound: round to nearest, ties to even (the SSE conversion OpenCV uses by default), as saturate_cast<uchar>
 * does before clamping to 0..255.
 */
export function roundHalfEvenToUint8(value: number): number {
  let r = Math.round(value); // ties go up here ...
  if (r - value === 0.5 && (r & 1) === 1) r -= 1; // ... so bring odd tie results back down to the even neighbour
  return r < 0 ? 0 : r > 255 ? 255 : r;
}

/** cvRound for values well inside the int range (fixed-point coefficients). */
export function roundHalfEven(value: number): number {
  let r = Math.round(value);
  if (r - value === 0.5 && (r & 1) === 1) r -= 1;
  return r;
}
