/**
 * The manual cannot drift from the code: every shell block marked
 * ```` ```sh runnable ```` in README.md and docs/ is run, in order, with bash
 * (`-euo pipefail`) against the shared stack, with only what `npm start`
 * prints as exports in the environment (no state file). A block passes when it
 * exits 0; blocks assert what they show (`grep -x 409`, `curl --fail-with-body`).
 */
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { describe, expect, test } from 'vitest';
import { REPO_ROOT, shellEnv } from '../../../emulators/stack/index.ts';
import { runnableBlocks } from '../../helpers/manual.ts';
import { stack } from '../../helpers/index.ts';

/** Variables that would point the CLI somewhere else than the exports say. */
const TARGET_VARS = /^(GOOGLE_CLOUD_PROJECT|FIRESTORE_EMULATOR_HOST|PUBSUB_EMULATOR_HOST|CLOUD_TASKS_EMULATOR_HOST|RESTOCK_.*|NODE_OPTIONS|VITEST.*)$/;

function run(code: string, env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  return new Promise((resolvePromise) => {
    const child = spawn('bash', ['-euo', 'pipefail', '-c', code], { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (b: Buffer) => (output += b.toString()));
    child.stderr.on('data', (b: Buffer) => (output += b.toString()));
    child.on('close', (exitCode) => resolvePromise({ code: exitCode, output }));
  });
}

describe('the runnable shell blocks of the manual', () => {
  const blocks = runnableBlocks();

  test('the manual has runnable blocks in the guides (the marker has not been lost)', () => {
    expect(blocks.length).toBeGreaterThanOrEqual(4);
  });

  test.each(blocks.map((b) => [b.where, b] as const))('%s runs against a local stack', async (_where, block) => {
    // Prepare: the environment of a shell where `npm start`'s exports were pasted.
    const env: Record<string, string> = {};
    for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !TARGET_VARS.test(k)) env[k] = v;
    Object.assign(env, shellEnv(stack().description), { RESTOCK_STACK_FILE: resolve(REPO_ROOT, '.local', 'no-such-stack.json') });

    // Act
    const result = await run(block.code, env);

    // Assess
    expect(result.code, `${block.where} failed:\n${block.code}\n--- output ---\n${result.output}`).toBe(0);
  }, 300_000);
});
