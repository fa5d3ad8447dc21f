// SegmentOptions.schedule 'reference' (what `onesam bench` compares against): objects one after another, each with
// embeddings of its own, so every 3D box encodes its whole span while the shared schedule encodes each slice once;
// the 2D boxes of one slice still share its encoding. Checked with a pool that records its tasks (no networks).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { executePlan } from '../../src/pipeline/execute.ts';
import { planRequest } from '../../src/pipeline/plan.ts';
import { DEFAULT_ROUTING } from '../../src/pipeline/router.ts';
import { ByteBudget } from '../../src/pipeline/byte-budget.ts';
import type { SegmentationRequest } from '../../src/pipeline/types.ts';
import type { WorkerPool } from '../../src/workers/pool.ts';
import type { DecodeResult, DecodeTask, EncodeResult, EncodeTask } from '../../src/workers/protocol.ts';

/** Encodes and decodes answered at once; records encoded slices (by their first pixel: the slice index) in order. */
function recordingPool(): { pool: WorkerPool; encoded: number[]; decodes: number } {
  const rec = { encoded: [] as number[], decodes: 0 };
  const pool = {
    workers: 2,
    encode: async (t: EncodeTask): Promise<EncodeResult> => {
      rec.encoded.push(t.slice.pixels[0]!);
      return { cancelled: false, preprocessMs: 0, encodeMs: 1 };
    },
    decode: async (t: DecodeTask): Promise<DecodeResult> => {
      rec.decodes++;
      const b = t.prompts.kind === 'boxes' ? t.prompts.boxes256.length / 4 : 1;
      const masks = new Uint8Array(b * t.height * t.width).fill(1);
      return { cancelled: false, masks, iou: new Float32Array(b).fill(0.9), decodeMs: 1, postprocessMs: 0, nextBoxes: Array.from({ length: b }, () => [1, 1, 10, 10] as const) };
    },
  };
  return { pool: pool as unknown as WorkerPool, get encoded() { return rec.encoded; }, get decodes() { return rec.decodes; } };
}

function request(): SegmentationRequest {
  const depth = 8;
  const data = new Uint8Array(depth * 16 * 16);
  for (let z = 0; z < depth; z++) data.fill(z, z * 256, (z + 1) * 256);
  return {
    requestId: 'r', mode: 'litemedsam', image: { depth, height: 16, width: 16, channels: 1, data },
    objects: [
      { label: 1, prompt: { kind: 'box3d', x0: 1, y0: 1, x1: 9, y1: 9, z0: 1, z1: 5 } },
      { label: 2, prompt: { kind: 'box3d', x0: 2, y0: 2, x1: 12, y1: 12, z0: 3, z1: 7 } },
      { label: 3, prompt: { kind: 'box2d', x0: 0, y0: 0, x1: 4, y1: 4, z: 6 } },
      { label: 4, prompt: { kind: 'box2d', x0: 4, y0: 4, x1: 8, y1: 8, z: 6 } },
    ],
  };
}

for (const schedule of ['shared', 'reference'] as const) {
  test(`schedule ${schedule}: slices encoded and labels`, async () => {
    const r = request();
    const rec = recordingPool();
    const result = await executePlan({ pool: rec.pool, budget: new ByteBudget(1024 * 1024 * 1024) }, r, planRequest(r, DEFAULT_ROUTING), { schedule });
    // Box 1 spans 1..5, box 2 spans 3..7, the 2D boxes sit on slice 6: 7 distinct slices, 5 + 5 + 1 by object.
    const expected = schedule === 'shared' ? 7 : 11;
    assert.equal(result.slicesEncoded.litemedsam, expected);
    assert.equal(rec.encoded.length, expected);
    if (schedule === 'reference') {
      // One object after another: box 1's slices, then box 2's, then slice 6 once for both 2D boxes.
      assert.deepEqual([...rec.encoded.slice(0, 5)].sort(), [1, 2, 3, 4, 5]);
      assert.deepEqual([...rec.encoded.slice(5, 10)].sort(), [3, 4, 5, 6, 7]);
      assert.deepEqual(rec.encoded.slice(10), [6]);
    }
    // 5 + 5 walk steps and one batched decode of the two 2D boxes, whatever the schedule.
    assert.equal(rec.decodes, 11);
    // Later objects overwrite earlier ones: the same labels under both schedules.
    assert.deepEqual([...result.labels.subarray(6 * 256, 6 * 256 + 4)], [4, 4, 4, 4]);
    assert.equal(result.labels[1 * 256], 1);
    assert.equal(result.labels[4 * 256], 2);
  });
}
