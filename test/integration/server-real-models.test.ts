// End to end with the embedded demo models: the real server (real pipeline, real worker pool) on 127.0.0.1
// answers a 2D and a 3D public case over gRPC with exactly the masks the in-process pipeline computes, whether
// the case goes as raw voxels with header prompts, as the challenge npz itself, or through `onesam segment
// --server`; a real DICOM CT answered as a SEG equals its pixels sent as raw; concurrent requests all succeed;
// the server stays healthy.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { rawLabels } from '../../src/client/labels.ts';
import { requestHeader, segmentRemote } from '../../src/client/segment-remote.ts';
import { pipelineSegmenter } from '../../src/main.ts';
import { challengeCase } from '../../src/volume/challenge.ts';
import { createSegmenter } from '../../src/pipeline/index.ts';
import { modalityFromFileName } from '../../src/pipeline/router.ts';
import type { SegmentationRequest, SegmentationResult } from '../../src/pipeline/types.ts';
import { readNpz } from '../../src/volume/npz.ts';
import { readSegmentation } from '../../src/volume/dicom/seg-reader.ts';
import { readSeries } from '../../src/volume/dicom/series.ts';
import { dciodvfy, pydicomFile, tool } from '../helpers/dicom-tools.ts';
import { loadArrays, MODELS_DIR, PUBLIC_CASES } from '../helpers/cases.ts';
import { defaultPipelineConfig } from '../helpers/pipeline-config.ts';
import { scrape, startTestService, type TestService } from '../helpers/test-service.ts';

const CASE_2D = '2DBox_XRay_0010.npz';
const CASE_3D = '3DBox_PET_0011.npz';
const ROOT = fileURLToPath(new URL('../..', import.meta.url));

function caseRequest(name: string): SegmentationRequest {
  const kase = challengeCase(loadArrays('imgs', name), name);
  const modality = modalityFromFileName(name);
  return { requestId: name.replace('.npz', ''), image: kase.image, objects: kase.objects, mode: 'route', ...(modality ? { modality } : {}) };
}

const inProcess = new Map<string, SegmentationResult>();
let server: TestService;

before(async () => {
  // The in-process reference first, then its pool is closed: one pool at a time on a small machine.
  const segmenter = await createSegmenter(defaultPipelineConfig());
  try {
    for (const name of [CASE_2D, CASE_3D]) inProcess.set(name, await segmenter.segment(caseRequest(name)));
  } finally {
    await segmenter.close();
  }
  server = await startTestService({ config: { modelsDir: MODELS_DIR }, createSegmenter: pipelineSegmenter });
  await server.service.ready;
});
after(() => server?.stop());

function sameResult(remote: SegmentationResult, local: SegmentationResult): void {
  assert.equal(remote.labels.constructor, local.labels.constructor);
  assert.ok(Buffer.from(remote.labels.buffer, remote.labels.byteOffset, remote.labels.byteLength).equals(Buffer.from(local.labels.buffer, local.labels.byteOffset, local.labels.byteLength)), 'identical label volumes');
  assert.deepEqual(remote.objects, local.objects);
  assert.deepEqual(remote.slicesEncoded, local.slicesEncoded);
}

test('health is SERVING once the demo models are loaded; ListModels names them', async () => {
  assert.equal(await server.health(''), 'SERVING');
  const models = await server.client().listModels();
  assert.deepEqual(models.models.map((m) => [m.network, m.ready]), [['NETWORK_LITEMEDSAM', true], ['NETWORK_ONESAM', true]]);
});

test(`2D case over gRPC gives exactly the in-process masks: ${CASE_2D}`, async () => {
  const local = inProcess.get(CASE_2D)!;
  assert.ok(local.objects.every((o) => o.voxels > 0), 'the reference masks are not empty');
  sameResult(await segmentRemote(server.address, caseRequest(CASE_2D)), local);
});

test(`3D case over gRPC gives exactly the in-process masks: ${CASE_3D}`, async () => {
  const local = inProcess.get(CASE_3D)!;
  const before = await scrape(server.metricsUrl);
  sameResult(await segmentRemote(server.address, caseRequest(CASE_3D)), local);
  const after = await scrape(server.metricsUrl);
  const key = 'onesam_slices_encoded_total{network="onesam"}';
  assert.equal((after.get(key) ?? 0) - (before.get(key) ?? 0), local.slicesEncoded.onesam);
});

test('the challenge npz sent as the payload gives the same masks', async () => {
  const payload = new Uint8Array(readFileSync(join(PUBLIC_CASES, 'imgs', CASE_3D)));
  const outcome = await server.client().segment({ header: { requestId: 'npz-payload', format: 'PAYLOAD_FORMAT_NPZ', modality: 'PET' }, payload });
  assert.deepEqual(rawLabels(outcome.labels, outcome.summary), inProcess.get(CASE_3D)!.labels);
});

test('`onesam segment --server` writes the same labels as the in-process pipeline', async () => {
  const out = join(mkdtempSync(join(tmpdir(), 'onesam-cli-')), 'out.npz');
  await promisify(execFile)(process.execPath, [join(ROOT, 'bin', 'onesam.mjs'), 'segment', join(PUBLIC_CASES, 'imgs', CASE_2D), '-o', out, '--server', server.address], { cwd: ROOT });
  const segs = readNpz(new Uint8Array(readFileSync(out)), out).get('segs')!;
  assert.deepEqual(segs.data, inProcess.get(CASE_2D)!.labels);
});

test('three concurrent requests all succeed with the same masks, and the server stays up', async () => {
  const local = inProcess.get(CASE_2D)!;
  const results = await Promise.all([0, 1, 2].map(() => segmentRemote(server.address, caseRequest(CASE_2D))));
  for (const r of results) sameResult(r, local);
  assert.equal(await server.health(''), 'SERVING');
  assert.equal(server.service.state.activeRequests, 0);
});

test('a session: the 3D case kept once, prompted again without upload, gives the same masks with no encoding', async () => {
  const local = inProcess.get(CASE_3D)!;
  const request = caseRequest(CASE_3D);
  const header = requestHeader(request);
  const first = await server.client().segment({ header: { ...header, keepSession: true }, payload: request.image.data });
  assert.deepEqual(rawLabels(first.labels, first.summary), local.labels);
  const sessionId = first.accepted.session!.sessionId;
  const again = await server.client().segment({ header: { requestId: 'again', sessionId, prompts: header.prompts }, payload: new Uint8Array(0) });
  assert.deepEqual(rawLabels(again.labels, again.summary), local.labels, 'identical masks from reused embeddings');
  assert.deepEqual(again.summary.slicesEncoded, []);
  assert.deepEqual(again.summary.slicesReused.map((s) => s.slices), [local.slicesEncoded.onesam]);
  const closed = await server.client().closeSession(sessionId);
  assert.deepEqual(closed.slicesCached.map((s) => s.slices), [local.slicesEncoded.onesam]);
  assert.equal(server.service.sessions.count, 0);
});

test('a real DICOM CT with both demo networks (FUSE): the SEG holds the labels of its HU sent as raw, and names both weights', async () => {
  const file = pydicomFile('CT_small.dcm');
  const volume = readSeries([file]);
  const prompts = [{ label: 1, box2d: { xMin: 30, yMin: 40, xMax: 90, yMax: 100 } }];
  const asDicom = await server.client().segment({ header: { requestId: 'dicom-ct', format: 'PAYLOAD_FORMAT_DICOM', network: 'ENSEMBLE_MODE_FUSE', prompts, output: { format: 'LABEL_FORMAT_DICOM_SEG' } }, payload: file });
  assert.equal(asDicom.accepted.modality, 'CT');
  assert.equal(asDicom.accepted.modalitySource, 'MODALITY_SOURCE_DICOM');
  const hu = Int16Array.from(volume.voxels);
  const asRaw = await server.client().segment({
    header: { requestId: 'raw-ct', format: 'PAYLOAD_FORMAT_RAW', raw: { shape: [128, 128], dtype: 'VOXEL_TYPE_INT16' }, intensity: { ctWindow: { level: 40, width: 400 } }, network: 'ENSEMBLE_MODE_FUSE', prompts },
    payload: new Uint8Array(hu.buffer),
  });
  const expected = rawLabels(asRaw.labels, asRaw.summary);
  assert.ok(expected.some((v) => v === 1), 'a non-empty mask');
  const back = readSegmentation(asDicom.labels, volume.slices, volume.shape);
  assert.deepEqual(back.labels, expected);
  const path = join(mkdtempSync(join(tmpdir(), 'onesam-seg-')), 'ct-small-seg.dcm');
  writeFileSync(path, asDicom.labels);
  const verdict = dciodvfy(path);
  assert.ok(verdict.ok, verdict.output);
  const dump = tool('dcmdump', 'dcmtk', ['+P', '0062,0005', path]);
  assert.equal(dump.status, 0, dump.stderr);
  assert.match(dump.stdout, /\[Object 1\]/, 'dcmtk reads the segment');
  const models = await server.client().listModels();
  const text = Buffer.from(asDicom.labels).toString('latin1');
  for (const m of models.models) assert.ok(text.includes(`${m.model} sha256:${m.details!.weightsSha256}`), `the SEG names ${m.model} and its weights`);
});
