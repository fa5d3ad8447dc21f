// The inverse DCT of 12-bit JPEG as IJG libjpeg computes it by default ("islow", jidctint.c), which is what dcmtk's
// dcmdjpeg and the DICOM tools built on it show: the Loeffler-Ligtenberg-Moschytz factorisation (12 multiplies)
// with constants scaled by 2^13 (CONST_BITS), one extra bit kept between the column and the row pass (PASS1_BITS 1
// at 12 bits, so that the intermediate values fit libjpeg's int workspace), each pass rounded by adding half and
// shifting right (DESCALE), then the level shift (+2048) and libjpeg's range-limit table. Any other IDCT, even a
// more exact one, differs from dcmtk by one grey level in some pixels, so this one follows libjpeg bit for bit.
//
// Arithmetic: libjpeg's 12-bit build computes in INT32 (a C long, 64 bits on the platforms dcmtk ships for) and
// stores the column pass in int. JavaScript numbers hold the products exactly (at most about 2^48: a 16-bit
// coefficient times a 16-bit quantiser times a 15-bit constant, summed a few times); shifts are floor divisions,
// which is what an arithmetic right shift is; the Int32Array workspace truncates as the C int store does.

const CONST_BITS = 13;
const PASS1_BITS = 1;
/** FIX(x) of jidctint.c: x scaled by 2^CONST_BITS, rounded to the nearest integer. */
const fix = (x: number): number => Math.floor(x * (1 << CONST_BITS) + 0.5);
const FIX_0_298631336 = fix(0.298631336);
const FIX_0_390180644 = fix(0.390180644);
const FIX_0_541196100 = fix(0.5411961);
const FIX_0_765366865 = fix(0.765366865);
const FIX_0_899976223 = fix(0.899976223);
const FIX_1_175875602 = fix(1.175875602);
const FIX_1_501321110 = fix(1.50132111);
const FIX_1_847759065 = fix(1.847759065);
const FIX_1_961570560 = fix(1.96157056);
const FIX_2_053119869 = fix(2.053119869);
const FIX_2_562915447 = fix(2.562915447);
const FIX_3_072711026 = fix(3.072711026);

// DESCALE(x, n) = (x + 2^(n-1)) >> n, as a multiplication by 2^-n (exact in binary floating point) and a floor.
const PASS1_HALF = 2 ** (CONST_BITS - PASS1_BITS - 1);
const PASS1_SCALE = 2 ** -(CONST_BITS - PASS1_BITS);
const PASS2_HALF = 2 ** (CONST_BITS + PASS1_BITS + 2);
const PASS2_SCALE = 2 ** -(CONST_BITS + PASS1_BITS + 3);
/** The shortcut for a row of zero AC terms: DESCALE(x, PASS1_BITS + 3). */
const ROW_HALF = 2 ** (PASS1_BITS + 2);
const ROW_SCALE = 2 ** -(PASS1_BITS + 3);
const SCALE = 2 ** CONST_BITS;

const MAX_SAMPLE = 4095;
const CENTER = 2048;
/** libjpeg's post-IDCT range limit indexes a table of 4 x 4096 entries with the low 14 bits of the value. */
const RANGE_MASK = 4 * (MAX_SAMPLE + 1) - 1;
const RANGE_HALF = 2 * (MAX_SAMPLE + 1);

/**
 * The sample for a row-pass result, as libjpeg's range_limit[x & RANGE_MASK] gives it: the low 14 bits read as a
 * signed value in -8192..8191, level shifted and clamped to 0..4095 (a wildly out-of-range value wraps first,
 * exactly as libjpeg's table lookup does).
 */
function rangeLimit(x: number): number {
  let v = x & RANGE_MASK;
  if (v >= RANGE_HALF) v -= RANGE_MASK + 1;
  v += CENTER;
  return v < 0 ? 0 : v > MAX_SAMPLE ? MAX_SAMPLE : v;
}

/**
 * Dequantises one block of coefficients (natural order, as libjpeg stores JCOEF: 16-bit) with `quant` (natural order)
 * and writes its 8 x 8 samples at `out[at]`, rows `stride` apart. `acZero`: every AC coefficient is zero, so each
 * pass takes libjpeg's own shortcut for zero columns and rows (which gives the same values as the full pass).
 * `workspace`: 64 entries of scratch.
 */
export function islowIdct12(block: Int16Array, quant: Uint16Array, acZero: boolean, out: Uint16Array, at: number, stride: number, workspace: Int32Array): void {
  if (acZero) {
    workspace[0] = block[0]! * quant[0]! * (1 << PASS1_BITS);
    const value = rangeLimit(Math.floor((workspace[0]! + ROW_HALF) * ROW_SCALE));
    for (let row = 0, o = at; row < 8; row++, o += stride) {
      for (let x = 0; x < 8; x++) out[o + x] = value;
    }
    return;
  }
  // Pass 1: columns of the dequantised coefficients into the workspace, scaled up by 2^PASS1_BITS.
  for (let col = 0; col < 8; col++) {
    if (block[8 + col] === 0 && block[16 + col] === 0 && block[24 + col] === 0 && block[32 + col] === 0
      && block[40 + col] === 0 && block[48 + col] === 0 && block[56 + col] === 0) {
      const dc = block[col]! * quant[col]! * (1 << PASS1_BITS);
      for (let k = 0; k < 64; k += 8) workspace[k + col] = dc;
      continue;
    }
    // Even part: coefficients 0, 2, 4, 6.
    let z2 = block[16 + col]! * quant[16 + col]!;
    let z3 = block[48 + col]! * quant[48 + col]!;
    let z1 = (z2 + z3) * FIX_0_541196100;
    let tmp2 = z1 - z3 * FIX_1_847759065;
    let tmp3 = z1 + z2 * FIX_0_765366865;
    z2 = block[col]! * quant[col]!;
    z3 = block[32 + col]! * quant[32 + col]!;
    let tmp0 = (z2 + z3) * SCALE;
    let tmp1 = (z2 - z3) * SCALE;
    const tmp10 = tmp0 + tmp3;
    const tmp13 = tmp0 - tmp3;
    const tmp11 = tmp1 + tmp2;
    const tmp12 = tmp1 - tmp2;
    // Odd part: coefficients 7, 5, 3, 1.
    tmp0 = block[56 + col]! * quant[56 + col]!;
    tmp1 = block[40 + col]! * quant[40 + col]!;
    tmp2 = block[24 + col]! * quant[24 + col]!;
    tmp3 = block[8 + col]! * quant[8 + col]!;
    z1 = tmp0 + tmp3;
    z2 = tmp1 + tmp2;
    z3 = tmp0 + tmp2;
    let z4 = tmp1 + tmp3;
    const z5 = (z3 + z4) * FIX_1_175875602;
    tmp0 *= FIX_0_298631336;
    tmp1 *= FIX_2_053119869;
    tmp2 *= FIX_3_072711026;
    tmp3 *= FIX_1_501321110;
    z1 *= -FIX_0_899976223;
    z2 *= -FIX_2_562915447;
    z3 = z3 * -FIX_1_961570560 + z5;
    z4 = z4 * -FIX_0_390180644 + z5;
    tmp0 += z1 + z3;
    tmp1 += z2 + z4;
    tmp2 += z2 + z3;
    tmp3 += z1 + z4;
    workspace[col] = Math.floor((tmp10 + tmp3 + PASS1_HALF) * PASS1_SCALE);
    workspace[56 + col] = Math.floor((tmp10 - tmp3 + PASS1_HALF) * PASS1_SCALE);
    workspace[8 + col] = Math.floor((tmp11 + tmp2 + PASS1_HALF) * PASS1_SCALE);
    workspace[48 + col] = Math.floor((tmp11 - tmp2 + PASS1_HALF) * PASS1_SCALE);
    workspace[16 + col] = Math.floor((tmp12 + tmp1 + PASS1_HALF) * PASS1_SCALE);
    workspace[40 + col] = Math.floor((tmp12 - tmp1 + PASS1_HALF) * PASS1_SCALE);
    workspace[24 + col] = Math.floor((tmp13 + tmp0 + PASS1_HALF) * PASS1_SCALE);
    workspace[32 + col] = Math.floor((tmp13 - tmp0 + PASS1_HALF) * PASS1_SCALE);
  }
  // Pass 2: rows of the workspace into samples, removing the PASS1_BITS and the factor 8 of the 2-D transform.
  for (let row = 0; row < 8; row++) {
    const w = row * 8;
    const o = at + row * stride;
    if (workspace[w + 1] === 0 && workspace[w + 2] === 0 && workspace[w + 3] === 0 && workspace[w + 4] === 0
      && workspace[w + 5] === 0 && workspace[w + 6] === 0 && workspace[w + 7] === 0) {
      const value = rangeLimit(Math.floor((workspace[w]! + ROW_HALF) * ROW_SCALE));
      for (let x = 0; x < 8; x++) out[o + x] = value;
      continue;
    }
    let z2 = workspace[w + 2]!;
    let z3 = workspace[w + 6]!;
    let z1 = (z2 + z3) * FIX_0_541196100;
    let tmp2 = z1 - z3 * FIX_1_847759065;
    let tmp3 = z1 + z2 * FIX_0_765366865;
    let tmp0 = (workspace[w]! + workspace[w + 4]!) * SCALE;
    let tmp1 = (workspace[w]! - workspace[w + 4]!) * SCALE;
    const tmp10 = tmp0 + tmp3;
    const tmp13 = tmp0 - tmp3;
    const tmp11 = tmp1 + tmp2;
    const tmp12 = tmp1 - tmp2;
    tmp0 = workspace[w + 7]!;
    tmp1 = workspace[w + 5]!;
    tmp2 = workspace[w + 3]!;
    tmp3 = workspace[w + 1]!;
    z1 = tmp0 + tmp3;
    z2 = tmp1 + tmp2;
    z3 = tmp0 + tmp2;
    let z4 = tmp1 + tmp3;
    const z5 = (z3 + z4) * FIX_1_175875602;
    tmp0 *= FIX_0_298631336;
    tmp1 *= FIX_2_053119869;
    tmp2 *= FIX_3_072711026;
    tmp3 *= FIX_1_501321110;
    z1 *= -FIX_0_899976223;
    z2 *= -FIX_2_562915447;
    z3 = z3 * -FIX_1_961570560 + z5;
    z4 = z4 * -FIX_0_390180644 + z5;
    tmp0 += z1 + z3;
    tmp1 += z2 + z4;
    tmp2 += z2 + z3;
    tmp3 += z1 + z4;
    out[o] = rangeLimit(Math.floor((tmp10 + tmp3 + PASS2_HALF) * PASS2_SCALE));
    out[o + 7] = rangeLimit(Math.floor((tmp10 - tmp3 + PASS2_HALF) * PASS2_SCALE));
    out[o + 1] = rangeLimit(Math.floor((tmp11 + tmp2 + PASS2_HALF) * PASS2_SCALE));
    out[o + 6] = rangeLimit(Math.floor((tmp11 - tmp2 + PASS2_HALF) * PASS2_SCALE));
    out[o + 2] = rangeLimit(Math.floor((tmp12 + tmp1 + PASS2_HALF) * PASS2_SCALE));
    out[o + 5] = rangeLimit(Math.floor((tmp12 - tmp1 + PASS2_HALF) * PASS2_SCALE));
    out[o + 3] = rangeLimit(Math.floor((tmp13 + tmp0 + PASS2_HALF) * PASS2_SCALE));
    out[o + 4] = rangeLimit(Math.floor((tmp13 - tmp0 + PASS2_HALF) * PASS2_SCALE));
  }
}
