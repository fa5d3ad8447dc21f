// Payload decoding and label encoding run on the codec thread: while a 100 MiB CT is decoded and prepared with
// percentiles, the main thread keeps answering health checks; failures on the codec thread reach the client with
// the same status, stable code and field as any other error.
import assert from 'node:assert/strict';
import { gunzipSync, gzipSync } from 'node:zlib';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import * as grpc from '@grpc/grpc-js';
import type { SegmentInput } from '../../src/client/client.ts';
import { ERROR_CODE_KEY, ERROR_FIELD_KEY } from '../../src/errors/grpc-status.ts';
import { niftiGeometryForArray, writeNiftiLabels } from '../../src/volume/nifti.ts';
import { writeNpz } from '../../src/volume/npz.ts';
import { FakeSegmenter } from '../helpers/fake-segmenter.ts';
import { box3d, rawRequest } from '../helpers/requests.ts';
import { grpcError, startTestService, type TestService } from '../helpers/test-service.ts';

/** What "answers promptly" means here; a decode on the main thread holds every check for its whole duration. */
const HEALTH_LATENCY_MS = 200;

let server: TestService;
const fake = new FakeSegmenter({ sliceMs: 1 });

before(async () => {
  server = await startTestService({ createSegmenter: async () => fake });
  await server.service.ready;
});
after(() => server.stop());

async function bytesReceived(): Promise<number> {
  return (await server.service.metrics.bytesReceived.get()).values[0]?.value ?? 0;
}

/** A 200 x 512 x 512 int16 CT (100 MiB): a disc of soft tissue in air, with noise so the percentiles do work. */
function largeCt(): { shape: [number, number, number]; bytes: Uint8Array } {
  const [depth, height, width] = [200, 512, 512];
  const ct = new Int16Array(depth * height * width);
  let seed = 7;
  for (let z = 0, i = 0; z < depth; z++) {
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++, i++) {
        seed = (seed * 1103515245 + 12345) >>> 0;
        const inside = (x - 256) ** 2 + (y - 256) ** 2 < 180 ** 2;
        ct[i] = (inside ? 40 : -1000) + ((seed >>> 16) % 200);
      }
    }
  }
  return { shape: [depth, height, width], bytes: new Uint8Array(ct.buffer) };
}

test(`health Check answers within ${HEALTH_LATENCY_MS} ms while a 100 MiB percentile-prepared CT is decoded`, async () => {
  const { shape, bytes } = largeCt();
  assert.ok(bytes.length >= 100 * 1024 * 1024);
  const target = (await bytesReceived()) + bytes.length;
  let accepted = false;
  let settled = false;
  const request = server.client().segment({
    header: {
      requestId: 'large-ct', format: 'PAYLOAD_FORMAT_RAW', raw: { shape, dtype: 'VOXEL_TYPE_INT16' }, intensity: { percentile: {} },
      prompts: [box3d(1, 100, 120, 90, 300, 330, 94)], output: { format: 'LABEL_FORMAT_RAW', gzip: true },
    },
    payload: bytes,
  }, { onAccepted: () => { accepted = true; } }).finally(() => { settled = true; });

  // Checks issued once the whole payload was read and answered before the acceptance arrived lie entirely inside
  // the decode (the server decodes between reading the last chunk and sending `accepted`).
  const duringDecode: number[] = [];
  let longestGap = 0;
  let last = performance.now();
  const ticker = setInterval(() => {
    const now = performance.now();
    longestGap = Math.max(longestGap, now - last);
    last = now;
  }, 5);
  try {
    while (!accepted && !settled) {
      const uploaded = (await bytesReceived()) >= target;
      const start = performance.now();
      assert.equal(await server.health(''), 'SERVING');
      const latency = performance.now() - start;
      if (uploaded && !accepted) duringDecode.push(latency);
      await sleep(10);
    }
  } finally {
    clearInterval(ticker);
  }
  const outcome = await request;

  const shown = `latencies ${duringDecode.map((ms) => ms.toFixed(0)).join(', ')} ms; longest event-loop gap ${longestGap.toFixed(0)} ms`;
  assert.ok(duringDecode.length >= 3, `health was checked during the decode (${shown})`);
  assert.ok(Math.max(...duringDecode) < HEALTH_LATENCY_MS, `every check answered within ${HEALTH_LATENCY_MS} ms (${shown})`);
  assert.ok(outcome.summary.stagesMs!.ingest > 0);

  // The answer itself is right: the box painted over slices 90..94, gzip-wrapped raw uint8 labels.
  const labels = gunzipSync(outcome.labels);
  assert.equal(labels.length, shape[0] * shape[1] * shape[2]);
  let painted = 0;
  for (const v of labels) if (v === 1) painted++;
  assert.equal(painted, 5 * 200 * 210);
  assert.equal(outcome.summary.objects[0]!.voxels, painted);
});

interface Expected {
  readonly status: grpc.status;
  readonly code: string;
  readonly field: string;
}

async function expectFailure(target: TestService, input: SegmentInput, expected: Expected): Promise<void> {
  const err = await target.client().segment(input).then(() => assert.fail('expected the call to fail'), grpcError);
  assert.equal(err.code, expected.status, `status ${grpc.status[err.code]}: ${err.details}`);
  assert.deepEqual(err.metadata.get(ERROR_CODE_KEY), [expected.code], err.details);
  assert.deepEqual(err.metadata.get(ERROR_FIELD_KEY), [expected.field], err.details);
  assert.ok(err.details.startsWith(`${expected.field}: `), err.details);
}

test('codec failures reach the client with their status, stable code and field; the server keeps serving', async () => {
  const hu = new Uint8Array(Int16Array.from({ length: 6 * 40 * 48 }, (_, i) => (i % 400) - 100).buffer);
  await expectFailure(server, {
    header: { format: 'PAYLOAD_FORMAT_RAW', raw: { shape: [6, 40, 48], dtype: 'VOXEL_TYPE_INT16' }, prompts: [box3d(1, 4, 5, 1, 20, 22, 4)] },
    payload: hu,
  }, { status: grpc.status.INVALID_ARGUMENT, code: 'INTENSITY_INVALID', field: 'header.intensity.kind' });

  const noImages = writeNpz(new Map([['boxes', { dtype: 'int64', shape: [1, 6], data: BigInt64Array.of(1n, 2n, 0n, 5n, 6n, 1n) }]] as const), { compress: true });
  await expectFailure(server, { header: { format: 'PAYLOAD_FORMAT_NPZ' }, payload: noImages }, { status: grpc.status.INVALID_ARGUMENT, code: 'PAYLOAD_FORMAT', field: 'npz.imgs' });

  // A gzip bomb: 64 KiB on the wire, 4 MiB decompressed, against a 1 MiB limit.
  const small = await startTestService({ config: { maxPayloadBytes: 1024 * 1024 }, createSegmenter: async () => new FakeSegmenter() });
  try {
    await small.service.ready;
    const geometry = niftiGeometryForArray({ kind: 'array', shape: [16, 512, 512], labelShape: [16, 512, 512] });
    const bomb = gzipSync(writeNiftiLabels(new Uint8Array(16 * 512 * 512), geometry, false));
    assert.ok(bomb.length < 1024 * 1024);
    await expectFailure(small, { header: { format: 'PAYLOAD_FORMAT_NIFTI', prompts: [box3d(1, 4, 5, 1, 20, 22, 4)] }, payload: bomb },
      { status: grpc.status.RESOURCE_EXHAUSTED, code: 'PAYLOAD_TOO_LARGE', field: 'payload' });
  } finally {
    await small.stop();
  }
  // Its shutdown closed its codec threads too.
  const closed = await small.service.codec.decode({ format: 'raw' }, new Uint8Array(1)).then(() => assert.fail('expected a closed pool'), (err: Error) => err);
  assert.match(closed.message, /codec pool is closed/);

  assert.equal(await server.health(''), 'SERVING');
  const ok = await server.client().segment(rawRequest({ output: { format: 'LABEL_FORMAT_RAW', forceUint16: true } }));
  assert.equal(ok.summary.labelType, 'LABEL_TYPE_UINT16');
  assert.equal(ok.labels.length, 2 * 6 * 40 * 48);
});
