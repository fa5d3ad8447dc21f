// int8 encoder benchmark: builds each network's fp32 encoder, quantises it (src/models/quantize, calibrated on the
// public cases), then alternates fp32 and int8 runs on the same slices in one process (A B A B ...) and reports
// medians, the speed-up, the embedding error, and which kernels the int8 session ran (onnxruntime's profile).
//
//   node --import tsx bench/int8.ts [--runs 7] [--threads 1,2] [--method minmax|percentile] [--keep-float REGEX] [--network litemedsam,onesam] [--profile]
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import * as ort from 'onnxruntime-node';
import { loadCheckpoint } from '../src/models/checkpoint/load.ts';
import { buildImageEncoder } from '../src/models/networks/image-encoder.ts';
import { quantizeGraph, type CalibrationMethod } from '../src/models/quantize/index.ts';
import { calibrationFolder, ENCODER_INPUT_DIMS } from '../src/pipeline/calibration-set.ts';

const { values } = parseArgs({ options: {
  runs: { type: 'string', default: '7' }, threads: { type: 'string', default: '1,2' }, method: { type: 'string', default: 'percentile' },
  'keep-float': { type: 'string' }, network: { type: 'string', default: 'litemedsam,onesam' }, profile: { type: 'boolean', default: false }, 'gelu-float': { type: 'boolean', default: false }, 'calibration-slices': { type: 'string' }, matmul: { type: 'string', default: 'static' }, convolutions: { type: 'boolean', default: false }, percentile: { type: 'string' },
} });
const runs = Number(values.runs);
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const models = fileURLToPath(new URL('../models', import.meta.url));
const cases = fileURLToPath(new URL('../../shared/reference/cases/public/imgs', import.meta.url));
/** n inputs spread over the whole set (every case type, not the first few). */
const evenly = <T>(xs: readonly T[], n: number): T[] => Array.from({ length: Math.min(n, xs.length) }, (_, i) => xs[Math.floor((i * xs.length) / Math.min(n, xs.length))]!);
const keep = values['keep-float'] ? new RegExp(values['keep-float']) : undefined;

const source = calibrationFolder(cases);
const calibration = { fingerprint: source.fingerprint, inputs: source.inputs() };
console.log(`calibration: ${calibration.inputs.length} slices, ${calibration.fingerprint.slice(0, 12)}`);
const nets = { litemedsam: ['litemedsam-demo/litemedsam_demo.safetensors', false], onesam: ['onesam-demo/onesam_demo.safetensors', true] } as const;

for (const network of values.network.split(',') as (keyof typeof nets)[]) {
  const [file, adapter] = nets[network];
  const fp32 = buildImageEncoder(await loadCheckpoint(join(models, file)), { adapter });
  let t = performance.now();
  const int8 = await quantizeGraph(fp32, { name: 'image', dims: ENCODER_INPUT_DIMS, batches: values['calibration-slices'] ? evenly(calibration.inputs, Number(values['calibration-slices'])) : calibration.inputs },
    { method: values.method as CalibrationMethod, intraOpThreads: 2, geluOnCodes: !values['gelu-float'], matmulInputs: values.matmul as 'static' | 'dynamic', convolutions: values.convolutions, ...(values.percentile ? { percentile: Number(values.percentile) } : {}), ...(keep ? { keepFloat: (n: string) => keep.test(n) } : {}) });
  console.log(`${network}: quantised in ${((performance.now() - t) / 1000).toFixed(1)} s, ${(fp32.byteLength / 1e6).toFixed(1)} -> ${(int8.byteLength / 1e6).toFixed(1)} MB`);
  for (const threads of values.threads.split(',').map(Number)) {
    const opts = (profile: boolean): ort.InferenceSession.SessionOptions => ({
      intraOpNumThreads: threads, interOpNumThreads: 1, graphOptimizationLevel: 'all', enableCpuMemArena: false,
      extra: { session: { intra_op: { allow_spinning: '0' } } }, ...(profile ? { enableProfiling: true, profileFilePrefix: `/tmp/int8-${network}-${threads}` } : {}),
    });
    const a = await ort.InferenceSession.create(fp32, opts(false));
    const b = await ort.InferenceSession.create(int8, opts(values.profile));
    const slices = [calibration.inputs[0]!, calibration.inputs[calibration.inputs.length - 1]!];
    const feeds = (i: number) => ({ image: new ort.Tensor('float32', slices[i % slices.length]!, [...ENCODER_INPUT_DIMS]) });
    await a.run(feeds(0));
    await b.run(feeds(0));
    const ta: number[] = [], tb: number[] = [];
    let maxDiff = 0, sq = 0, ref = 0;
    for (let i = 0; i < runs; i++) {
      t = performance.now(); const ra = await a.run(feeds(i)); ta.push(performance.now() - t);
      t = performance.now(); const rb = await b.run(feeds(i)); tb.push(performance.now() - t);
      const ea = ra.image_embeddings!.data as Float32Array, eb = rb.image_embeddings!.data as Float32Array;
      for (let j = 0; j < ea.length; j++) { const d = Math.abs(ea[j]! - eb[j]!); if (d > maxDiff) maxDiff = d; sq += d * d; ref += ea[j]! * ea[j]!; }
    }
    console.log(`${network} threads=${threads}: fp32 ${median(ta).toFixed(0)} ms, int8 ${median(tb).toFixed(0)} ms, speed-up ${(median(ta) / median(tb)).toFixed(2)}x; embeddings max|d| ${maxDiff.toFixed(3)}, rel RMS ${(100 * Math.sqrt(sq / ref)).toFixed(2)} %`);
    if (values.profile) {
      b.endProfiling();
      const path = readdirSync('/tmp').map((f) => join('/tmp', f)).find((f) => f.startsWith(`/tmp/int8-${network}-${threads}`))!;
      const events = JSON.parse(readFileSync(path, 'utf8')) as { cat: string; name: string; dur: number; args?: { op_name?: string } }[];
      const byOp = new Map<string, number>();
      for (const e of events) if (e.cat === 'Node' && e.name.endsWith('_kernel_time')) byOp.set(e.args!.op_name!, (byOp.get(e.args!.op_name!) ?? 0) + e.dur);
      const total = [...byOp.values()].reduce((x, y) => x + y, 0);
      console.log([...byOp].sort((x, y) => y[1] - x[1]).map(([op, us]) => `${op} ${(us / 1000 / (runs + 1)).toFixed(1)}ms (${(100 * us / total).toFixed(0)}%)`).join(', '));
      rmSync(path);
    }
    await a.release(); await b.release();
  }
}
