// Issue 7, defect 1: an npz decompression bomb passed the payload limit. A 2.2 MB npz whose `imgs` inflates to
// (2200, 1024, 1024) uint8 (2.15 GiB) was decoded and segmented while the server's RSS went from 1.05 to 5.9 GB.
// Against a real server on 127.0.0.1 with the default limits: the bomb, its 300- and 700-slice versions and the
// .nii.gz equivalent are refused with RESOURCE_EXHAUSTED and the PAYLOAD_TOO_LARGE trailer within a second, the
// process's RSS (server and codec thread live in this process) stays flat throughout, health stays SERVING and
// the next valid request is served.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import type { SegmentInput } from '../../src/client/client.ts';
import { ERROR_CODE_KEY, ERROR_FIELD_KEY } from '../../src/errors/grpc-status.ts';
import { gzippedZeros, niftiHeader, npzBomb } from '../helpers/bombs.ts';
import { FakeSegmenter } from '../helpers/fake-segmenter.ts';
import { box3d, rawRequest } from '../helpers/requests.ts';
import { grpcError, startTestService, type TestService } from '../helpers/test-service.ts';

const MiB = 1024 * 1024;
/** The bound on the refusal, for the whole call (a 2.2 MB upload over loopback included). */
const REFUSE_WITHIN_MS = 1000;
/** RSS may move by the upload and allocator noise, nowhere near a decoded bomb (300 MiB at the least). */
const RSS_GROWTH_LIMIT_MB = 50;

let server: TestService;

before(async () => {
  server = await startTestService({ createSegmenter: async () => new FakeSegmenter() });
  await server.service.ready;
  // Warm the codec thread and the client channel, so the baseline RSS already holds both.
  await server.client().segment(rawRequest());
});
after(() => server.stop());

interface Refusal {
  readonly ms: number;
  readonly rssGrowthMB: number;
  readonly err: grpc.ServiceError;
}

/** Sends `input`, expecting a failure; samples RSS every 2 ms while the call runs (the main thread is idle). */
async function refusal(input: SegmentInput): Promise<Refusal> {
  const baseline = process.memoryUsage.rss();
  let peak = baseline;
  const sampler = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage.rss());
  }, 2);
  const start = performance.now();
  try {
    const err = await server.client().segment(input).then(() => assert.fail('the bomb was accepted'), grpcError);
    const ms = performance.now() - start;
    peak = Math.max(peak, process.memoryUsage.rss());
    return { ms, rssGrowthMB: (peak - baseline) / MiB, err };
  } finally {
    clearInterval(sampler);
  }
}

function assertRefused(r: Refusal, field: string, label: string): void {
  assert.equal(r.err.code, grpc.status.RESOURCE_EXHAUSTED, `${label}: ${grpc.status[r.err.code]} ${r.err.details}`);
  assert.deepEqual(r.err.metadata.get(ERROR_CODE_KEY), ['PAYLOAD_TOO_LARGE'], r.err.details);
  assert.deepEqual(r.err.metadata.get(ERROR_FIELD_KEY), [field], r.err.details);
  assert.ok(r.ms < REFUSE_WITHIN_MS, `${label}: refused after ${r.ms.toFixed(0)} ms`);
  assert.ok(r.rssGrowthMB < RSS_GROWTH_LIMIT_MB, `${label}: RSS grew by ${r.rssGrowthMB.toFixed(1)} MiB`);
  console.log(`${label}: refused in ${r.ms.toFixed(0)} ms, peak RSS growth ${r.rssGrowthMB.toFixed(1)} MiB`);
}

// A box inside every bomb's volume, so the old code went on to segment what it had decoded.
const prompts = [box3d(1, 10, 10, 0, 100, 100, 2)];

test("the issue's npz bomb (2.2 MB inflating to 2.15 GiB) is refused within a second and RSS does not move", async () => {
  const bomb = npzBomb({ shape: [2200, 1024, 1024] });
  assert.ok(bomb.length < 2.5 * MiB && bomb.length > 2 * MiB, `${bomb.length} bytes`);
  const r = await refusal({ header: { requestId: 'npz-bomb', format: 'PAYLOAD_FORMAT_NPZ', prompts }, payload: bomb });
  assertRefused(r, 'npz.imgs', 'npz bomb 2200 slices');
  assert.match(r.err.details, /2306867200 voxels/);
  assert.equal(await server.health(''), 'SERVING');
});

test('its 300- and 700-slice versions and the .nii.gz equivalent are refused the same way', async () => {
  for (const slices of [300, 700]) {
    const bomb = npzBomb({ shape: [slices, 1024, 1024] });
    assertRefused(await refusal({ header: { format: 'PAYLOAD_FORMAT_NPZ', prompts }, payload: bomb }), 'npz.imgs', `npz bomb ${slices} slices`);
  }
  const nifti = gzippedZeros(niftiHeader([1024, 1024, 2200]), 2200 * MiB);
  assertRefused(await refusal({ header: { format: 'PAYLOAD_FORMAT_NIFTI', prompts }, payload: nifti }), 'payload', 'nii.gz bomb 2200 slices');
  // A zip that records 1 KiB for a member that inflates to 2 GiB: stopped at the size its .npy header declares.
  const liar = npzBomb({ shape: [64, 64, 64], streamZeros: 2048 * MiB, declaredSize: 1024 });
  assertRefused(await refusal({ header: { format: 'PAYLOAD_FORMAT_NPZ', prompts }, payload: liar }), 'npz.imgs', 'npz member inflating past its header');
});

test('after the bombs the server is SERVING and serves a valid request', async () => {
  assert.equal(await server.health(''), 'SERVING');
  const ok = await server.client().segment(rawRequest());
  assert.equal(ok.labels.length, 6 * 40 * 48);
  const errors = await server.service.metrics.errors.get();
  const tooLarge = errors.values.find((v) => v.labels['code'] === 'PAYLOAD_TOO_LARGE');
  assert.equal(tooLarge?.value, 5);
});
