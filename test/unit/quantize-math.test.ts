// int8 quantisation maths (src/models/quantize/quant-math.ts) and the calibration helpers: scales and zero points,
// per-channel symmetric weights, rounding half to even, saturation, bias scales, percentile ranges; the models
// setting's precision entries; which nodes a build quantises.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ConfigError, loadConfig } from '../../src/config/index.ts';
import { DATA_TYPE, node, tensor, type ModelProto } from '../../src/models/quantize/model-proto.ts';
import { QUANTISED_CONVOLUTIONS, quantizableNodes, shareRangesAcrossPieces, type QuantizePolicy } from '../../src/models/quantize/qdq-rewrite.ts';
import { activationParams, quantizeActivation, quantizeBias, quantizeWeightsPerChannel, roundHalfEven, saturate } from '../../src/models/quantize/quant-math.ts';

test('roundHalfEven rounds ties to the even neighbour, as QuantizeLinear does', () => {
  assert.deepEqual([0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 2.4, 2.6, -2.6].map(roundHalfEven), [0, 2, 2, -0, -2, -2, 2, 3, -3]);
});

test('saturate clamps to the code range', () => {
  assert.equal(saturate(300, { min: 0, max: 255 }), 255);
  assert.equal(saturate(-4, { min: 0, max: 255 }), 0);
  assert.equal(saturate(-200, { min: -128, max: 127 }), -128);
  assert.equal(saturate(17, { min: 0, max: 255 }), 17);
});

test('uint8 activation parameters: the range is widened to hold 0, and 0 is exactly a code', () => {
  const p = activationParams(-1, 3);
  assert.equal(p.scale, Math.fround(4 / 255));
  assert.equal(p.zeroPoint, 64); // round(1 / (4/255)) = round(63.75)
  assert.equal(quantizeActivation(0, p), p.zeroPoint);
  // All-positive values: zero point 0, scale max/255.
  const pos = activationParams(2, 5.1);
  assert.equal(pos.zeroPoint, 0);
  assert.equal(pos.scale, Math.fround(5.1 / 255));
  // All-negative values: zero point 255.
  assert.equal(activationParams(-3, -1).zeroPoint, 255);
  // Values outside the calibrated range saturate instead of wrapping.
  assert.equal(quantizeActivation(100, p), 255);
  assert.equal(quantizeActivation(-100, p), 0);
  // A constant tensor does not divide by zero.
  assert.deepEqual(activationParams(0, 0), { scale: 1, zeroPoint: 0 });
  assert.throws(() => activationParams(Number.NaN, 1), /not a finite interval/);
});

test('weights: symmetric per-channel int8, one scale per channel, max |w| maps to 127', () => {
  // Conv weight (O=2, I=1, 1, 2): channel = output channel (axis 0, inner 2).
  const conv = quantizeWeightsPerChannel(Float32Array.of(0.5, -1, 0.015, 0.02), 2, 2);
  assert.deepEqual([...conv.scales], [Math.fround(1 / 127), Math.fround(0.02 / 127)]);
  assert.deepEqual([...conv.data], [64, -127, 95, 127]); // 0.5*127 = 63.5 -> 64 (half to even); 0.015/0.02*127 = 95.25 -> 95
  // MatMul weight (K=2, N=3): channel = column (axis 1, inner 1).
  const mm = quantizeWeightsPerChannel(Float32Array.of(1, 2, 0, -4, 1, 0), 3, 1);
  assert.deepEqual([...mm.scales], [Math.fround(4 / 127), Math.fround(2 / 127), 1]); // an all-zero column gets scale 1
  assert.deepEqual([...mm.data], [32, 127, 0, -127, 64, 0]);
  assert.throws(() => quantizeWeightsPerChannel(new Float32Array(5), 2, 2), /do not split/);
});

test('dequantised weights are within half a step of the originals', () => {
  const w = Float32Array.from({ length: 96 }, (_, i) => Math.sin(i * 1.7) * (1 + (i % 3)));
  const q = quantizeWeightsPerChannel(w, 4, 24);
  for (let i = 0; i < w.length; i++) {
    const s = q.scales[Math.floor(i / 24)]!;
    assert.ok(Math.abs(q.data[i]! * s - w[i]!) <= s / 2 + 1e-7, `weight ${i}`);
    assert.ok(Math.abs(q.data[i]!) <= 127);
  }
});

test('bias: int32 with scale activation scale x channel weight scale, zero point 0', () => {
  const b = quantizeBias(Float32Array.of(0.1, -0.25), 0.02, Float32Array.of(0.5, 0.01));
  assert.deepEqual([...b.scales], [Math.fround(0.01), Math.fround(0.0002)]);
  assert.deepEqual([...b.data], [10, -1250]);
});

test('models setting: {"model", "precision": "int8", "calibration"} per network, checked at load with the field named', () => {
  const repo = mkdtempSync(join(tmpdir(), 'onesam-int8-setting-'));
  mkdirSync(join(repo, 'lm'));
  writeFileSync(join(repo, 'lm', 'manifest.json'), JSON.stringify({ name: 'lm', architecture: 'litemedsam', weights: 'w.safetensors', modalities: ['CT'], precision: 'fp32', description: 'test' }));
  const cases = join(repo, 'cases');
  mkdirSync(cases);
  writeFileSync(join(cases, 'a.npz'), '');
  const load = (models: unknown) => loadConfig({ env: { ONESAM_MODELS_DIR: repo, ONESAM_MODELS: JSON.stringify(models) } }).config;
  const int8 = load({ litemedsam: { model: 'lm', precision: 'int8', calibration: cases } });
  assert.deepEqual(int8.models, { litemedsam: 'lm' });
  assert.deepEqual(int8.modelPrecisions, { litemedsam: { precision: 'int8', calibration: cases, calibrationMethod: 'percentile' } });
  assert.equal(load({ litemedsam: { model: 'lm', precision: 'int8', calibration: cases, calibrationMethod: 'minmax' } }).modelPrecisions?.litemedsam?.calibrationMethod, 'minmax');
  // fp32, as an object or a bare name, is today's configuration: no precision entry at all.
  assert.equal(load({ litemedsam: { model: 'lm', precision: 'fp32' } }).modelPrecisions, undefined);
  assert.equal(load({ litemedsam: 'lm' }).modelPrecisions, undefined);
  const refused = (models: unknown): ConfigError => {
    try {
      load(models);
    } catch (err) {
      assert.ok(err instanceof ConfigError);
      return err;
    }
    return assert.fail('expected a ConfigError');
  };
  assert.match(refused({ litemedsam: { model: 'lm', precision: 'int4' } }).message, /models\.litemedsam\.precision.*"fp32" or "int8"/);
  assert.match(refused({ litemedsam: { model: 'lm', precision: 'int8' } }).message, /models\.litemedsam\.calibration.*is required/);
  assert.match(refused({ litemedsam: { model: 'lm', precision: 'int8', calibration: join(repo, 'lm') } }).message, /holds no \.npz case/);
  assert.match(refused({ litemedsam: { model: 'lm', precision: 'int8', calibration: join(repo, 'nope') } }).message, /cannot be read/);
  assert.match(refused({ litemedsam: { model: 'lm', precision: 'int8', calibration: cases, calibrationMethod: 'entropy' } }).message, /calibrationMethod.*minmax, percentile/);
  assert.match(refused({ litemedsam: { model: 'lm', precisoin: 'int8' } }).message, /models\.litemedsam\.precisoin.*unknown field/);
  assert.match(refused({ litemedsam: { model: 'lm', calibration: cases } }).message, /calibration.*applies only to "precision": "int8"/);
  assert.match(refused({ litemedsam: { precision: 'int8' } }).message, /models\.litemedsam\.model.*repository model name/);
});

test('strips and bands sharing a weight get one range: the union over the pieces, inputs and outputs apart', () => {
  // Two strips of one Conv (weight w), then each strip's output read by a Conv of weight v; one unrelated value.
  const nodes = [
    node('Conv', ['x0', 'w'], ['y0'], 'conv/strip0'), node('Conv', ['x1', 'w'], ['y1'], 'conv/strip1'),
    node('Conv', ['y0', 'v'], ['z0'], 'next/strip0'), node('Conv', ['y1', 'v'], ['z1'], 'next/strip1'),
  ];
  const ranges = new Map([
    ['x0', { min: 0, max: 1 }], ['x1', { min: -2, max: 0.5 }], ['y0', { min: 0, max: 3 }], ['y1', { min: -1, max: 0 }],
    ['z0', { min: 0, max: 9 }], ['z1', { min: 0, max: 8 }], ['alone', { min: 5, max: 6 }],
  ]);
  const shared = shareRangesAcrossPieces(nodes, ranges);
  assert.deepEqual([shared.get('x0'), shared.get('x1')], [{ min: -2, max: 1 }, { min: -2, max: 1 }]);
  assert.deepEqual([shared.get('y0'), shared.get('y1')], [{ min: -1, max: 3 }, { min: -1, max: 3 }]);
  assert.deepEqual(shared.get('z1'), { min: 0, max: 9 });
  assert.deepEqual(shared.get('alone'), { min: 5, max: 6 });
});

test('which nodes an int8 build quantises: MatMuls but the downsampling and neck, convolutions of the adapters only unless asked', () => {
  const w2 = tensor('w2', DATA_TYPE.float, [4, 4], new Float32Array(16));
  const w4 = tensor('w4', DATA_TYPE.float, [4, 4, 1, 1], new Float32Array(16));
  const model = {
    graph: {
      initializer: [w2, w4],
      node: [
        node('MatMul', ['a', 'w2'], ['b'], 'layers.1.blocks.0.mlp.fc1/MatMul_1'),
        node('MatMul', ['a', 'w2'], ['c'], 'layers.1.downsample.conv1/MatMul_2'),
        node('MatMul', ['a', 'b'], ['d'], 'layers.1.blocks.0.attn/MatMul_3'),
        node('Conv', ['x', 'w4'], ['y'], 'layers.1.blocks.0.Adapter.spatial.0/Conv_4'),
        node('Conv', ['x', 'w4'], ['z'], 'patch_embed.seq.0/Conv_5'),
        node('Conv', ['x', 'w4'], ['u'], 'neck.0/Conv_6'),
      ],
    },
  } as unknown as ModelProto;
  const names = (policy: QuantizePolicy = {}): string[] => quantizableNodes(model, policy).map((n) => n.name!);
  // The default: the constant-weight MatMul outside downsampling and neck, and the adapter's convolution.
  assert.deepEqual(names(), ['layers.1.blocks.0.mlp.fc1/MatMul_1', 'layers.1.blocks.0.Adapter.spatial.0/Conv_4']);
  assert.deepEqual(names({ convolutions: false }), ['layers.1.blocks.0.mlp.fc1/MatMul_1']);
  assert.deepEqual(names({ convolutions: true }), ['layers.1.blocks.0.mlp.fc1/MatMul_1', 'layers.1.blocks.0.Adapter.spatial.0/Conv_4', 'patch_embed.seq.0/Conv_5']);
  assert.ok(QUANTISED_CONVOLUTIONS.test('layers.3.blocks.1.Adapter.spatial.2/Conv_1259'));
});
