// The PACS round trip against a real Orthanc with its DICOMweb plugin (test/helpers/orthanc.ts): pydicom's 5-slice
// CT (dicomdirtests/98892001/CT5N) goes into Orthanc; the service, configured with that Orthanc as a `pacs`
// endpoint, segments it by its UIDs (WADO-RS), stores the SEG back (STOW-RS) and says where; the SEG read back from
// Orthanc by WADO-RS is byte for byte the one the service wrote, validates with dciodvfy and gives the labels of the
// same series uploaded directly. Sessions keep a fetched series. A wrong UID, an unknown endpoint, a wrong
// password and a stopped Orthanc each end with their own code. The fake segmenter paints the prompt's voxels whose
// prepared value reaches 128, so labels depend on the pixels that crossed the network.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { SegmentInput, SegmentOutcome } from '../../src/client/client.ts';
import { ERROR_CODE_KEY, ERROR_FIELD_KEY } from '../../src/errors/grpc-status.ts';
import type { Prompt } from '../../src/generated/onesam/v1/Prompt.ts';
import type { RequestHeader } from '../../src/generated/onesam/v1/RequestHeader.ts';
import { DicomwebClient } from '../../src/pacs/client.ts';
import { PACS_ENDPOINT_DEFAULTS, type PacsEndpoint } from '../../src/pacs/endpoint.ts';
import { writeDicomUpload } from '../../src/volume/dicom/framing.ts';
import { readSegmentation } from '../../src/volume/dicom/seg-reader.ts';
import { openSeries } from '../../src/volume/dicom/series.ts';
import { dciodvfy, pydicomFolder } from '../helpers/dicom-tools.ts';
import { FakeSegmenter } from '../helpers/fake-segmenter.ts';
import { startOrthanc, type RunningOrthanc } from '../helpers/orthanc.ts';
import { box2d, box3d } from '../helpers/requests.ts';
import { grpcError, scrape, startTestService, type TestService } from '../helpers/test-service.ts';

const dir = mkdtempSync(join(tmpdir(), 'onesam-pacs-it-'));
const USER = 'onesam';
const PASSWORD = 's3cret-pw';
let orthanc: RunningOrthanc;
let server: TestService;
const fake = new FakeSegmenter({ sliceMs: 0, threshold: 128 });
const instances = pydicomFolder('dicomdirtests/98892001/CT5N');
const { info } = openSeries(instances);
const STUDY = info.studyInstanceUid!;
const SERIES = info.seriesInstanceUid!;
const PROMPTS: Prompt[] = [box3d(1, 0, 0, 0, 16, 16, 4), box2d(2, 3, 2, 12, 11, 2)];

function endpoint(name: string, url: string, passwordFile: string, extra: Partial<PacsEndpoint> = {}): PacsEndpoint {
  return { name, url, auth: { type: 'basic', username: USER, passwordFile }, ...PACS_ENDPOINT_DEFAULTS, retryDelayMs: 10, ...extra };
}

before(async () => {
  orthanc = await startOrthanc({ users: { [USER]: PASSWORD } });
  await orthanc.store(instances);
  const good = join(dir, 'password');
  const wrong = join(dir, 'wrong-password');
  writeFileSync(good, `${PASSWORD}\n`);
  writeFileSync(wrong, 'not-the-password\n');
  server = await startTestService({
    createSegmenter: async () => fake,
    config: {
      pacs: {
        orthanc: endpoint('orthanc', orthanc.dicomWebUrl, good),
        'wrong-password': endpoint('wrong-password', orthanc.dicomWebUrl, wrong),
      },
    },
  });
  await server.service.ready;
});
after(async () => {
  await server?.stop();
  await orthanc?.stop();
  rmSync(dir, { recursive: true, force: true });
});

function fromPacs(header: Partial<Omit<RequestHeader, 'payloadBytes'>> = {}, series = SERIES): SegmentInput {
  return { header: { requestId: 'pacs-round-trip', pacs: { endpoint: 'orthanc', studyInstanceUid: STUDY, seriesInstanceUid: series }, prompts: PROMPTS, ...header }, payload: new Uint8Array(0) };
}

/** The labels of the SEG as label values (segment "Object <label>" -> label). */
function segLabels(seg: Uint8Array): number[] {
  const back = readSegmentation(seg, info.slices, info.shape);
  const bySegment = new Map(back.segments.map((s) => [s.number, Number(s.label.replace('Object ', ''))]));
  return Array.from(back.labels, (n) => (n === 0 ? 0 : bySegment.get(n)!));
}

async function expectFailure(input: SegmentInput, code: string, field: string | undefined, message: RegExp): Promise<void> {
  const err = grpcError(await server.client().segment(input).then(() => assert.fail(`expected ${code}`), (e: unknown) => e));
  assert.equal(err.metadata.get(ERROR_CODE_KEY)[0], code, err.details);
  assert.equal(err.metadata.get(ERROR_FIELD_KEY)[0], field, err.details);
  assert.match(err.details, message);
}

test('round trip: fetched by UIDs, segmented, the SEG stored in Orthanc, read back by WADO-RS, valid, with the labels of a direct upload', async (t) => {
  // The reference: the same files uploaded, raw labels.
  const direct = await server.client().segment({ header: { requestId: 'direct', format: 'PAYLOAD_FORMAT_DICOM', prompts: PROMPTS }, payload: writeDicomUpload(instances) });
  const expected = Array.from(direct.labels);
  assert.ok(expected.some((v) => v === 1) && expected.some((v) => v === 2), 'both objects have voxels');

  const progress: SegmentOutcome['progress'][number][] = [];
  const t0 = performance.now();
  const outcome = await server.client().segment(fromPacs({ output: { format: 'LABEL_FORMAT_DICOM_SEG' }, store: { endpoint: 'orthanc', sendLabels: true } }), { onProgress: (p) => progress.push(p) });
  const roundTripMs = performance.now() - t0;
  const { summary } = outcome;
  assert.equal(outcome.accepted.modality, 'CT');
  assert.equal(outcome.accepted.modalitySource, 'MODALITY_SOURCE_DICOM');
  assert.deepEqual([outcome.accepted.image!.depth, outcome.accepted.image!.height, outcome.accepted.image!.width], [5, 16, 16]);
  assert.equal(summary.dicomSeg!.studyInstanceUid, STUDY);
  assert.equal(summary.stored!.endpoint, 'orthanc');
  assert.equal(summary.stored!.retrieveUrl, `${orthanc.dicomWebUrl}/studies/${STUDY}/series/${summary.dicomSeg!.seriesInstanceUid}/instances/${summary.dicomSeg!.sopInstanceUid}`);
  assert.equal(summary.stored!.warning, '');
  assert.ok(summary.stagesMs!.fetch > 0 && summary.stagesMs!.fetch <= summary.stagesMs!.ingest);
  assert.ok(summary.stagesMs!.store > 0 && summary.stagesMs!.store <= summary.stagesMs!.send);
  // Fetch progress comes first and ends at the series' five instances; the store is announced.
  const fetched = progress.filter((p) => p.instancesFetched > 0);
  assert.equal(fetched.at(-1)!.instancesFetched, 5);
  assert.ok(fetched.at(-1)!.bytesFetched > 5 * 16 * 16 * 2);
  assert.ok(progress.some((p) => p.storing));
  assert.deepEqual(segLabels(outcome.labels), expected);

  // What Orthanc holds now: the SEG in a new series of the study, byte for byte what the service wrote.
  const reader = new DicomwebClient(endpoint('check', orthanc.dicomWebUrl, join(dir, 'password')));
  try {
    const series = await reader.searchSeries(STUDY);
    assert.deepEqual(series.map((s) => s.modality).sort(), ['CT', 'SEG']);
    const [seg] = await reader.retrieveSeries(STUDY, summary.dicomSeg!.seriesInstanceUid, { maxBytes: 1 << 24, maxInstances: 10 });
    assert.deepEqual(Buffer.from(seg!), Buffer.from(outcome.labels));
    const path = join(dir, 'seg-from-orthanc.dcm');
    writeFileSync(path, seg!);
    const verdict = dciodvfy(path);
    assert.ok(verdict.ok, `dciodvfy errors on the SEG read back from Orthanc:\n${verdict.output}`);
    assert.deepEqual(segLabels(seg!), expected);
  } finally {
    reader.close();
  }

  const metrics = await scrape(server.metricsUrl);
  assert.equal(metrics.get('onesam_pacs_request_duration_seconds_count{endpoint="orthanc",operation="retrieve",outcome="ok"}'), 1);
  assert.equal(metrics.get('onesam_pacs_request_duration_seconds_count{endpoint="orthanc",operation="store",outcome="ok"}'), 1);
  assert.ok(metrics.get('onesam_pacs_bytes_total{endpoint="orthanc",operation="retrieve"}')! > 5 * 512);
  const s = summary.stagesMs!;
  t.diagnostic(`round trip (CT5N, 5 x 16 x 16, fake segmenter): client wall ${roundTripMs.toFixed(0)} ms; server wall ${summary.wallMs.toFixed(0)} ms = ` +
    `ingest ${s.ingest.toFixed(1)} (fetch ${s.fetch.toFixed(1)}) + segment ${(s.preprocess + s.encode + s.decode + s.postprocess + s.assemble).toFixed(1)} + send ${s.send.toFixed(1)} (store ${s.store.toFixed(1)}) ms`);
});

test('only the summary without send_labels; a session keeps the fetched series for later prompts and stores', async () => {
  const quiet = await server.client().segment(fromPacs({ output: { format: 'LABEL_FORMAT_DICOM_SEG' }, store: { endpoint: 'orthanc', sendLabels: false } }));
  assert.equal(quiet.labels.length, 0);
  assert.equal(quiet.summary.labelBytes, 0);
  assert.equal(quiet.summary.stored!.endpoint, 'orthanc');

  const retrievesBefore = (await scrape(server.metricsUrl)).get('onesam_pacs_request_duration_seconds_count{endpoint="orthanc",operation="retrieve",outcome="ok"}')!;
  const fresh = await server.client().segment(fromPacs({ output: { format: 'LABEL_FORMAT_DICOM_SEG' } }));
  const kept = await server.client().segment(fromPacs({ keepSession: true, prompts: [] }));
  const sessionId = kept.accepted.session!.sessionId;
  assert.equal(kept.labels.length, 0);
  const later = await server.client().segment({ header: { sessionId, prompts: PROMPTS, output: { format: 'LABEL_FORMAT_DICOM_SEG' }, store: { endpoint: 'orthanc', sendLabels: true } }, payload: new Uint8Array(0) });
  assert.equal(later.summary.stored!.endpoint, 'orthanc');
  assert.equal(later.summary.stagesMs!.fetch, 0);
  assert.deepEqual(segLabels(later.labels), segLabels(fresh.labels));
  // One retrieve for the fresh request, one for the session; the session's prompt fetched nothing.
  const retrievesAfter = (await scrape(server.metricsUrl)).get('onesam_pacs_request_duration_seconds_count{endpoint="orthanc",operation="retrieve",outcome="ok"}')!;
  assert.equal(retrievesAfter - retrievesBefore, 2);
  await server.client().closeSession(sessionId);
});

test('a wrong UID, an unknown endpoint and a wrong password each end with their own code', async () => {
  await expectFailure(fromPacs({}, `${SERIES}.999`), 'PACS_NOT_FOUND', 'header.pacs', /^header\.pacs: PACS endpoint "orthanc" holds no series [0-9.]+\.999 of study [0-9.]+ \(HTTP 404\)$/);
  await expectFailure({ ...fromPacs(), header: { ...fromPacs().header, pacs: { endpoint: 'http://127.0.0.1:1/dicom-web', studyInstanceUid: STUDY, seriesInstanceUid: SERIES } } },
    'PACS_ENDPOINT_UNKNOWN', 'header.pacs.endpoint', /names no PACS endpoint of this server: it knows orthanc, wrong-password/);
  await expectFailure({ ...fromPacs(), header: { ...fromPacs().header, pacs: { endpoint: 'wrong-password', studyInstanceUid: STUDY, seriesInstanceUid: SERIES } } },
    'PACS_REFUSED', 'header.pacs', /PACS endpoint "wrong-password" refused this server's credentials for the retrieve of series [0-9.]+ of study [0-9.]+ \(HTTP 401\)/);
  await expectFailure(fromPacs({ output: { format: 'LABEL_FORMAT_DICOM_SEG' }, store: { endpoint: 'wrong-password', sendLabels: false } }),
    'PACS_REFUSED', 'header.store', /PACS endpoint "wrong-password" refused this server's credentials for the store \(HTTP 401\)/);
  // The server stays up and serving.
  assert.equal(await server.health(), 'SERVING');
});

test('a stopped Orthanc: PACS_UNREACHABLE once the retries are spent', async () => {
  await orthanc.kill();
  await expectFailure(fromPacs(), 'PACS_UNREACHABLE', 'header.pacs', /^header\.pacs: PACS endpoint "orthanc" refused the connection \(ECONNREFUSED\) \(3 attempts\)$/);
  const metrics = await scrape(server.metricsUrl);
  assert.equal(metrics.get('onesam_pacs_retries_total{endpoint="orthanc",operation="retrieve"}'), 2);
  assert.equal(metrics.get('onesam_errors_total{code="PACS_UNREACHABLE"}'), 1);
});
