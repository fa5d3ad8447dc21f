// int8 variant explorer: calibrates the LiteMedSAM encoder's activation ranges once, then builds several QDQ
// variants from the same ranges (which ops are quantised, static or per-image MatMul inputs, GELU on codes) and
// reports each one's embedding error against fp32 on two slices, and optionally its time (alternating with fp32).
//
//   node --import tsx bench/int8-variants.ts [--network litemedsam] [--method minmax|percentile] [--calibration-slices 6] [--variants a,b] [--runs 0]
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import * as ort from 'onnxruntime-node';
import { loadCheckpoint } from '../src/models/checkpoint/load.ts';
import { buildImageEncoder } from '../src/models/networks/image-encoder.ts';
import { calibrateRanges, type CalibrationMethod } from '../src/models/quantize/calibrate.ts';
import { decodeModel, encodeModel, type NodeProto } from '../src/models/quantize/model-proto.ts';
import { decomposeAttention, insertQdq, shareRangesAcrossPieces, quantizableNodes, valuesToCalibrate, type QuantizePolicy } from '../src/models/quantize/qdq-rewrite.ts';
import { calibrationFolder, ENCODER_INPUT_DIMS } from '../src/pipeline/calibration-set.ts';

const { values } = parseArgs({ options: {
  network: { type: 'string', default: 'litemedsam' }, method: { type: 'string', default: 'percentile' }, percentile: { type: 'string' },
  'calibration-slices': { type: 'string', default: '6' }, variants: { type: 'string' }, pieces: { type: 'boolean', default: false }, runs: { type: 'string', default: '0' },
} });
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const models = fileURLToPath(new URL('../models', import.meta.url));
const cases = fileURLToPath(new URL('../../shared/reference/cases/public/imgs', import.meta.url));
const evenly = <T>(xs: readonly T[], n: number): T[] => Array.from({ length: Math.min(n, xs.length) }, (_, i) => xs[Math.floor((i * xs.length) / Math.min(n, xs.length))]!);
const nets = { litemedsam: ['litemedsam-demo/litemedsam_demo.safetensors', false], onesam: ['onesam-demo/onesam_demo.safetensors', true] } as const;
const [file, adapter] = nets[values.network as keyof typeof nets];
const fp32 = buildImageEncoder(await loadCheckpoint(join(models, file)), { adapter });
const all = calibrationFolder(cases).inputs();
const calib = evenly(all, Number(values['calibration-slices']));
// Evaluation slices: not the calibration ones where possible (the odd positions between them).
const evalSlices = [all[1]!, all[Math.floor(all.length / 2) + 1]!, all[all.length - 2]!];

const base = decodeModel(fp32);
decomposeAttention(base);
const everything = quantizableNodes(base, { convolutions: true, keepFloat: () => false });
const t0 = performance.now();
const ranges = await calibrateRanges(base, { name: 'image', dims: ENCODER_INPUT_DIMS, batches: calib }, valuesToCalibrate(everything, { matmulInputs: 'static' }),
  { method: values.method as CalibrationMethod, intraOpThreads: 2, ...(values.percentile ? { percentile: Number(values.percentile) } : {}) });
console.log(`calibrated ${calib.length} slices (${values.method}) in ${((performance.now() - t0) / 1000).toFixed(0)} s`);

type Variant = { pick: (n: NodeProto) => boolean; policy: QuantizePolicy };
const isConv = (n: NodeProto) => n.opType === 'Conv', isMatMul = (n: NodeProto) => n.opType === 'MatMul';
const stage = (re: RegExp) => (n: NodeProto) => re.test(n.name!);
const variants: Record<string, Variant> = {
  'dyn-matmul-only': { pick: isMatMul, policy: { matmulInputs: 'dynamic' } },
  'static-conv-only': { pick: isConv, policy: {} },
  'static-conv-only-gelu-float': { pick: isConv, policy: { geluOnCodes: false } },
  'static-matmul-only': { pick: isMatMul, policy: { matmulInputs: 'static' } },
  'dyn+conv': { pick: () => true, policy: { matmulInputs: 'dynamic' } },
  'dyn+conv-gelu-float': { pick: () => true, policy: { matmulInputs: 'dynamic', geluOnCodes: false } },
  'dyn+conv-no-stem': { pick: (n) => isMatMul(n) || !/patch_embed|layers\.0\./.test(n.name!), policy: { matmulInputs: 'dynamic' } },
  'dyn+conv-no-neck': { pick: (n) => isMatMul(n) || !/neck/.test(n.name!), policy: { matmulInputs: 'dynamic' } },
  'static-no-patch-embed': { pick: (n) => !/patch_embed/.test(n.name!), policy: { matmulInputs: 'static' } },
  'static-no-stem': { pick: (n) => isMatMul(n) || !/patch_embed|layers\.0\./.test(n.name!), policy: { matmulInputs: 'static' } },
  'matmul-layers.1': { pick: (n) => isMatMul(n) && /layers\.1\./.test(n.name!), policy: {} },
  'matmul-layers.2': { pick: (n) => isMatMul(n) && /layers\.2\./.test(n.name!), policy: {} },
  'matmul-layers.3': { pick: (n) => isMatMul(n) && /layers\.3\./.test(n.name!), policy: {} },
  'matmul-attn': { pick: (n) => isMatMul(n) && /attn/.test(n.name!), policy: {} },
  'matmul-mlp': { pick: (n) => isMatMul(n) && /mlp/.test(n.name!), policy: {} },
  'matmul-other': { pick: (n) => isMatMul(n) && !/attn|mlp/.test(n.name!), policy: {} },
  'matmul-attn-mlp': { pick: (n) => isMatMul(n) && /attn|mlp/.test(n.name!), policy: {} },
  'static-all': { pick: () => true, policy: { matmulInputs: 'static' } },
  'conv-patch_embed': { pick: (n) => isConv(n) && /patch_embed/.test(n.name!), policy: {} },
  'conv-layers.0': { pick: (n) => isConv(n) && /layers\.0\./.test(n.name!), policy: {} },
  'conv-local': { pick: (n) => isConv(n) && /local_conv/.test(n.name!), policy: {} },
  'conv-downsample': { pick: (n) => isConv(n) && /downsample/.test(n.name!), policy: {} },
  'conv-neck': { pick: (n) => isConv(n) && /neck/.test(n.name!), policy: {} },
  // OneSAM: the adapters' convolutions (a quarter of its multiply-accumulates), alone and beside the default.
  'conv-adapter': { pick: (n) => isConv(n) && /Adapter/.test(n.name!), policy: {} },
  'matmul-attn-mlp+conv-adapter': { pick: (n) => (isMatMul(n) && /attn|mlp/.test(n.name!)) || (isConv(n) && /Adapter/.test(n.name!)), policy: {} },
  'matmul-attn-mlp+conv-adapter-down': { pick: (n) => (isMatMul(n) && /attn|mlp/.test(n.name!)) || (isConv(n) && /Adapter\.spatial\.0/.test(n.name!)), policy: {} },
  'matmul-attn-mlp+conv-adapter-up': { pick: (n) => (isMatMul(n) && /attn|mlp/.test(n.name!)) || (isConv(n) && /Adapter\.spatial\.2/.test(n.name!)), policy: {} },
};
void stage;
const opts: ort.InferenceSession.SessionOptions = { intraOpNumThreads: 1, interOpNumThreads: 1, graphOptimizationLevel: 'all', enableCpuMemArena: false, enableMemPattern: false };
const feed = (x: Float32Array) => ({ image: new ort.Tensor('float32', x, [...ENCODER_INPUT_DIMS]) });
const ref = await ort.InferenceSession.create(fp32, opts);
const refOut = [];
for (const x of evalSlices) refOut.push(((await ref.run(feed(x))).image_embeddings!.data as Float32Array).slice());
for (const name of (values.variants ?? Object.keys(variants).join(',')).split(',')) {
  const v = variants[name]!;
  const m = decodeModel(encodeModel(base));
  const nodes = quantizableNodes(m, { convolutions: true, keepFloat: () => false }).filter(v.pick);
  insertQdq(m, nodes, values.pieces ? ranges : shareRangesAcrossPieces(quantizableNodes(m, { convolutions: true, keepFloat: () => false }), ranges), v.policy);
  const s = await ort.InferenceSession.create(encodeModel(m), opts);
  let sq = 0, rr = 0, worst = 0;
  for (let i = 0; i < evalSlices.length; i++) {
    const e = (await s.run(feed(evalSlices[i]!))).image_embeddings!.data as Float32Array;
    let a = 0, b = 0;
    for (let j = 0; j < e.length; j++) { const d = e[j]! - refOut[i]![j]!; a += d * d; b += refOut[i]![j]! ** 2; }
    sq += a; rr += b; worst = Math.max(worst, Math.sqrt(a / b));
  }
  let timing = '';
  const runs = Number(values.runs);
  if (runs > 0) {
    const ta: number[] = [], tb: number[] = [];
    for (let i = 0; i < runs; i++) {
      const x = feed(evalSlices[i % evalSlices.length]!);
      let t = performance.now(); await ref.run(x); ta.push(performance.now() - t);
      t = performance.now(); await s.run(x); tb.push(performance.now() - t);
    }
    timing = `; fp32 ${median(ta).toFixed(0)} ms, int8 ${median(tb).toFixed(0)} ms, ${(median(ta) / median(tb)).toFixed(2)}x`;
  }
  console.log(`${name}: ${nodes.length} nodes, rel RMS ${(100 * Math.sqrt(sq / rr)).toFixed(2)} % (worst slice ${(100 * worst).toFixed(2)} %)${timing}`);
  await s.release();
}
