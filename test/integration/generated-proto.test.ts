// CI check that src/generated is what `npm run gen:proto` produces from proto/ today: regenerate into a temporary
// folder with the exact command in package.json and compare every file.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

function files(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (d: string): void => {
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      const path = join(d, entry.name);
      if (entry.isDirectory()) walk(path);
      else out.set(relative(dir, path), readFileSync(path, 'utf8'));
    }
  };
  walk(dir);
  return out;
}

test('src/generated is current with proto/ (run `npm run gen:proto` after editing a .proto file)', () => {
  const script = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts['gen:proto'];
  assert.ok(script, 'package.json has a gen:proto script');
  const [command, ...args] = script.split(/\s+/);
  assert.equal(command, 'proto-loader-gen-types');
  const outDir = mkdtempSync(join(tmpdir(), 'onesam-gen-'));
  const replaced = args.map((a) => (a.startsWith('--outDir=') ? `--outDir=${outDir}` : a));
  assert.ok(replaced.includes(`--outDir=${outDir}`), 'the script names its --outDir');
  execFileSync(join(ROOT, 'node_modules', '.bin', 'proto-loader-gen-types'), replaced, { cwd: ROOT, stdio: 'pipe' });
  const fresh = files(outDir);
  const committed = files(join(ROOT, 'src', 'generated'));
  assert.deepEqual([...committed.keys()].sort(), [...fresh.keys()].sort(), 'the same files');
  for (const [name, text] of fresh) assert.equal(committed.get(name), text, `${name} differs: run npm run gen:proto`);
});
