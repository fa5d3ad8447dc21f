// Successful Segment calls over gRPC against the real server with a fake Segmenter: every payload and output
// format, prompts from the header and from an npz, the response sequence, concurrency, metrics and logs.
import assert from 'node:assert/strict';
import { gunzipSync } from 'node:zlib';
import { after, before, test } from 'node:test';
import { rawLabels } from '../../src/client/labels.ts';
import { SERVER_REQUEST_ID_KEY } from '../../src/errors/grpc-status.ts';
import { strokesToVoxels } from '../../src/protocol/scribble-strokes.ts';
import type { Prompt as PipelinePrompt } from '../../src/pipeline/types.ts';
import { readNifti, writeNiftiLabels } from '../../src/volume/nifti.ts';
import { readNpz, writeNpz } from '../../src/volume/npz.ts';
import { FakeSegmenter, paint } from '../helpers/fake-segmenter.ts';
import { box2d, box3d, rawRequest, SMALL_3D, volumeBytes, type VolumeSize } from '../helpers/requests.ts';
import { rawSegmentCall, scrape, startTestService, type TestService } from '../helpers/test-service.ts';

let server: TestService;
const fake = new FakeSegmenter({ sliceMs: 2 });

before(async () => {
  server = await startTestService({ createSegmenter: async () => fake });
  await server.service.ready;
});
after(() => server.stop());

function expectedLabels(size: VolumeSize, objects: readonly { label: number; prompt: PipelinePrompt }[], wide = false): Uint8Array | Uint16Array {
  const labels = wide ? new Uint16Array(size.depth * size.height * size.width) : new Uint8Array(size.depth * size.height * size.width);
  for (const o of objects) paint(labels, o.prompt, o.label, size);
  return labels;
}

test('raw 3D volume with two 3D boxes: accepted, progress, labels, summary in that order', async () => {
  const input = rawRequest({ modality: 'CT', prompts: [box3d(1, 4, 5, 1, 20, 22, 4), box3d(2, 25, 10, 0, 40, 30, 2)] });
  const order: string[] = [];
  const plansBefore = fake.plansMade;
  const outcome = await server.client().segment(input, { onAccepted: () => order.push('accepted'), onProgress: () => order.push('progress') });
  assert.equal(order[0], 'accepted');
  // The plan sent as Accepted is the one segment() runs: the request is planned once.
  assert.equal(fake.plansMade - plansBefore, 1);
  const { accepted, summary, progress } = outcome;
  assert.equal(accepted.requestId, 'test-request');
  assert.equal(accepted.modality, 'CT');
  assert.deepEqual(accepted.image, { depth: 6, height: 40, width: 48, channels: 1 });
  assert.deepEqual(accepted.objects.map((o) => [o.label, o.networks, o.sliceFirst, o.sliceLast]), [[1, ['NETWORK_ONESAM'], 1, 4], [2, ['NETWORK_ONESAM'], 0, 2]]);
  assert.deepEqual(accepted.slicesToEncode, [{ network: 'NETWORK_ONESAM', slices: 5 }]);
  const last = progress[progress.length - 1]!;
  assert.deepEqual([last.slicesEncoded, last.slicesTotal, last.objectsDone, last.objectsTotal], [5, 5, 2, 2]);
  assert.deepEqual(summary.slicesEncoded, [{ network: 'NETWORK_ONESAM', slices: 5 }]);
  assert.equal(summary.labelType, 'LABEL_TYPE_UINT8');
  assert.deepEqual(summary.labelShape, [6, 40, 48]);
  assert.ok(summary.stagesMs!.ingest > 0 && summary.stagesMs!.send >= 0 && summary.wallMs > 0);
  const expected = expectedLabels(SMALL_3D, [
    { label: 1, prompt: { kind: 'box3d', x0: 4, y0: 5, z0: 1, x1: 20, y1: 22, z1: 4 } },
    { label: 2, prompt: { kind: 'box3d', x0: 25, y0: 10, z0: 0, x1: 40, y1: 30, z1: 2 } },
  ]);
  assert.deepEqual(rawLabels(outcome.labels, summary), expected);
  assert.deepEqual(summary.objects.map((o) => o.voxels), [16 * 17 * 4, 15 * 20 * 3]);
});

test('a 2D RGB image with a 2D box; small client chunks give the same answer', async () => {
  const size = { depth: 1, height: 30, width: 20 };
  const payload = new Uint8Array(30 * 20 * 3).fill(9);
  const header = { format: 'PAYLOAD_FORMAT_RAW' as const, raw: { shape: [30, 20, 3], dtype: 'VOXEL_TYPE_UINT8' as const }, modality: 'dermoscopy', prompts: [box2d(1, 2, 3, 10, 12)] };
  const a = await server.client().segment({ header, payload });
  const b = await server.client().segment({ header, payload }, { chunkBytes: 100 });
  assert.deepEqual(a.summary.labelShape, [30, 20]);
  assert.deepEqual(a.labels, b.labels);
  assert.deepEqual(rawLabels(a.labels, a.summary), expectedLabels(size, [{ label: 1, prompt: { kind: 'box2d', x0: 2, y0: 3, x1: 10, y1: 12 } }]));
  assert.equal(a.accepted.modality, 'Dermoscopy');
});

test('labels above 255 come back as little-endian uint16; force_uint16 widens small labels; gzip wraps raw labels', async () => {
  const wide = await server.client().segment(rawRequest({ prompts: [box3d(300, 4, 5, 1, 20, 22, 4)] }));
  assert.equal(wide.summary.labelType, 'LABEL_TYPE_UINT16');
  assert.equal(wide.labels.length, 2 * 6 * 40 * 48);
  const labels = rawLabels(wide.labels, wide.summary);
  assert.ok(labels instanceof Uint16Array);
  assert.deepEqual(labels, expectedLabels(SMALL_3D, [{ label: 300, prompt: { kind: 'box3d', x0: 4, y0: 5, z0: 1, x1: 20, y1: 22, z1: 4 } }], true));

  const forced = await server.client().segment(rawRequest({ output: { forceUint16: true, gzip: true } }));
  assert.equal(forced.summary.labelType, 'LABEL_TYPE_UINT16');
  assert.equal(forced.summary.gzip, true);
  assert.equal(gunzipSync(forced.labels).length, 2 * 6 * 40 * 48);
  assert.equal(rawLabels(forced.labels, forced.summary)[1 * 40 * 48 + 5 * 48 + 4], 1);
});

test('an npz payload with its own boxes, answered as npz', async () => {
  const { depth, height, width } = SMALL_3D;
  const npz = writeNpz(new Map([
    ['imgs', { dtype: 'uint8' as const, shape: [depth, height, width], data: volumeBytes(SMALL_3D) }],
    ['boxes', { dtype: 'int64' as const, shape: [2, 6], data: BigInt64Array.from([4n, 5n, 1n, 20n, 22n, 4n, 25n, 10n, 0n, 40n, 30n, 2n]) }],
    ['spacing', { dtype: 'float64' as const, shape: [3], data: Float64Array.from([2.5, 0.8, 0.8]) }],
  ]));
  const outcome = await server.client().segment({ header: { format: 'PAYLOAD_FORMAT_NPZ', modality: 'MR', output: { format: 'LABEL_FORMAT_NPZ' } }, payload: npz });
  assert.deepEqual(outcome.accepted.objects.map((o) => [o.label, o.networks]), [[1, ['NETWORK_LITEMEDSAM']], [2, ['NETWORK_LITEMEDSAM']]]);
  const segs = readNpz(outcome.labels, 'labels.npz').get('segs')!;
  assert.deepEqual(segs.shape, [depth, height, width]);
  assert.deepEqual(segs.data, expectedLabels(SMALL_3D, [
    { label: 1, prompt: { kind: 'box3d', x0: 4, y0: 5, z0: 1, x1: 20, y1: 22, z1: 4 } },
    { label: 2, prompt: { kind: 'box3d', x0: 25, y0: 10, z0: 0, x1: 40, y1: 30, z1: 2 } },
  ]));
});

test('a gzipped NIfTI volume in, NIfTI labels out with the same geometry', async () => {
  const geometry = { kind: 'array' as const, shape: [6, 40, 48], labelShape: [6, 40, 48], spacing: [3, 0.75, 0.75] as [number, number, number] };
  const nifti = writeNiftiLabels(volumeBytes(SMALL_3D), geometry, true);
  const outcome = await server.client().segment({
    header: { format: 'PAYLOAD_FORMAT_NIFTI', prompts: [box3d(5, 4, 5, 1, 20, 22, 4)], output: { format: 'LABEL_FORMAT_NIFTI', gzip: true } },
    payload: nifti,
  });
  const back = readNifti(outcome.labels);
  assert.deepEqual(back.geometry.labelShape, [6, 40, 48]);
  assert.deepEqual(back.geometry.spacing, [3, 0.75, 0.75]);
  assert.deepEqual(Array.from(back.voxels), Array.from(expectedLabels(SMALL_3D, [{ label: 5, prompt: { kind: 'box3d', x0: 4, y0: 5, z0: 1, x1: 20, y1: 22, z1: 4 } }])));
});

test('scribble strokes reach the pipeline as the voxels their polylines draw', async () => {
  const strokes = [[{ x: 2, y: 2, z: 1 }, { x: 12, y: 7, z: 1 }, { x: 12, y: 15, z: 1 }], [{ x: 30, y: 30, z: 3 }]];
  const outcome = await server.client().segment(rawRequest({ prompts: [{ label: 4, scribble: { strokes: strokes.map((points) => ({ points })) } }] }));
  const voxels = strokesToVoxels(strokes, SMALL_3D, 's');
  assert.deepEqual(rawLabels(outcome.labels, outcome.summary), expectedLabels(SMALL_3D, [{ label: 4, prompt: { kind: 'scribble', voxels } }]));
  assert.equal(outcome.summary.objects[0]!.voxels, voxels.length);
});

test('the network choice is passed through: forced, fused, and routed by modality', async () => {
  const networksOf = async (network: 'ENSEMBLE_MODE_FUSE' | 'ENSEMBLE_MODE_LITEMEDSAM' | 'ENSEMBLE_MODE_ROUTE', modality = ''): Promise<unknown> =>
    (await server.client().segment(rawRequest({ network, modality }))).summary.objects[0]!.networks;
  assert.deepEqual(await networksOf('ENSEMBLE_MODE_FUSE'), ['NETWORK_LITEMEDSAM', 'NETWORK_ONESAM']);
  assert.deepEqual(await networksOf('ENSEMBLE_MODE_LITEMEDSAM', 'CT'), ['NETWORK_LITEMEDSAM']);
  assert.deepEqual(await networksOf('ENSEMBLE_MODE_ROUTE', 'PET'), ['NETWORK_ONESAM']);
  assert.deepEqual(await networksOf('ENSEMBLE_MODE_ROUTE'), ['NETWORK_LITEMEDSAM']);
});

test('ListModels reports the networks and the routing table', async () => {
  const models = await server.client().listModels();
  assert.deepEqual(models.models.map((m) => [m.network, m.model, m.ready]), [['NETWORK_LITEMEDSAM', 'fake-litemedsam', true], ['NETWORK_ONESAM', 'fake-onesam', true]]);
  const routing = Object.fromEntries(models.routing.map((r) => [r.modality, r.network]));
  assert.equal(routing['CT'], 'NETWORK_ONESAM');
  assert.equal(routing['MR'], 'NETWORK_LITEMEDSAM');
  assert.equal(models.routing.length, 11);
  assert.equal(models.fallback, 'NETWORK_LITEMEDSAM');
});

test('eight concurrent requests all succeed with their own labels', async () => {
  const before = fake.peakRunning;
  fake.peakRunning = 0;
  const requests = Array.from({ length: 8 }, (_, i) => rawRequest({ requestId: `concurrent-${i}`, prompts: [box3d(i + 1, i, i, 0, 20 + i, 20 + i, 5)] }));
  const outcomes = await Promise.all(requests.map((r) => server.client().segment(r)));
  outcomes.forEach((o, i) => {
    assert.equal(o.summary.requestId, `concurrent-${i}`);
    assert.deepEqual(rawLabels(o.labels, o.summary), expectedLabels(SMALL_3D, [{ label: i + 1, prompt: { kind: 'box3d', x0: i, y0: i, z0: 0, x1: 20 + i, y1: 20 + i, z1: 5 } }]));
  });
  assert.ok(fake.peakRunning > 1, 'requests overlapped in the pipeline');
  fake.peakRunning = Math.max(before, fake.peakRunning);
});

test('metrics are exposed and move with traffic', async () => {
  const get = (s: Map<string, number>, key: string): number => s.get(key) ?? 0;
  const before = await scrape(server.metricsUrl);
  const input = rawRequest({ modality: 'CT' });
  await server.client().segment(input);
  const after = await scrape(server.metricsUrl);
  const ok = 'onesam_request_duration_seconds_count{method="Segment",network="onesam",status="OK"}';
  assert.equal(get(after, ok) - get(before, ok), 1);
  assert.equal(get(after, 'onesam_slices_encoded_total{network="onesam"}') - get(before, 'onesam_slices_encoded_total{network="onesam"}'), 4);
  assert.equal(get(after, 'onesam_received_bytes_total') - get(before, 'onesam_received_bytes_total'), input.payload.length);
  assert.equal(get(after, 'onesam_sent_bytes_total') - get(before, 'onesam_sent_bytes_total'), 6 * 40 * 48);
  for (const stage of ['ingest', 'preprocess', 'encode', 'decode', 'assemble', 'send']) {
    const key = `onesam_stage_duration_seconds_count{stage="${stage}"}`;
    assert.equal(get(after, key) - get(before, key), 1, stage);
  }
  assert.equal(get(after, 'onesam_request_queue_seconds_count') - get(before, 'onesam_request_queue_seconds_count'), 1);
  assert.equal(get(after, 'onesam_request_compute_seconds_count') - get(before, 'onesam_request_compute_seconds_count'), 1);
  assert.equal(get(after, 'onesam_pool_workers'), 2);
  assert.equal(get(after, 'onesam_inflight_requests'), 0);
  assert.ok(after.has('onesam_pool_queue_depth') && after.has('onesam_pool_utilisation'));
  const notFound = await fetch(server.metricsUrl.replace('/metrics', '/other'));
  assert.equal(notFound.status, 404);
});

test('logs: one JSON line per event with the request id, never voxel data', async () => {
  // Lines carry the server's own id, which the call's response header names; a free-text client id is not logged
  // (docs/api.md, "Security"), a random one is.
  const serverIds: string[] = [];
  const call = rawSegmentCall(server.address);
  call.call.on('metadata', (md) => serverIds.push(...md.get(SERVER_REQUEST_ID_KEY).map(String)));
  const { header, payload } = rawRequest({ requestId: 'log-check' });
  call.call.write({ header: { ...header, payloadBytes: payload.length } });
  call.call.write({ chunk: { data: payload } });
  call.call.end();
  assert.equal((await call.result).status.code, 0);
  call.close();
  assert.equal(serverIds.length, 1);
  assert.match(serverIds[0]!, /^[0-9a-f-]{36}$/);
  const lines = server.logs.filter((l) => l['requestId'] === serverIds[0]);
  assert.deepEqual(lines.map((l) => l['msg']), ['segment request', 'segment done']);
  assert.doesNotMatch(server.logText(), /log-check/);
  const randomId = '0f8fad5b-d9cb-469f-a165-70867728950e';
  await server.client().segment(rawRequest({ requestId: randomId }));
  assert.deepEqual(server.logs.filter((l) => l['clientRequestId'] === randomId).map((l) => l['msg']), ['segment request', 'segment done']);
  for (const l of lines) {
    assert.equal(l['method'], 'Segment');
    assert.equal(l['level'], 'info');
    assert.ok(JSON.stringify(l).length < 600, 'a short line');
  }
  // The gradient payload's bytes, as any serialisation would show them, appear nowhere.
  assert.doesNotMatch(server.logText(), /0,7,14,21,28|"type":"Buffer"/);
});
