/**
 * Global setup of the `integration` project: one stack on free ports for all
 * integration test files, provided to them as `inject('stack')` (see
 * `stack.ts`), stopped when the run ends.
 *
 * `RESTOCK_TEST_STACK=.local/stack.json` reuses a stack already running
 * (`npm start` in another shell) instead of starting one: faster while
 * iterating, but tests then share it with whatever else uses it.
 */
import { resolve } from 'node:path';
import type { TestProject } from 'vitest/node';
import { findRunningStack, REPO_ROOT, startStack } from '../../emulators/stack/index.ts';

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const reuse = process.env.RESTOCK_TEST_STACK;
  if (reuse) {
    const running = await findRunningStack(resolve(REPO_ROOT, reuse));
    if (!running) throw new Error(`RESTOCK_TEST_STACK=${reuse}: no running stack described there (is \`npm start\` running?)`);
    project.provide('stack', running);
    return async () => {};
  }
  const stack = await startStack({
    dir: resolve(REPO_ROOT, '.local', 'test-stacks', `global-${process.pid}`),
    // Web push has no test through the sink: its tests count what the push service stand-in decrypted.
    env: { RESTOCK_WEBPUSH_SENDER: 'webpush' },
    // Only a retried start is worth a line here: it says why the suite started late.
    onProgress: (message) => {
      if (message.includes('retrying')) process.stderr.write(`[integration] ${message}\n`);
    },
  });
  process.stderr.write(`[integration] stack ready in ${stack.startupMs.total} ms (logs: ${stack.description.logsDir})\n`);
  project.provide('stack', stack.description);
  return () => stack.stop();
}
