// Docs that code points at must exist, and the README's layout table must match src/: a reader following a comment
// or the table lands on a real file.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/**
 * A repository path cited in a comment or message: docs/..., src/... or ../shared/docs/..., read from the root.
 * Relative import specifiers (`../pipeline/x.ts`) are not citations: a path counts only where it starts a word.
 */
const CITED_PATH = /(?<![\w./-])(?:\.\.\/shared\/)?(?:docs|src)\/[\w./-]*[\w/-]/g;

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(path);
    return /\.(ts|mjs)$/.test(e.name) ? [path] : [];
  });
}

test('every docs/, src/ and ../shared/docs/ path cited in src/ exists', () => {
  const missing: string[] = [];
  let cited = 0;
  for (const file of sourceFiles(join(ROOT, 'src'))) {
    const lines = readFileSync(file, 'utf8').split('\n');
    lines.forEach((line, i) => {
      for (const [path] of line.matchAll(CITED_PATH)) {
        cited++;
        if (!existsSync(join(ROOT, path))) missing.push(`${relative(ROOT, file)}:${i + 1} cites ${path}`);
      }
    });
  }
  assert.ok(cited > 20, `only ${cited} citations found: is the pattern still right?`);
  assert.deepEqual(missing, []);
});

/** The README's "Layout" table: first column (back-quoted paths) -> second column (the floor). */
function layoutTable(): Map<string, string> {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## Layout'));
  const rows = new Map<string, string>();
  for (const line of section.split('\n')) {
    const cells = line.split('|').map((c) => c.trim());
    if (cells.length < 4) continue;
    for (const [, path] of cells[1]!.matchAll(/`([^`]+)`/g)) rows.set(path!, cells[2]!);
  }
  return rows;
}

test('the README layout table lists every src/ folder (and main.ts) with its floor from .dependency-cruiser.mjs', async () => {
  const { FLOORS } = (await import(join(ROOT, '.dependency-cruiser.mjs'))) as { FLOORS: Readonly<Record<string, number>> };
  const table = layoutTable();
  const entries = readdirSync(join(ROOT, 'src'), { withFileTypes: true }).filter((d) => d.isDirectory() || d.name.endsWith('.ts'));
  assert.ok(entries.length > 10);
  for (const e of entries) {
    const path = e.isDirectory() ? `src/${e.name}/` : `src/${e.name}`;
    assert.ok(table.has(path), `README.md "Layout" has no row for ${path}`);
    assert.equal(table.get(path), String(FLOORS[e.name]), `README.md "Layout" gives ${path} another floor than .dependency-cruiser.mjs`);
  }
  for (const path of table.keys()) {
    if (path.startsWith('src/')) assert.ok(existsSync(join(ROOT, path)), `README.md "Layout" lists ${path}, which does not exist`);
  }
});
