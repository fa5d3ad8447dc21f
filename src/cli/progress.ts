// A one-line progress bar on stderr for `onesam segment` on a terminal: slices encoded of those planned and objects
// done, fed by the pipeline's progress events in-process and by the server's Progress messages over --server (the
// same cumulative counts). The line is a pure function of the counts and the terminal width, so it is tested
// without a terminal; the writer only redraws it, at most every REDRAW_MS, and clears it before other output.
import type { ProgressEvent } from '../pipeline/types.ts';

export interface ProgressCounts {
  readonly slicesEncoded: number;
  readonly slicesTotal: number;
  readonly objectsDone: number;
  readonly objectsTotal: number;
}

export const NO_PROGRESS: ProgressCounts = Object.freeze({ slicesEncoded: 0, slicesTotal: 0, objectsDone: 0, objectsTotal: 0 });

/** The counts after an in-process event (the server folds them into Progress the same way). */
export function countsAfter(counts: ProgressCounts, event: ProgressEvent): ProgressCounts {
  return event.kind === 'encoded'
    ? { ...counts, slicesEncoded: event.done, slicesTotal: event.total }
    : { ...counts, objectsDone: event.done, objectsTotal: event.total };
}

/** The counts of a wire Progress message (the client hands it over as is: the same four cumulative counts). */
export function countsFromWire(progress: ProgressCounts): ProgressCounts {
  return { slicesEncoded: progress.slicesEncoded, slicesTotal: progress.slicesTotal, objectsDone: progress.objectsDone, objectsTotal: progress.objectsTotal };
}

/**
 * The line for these counts, at most `columns` characters: `[#####.....]  40%  slices 12/30  objects 1/3`. The
 * bar follows the slices (the encoder is most of the time); before any slice is planned, the objects. Narrow
 * terminals lose the bar first, then the objects. A batch puts its `caseLabel` (`case 3/11`) before the percentage.
 */
export function renderProgress(counts: ProgressCounts, columns: number, caseLabel = ''): string {
  const { slicesEncoded, slicesTotal, objectsDone, objectsTotal } = counts;
  const [done, total] = slicesTotal > 0 ? [slicesEncoded, slicesTotal] : [objectsDone, objectsTotal];
  const fraction = total > 0 ? Math.min(1, Math.max(0, done / total)) : 0;
  const percent = `${caseLabel ? `${caseLabel}  ` : ''}${String(Math.floor(fraction * 100)).padStart(3)}%`;
  const slices = `slices ${slicesEncoded}/${slicesTotal}`;
  const objects = `objects ${objectsDone}/${objectsTotal}`;
  const text = `${percent}  ${slices}  ${objects}`;
  // "[" + bar + "] " before the text; a bar under 10 cells says nothing.
  const barCells = Math.min(40, columns - text.length - 3);
  if (barCells >= 10) {
    const filled = Math.floor(fraction * barCells);
    return `[${'#'.repeat(filled)}${'.'.repeat(barCells - filled)}] ${text}`;
  }
  for (const line of [text, `${percent}  ${slices}`, percent]) if (line.length <= columns) return line;
  return '';
}

/** Where the bar is drawn: process.stderr, or a test's stand-in. */
export interface ProgressStream {
  readonly columns?: number;
  write(text: string): unknown;
}

export const REDRAW_MS = 100;

/** Draws the bar on a terminal; every method is a no-op when disabled (not a terminal, or --json). */
export class TerminalProgress {
  private lastDraw = -Infinity;
  private drawn = false;
  /** Drawn before the percentage: a batch's `case i/n`. */
  caseLabel = '';

  /**
   * `counts`: what is known before the first event (the request's object count: the pipeline reports it only as
   * objects finish); nothing is drawn until an event comes.
   */
  constructor(
    private readonly stream: ProgressStream,
    readonly enabled: boolean,
    private counts: ProgressCounts = NO_PROGRESS,
    private readonly now: () => number = () => performance.now(),
  ) {}

  onEvent = (event: ProgressEvent): void => this.update(countsAfter(this.counts, event));

  /** What is known before the first event, as the constructor's `counts`: nothing is drawn until an event comes. */
  start(counts: ProgressCounts): void {
    this.counts = counts;
  }

  onWire = (progress: ProgressCounts): void => this.update(countsFromWire(progress));

  update(counts: ProgressCounts): void {
    this.counts = counts;
    if (!this.enabled) return;
    const t = this.now();
    const finished = counts.objectsTotal > 0 && counts.objectsDone >= counts.objectsTotal;
    if (!finished && t - this.lastDraw < REDRAW_MS) return;
    this.lastDraw = t;
    // Carriage return, the line, erase to its end: the next draw overwrites it in place.
    this.stream.write(`\r${renderProgress(counts, Math.max(20, (this.stream.columns ?? 80) - 1), this.caseLabel)}\x1b[K`);
    this.drawn = true;
  }

  /** Erases the bar, so whatever follows (the result line, an error) starts on a clean line. */
  clear(): void {
    if (!this.enabled || !this.drawn) return;
    this.stream.write('\r\x1b[K');
    this.drawn = false;
  }
}

function sum(a: ProgressCounts, b: ProgressCounts): ProgressCounts {
  return {
    slicesEncoded: a.slicesEncoded + b.slicesEncoded, slicesTotal: a.slicesTotal + b.slicesTotal,
    objectsDone: a.objectsDone + b.objectsDone, objectsTotal: a.objectsTotal + b.objectsTotal,
  };
}

/**
 * One bar over a whole batch: the counts of the cases done so far plus the running case's, behind `case i/n`.
 * Cases not read yet add nothing (their slices are unknown until each is planned).
 */
export class BatchProgress {
  private done: ProgressCounts = NO_PROGRESS;
  private current: ProgressCounts = NO_PROGRESS;

  constructor(private readonly bar: TerminalProgress, private readonly cases: number) {}

  /** The next case starts (`index` from 0), with its object count. */
  startCase(index: number, objects: number): void {
    this.done = sum(this.done, this.current);
    this.current = { ...NO_PROGRESS, objectsTotal: objects };
    this.bar.caseLabel = `case ${index + 1}/${this.cases}`;
  }

  onEvent = (event: ProgressEvent): void => this.show(countsAfter(this.current, event));

  onWire = (progress: ProgressCounts): void => this.show(countsFromWire(progress));

  clear(): void {
    this.bar.clear();
  }

  private show(current: ProgressCounts): void {
    this.current = current;
    this.bar.update(sum(this.done, current));
  }
}
