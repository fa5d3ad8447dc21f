// The paper CT's embedding footprint under the shared schedule, without the networks: the real executePlan and
// EmbeddingStore over a simulated worker pool (encode 800 ms, decode 60 ms, decodes first, time scaled down), for
// several embedding budgets (its wall times mean nothing: timers on a loaded machine). It shows how many slice embeddings the walks hold at once and what a smaller budget
// costs in re-encodes (bench/README.md, "Memory of the paper CT"). Runs in seconds, no models loaded.
//   node --import tsx bench/embedding-footprint.ts [--budgets 1024,600,512,400] [--network onesam|litemedsam]
import { parseArgs } from 'node:util';
import { executePlan } from '../src/pipeline/execute.ts';
import { planRequest } from '../src/pipeline/plan.ts';
import { DEFAULT_ROUTING } from '../src/pipeline/router.ts';
import { ByteBudget } from '../src/pipeline/byte-budget.ts';
import type { SegmentationRequest } from '../src/pipeline/types.ts';
import type { WorkerPool } from '../src/workers/pool.ts';
import type { DecodeTask, DecodeResult, EncodeResult } from '../src/workers/protocol.ts';
import { NETWORKS, type NetworkName } from '../src/models/network-contract.ts';
import { PAPER_CT } from '../src/cli/bench-volumes.ts';

const { values } = parseArgs({ options: { budgets: { type: 'string', default: '1024,600,512,400,300' }, network: { type: 'string', default: 'onesam' }, workers: { type: 'string', default: '2' } } });
const network = values.network as NetworkName;
const WORKERS = Number(values.workers);
const SCALE = 0.01;
const MiB = 1024 * 1024;

/** A pool of WORKERS simulated threads: decodes before encodes, as src/workers/pool.ts orders them. */
function simulatedPool(): { pool: WorkerPool; encodes: () => number } {
  let busy = 0;
  let encodes = 0;
  const queue: { decode: boolean; start: () => void }[] = [];
  const pump = (): void => {
    while (busy < WORKERS && queue.length > 0) {
      const i = Math.max(0, queue.findIndex((q) => q.decode));
      queue.splice(i, 1)[0]!.start();
    }
  };
  const submit = <T>(decode: boolean, ms: number, result: () => T): Promise<T> => new Promise((resolve) => {
    queue.push({ decode, start: () => { busy++; setTimeout(() => { busy--; resolve(result()); pump(); }, ms * SCALE); } });
    pump();
  });
  const pool = {
    workers: WORKERS,
    encode: (): Promise<EncodeResult> => { encodes++; return submit(false, 800, () => ({ cancelled: false, preprocessMs: 0, encodeMs: 800 })); },
    decode: (t: DecodeTask): Promise<DecodeResult> => submit(true, 60, () => ({
      cancelled: false, masks: new Uint8Array(t.height * t.width), iou: new Float32Array(1), decodeMs: 60, postprocessMs: 0,
      // The walk's next box: the same box, as on an object that keeps its size.
      nextBoxes: t.prompts.kind === 'boxes' ? [Array.from(t.prompts.boxes256) as [number, number, number, number]] : [null],
    })),
  };
  return { pool: pool as unknown as WorkerPool, encodes: () => encodes };
}

const { depth } = PAPER_CT;
// A small plane: the footprint does not depend on it, and painting 512 x 512 masks would dominate the time.
const h = 64;
const w = 64;
const request: SegmentationRequest = {
  requestId: 'footprint', mode: network, modality: 'CT',
  image: { depth, height: h, width: w, channels: 1, data: new Uint8Array(depth * h * w) },
  objects: PAPER_CT.zRanges.map(([z0, z1], i) => ({ label: i + 1, prompt: { kind: 'box3d', x0: 10, y0: 10, x1: 40, y1: 40, z0, z1 } })),
};
const plan = planRequest(request, DEFAULT_ROUTING);
console.log(`paper CT, ${network} (${NETWORKS[network].sliceBytes / MiB} MiB per slice), ${WORKERS} simulated workers`);
console.log('budget MiB | peak embeddings MiB (slices) | slices encoded');
for (const budgetMiB of values.budgets.split(',').map(Number)) {
  const { pool, encodes } = simulatedPool();
  const budget = new ByteBudget(budgetMiB * MiB);
  await executePlan({ pool, budget }, request, plan);
  console.log(`${budgetMiB} | ${(budget.peak / MiB).toFixed(0)} (${Math.round(budget.peak / NETWORKS[network].sliceBytes)}) | ${encodes()}`);
}
