// int8 against fp32 masks: every object of the public challenge cases segmented by the pipeline twice, with the
// fp32 graphs and with `precision: int8` (calibrated on the same public cases, or --calibration DIR), per network;
// prints per-object DSC (int8 vs fp32), min and mean.
//
//   node --import tsx bench/int8-masks.ts [--network litemedsam,onesam] [--method minmax|percentile] [--calibration DIR] [--json]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { NetworkName } from '../src/models/network-contract.ts';
import type { CalibrationMethod } from '../src/pipeline/calibration-set.ts';
import { createSegmenter } from '../src/pipeline/index.ts';
import { modalityFromFileName } from '../src/pipeline/router.ts';
import { challengeCase } from '../src/volume/challenge.ts';
import { caseNames, dice, loadArrays, MODELS_DIR } from '../test/helpers/cases.ts';
import { defaultPipelineConfig } from '../test/helpers/pipeline-config.ts';

const { values } = parseArgs({ options: {
  network: { type: 'string', default: 'litemedsam,onesam' }, method: { type: 'string', default: 'percentile' },
  calibration: { type: 'string' }, json: { type: 'boolean', default: false },
} });
const calibration = values.calibration ?? fileURLToPath(new URL('../../shared/reference/cases/public/imgs', import.meta.url));
const cacheDir = mkdtempSync(join(tmpdir(), 'onesam-int8-masks-'));
const models = { litemedsam: 'litemedsam-demo', onesam: 'onesam-demo' } as const;
const report: Record<string, { case: string; label: number; voxels: number; dsc: number }[]> = {};

for (const network of values.network.split(',') as NetworkName[]) {
  const base = { modelsDir: MODELS_DIR, cacheDir, models: { [network]: models[network] }, workers: 2, intraOpThreads: 1 };
  const fp32 = await createSegmenter(defaultPipelineConfig(base));
  const int8 = await createSegmenter(defaultPipelineConfig({ ...base, precisions: { [network]: { precision: 'int8', calibration, calibrationMethod: values.method as CalibrationMethod } } }));
  const rows: { case: string; label: number; voxels: number; dsc: number }[] = [];
  for (const name of caseNames()) {
    const kase = challengeCase(loadArrays('imgs', name), name);
    const modality = modalityFromFileName(name);
    const req = { requestId: name, image: kase.image, objects: kase.objects, mode: network, ...(modality ? { modality } : {}) } as const;
    const a = await fp32.segment(req);
    const b = await int8.segment(req);
    for (let label = 1; label <= kase.objects.length; label++) {
      let voxels = 0;
      for (let i = 0; i < a.labels.length; i++) if (a.labels[i] === label) voxels++;
      rows.push({ case: name, label, voxels, dsc: dice(a.labels, b.labels, label).dsc });
    }
  }
  await fp32.close();
  await int8.close();
  report[network] = rows;
  const dscs = rows.map((r) => r.dsc);
  const worst = rows.reduce((w, r) => (r.dsc < w.dsc ? r : w));
  if (!values.json) {
    for (const r of rows) console.log(`${network} ${r.case} label ${r.label} (${r.voxels} px): DSC ${r.dsc.toFixed(4)}`);
    console.log(`${network}: ${rows.length} objects, min DSC ${worst.dsc.toFixed(4)} (${worst.case} label ${worst.label}), mean ${(dscs.reduce((x, y) => x + y, 0) / dscs.length).toFixed(4)}`);
  }
}
if (values.json) console.log(JSON.stringify(report));
rmSync(cacheDir, { recursive: true, force: true });
