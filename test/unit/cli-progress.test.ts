// The progress bar of `onesam segment`: a pure function of the counts and the width, fed alike by the pipeline's
// events and the server's Progress messages, drawn only when enabled.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { countsAfter, countsFromWire, NO_PROGRESS, renderProgress, TerminalProgress, type ProgressCounts } from '../../src/cli/progress.ts';

describe('renderProgress', () => {
  const counts: ProgressCounts = { slicesEncoded: 12, slicesTotal: 30, objectsDone: 1, objectsTotal: 3 };

  it('draws the bar from the slices, with the counts', () => {
    const line = renderProgress(counts, 80);
    assert.equal(line, `[${'#'.repeat(16)}${'.'.repeat(24)}]  40%  slices 12/30  objects 1/3`);
    assert.ok(line.length <= 80);
    assert.equal(renderProgress({ ...counts, slicesEncoded: 30, objectsDone: 3 }, 80), `[${'#'.repeat(40)}] 100%  slices 30/30  objects 3/3`);
  });

  it('follows the objects before any slice is planned, and shows nothing done at zero', () => {
    assert.match(renderProgress({ slicesEncoded: 0, slicesTotal: 0, objectsDone: 1, objectsTotal: 4 }, 80), /^\[#{10}\.{30}\]  25%/);
    assert.match(renderProgress(NO_PROGRESS, 80), /^\[\.{40}\]   0%  slices 0\/0  objects 0\/0$/);
  });

  it('fits narrow terminals: the bar shrinks, then goes, then the objects', () => {
    for (const columns of [60, 50, 45, 35, 30, 20, 10, 4, 3]) assert.ok(renderProgress(counts, columns).length <= columns, `${columns} columns`);
    assert.match(renderProgress(counts, 50), /^\[#+\.+\]  40%/);
    assert.equal(renderProgress(counts, 35), ' 40%  slices 12/30  objects 1/3');
    assert.equal(renderProgress(counts, 20), ' 40%  slices 12/30');
    assert.equal(renderProgress(counts, 4), ' 40%');
    assert.equal(renderProgress(counts, 3), '');
  });
});

describe('progress sources', () => {
  it('folds pipeline events and wire messages into the same counts', () => {
    let c = countsAfter(NO_PROGRESS, { kind: 'encoded', network: 'litemedsam', slice: 4, reused: false, done: 1, total: 9 });
    c = countsAfter(c, { kind: 'object-done', label: 2, done: 1, total: 2 });
    assert.deepEqual(c, { slicesEncoded: 1, slicesTotal: 9, objectsDone: 1, objectsTotal: 2 });
    assert.deepEqual(countsFromWire({ slicesEncoded: 1, slicesTotal: 9, objectsDone: 1, objectsTotal: 2 }), c);
  });
});

describe('TerminalProgress', () => {
  function stream(columns = 80): { columns: number; text: string; write(t: string): void } {
    return { columns, text: '', write(t: string) { this.text += t; } };
  }

  it('redraws in place at most every 100 ms, always the last state, and clears before other output', () => {
    const out = stream();
    let now = 0;
    const bar = new TerminalProgress(out, true, { ...NO_PROGRESS, objectsTotal: 1 }, () => now);
    bar.onEvent({ kind: 'encoded', network: 'onesam', slice: 0, reused: false, done: 1, total: 4 });
    now = 50;
    bar.onEvent({ kind: 'encoded', network: 'onesam', slice: 1, reused: false, done: 2, total: 4 });
    now = 150;
    bar.onWire({ slicesEncoded: 3, slicesTotal: 4, objectsDone: 0, objectsTotal: 1 });
    now = 160;
    bar.onWire({ slicesEncoded: 4, slicesTotal: 4, objectsDone: 1, objectsTotal: 1 });
    const draws = out.text.split('\r').filter(Boolean);
    assert.deepEqual(draws.map((d) => /slices \d+\/\d+  objects \d+\/\d+/.exec(d)![0]), ['slices 1/4  objects 0/1', 'slices 3/4  objects 0/1', 'slices 4/4  objects 1/1']);
    assert.ok(draws.every((d) => d.endsWith('\x1b[K')));
    bar.clear();
    assert.ok(out.text.endsWith('\r\x1b[K'));
    const length = out.text.length;
    bar.clear();
    assert.equal(out.text.length, length, 'nothing to clear twice');
  });

  it('writes nothing when disabled (not a terminal, or --json)', () => {
    const out = stream();
    const bar = new TerminalProgress(out, false, NO_PROGRESS, () => 1000);
    bar.onWire({ slicesEncoded: 1, slicesTotal: 2, objectsDone: 0, objectsTotal: 1 });
    bar.clear();
    assert.equal(out.text, '');
  });
});
