// Property-based fuzz of Segment against a real server on 127.0.0.1 (test/helpers/fuzz-cases.ts): headers with
// every field random, chunk sequences (order, sizes, extra and missing chunks, second headers, undecodable
// messages, cancel points), npz (zip records, npy headers), NIfTI (header fields, gzip framing) and raw payloads,
// valid and damaged. Every call must end with an allowed status, a non-OK status the server sent must carry
// `onesam-error-code`, never INTERNAL or UNKNOWN; the server stays SERVING and a known-good request still
// succeeds. A fixed seed makes every run the same cases; bench/fuzz.ts runs >= 10,000 of them.
//
// The server is the real one (gRPC handling, payload codecs on the codec thread, planner, label encoders) with the
// fake segmenter in place of the networks: with the demo models an undamaged request (about one in six) costs
// 0.3-1 s on an idle 2-core machine and ten times that on a loaded one, too much for `npm test`. bench/fuzz.ts
// runs the same cases against the demo models.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import fc from 'fast-check';
import { FakeSegmenter } from '../helpers/fake-segmenter.ts';
import { FuzzTally, fuzzCase, knownGoodCase, oversizedMessageCase, rawSegmentClient, runCase } from '../helpers/fuzz-cases.ts';
import { scrape, startTestService, type TestService } from '../helpers/test-service.ts';

const SEED = 20261130;
const CASES = Number(process.env['ONESAM_FUZZ_CASES'] ?? 300);
const CALL_TIMEOUT_MS = 60_000;

let server: TestService;
let client: grpc.Client;
before(async () => {
  server = await startTestService({ createSegmenter: async () => new FakeSegmenter({ sliceMs: 2 }) });
  await server.service.ready;
  client = rawSegmentClient(server.address);
});
after(async () => {
  client?.close();
  await server?.stop();
});

test(`${CASES} random Segment calls end with allowed statuses and error-code trailers, never INTERNAL/UNKNOWN (seed ${SEED})`, { timeout: 600_000 }, async () => {
  const tally = new FuzzTally();
  await fc.assert(
    fc.asyncProperty(fuzzCase, async (c) => {
      const outcome = await runCase(client, c, { timeoutMs: CALL_TIMEOUT_MS });
      const why = tally.add(c, outcome);
      if (why) throw new Error(`${c.family}: ${why}`);
      if (tally.cases % 50 === 0) assert.equal(await server.health(''), 'SERVING', `health after ${tally.cases} cases`);
    }),
    { seed: SEED, numRuns: CASES },
  );
  // The run exercised the success path too, not only refusals.
  assert.ok(tally.validOk >= tally.valid * 0.8 && tally.validOk > 0, `only ${tally.validOk} of ${tally.valid} undamaged requests succeeded`);
  assert.ok(tally.byFamily.size >= 15, `case families: ${[...tally.byFamily.keys()].join(', ')}`);
  console.log(JSON.stringify({ cases: tally.cases, valid: tally.valid, validOk: tally.validOk, byStatus: Object.fromEntries(tally.byStatus), byCode: Object.fromEntries(tally.byCode) }));
});

test('a message above the receive limit ends with RESOURCE_EXHAUSTED and an error-code trailer', async () => {
  const tally = new FuzzTally();
  const why = tally.add(oversizedMessageCase(server.config.maxMessageBytes), await runCase(client, oversizedMessageCase(server.config.maxMessageBytes), { timeoutMs: CALL_TIMEOUT_MS }));
  assert.equal(why, undefined);
  assert.equal(tally.byStatus.get('RESOURCE_EXHAUSTED'), 1);
});

test('after the fuzz the server is SERVING, serves a known-good request and counted no INTERNAL error', async () => {
  assert.equal(await server.health(''), 'SERVING');
  const good = await runCase(client, knownGoodCase(), { timeoutMs: CALL_TIMEOUT_MS });
  assert.equal(good.code, grpc.status.OK, good.details);
  const samples = await scrape(server.metricsUrl);
  assert.equal(samples.get('onesam_errors_total{code="INTERNAL"}') ?? 0, 0, 'no INTERNAL error counted');
});
