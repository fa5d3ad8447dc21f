// onesam_slices_encoded_total counts slices as they are encoded, so a dashboard sees a cancelled request's work
// and sees it stop; a completed request adds each slice once, and a session request's reused slices go to
// onesam_slices_reused_total, not to the encoder's count.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { FakeSegmenter } from '../helpers/fake-segmenter.ts';
import { box3d, rawRequest } from '../helpers/requests.ts';
import { scrape, startTestService, type TestService } from '../helpers/test-service.ts';
import { until } from '../helpers/until.ts';

const ENCODED = 'onesam_slices_encoded_total{network="litemedsam"}';
const REUSED = 'onesam_slices_reused_total{network="litemedsam"}';

let server: TestService;
let fake: FakeSegmenter;
before(async () => {
  fake = new FakeSegmenter({ sliceMs: 250, workers: 1 });
  server = await startTestService({ createSegmenter: async () => fake });
  await server.service.ready;
});
after(() => server?.stop());

async function metric(name: string): Promise<number> {
  return (await scrape(server.metricsUrl)).get(name) ?? 0;
}

test('slices of a cancelled request are counted as they were encoded, and the count stops with the request', async () => {
  const before = await metric(ENCODED);
  const abort = new AbortController();
  let seen = 0;
  const call = server.client().segment(rawRequest({ prompts: [box3d(1, 4, 5, 0, 20, 22, 5)] }), {
    signal: abort.signal,
    onProgress: (p) => {
      seen = p.slicesEncoded;
      if (p.slicesEncoded >= 2) abort.abort();
    },
  });
  await assert.rejects(call, /CANCELLED/);
  await until(() => fake.aborted === 1 && fake.running === 0, 'the pipeline to stop', 30_000);
  const counted = (await metric(ENCODED)) - before;
  assert.ok(seen >= 2, 'the client saw slices encoded before it cancelled');
  assert.ok(counted >= 2, `the cancelled request's encoded slices are counted (got ${counted})`);
  assert.ok(counted < 6, `work stopped with the cancel: ${counted} of 6 slices`);
  // Nothing more arrives later: the count is final once the pipeline stopped.
  await new Promise((r) => setTimeout(r, 600));
  assert.equal((await metric(ENCODED)) - before, counted);
});

test('a completed request counts each encoded slice once; reused session slices count as reused', async () => {
  fake.sliceMs = 5;
  const encoded0 = await metric(ENCODED);
  const reused0 = await metric(REUSED);
  const first = await server.client().segment(rawRequest({ keepSession: true, prompts: [box3d(1, 4, 5, 0, 20, 22, 5)] }));
  assert.equal(first.summary.slicesEncoded[0]?.slices, 6);
  assert.equal((await metric(ENCODED)) - encoded0, 6, 'six slices, counted once');

  const sessionId = first.accepted.session!.sessionId;
  const again = await server.client().segment({ header: { sessionId, prompts: [box3d(2, 6, 6, 1, 18, 20, 4)] }, payload: new Uint8Array(0) });
  assert.equal(again.summary.slicesReused[0]?.slices, 4);
  assert.equal((await metric(ENCODED)) - encoded0, 6, 'reused slices are not encoder work');
  assert.equal((await metric(REUSED)) - reused0, 4);
});
