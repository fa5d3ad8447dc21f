// The 3D walk at a speed level, with a pool that records its decodes (no networks): the far slice of each gap is
// decoded again with the box of its own first mask (GAP_REDECODES), unless that mask was empty; the exact walk
// (level 1) never re-decodes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { executePlan } from '../../src/pipeline/execute.ts';
import { planRequest } from '../../src/pipeline/plan.ts';
import { DEFAULT_ROUTING } from '../../src/pipeline/router.ts';
import { ByteBudget } from '../../src/pipeline/byte-budget.ts';
import { GAP_REDECODES } from '../../src/pipeline/speed-level.ts';
import type { SegmentOptions } from '../../src/pipeline/segmenter.ts';
import type { SegmentationRequest } from '../../src/pipeline/types.ts';
import type { WorkerPool } from '../../src/workers/pool.ts';
import type { DecodeResult, DecodeTask, EncodeResult, EncodeTask } from '../../src/workers/protocol.ts';

type Box = readonly [number, number, number, number];

/**
 * Encodes write the slice index (the volume's pixel value) into the embedding; decodes read it back and record
 * (slice, prompt box). A decode's next box is its prompt moved by one, so each prompt tells which decode it came
 * from; slices in `emptyOn` give an empty mask and no next box.
 */
function recordingPool(emptyOn: ReadonlySet<number> = new Set()): { pool: WorkerPool; decodes: [number, Box][] } {
  const decodes: [number, Box][] = [];
  const pool = {
    workers: 1,
    encode: async (t: EncodeTask): Promise<EncodeResult> => {
      new Float32Array(t.embedding)[0] = t.slice.pixels[0]!;
      return { cancelled: false, preprocessMs: 0, encodeMs: 1 };
    },
    decode: async (t: DecodeTask): Promise<DecodeResult> => {
      const z = new Float32Array(t.embeddings[0]!.embedding)[0]!;
      const box = Array.from(t.prompts.kind === 'boxes' ? t.prompts.boxes256 : []) as unknown as Box;
      decodes.push([z, box]);
      const empty = emptyOn.has(z);
      const masks = new Uint8Array(t.height * t.width).fill(empty ? 0 : 1);
      const next: Box | null = empty ? null : [box[0] + 1, box[1] + 1, box[2] + 1, box[3] + 1];
      return { cancelled: false, masks, iou: Float32Array.of(0.9), decodeMs: 1, postprocessMs: 0, nextBoxes: [next] };
    },
  };
  return { pool: pool as unknown as WorkerPool, decodes };
}

/** One box over slices 0..8 of a 9 x 16 x 16 volume whose pixels are their slice index: the middle slice is 4. */
function request(speedLevel: number): SegmentationRequest {
  const depth = 9;
  const data = new Uint8Array(depth * 256);
  for (let z = 0; z < depth; z++) data.fill(z, z * 256, (z + 1) * 256);
  return {
    requestId: 'r', mode: 'litemedsam', speedLevel, image: { depth, height: 16, width: 16, channels: 1, data },
    objects: [{ label: 1, prompt: { kind: 'box3d', x0: 2, y0: 2, x1: 10, y1: 10, z0: 0, z1: 8 } }],
  };
}

async function walk(speedLevel: number, options: SegmentOptions, emptyOn?: ReadonlySet<number>): Promise<[number, Box][]> {
  const r = request(speedLevel);
  const rec = recordingPool(emptyOn);
  await executePlan({ pool: rec.pool, budget: new ByteBudget(1 << 30) }, r, planRequest(r, DEFAULT_ROUTING), options);
  return rec.decodes;
}

const shifted = (b: Box, by: number): Box => [b[0] + by, b[1] + by, b[2] + by, b[3] + by];
const bySlice = (decodes: [number, Box][], z: number): Box[] => decodes.filter(([s]) => s === z).map(([, b]) => b);

test(`level 4: each gap's far slice is decoded ${GAP_REDECODES + 1} times, then with its own mask's box`, async () => {
  assert.equal(GAP_REDECODES, 1);
  // Level 4 computes 4 (the middle), then 8 up and 0 down; interpolation only (no refinement), so no other slice.
  const decodes = await walk(4, { gapAgreement: -1 });
  assert.deepEqual([...new Set(decodes.map(([z]) => z))].sort(), [0, 4, 8]);
  const [middle] = bySlice(decodes, 4);
  for (const far of [8, 0]) {
    // First from the middle slice's mask box (middle + 1), then from its own first mask's box (+ 1 again).
    assert.deepEqual(bySlice(decodes, far), [shifted(middle!, 1), shifted(middle!, 2)], `slice ${far}`);
  }
});

test('gapRedecodes 0: the far slice once, prompted from the near slice (the walk before re-decoding)', async () => {
  const decodes = await walk(4, { gapAgreement: -1, gapRedecodes: 0 });
  const [middle] = bySlice(decodes, 4);
  assert.deepEqual(bySlice(decodes, 8), [shifted(middle!, 1)]);
  assert.deepEqual(bySlice(decodes, 0), [shifted(middle!, 1)]);
});

test('an empty first mask has no box to re-prompt with: the far slice is decoded once', async () => {
  const decodes = await walk(4, { gapAgreement: -1 }, new Set([8]));
  assert.equal(bySlice(decodes, 8).length, 1);
  assert.equal(bySlice(decodes, 0).length, 2);
});

test('level 1 (exact): every slice decoded once, each from its neighbour', async () => {
  const decodes = await walk(1, {});
  assert.equal(decodes.length, 9);
  for (let z = 0; z < 9; z++) assert.equal(bySlice(decodes, z).length, 1, `slice ${z}`);
  const [middle] = bySlice(decodes, 4);
  assert.deepEqual(bySlice(decodes, 6), [shifted(middle!, 2)]);
});
