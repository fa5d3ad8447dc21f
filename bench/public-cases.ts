// Runs every public challenge case through the in-process pipeline and reports, per case, the wall time
// (model loading excluded: one warm segmenter serves all cases), slices encoded per network and stage times;
// writes the label files so `onesam eval` can score them.
//
//   node --import tsx bench/public-cases.ts [--model route|litemedsam|onesam|fuse] [--out DIR] [--workers W --threads T]
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { loadConfig } from '../src/config/load.ts';
import { pipelineConfig } from '../src/config/pipeline-config.ts';
import { challengeCase } from '../src/volume/challenge.ts';
import { createSegmenter } from '../src/pipeline/index.ts';
import { modalityFromFileName } from '../src/pipeline/router.ts';
import type { EnsembleMode } from '../src/pipeline/types.ts';
import { readNpz, writeNpz } from '../src/volume/npz.ts';

const { values } = parseArgs({ options: {
  model: { type: 'string', default: 'route' }, out: { type: 'string' }, workers: { type: 'string' }, threads: { type: 'string' },
  cases: { type: 'string', default: fileURLToPath(new URL('../../shared/reference/cases/public/imgs', import.meta.url)) },
} });
const mode = values.model as EnsembleMode;
const out = values.out ?? join('scratch', `cases-${mode}`);
mkdirSync(out, { recursive: true });
// The server's defaults (the demo models, the pool sized for this machine), with --workers / --threads as `onesam
// serve` takes them.
const { config } = loadConfig({ env: {}, flags: { workers: values.workers, threads: values.threads } });
const segmenter = await createSegmenter(pipelineConfig(config));
const { workers, intraOpThreads } = segmenter.pool;
process.stdout.write(`mode ${mode}, ${workers} workers x ${intraOpThreads} threads\n`);
process.stdout.write('case                        shape            objects  network      slices  wall ms  encode ms  decode ms\n');
let total = 0;
for (const name of readdirSync(values.cases).filter((f) => f.endsWith('.npz')).sort()) {
  const kase = challengeCase(readNpz(new Uint8Array(readFileSync(join(values.cases, name))), name), name);
  const modality = modalityFromFileName(name);
  const t = performance.now();
  const result = await segmenter.segment({ requestId: name, image: kase.image, objects: kase.objects, mode, ...(modality ? { modality } : {}) });
  const wall = performance.now() - t;
  total += wall;
  const { depth, height, width } = kase.image;
  const shape = kase.is3D ? [depth, height, width] : [height, width];
  writeFileSync(join(out, name), writeNpz(new Map([['segs', { dtype: result.labels instanceof Uint16Array ? 'uint16' : 'uint8', shape, data: result.labels }]]), { compress: true }));
  const nets = [...new Set(result.objects.flatMap((o) => o.networks))].join('+');
  const slices = Object.entries(result.slicesEncoded).filter(([, v]) => v > 0).map(([, v]) => v).join('+');
  process.stdout.write(`${name.padEnd(27)} ${shape.join('x').padEnd(16)} ${String(kase.objects.length).padStart(7)}  ${nets.padEnd(11)} ${slices.padStart(7)} ${wall.toFixed(0).padStart(8)} ${result.stages.encode.toFixed(0).padStart(10)} ${result.stages.decode.toFixed(0).padStart(10)}\n`);
}
process.stdout.write(`total ${total.toFixed(0)} ms\n`);
await segmenter.close();
