// `onesam bench` as CI and people run it, kept cheap: a usage mistake exits 2 before any model loads, and one
// --quick --json run on the tiny synthetic volume (6 x 64 x 64, 2 boxes) with the LiteMedSAM demo model on one
// single-thread worker prints one JSON object with the figures the issue asks for.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runOnesam, type CommandResult } from '../helpers/onesam-cli.ts';


const bench = (args: string[]): Promise<CommandResult> => runOnesam(['bench', ...args], { timeoutMs: 300_000 });

test('onesam bench: a wrong --volumes name is a usage error', async () => {
  const r = await bench(['--volumes', 'ct,liver']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /^onesam bench: --volumes takes ct, mr, microscopy, tiny, got "liver"\n/);
});

test('onesam bench: a --gap-agreement above 1 is a usage error', async () => {
  const r = await bench(['--volumes', 'tiny', '--speed-level', '2', '--gap-agreement', '1.5']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--gap-agreement takes a Dice of at most 1 \(below 0: interpolate every gap\), got "1.5"/);
});

test('onesam bench: --gap-redecodes takes 0 to 4', async () => {
  const r = await bench(['--volumes', 'tiny', '--speed-level', '2', '--gap-redecodes', '5']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--gap-redecodes takes an integer from 0 to 4, got "5"/);
});

test('onesam bench --quick --json on the tiny volume: one JSON object with the figures', async () => {
  const r = await bench(['--quick', '--json', '--volumes', 'tiny', '--model', 'litemedsam', '--workers', '1', '--threads', '1', '--samples', '1']);
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trim().split('\n');
  assert.equal(lines.length, 1);
  const report = JSON.parse(lines[0]!) as Record<string, unknown> & { volumes: Record<string, unknown>[]; machine: { cpuModel: string; flags: string[] } };
  assert.equal(report['volume'], 'tiny');
  assert.equal(report['runShape'], '1x1');
  assert.equal(report['referenceShape'], '1x1');
  assert.ok((report['encoderSliceMs'] as Record<string, number>)['litemedsam']! > 0);
  assert.ok((report['decoderPromptMs'] as Record<string, number>)['litemedsam']! > 0);
  // 2 boxes over slices 1..3 and 2..4: 4 distinct slices shared, 6 under the reference schedule; 6 prompts.
  assert.equal(report['slicesEncoded'], 4);
  assert.equal(report['promptsDecoded'], 6);
  assert.equal((report.volumes[0]!['reference'] as { slicesEncoded: number }).slicesEncoded, 6);
  for (const key of ['efficiency', 'poolBusy', 'speedupVsReference', 'peakRssMB', 'peakEmbeddingMB', 'wallMs']) {
    assert.equal(typeof report[key], 'number', key);
    assert.ok((report[key] as number) > 0, key);
  }
  assert.ok((report['poolBusy'] as number) <= 1, 'one worker cannot be busy longer than the wall time');
  assert.ok(report.machine.cpuModel.length > 0);
  assert.ok(Array.isArray(report.machine.flags));
});

test('onesam bench --labels-out / --dice-against: a run scored against another run of the same models is 1; truth Dice per object', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'onesam-bench-labels-'));
  try {
    const common = ['--quick', '--json', '--volumes', 'tiny', '--model', 'litemedsam', '--workers', '1', '--threads', '1', '--samples', '1', '--skip-reference'];
    const first = await bench([...common, '--labels-out', dir]);
    assert.equal(first.code, 0, first.stderr);
    assert.equal(statSync(join(dir, 'tiny.labels')).size, 6 * 64 * 64);
    const second = await bench([...common, '--dice-against', dir, '--speed-level', '2']);
    assert.equal(second.code, 0, second.stderr);
    const volume = (JSON.parse(second.stdout) as { volumes: Record<string, unknown>[] }).volumes[0]! as {
      againstDice: { min: number }; truthDice: { min: number; median: number }; speedLevels: { level: number; againstDice: { min: number }; truthDice: { min: number } }[];
    };
    assert.equal(volume.againstDice.min, 1, 'the same models on the same volume give the same labels');
    assert.ok(volume.truthDice.min >= 0 && volume.truthDice.median <= 1);
    assert.equal(volume.speedLevels[0]!.level, 2);
    assert.ok(volume.speedLevels[0]!.againstDice.min >= 0 && volume.speedLevels[0]!.againstDice.min <= 1);
    assert.equal(typeof volume.speedLevels[0]!.truthDice.min, 'number');
    const missing = await bench([...common, '--dice-against', join(dir, 'nowhere')]);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /--dice-against: cannot read .*tiny\.labels \(write it with --labels-out\)/);
    // The liar: labels of another volume (a different size) are refused by their size, before the run.
    const wrong = join(dir, 'wrong');
    mkdirSync(wrong);
    writeFileSync(join(wrong, 'tiny.labels'), new Uint8Array(6 * 64 * 64 + 1));
    const refused = await bench([...common, '--dice-against', wrong]);
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /--dice-against: .*tiny\.labels holds 24577 labels, the tiny volume has 24576/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
