// Interactive re-prompting over gRPC: what a session saves. For each chosen public case, on one warm server on
// loopback (demo models): the first request uploads the case with keep_session; then `--prompts` follow-up
// requests on the session, each with the case's boxes shifted by a few pixels (a reader adjusting a box); then the
// same follow-ups as fresh uploads without a session, for comparison. Reports client-side latency (call start to
// OK status) and slices encoded per request.
//
//   node --import tsx bench/session.ts [--cases 2DBox_US_0004.npz,3DBox_CT_0001.npz] [--prompts 3] [--workers W --threads T]
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { SegmentationClient } from '../src/client/client.ts';
import { requestHeader } from '../src/client/segment-remote.ts';
import { loadConfig } from '../src/config/load.ts';
import type { Prompt } from '../src/generated/onesam/v1/Prompt.ts';
import { pipelineSegmenter, startService } from '../src/main.ts';
import { createLogger } from '../src/observability/logger.ts';
import { challengeCase } from '../src/volume/challenge.ts';
import { modalityFromFileName } from '../src/pipeline/router.ts';
import type { SegmentationRequest } from '../src/pipeline/types.ts';
import { readNpz } from '../src/volume/npz.ts';

const { values } = parseArgs({ options: {
  cases: { type: 'string', default: '2DBox_US_0004.npz,2DBox_Dermoscopy_0008.npz,3DBox_CT_0001.npz' },
  prompts: { type: 'string', default: '3' },
  workers: { type: 'string' }, threads: { type: 'string' },
  dir: { type: 'string', default: fileURLToPath(new URL('../../shared/reference/cases/public/imgs', import.meta.url)) },
} });
const followUps = Number(values.prompts);

const flags: Record<string, string> = { host: '127.0.0.1', port: '0', 'metrics-port': '0', 'log-level': 'warn' };
if (values.workers) flags['workers'] = values.workers;
if (values.threads) flags['threads'] = values.threads;
const { config } = loadConfig({ env: {}, flags });
const service = await startService({ config, logger: createLogger({ level: 'warn' }), createSegmenter: pipelineSegmenter, defaultMetrics: false });
await service.ready;
const client = new SegmentationClient(`127.0.0.1:${service.grpcPort}`);

/** The case's prompts moved by `d` pixels (clamped inside the image), as a reader nudging a box would. */
function nudged(prompts: readonly Prompt[], d: number, width: number, height: number): Prompt[] {
  const clampX = (v: number): number => Math.min(Math.max(v, 0), width);
  const clampY = (v: number): number => Math.min(Math.max(v, 0), height);
  return prompts.map((p) => {
    if (p.box2d) return { ...p, box2d: { ...p.box2d, xMin: clampX(Number(p.box2d.xMin) + d), xMax: clampX(Number(p.box2d.xMax) + d), yMin: clampY(Number(p.box2d.yMin) - d), yMax: clampY(Number(p.box2d.yMax) - d) } };
    if (p.box3d) return { ...p, box3d: { ...p.box3d, xMin: clampX(Number(p.box3d.xMin) + d), xMax: clampX(Number(p.box3d.xMax) + d), yMin: clampY(Number(p.box3d.yMin) - d), yMax: clampY(Number(p.box3d.yMax) - d) } };
    return p;
  });
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const encodedIn = (s: { slicesEncoded: { slices: number }[] }): number => s.slicesEncoded.reduce((n, x) => n + x.slices, 0);

process.stdout.write(`workers ${config.workers} x ${config.intraOpThreads} threads, ${followUps} follow-up prompts per case\n`);
process.stdout.write('| case | first upload (keep_session) | follow-up on the session, median | follow-up as a fresh upload, median | speed-up |\n');
process.stdout.write('| --- | --- | --- | --- | --- |\n');
for (const name of values.cases.split(',')) {
  const kase = challengeCase(readNpz(new Uint8Array(readFileSync(join(values.dir, name))), name), name);
  const modality = modalityFromFileName(name);
  const request: SegmentationRequest = { requestId: name.replace('.npz', ''), image: kase.image, objects: kase.objects, mode: 'route', ...(modality ? { modality } : {}) };
  const header = requestHeader(request);
  const { width, height } = kase.image;

  let t = performance.now();
  const first = await client.segment({ header: { ...header, keepSession: true }, payload: request.image.data });
  const firstMs = performance.now() - t;
  const sessionId = first.accepted.session!.sessionId;

  const inSession: number[] = [];
  let sessionEncoded = 0;
  for (let i = 1; i <= followUps; i++) {
    t = performance.now();
    const r = await client.segment({ header: { requestId: `${request.requestId}-s${i}`, sessionId, prompts: nudged(header.prompts ?? [], 2 * i, width, height), network: header.network }, payload: new Uint8Array(0) });
    inSession.push(performance.now() - t);
    sessionEncoded += encodedIn(r.summary);
  }
  await client.closeSession(sessionId);

  const fresh: number[] = [];
  let freshEncoded = 0;
  for (let i = 1; i <= followUps; i++) {
    t = performance.now();
    const r = await client.segment({ header: { ...header, requestId: `${request.requestId}-f${i}`, prompts: nudged(header.prompts ?? [], 2 * i, width, height) }, payload: request.image.data });
    fresh.push(performance.now() - t);
    freshEncoded += encodedIn(r.summary);
  }
  const s = median(inSession);
  const f = median(fresh);
  process.stdout.write(`| ${name} | ${firstMs.toFixed(0)} ms, ${encodedIn(first.summary)} slices encoded | ${s.toFixed(0)} ms, ${(sessionEncoded / followUps).toFixed(1)} slices encoded | ${f.toFixed(0)} ms, ${(freshEncoded / followUps).toFixed(1)} slices encoded | ${(f / s).toFixed(1)}x |\n`);
}
client.close();
await service.shutdown();
