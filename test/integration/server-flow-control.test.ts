// Flow control pieces of the Segment handler, driven directly: the response writer honours write()'s return value
// and 'drain' (coalescing progress while blocked), and the payload reader enforces order and sizes and does not
// pull messages while the pool is saturated.
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { test } from 'node:test';
import { CodedError } from '../../src/errors/coded-error.ts';
import type { SegmentRequest__Output } from '../../src/generated/onesam/v1/SegmentRequest.ts';
import { nextMessage, readPayload, SATURATION_POLL_MS } from '../../src/server/payload-reader.ts';
import { ResponseWriter } from '../../src/server/response-writer.ts';

class SlowWritable extends EventEmitter {
  readonly written: string[] = [];
  /** write() returns false while this many messages are buffered. */
  constructor(private readonly capacity: number) {
    super();
  }
  write(message: string): boolean {
    this.written.push(message);
    return this.written.length % this.capacity !== 0;
  }
  drain(): void {
    this.emit('drain');
  }
}

test('the writer waits for drain after write() returns false', async () => {
  const sink = new SlowWritable(2);
  const writer = new ResponseWriter<string>(sink, new AbortController().signal);
  await writer.write('a');
  let secondDone = false;
  const second = writer.write('b').then(() => { secondDone = true; });
  await new Promise((r) => setImmediate(r));
  assert.equal(secondDone, false, 'b filled the buffer: the writer waits');
  const third = writer.write('c');
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(sink.written, ['a', 'b'], 'c waits for the drain');
  sink.drain();
  await second;
  await third;
  assert.deepEqual(sink.written, ['a', 'b', 'c']);
});

test('the last message waits for earlier ones to drain but not for itself: the summary goes out, then the status', async () => {
  const sink = new SlowWritable(2);
  const stalls: unknown[] = [];
  const writer = new ResponseWriter<string>(sink, new AbortController().signal, { stallMs: 60_000, onStall: (err) => stalls.push(err) });
  await writer.write('labels');
  let lastDone = false;
  const last = writer.writeLast('summary').then(() => { lastDone = true; });
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(sink.written, ['labels', 'summary']);
  assert.equal(lastDone, true, 'summary filled the buffer, and the writer did not wait for its drain');
  await last;
  sink.emit('close');
  assert.deepEqual(stalls, []);
});

test('progress never waits: while blocked only the latest one is kept, and it goes out first after the drain', async () => {
  const sink = new SlowWritable(2);
  const writer = new ResponseWriter<string>(sink, new AbortController().signal);
  writer.offerProgress('p1');
  writer.offerProgress('p2');
  writer.offerProgress('p3');
  writer.offerProgress('p4');
  const labels = writer.write('labels');
  sink.drain();
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(sink.written, ['p1', 'p2', 'p4', 'labels']);
  // 'labels' filled the buffer again: write() resolves only once the stream can take more.
  let resolved = false;
  void labels.then(() => { resolved = true; });
  await new Promise((r) => setImmediate(r));
  assert.equal(resolved, false);
  sink.drain();
  await labels;
});

test('an abort releases a writer blocked on drain', async () => {
  const sink = new SlowWritable(1);
  const controller = new AbortController();
  const writer = new ResponseWriter<string>(sink, controller.signal);
  const pending = writer.write('a');
  controller.abort();
  await pending;
  await writer.write('b');
  assert.deepEqual(sink.written, ['a'], 'nothing is written after the abort');
});

function source(messages: SegmentRequest__Output[]): { next(): Promise<IteratorResult<SegmentRequest__Output>>; pulled: number } {
  const s = {
    pulled: 0,
    next: async (): Promise<IteratorResult<SegmentRequest__Output>> => {
      const value = messages[s.pulled++];
      return value ? { done: false, value } : { done: true, value: undefined };
    },
  };
  return s;
}

const chunk = (bytes: number[]): SegmentRequest__Output => ({ message: 'chunk', chunk: { data: Buffer.from(bytes) } });

test('the reader concatenates chunks into a fresh array of the declared size', async () => {
  const payload = await readPayload(source([chunk([1, 2]), chunk([]), chunk([3])]), 3, { signal: new AbortController().signal, saturated: () => false });
  assert.deepEqual([...payload], [1, 2, 3]);
  assert.ok(!Buffer.isBuffer(payload));
});

test('the reader pulls no message while the pool is saturated', async () => {
  let saturatedPolls = 3;
  const s = source([chunk([1]), chunk([2])]);
  const started = performance.now();
  const payload = await readPayload(s, 2, {
    signal: new AbortController().signal,
    saturated: () => {
      if (saturatedPolls > 0) {
        assert.equal(s.pulled, 0, 'nothing pulled while saturated');
        saturatedPolls--;
        return true;
      }
      return false;
    },
  });
  assert.deepEqual([...payload], [1, 2]);
  assert.ok(performance.now() - started >= 2 * SATURATION_POLL_MS, 'it waited between polls');
});

test('the reader refuses excess, missing and out-of-order messages with stable codes', async () => {
  const options = { signal: new AbortController().signal, saturated: () => false };
  const code = async (messages: SegmentRequest__Output[], declared: number): Promise<string> =>
    readPayload(source(messages), declared, options).then(() => 'none', (err: CodedError) => err.code);
  assert.equal(await code([chunk([1, 2, 3])], 2), 'PAYLOAD_EXCEEDS_DECLARED');
  assert.equal(await code([chunk([1])], 2), 'PAYLOAD_INCOMPLETE');
  assert.equal(await code([{ message: 'header', header: null }], 2), 'STREAM_INVALID');
  assert.equal(await code([{}], 2), 'STREAM_INVALID');
});

test('an abort stops a reader waiting for the next message', async () => {
  const controller = new AbortController();
  const never = { next: () => new Promise<IteratorResult<SegmentRequest__Output>>(() => undefined) };
  const reading = readPayload(never, 10, { signal: controller.signal, saturated: () => false });
  controller.abort(new CodedError('REQUEST_CANCELLED', 'gone'));
  await assert.rejects(reading, (err: CodedError) => err.code === 'REQUEST_CANCELLED');
});

// Stalled-client limits of the reader and the writer (issue 7, defect 4).
const TIMING = { idleMs: 300, minBytesPerSecond: 1_000 };

test('the reader ends an upload with UPLOAD_IDLE_TIMEOUT when no message arrives for idleMs', async () => {
  const never = { next: () => new Promise<IteratorResult<SegmentRequest__Output>>(() => undefined) };
  await assert.rejects(readPayload(never, 10, { signal: new AbortController().signal, saturated: () => false, timing: TIMING }),
    (err: CodedError) => err.code === 'UPLOAD_IDLE_TIMEOUT');
  // The wait for the header (nextMessage) has the same limit.
  await assert.rejects(nextMessage(never, TIMING.idleMs, new AbortController().signal, 'the header'), (err: CodedError) => err.code === 'UPLOAD_IDLE_TIMEOUT');
});

/** A source that yields a 1-byte chunk every `everyMs`, `count` times (for ever by default), then ends. */
function trickle(everyMs: number, count = Infinity): { next(): Promise<IteratorResult<SegmentRequest__Output>> } {
  let sent = 0;
  return {
    next: () => new Promise((resolve) => setTimeout(() => resolve(sent++ < count ? { done: false, value: chunk([7]) } : { done: true, value: undefined }), everyMs)),
  };
}

test('a trickle that never goes idle is cut with UPLOAD_TOO_SLOW once the grace has passed', async () => {
  const started = performance.now();
  await assert.rejects(readPayload(trickle(50), 1_000_000, { signal: new AbortController().signal, saturated: () => false, timing: TIMING }),
    (err: CodedError) => err.code === 'UPLOAD_TOO_SLOW');
  assert.ok(performance.now() - started >= TIMING.idleMs, 'not before the grace');
});

test('a rate floor of 0 turns the rate check off; the same trickle then completes', async () => {
  const payload = await readPayload(trickle(50, 12), 12, { signal: new AbortController().signal, saturated: () => false, timing: { idleMs: 300, minBytesPerSecond: 0 } });
  assert.equal(payload.length, 12);
});

test('time the reader is paused for a saturated pool counts for neither limit', async () => {
  let pausedPolls = Math.ceil((3 * TIMING.idleMs) / SATURATION_POLL_MS);
  const s = source([chunk([1]), chunk([2])]);
  const payload = await readPayload(s, 2, {
    signal: new AbortController().signal,
    saturated: () => s.pulled === 1 && pausedPolls-- > 0,
    timing: TIMING,
  });
  assert.deepEqual([...payload], [1, 2]);
});

test('the writer reports RESPONSE_STALLED once the stream stayed blocked for stallMs, and not when it drains in time', async () => {
  const stalls: CodedError[] = [];
  const controller = new AbortController();
  const sink = new SlowWritable(1);
  const writer = new ResponseWriter<string>(sink, controller.signal, { stallMs: 150, onStall: (err) => { stalls.push(err); controller.abort(err); } });
  const first = writer.write('a');
  await new Promise((r) => setTimeout(r, 50));
  sink.drain();
  await first;
  assert.equal(stalls.length, 0, 'a drain within stallMs is no stall');
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(stalls.length, 0, 'the timer stopped at the drain');
  await writer.write('b');
  assert.equal(stalls.length, 1);
  assert.equal(stalls[0]!.code, 'RESPONSE_STALLED');
  assert.ok(controller.signal.aborted, 'the abort released the blocked write');
});
