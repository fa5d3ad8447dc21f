// The network contract (src/models/network-contract.ts): the facts derived from the architectures, the compiled
// demo graphs keeping them (tensor names, one slice's shapes, the interm input exactly where the contract says),
// and the wire names derived from the network names.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as ort from 'onnxruntime-node';
import { weightsOf } from '../helpers/golden.ts';
import { compileGraphs } from '../../src/models/compile.ts';
import {
  IMAGE_ENCODER_IO as ENC, isNetworkName, NETWORK_CHOICES, NETWORK_NAMES, networkRecord, NETWORKS, PROMPT_DECODER_IO as DEC,
} from '../../src/models/network-contract.ts';
import { modeFromWire, modeToWire, networkFromWire, networkToWire } from '../../src/protocol/wire.ts';

const MIB = 1024 * 1024;

test('the networks, in their fixed order, and the name checks', () => {
  assert.deepEqual(NETWORK_NAMES, ['litemedsam', 'onesam']);
  assert.equal(NETWORK_CHOICES, '"litemedsam" or "onesam"');
  assert.ok(isNetworkName('onesam'));
  for (const bad of ['fuse', 'route', 'LiteMedSAM', '', 3, undefined, 'toString']) assert.equal(isNetworkName(bad), false, String(bad));
  assert.deepEqual(networkRecord(() => 0), { litemedsam: 0, onesam: 0 });
  assert.deepEqual(Object.keys(networkRecord((n) => n)), NETWORK_NAMES);
});

test('one slice\'s shapes and bytes follow from the architecture; only OneSAM needs the interm embeddings', () => {
  const { litemedsam, onesam } = NETWORKS;
  for (const c of [litemedsam, onesam]) {
    assert.equal(c.frameSize, 256);
    assert.deepEqual(c.imageShape, [1, 3, 256, 256]);
    assert.deepEqual(c.embeddingShape, [1, 256, 64, 64]);
    assert.deepEqual(c.intermShape, [1, 64, 64, 160]);
    assert.equal(c.embeddingFloats, 256 * 64 * 64);
    assert.equal(c.intermFloats, 64 * 64 * 160);
  }
  assert.equal(litemedsam.needsInterm, false);
  assert.equal(onesam.needsInterm, true);
  assert.equal(litemedsam.sliceBytes, 4 * MIB, 'the embeddings only');
  assert.equal(onesam.sliceBytes, 4 * MIB + 2.5 * MIB, 'the embeddings and the HQ interm embeddings');
});

/** A graph's tensor shapes by name, with the dynamic batch axis as its symbol. */
function shapes(metadata: readonly ort.InferenceSession.ValueMetadata[]): Record<string, readonly (number | string)[]> {
  return Object.fromEntries(metadata.map((m) => [m.name, m.isTensor ? m.shape : []]));
}

for (const name of NETWORK_NAMES) {
  test(`${name}: the compiled graphs have the contract's tensor names and shapes`, async () => {
    const c = NETWORKS[name];
    const graphs = compileGraphs(name, weightsOf(name));
    const options: ort.InferenceSession.SessionOptions = { graphOptimizationLevel: 'disabled' };
    const encoder = await ort.InferenceSession.create(graphs.encoder, options);
    const decoder = await ort.InferenceSession.create(graphs.decoder, options);
    try {
      const batched = (shape: readonly number[]): (number | string)[] => ['N', ...shape.slice(1)];
      assert.deepEqual(shapes(encoder.inputMetadata), { [ENC.input]: batched(c.imageShape) });
      assert.deepEqual(shapes(encoder.outputMetadata), { [ENC.embeddings]: batched(c.embeddingShape), [ENC.interm]: batched(c.intermShape) });

      const inputs = shapes(decoder.inputMetadata);
      assert.deepEqual(inputs[DEC.imageEmbeddings], c.embeddingShape);
      assert.equal(DEC.intermEmbeddings in inputs, c.needsInterm, 'the decoder reads interm_embeddings exactly when the contract says');
      if (c.needsInterm) assert.deepEqual(inputs[DEC.intermEmbeddings], c.intermShape);
      assert.deepEqual(inputs[DEC.maskInput], ['B', 1, c.frameSize, c.frameSize]);
      assert.deepEqual(Object.keys(shapes(decoder.outputMetadata)), [DEC.lowResLogits, DEC.iouPredictions]);
    } finally {
      await Promise.all([encoder.release(), decoder.release()]);
    }
  });
}

test('the wire names follow the network names', () => {
  assert.deepEqual(NETWORK_NAMES.map(networkToWire), ['NETWORK_LITEMEDSAM', 'NETWORK_ONESAM']);
  for (const name of NETWORK_NAMES) assert.equal(networkFromWire(networkToWire(name)), name);
  assert.equal(networkFromWire(1), 'litemedsam', 'proto numbers are accepted');
  assert.equal(networkFromWire(2), 'onesam');
  for (const bad of ['NETWORK_UNSPECIFIED', 0, 3, -1, undefined] as const) assert.equal(networkFromWire(bad as never), undefined, String(bad));

  assert.equal(modeFromWire(undefined), 'route');
  assert.equal(modeFromWire('ENSEMBLE_MODE_UNSPECIFIED'), 'route');
  for (const mode of ['route', ...NETWORK_NAMES, 'fuse'] as const) assert.equal(modeFromWire(modeToWire(mode)), mode);
  assert.equal(modeToWire('onesam'), 'ENSEMBLE_MODE_ONESAM');
  assert.equal(modeFromWire('ENSEMBLE_MODE_BOTH' as never), undefined);
});
