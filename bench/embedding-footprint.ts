// How many slice embeddings a 3D request holds at once, per schedule, without the networks: the real executePlan and
// EmbeddingStore over a simulated worker pool on a virtual clock (bench/virtual-pool.ts: encode 800 ms, decode
// 60 ms, decodes first), so a run takes milliseconds and its makespan is exact in simulated time. For the paper's CT
// and MR and seeded random box sets it compares the shared schedule's order (src/pipeline/walk-schedule.ts) with the
// round-robin order it replaced: peak embeddings held, slices encoded, and the simulated makespan against the
// encoder-bound lower bound (all encodes and decodes spread over the workers). Then, for the CT, what a smaller
// embedding budget costs in re-encodes (bench/README.md, "Memory of the paper CT").
//   node --import tsx bench/embedding-footprint.ts [--random 20] [--seed 1] [--workers 2] [--network onesam|litemedsam]
//     [--budgets 1024,600,400,300,200] [--encode-ms 800] [--decode-ms 60] [--submit-ms 0]
import { parseArgs } from 'node:util';
import { executePlan } from '../src/pipeline/execute.ts';
import { planRequest } from '../src/pipeline/plan.ts';
import { DEFAULT_ROUTING } from '../src/pipeline/router.ts';
import { ByteBudget } from '../src/pipeline/byte-budget.ts';
import type { SegmentOptions } from '../src/pipeline/segmenter.ts';
import type { SegmentationRequest } from '../src/pipeline/types.ts';
import { NETWORKS, type NetworkName } from '../src/models/network-contract.ts';
import { PAPER_CT, PAPER_MR, seededRandom } from '../src/cli/bench-volumes.ts';
import { virtualPool } from '../test/helpers/virtual-pool.ts';

const { values } = parseArgs({
  options: {
    budgets: { type: 'string', default: '1024,600,400,300,200' },
    network: { type: 'string', default: 'onesam' },
    workers: { type: 'string', default: '2' },
    random: { type: 'string', default: '20' },
    seed: { type: 'string', default: '1' },
    'encode-ms': { type: 'string', default: '800' },
    'decode-ms': { type: 'string', default: '60' },
    'submit-ms': { type: 'string', default: '0' },
  },
});
const network = values.network as NetworkName;
const WORKERS = Number(values.workers);
const ENCODE_MS = Number(values['encode-ms']);
const DECODE_MS = Number(values['decode-ms']);
const MiB = 1024 * 1024;
const sliceMiB = NETWORKS[network].sliceBytes / MiB;

interface BoxSet {
  readonly name: string;
  readonly depth: number;
  readonly zRanges: readonly (readonly [number, number])[];
}

/** 2-10 boxes on a 60-320 slice volume, each over 4-45 % of it, anywhere. */
function randomSet(i: number, rand: () => number): BoxSet {
  const depth = 60 + Math.floor(rand() * 261);
  const n = 2 + Math.floor(rand() * 9);
  const zRanges = Array.from({ length: n }, () => {
    const span = Math.max(2, Math.round(depth * (0.04 + 0.41 * rand())));
    const z0 = Math.floor(rand() * (depth - span));
    return [z0, z0 + span] as const;
  });
  return { name: `random ${i + 1}`, depth, zRanges };
}

function requestFor(set: BoxSet): SegmentationRequest {
  // A small plane: the footprint does not depend on it, and painting 512 x 512 masks would dominate the time.
  const h = 32;
  const w = 32;
  return {
    requestId: 'footprint', mode: network, modality: 'CT',
    image: { depth: set.depth, height: h, width: w, channels: 1, data: new Uint8Array(set.depth * h * w) },
    objects: set.zRanges.map(([z0, z1], i) => ({ label: i + 1, prompt: { kind: 'box3d', x0: 4, y0: 4, x1: 20, y1: 20, z0, z1 } })),
  };
}

interface Run { peakSlices: number; encodes: number; makespanMs: number }

async function run(set: BoxSet, schedule: SegmentOptions['schedule'], budgetMiB = 1024): Promise<Run> {
  const request = requestFor(set);
  const plan = planRequest(request, DEFAULT_ROUTING);
  const vp = virtualPool({ workers: WORKERS, encodeMs: ENCODE_MS, decodeMs: DECODE_MS, submitMs: Number(values['submit-ms']) });
  const budget = new ByteBudget(budgetMiB * MiB);
  const { ms } = await vp.run(() => executePlan({ pool: vp.pool, budget }, request, plan, { schedule }));
  return { peakSlices: Math.round(budget.peak / NETWORKS[network].sliceBytes), encodes: vp.encodes(), makespanMs: ms };
}

/** The makespan no schedule can beat: every encode and decode of the request spread evenly over the workers. */
function lowerBoundMs(set: BoxSet): number {
  const plan = planRequest(requestFor(set), DEFAULT_ROUTING);
  return (new Set(plan.visits).size * ENCODE_MS + plan.visits.length * DECODE_MS) / WORKERS;
}

const rand = seededRandom(Number(values.seed));
const sets: BoxSet[] = [
  { ...PAPER_CT, name: 'paper CT' },
  { ...PAPER_MR, name: 'paper MR' },
  ...Array.from({ length: Number(values.random) }, (_, i) => randomSet(i, rand)),
];

console.log(`${network} (${sliceMiB} MiB per slice), ${WORKERS} simulated workers, encode ${ENCODE_MS} ms, decode ${DECODE_MS} ms, default budget`);
console.log('| box set | boxes | distinct slices | peak held, round-robin -> shared | slices encoded, rr -> shared | makespan / lower bound, rr -> shared |');
console.log('| --- | --- | --- | --- | --- | --- |');
const ratios: { peak: number; makespan: number }[] = [];
for (const set of sets) {
  const plan = planRequest(requestFor(set), DEFAULT_ROUTING);
  const distinct = new Set(plan.visits).size;
  const before = await run(set, 'round-robin');
  const after = await run(set, 'shared');
  const lb = lowerBoundMs(set);
  ratios.push({ peak: after.peakSlices / before.peakSlices, makespan: after.makespanMs / before.makespanMs });
  console.log(`| ${set.name} (${set.depth} slices) | ${set.zRanges.length} | ${distinct} | ${before.peakSlices} (${Math.round(before.peakSlices * sliceMiB)} MiB) -> ${after.peakSlices} (${Math.round(after.peakSlices * sliceMiB)} MiB) | ${before.encodes} -> ${after.encodes} | ${(before.makespanMs / lb).toFixed(3)} -> ${(after.makespanMs / lb).toFixed(3)} |`);
}
const random = ratios.slice(2);
if (random.length > 0) {
  const sorted = (xs: number[]): number[] => [...xs].sort((a, b) => a - b);
  const peaks = sorted(random.map((r) => r.peak));
  const spans = sorted(random.map((r) => r.makespan));
  console.log(`random sets: peak shared / round-robin median ${peaks[peaks.length >> 1]!.toFixed(2)}, worst ${peaks.at(-1)!.toFixed(2)}; makespan shared / round-robin median ${spans[spans.length >> 1]!.toFixed(4)}, worst ${spans.at(-1)!.toFixed(4)}`);
}

console.log(`\npaper CT under a smaller embedding budget (${PAPER_CT.zRanges.length} boxes, 205 distinct slices)`);
console.log('| budget MiB | peak held, round-robin -> shared | slices encoded, rr -> shared |');
console.log('| --- | --- | --- |');
for (const budgetMiB of values.budgets.split(',').map(Number)) {
  const before = await run(sets[0]!, 'round-robin', budgetMiB);
  const after = await run(sets[0]!, 'shared', budgetMiB);
  console.log(`| ${budgetMiB} | ${Math.round(before.peakSlices * sliceMiB)} MiB (${before.peakSlices}) -> ${Math.round(after.peakSlices * sliceMiB)} MiB (${after.peakSlices}) | ${before.encodes} -> ${after.encodes} |`);
}
