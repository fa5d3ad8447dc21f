// The reference golden tensors and demo weights in ../shared/reference, for the graph conformance tests.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { readSafetensors } from '../../src/models/checkpoint/safetensors.ts';
import type { StateDict } from '../../src/models/checkpoint/tensor.ts';

const REFERENCE = fileURLToPath(new URL('../../../shared/reference/', import.meta.url));

const golden = readSafetensors(readFileSync(`${REFERENCE}golden/golden_tensors.safetensors`), 'golden tensors');

/** A demo checkpoint: `litemedsam` or `onesam`. */
export const weightsOf = (model: string): StateDict => readSafetensors(readFileSync(`${REFERENCE}weights/${model}_demo.safetensors`), model);

export function goldenTensor(key: string): Float32Array {
  const t = golden.get(key);
  assert.ok(t, `golden tensor ${key} exists`);
  return t.data as Float32Array;
}

/** max |a - b| over item `index` of a batched output whose items have `b.length` values. */
export function maxAbsDiff(batched: Float32Array, index: number, b: Float32Array): number {
  assert.ok(batched.length >= (index + 1) * b.length, `output holds item ${index} of ${b.length} values`);
  const a = batched.subarray(index * b.length, (index + 1) * b.length);
  let max = 0;
  for (let i = 0; i < b.length; i++) max = Math.max(max, Math.abs(a[i]! - b[i]!));
  return max;
}
