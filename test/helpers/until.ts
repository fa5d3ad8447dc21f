// Waits for something the test cannot await directly (a metric, a counter, an event from another thread): polls the
// condition until it holds, and fails the test naming what it waited for once timeoutMs have passed.
import assert from 'node:assert/strict';

export async function until(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 20_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
