// `onesam pacs` against a real Orthanc (test/helpers/orthanc.ts) holding pydicom's CT5N: studies and series listed by
// QIDO-RS; a series segmented by its UIDs over --server (a test service with the fake segmenter, which retrieves and
// stores with its own endpoints) and in-process with the real demo networks (retrieved, segmented and stored by
// the command itself), both at speed level 2, which must reach the pipeline; both SEGs land in Orthanc, validate
// with dciodvfy and hold the prompts' labels. Mistakes exit 2 naming the flag.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { DicomwebClient } from '../../src/pacs/client.ts';
import { PACS_ENDPOINT_DEFAULTS } from '../../src/pacs/endpoint.ts';
import { readSegmentation } from '../../src/volume/dicom/seg-reader.ts';
import { openSeries } from '../../src/volume/dicom/series.ts';
import { dciodvfy, pydicomFolder } from '../helpers/dicom-tools.ts';
import { FakeSegmenter } from '../helpers/fake-segmenter.ts';
import { startOrthanc, type RunningOrthanc } from '../helpers/orthanc.ts';
import { startTestService, type TestService } from '../helpers/test-service.ts';
import { runOnesam, type CommandResult } from '../helpers/onesam-cli.ts';

const dir = mkdtempSync(join(tmpdir(), 'onesam-pacs-cli-'));
const instances = pydicomFolder('dicomdirtests/98892001/CT5N');
const { info } = openSeries(instances);
const STUDY = info.studyInstanceUid!;
const SERIES = info.seriesInstanceUid!;
let orthanc: RunningOrthanc;
let server: TestService;
let env: NodeJS.ProcessEnv;
let reader: DicomwebClient;

before(async () => {
  orthanc = await startOrthanc({ users: { onesam: 'cli-pw' } });
  await orthanc.store(instances);
  const passwordFile = join(dir, 'password');
  writeFileSync(passwordFile, 'cli-pw\n');
  const pacs = { orthanc: { name: 'orthanc', url: orthanc.dicomWebUrl, auth: { type: 'basic' as const, username: 'onesam', passwordFile }, ...PACS_ENDPOINT_DEFAULTS } };
  env = { ...process.env, ONESAM_PACS: JSON.stringify({ orthanc: { url: orthanc.dicomWebUrl, auth: { type: 'basic', username: 'onesam', passwordFile } } }) };
  delete env['ONESAM_CONFIG'];
  server = await startTestService({ createSegmenter: async () => new FakeSegmenter({ sliceMs: 0 }), config: { pacs } });
  await server.service.ready;
  reader = new DicomwebClient(pacs.orthanc);
});
after(async () => {
  reader?.close();
  await server?.stop();
  await orthanc?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const onesam = (args: string[]): Promise<CommandResult> => runOnesam(['pacs', ...args], { env, timeoutMs: 180_000 });

/** The SEG's labels by segment label "Object <n>" -> n; and dciodvfy's verdict on it. */
function checkSeg(seg: Uint8Array, name: string): number[] {
  const path = join(dir, name);
  writeFileSync(path, seg);
  const verdict = dciodvfy(path);
  assert.ok(verdict.ok, `dciodvfy errors on ${name}:\n${verdict.output}`);
  const back = readSegmentation(seg, info.slices, info.shape);
  const bySegment = new Map(back.segments.map((s) => [s.number, Number(s.label.replace('Object ', ''))]));
  return Array.from(back.labels, (n) => (n === 0 ? 0 : bySegment.get(n)!));
}

test('studies and series: QIDO-RS through the configured endpoint, as text and as JSON', async () => {
  const studies = await onesam(['studies', '--endpoint', 'orthanc', '--patient-id', '9889*', '--json']);
  assert.equal(studies.code, 0, studies.stderr);
  const found = JSON.parse(studies.stdout) as { studyInstanceUid: string; modalities: string[]; instances: number }[];
  assert.deepEqual(found.map((s) => [s.studyInstanceUid, s.modalities, s.instances]), [[STUDY, ['CT'], 5]]);
  const none = await onesam(['studies', '--endpoint', 'orthanc', '--patient-id', 'nobody']);
  assert.deepEqual([none.code, none.stdout, none.stderr], [0, '', '0 studies\n']);
  const series = await onesam(['series', '--endpoint', 'orthanc', '--study', STUDY]);
  assert.equal(series.code, 0, series.stderr);
  assert.match(series.stdout, new RegExp(`^${SERIES.replace(/\./g, '\\.')}  CT  #5  5 instances`));
});

test('segment over --server: the server retrieves the series and stores the SEG; the file is that SEG', async () => {
  const out = join(dir, 'remote.dcm');
  const result = await onesam(['segment', '--endpoint', 'orthanc', '--study', STUDY, '--series', SERIES, '--box', '2,3,0,12,13,4', '--box', '4,4,9,9,2',
    '--store', 'orthanc', '-o', out, '--server', server.address, '--speed-level', '2', '--json']);
  assert.equal(result.code, 0, result.stderr);
  const summary = JSON.parse(result.stdout) as { stored: { endpoint: string; sopInstanceUid: string; retrieveUrl: string }; pacsMs: { fetch: number; store: number }; speedLevel: number };
  assert.equal(summary.stored.endpoint, 'orthanc');
  assert.equal(summary.speedLevel, 2, 'the speed level reached the server');
  const written = new Uint8Array(readFileSync(out));
  const labels = checkSeg(written, 'remote.dcm');
  // The fake paints the prompts' boxes: box 1 over x 2..11, y 3..12 of every slice, box 2 over x 4..8, y 4..8 of slice 2.
  assert.equal(labels.filter((v) => v === 1).length, 5 * 10 * 10 - 25);
  assert.equal(labels.filter((v) => v === 2).length, 25);
  const segSeries = summary.stored.retrieveUrl.split('/series/')[1]!.split('/')[0]!;
  const [fromOrthanc] = await reader.retrieveSeries(STUDY, segSeries, { maxBytes: 1 << 24, maxInstances: 4 });
  assert.deepEqual(Buffer.from(fromOrthanc!), Buffer.from(written));
});

test('segment in-process with the real demo networks: retrieved, segmented and stored by the command', async (t) => {
  const result = await onesam(['segment', '--endpoint', 'orthanc', '--study', STUDY, '--series', SERIES, '--box', '2,3,0,12,13,4', '--store', 'orthanc', '--json', '--workers', '1', '--threads', '2', '--speed-level', '2']);
  assert.equal(result.code, 0, result.stderr);
  const summary = JSON.parse(result.stdout) as { modality: string; objects: { label: number; voxels: number; networks: string[] }[]; pacsMs: Record<string, number>; stored: { sopInstanceUid: string; retrieveUrl: string }; wallMs: number; speedLevel: number };
  assert.equal(summary.modality, 'CT');
  assert.equal(summary.speedLevel, 2);
  assert.deepEqual(summary.objects.map((o) => o.networks), [['onesam']]);
  const segSeries = summary.stored.retrieveUrl.split('/series/')[1]!.split('/')[0]!;
  const [seg] = await reader.retrieveSeries(STUDY, segSeries, { maxBytes: 1 << 24, maxInstances: 4 });
  assert.ok(Buffer.from(seg!).includes(Buffer.from(summary.stored.sopInstanceUid)));
  const labels = checkSeg(seg!, 'in-process.dcm');
  assert.equal(labels.filter((v) => v === 1).length, summary.objects[0]!.voxels);
  t.diagnostic(`real demo networks, in-process (CT5N, one 3D box): fetch ${summary.pacsMs['fetch']} ms, segment ${summary.pacsMs['segment']} ms, store ${summary.pacsMs['store']} ms, command wall ${summary.wallMs} ms`);
});

test('mistakes exit 2 naming the flag; a series the PACS lacks exits 1 with its code', async () => {
  const cases: [string[], RegExp][] = [
    [['studies', '--endpoint', 'elsewhere'], /--endpoint "elsewhere": no such PACS endpoint in this machine's configuration .*configured: orthanc/],
    [['series', '--endpoint', 'orthanc'], /missing --study UID/],
    [['segment', '--endpoint', 'orthanc', '--study', STUDY, '--series', 'x.y', '--box', '1,1,4,4,0', '-o', 'a.dcm'], /--series must be a DICOM UID/],
    [['segment', '--endpoint', 'orthanc', '--study', STUDY, '--series', SERIES, '--box', '1,1,4,4,0'], /nothing to do: give -o FILE, --store ENDPOINT, or both/],
    [['segment', '--endpoint', 'orthanc', '--study', STUDY, '--series', SERIES, '--store', 'orthanc', '-o', 'a.nii.gz', '--box', '1,1,4,4,0'], /-o must then be a \.dcm file/],
    [['segment', '--endpoint', 'orthanc', '--study', STUDY, '--series', SERIES, '-o', 'a.dcm'], /give the prompts/],
    [['segment', '--endpoint', 'orthanc', '--study', STUDY, '--series', SERIES, '-o', 'a.dcm', '--box', '1,1,4,4,0', '--speed-level', '9'], /--speed-level must be an integer from 1 \(every slice, exact\) to 8, got "9"/],
    [['studies', '--endpoint', 'orthanc', '--date', 'yesterday'], /--date must be YYYYMMDD/],
    [['list'], /unknown subcommand "list"/],
  ];
  for (const [args, message] of cases) {
    const r = await onesam(args);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, message);
  }
  const missing = await onesam(['segment', '--endpoint', 'orthanc', '--study', STUDY, '--series', `${SERIES}.7`, '--box', '1,1,4,4,0', '-o', join(dir, 'x.dcm'), '--server', server.address]);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /^onesam pacs: PACS_NOT_FOUND: header\.pacs: PACS endpoint "orthanc" holds no series/);
});
