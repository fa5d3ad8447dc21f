// The folder rules of .dependency-cruiser.mjs (`npm run check:deps` in CI): they bite on a small tree with one
// deliberate violation of each kind, src/ passes them with no exceptions, and
// every src/ folder has a floor.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CONFIG = join(ROOT, '.dependency-cruiser.mjs');
const DEPCRUISE = join(ROOT, 'node_modules/dependency-cruiser/bin/dependency-cruise.mjs');

interface Violation {
  readonly from: string;
  readonly to: string;
  readonly rule: { readonly name: string; readonly severity: string };
}

/** Runs the CLI as CI does (the project's config) over `src` in `cwd`; the violations it reports (not those ignored). */
function cruise(cwd: string, ...extra: string[]): Violation[] {
  const run = spawnSync(process.execPath, [DEPCRUISE, 'src', '--config', CONFIG, '--output-type', 'json', ...extra], { cwd, encoding: 'utf8' });
  assert.ok(run.stdout.trim().startsWith('{'), `dependency-cruiser gave no report: ${run.stderr}`);
  const report = JSON.parse(run.stdout) as { summary: { violations: Violation[] } };
  return report.summary.violations.filter((v) => v.rule.severity !== 'ignore');
}

const described = (violations: readonly Violation[]): string[] => violations.map((v) => `${v.rule.name}: ${v.from} -> ${v.to}`).sort();

test('the rules report an upward import, a floor-mate, a type-only and a dynamic import, a cycle, protocol and wire types below the edge', () => {
  const dir = mkdtempSync(join(tmpdir(), 'folder-rules-'));
  const files: Record<string, string> = {
    // Allowed: imports that point down, and the front ends using protocol and the wire types.
    'src/server/handler.ts': "import '../pipeline/index.ts';\nimport '../protocol/wire.ts';\nimport type { W } from '../generated/wire.ts';\nexport type H = W;\n",
    'src/client/client.ts': "import '../protocol/wire.ts';\nimport '../errors/registry.ts';\n",
    'src/protocol/wire.ts': "import type { W } from '../generated/wire.ts';\nimport '../pipeline/index.ts';\nexport type P = W;\n",
    'src/generated/wire.ts': 'export interface W { readonly a: number }\n',
    'src/pipeline/index.ts': "import '../workers/pool.ts';\nimport '../models/repository.ts';\nimport './a.ts';\n",
    'src/models/repository.ts': "import '../errors/registry.ts';\n",
    // Upward: workers -> pipeline (the rule the issue names first), errors -> volume.
    'src/workers/pool.ts': "import '../pipeline/plan.ts';\n",
    'src/pipeline/plan.ts': 'export const MAX = 1;\n',
    'src/errors/registry.ts': "import '../volume/errors.ts';\n",
    'src/volume/errors.ts': 'export const CODES = [];\n',
    // A floor-mate (models and imaging share floor 1), through a type-only import.
    'src/imaging/resize.ts': "import type { Model } from '../models/model.ts';\nexport type R = Model;\n",
    'src/models/model.ts': 'export interface Model { readonly n: number }\n',
    // A dynamic import upward: volume -> server.
    'src/volume/payload.ts': "export const load = () => import('../server/handler.ts');\n",
    // A cycle inside one folder, closed by a type-only import (reported once, on the edge that closes it).
    'src/pipeline/a.ts': "import { b } from './b.ts';\nexport const a = (): number => b;\n",
    'src/pipeline/b.ts': "import type { a } from './a.ts';\nexport const b = 1;\nexport type A = typeof a;\n",
    // Below the edge: pipeline naming protocol (a floor above it too) and the wire types (a floor below it).
    'src/pipeline/wire-user.ts': "import '../protocol/wire.ts';\nimport type { W } from '../generated/wire.ts';\nexport type U = W;\n",
    // Anything importing the command or the composition root from below.
    'src/config/load.ts': "import '../cli/main.ts';\nimport '../main.ts';\n",
    'src/cli/main.ts': "import '../main.ts';\n",
    'src/main.ts': "import './server/handler.ts';\n",
    // A folder without a floor.
    'src/dicom/read.ts': "import '../volume/errors.ts';\n",
  };
  try {
    for (const [path, text] of Object.entries(files)) {
      mkdirSync(dirname(join(dir, path)), { recursive: true });
      writeFileSync(join(dir, path), text);
    }
    assert.deepEqual(described(cruise(dir)), [
      'every-folder-on-a-floor: src/dicom/read.ts -> src/volume/errors.ts',
      'floor-config: src/config/load.ts -> src/cli/main.ts',
      'floor-config: src/config/load.ts -> src/main.ts',
      'floor-errors: src/errors/registry.ts -> src/volume/errors.ts',
      'floor-imaging: src/imaging/resize.ts -> src/models/model.ts',
      'floor-pipeline: src/pipeline/wire-user.ts -> src/protocol/wire.ts',
      'floor-volume: src/volume/payload.ts -> src/server/handler.ts',
      'floor-workers: src/workers/pool.ts -> src/pipeline/plan.ts',
      'no-circular: src/pipeline/a.ts -> src/pipeline/b.ts',
      'protocol-for-front-ends: src/pipeline/wire-user.ts -> src/protocol/wire.ts',
      'wire-types-at-the-edge: src/pipeline/wire-user.ts -> src/generated/wire.ts',
    ]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('src passes the rules, with no baseline of known violations', () => {
  assert.deepEqual(described(cruise(ROOT)), []);
});

test('every src/ folder has a floor, and every floor names a src/ folder', async () => {
  const { FLOORS } = (await import(CONFIG)) as { FLOORS: Readonly<Record<string, number>> };
  const entries = readdirSync(join(ROOT, 'src'), { withFileTypes: true })
    .filter((d) => d.isDirectory() || d.name.endsWith('.ts'))
    .map((d) => d.name)
    .sort();
  assert.deepEqual(Object.keys(FLOORS).sort(), entries);
});
