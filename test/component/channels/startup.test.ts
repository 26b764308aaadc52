/**
 * The delivery function refuses to start when a chosen channel sender lacks
 * its settings, naming the setting, instead of failing at the first restock.
 * Served exactly as the stack serves them (functions-framework, one process each).
 */
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { REPO_ROOT } from '../../../emulators/stack/index.ts';

const require = createRequire(import.meta.url);
const FRAMEWORK_MAIN = join(dirname(require.resolve('@google-cloud/functions-framework')), 'main.js');

/** Starts one function with `env` and resolves its exit code and output (or 'running' after `waitMs`). */
function serve(target: string, env: Record<string, string>, waitMs = 45_000): Promise<{ code: number | null | 'running'; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', FRAMEWORK_MAIN, `--target=${target}`, `--source=functions/${target}.ts`, '--port=0'], {
      cwd: REPO_ROOT,
      env: { PATH: process.env.PATH ?? '', METADATA_SERVER_DETECTION: 'none', GOOGLE_CLOUD_PROJECT: 'restock-local', ...env },
    });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      resolve({ code: 'running', output });
    }, waitMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

describe('starting with a channel sender chosen but not configured', () => {
  test('deliverRestockBatch with RESTOCK_EMAIL_SENDER=smtp and no SMTP host exits at start naming RESTOCK_SMTP_HOST', async () => {
    // Act
    const { code, output } = await serve('deliverRestockBatch', { RESTOCK_NOTIFIER: 'log', RESTOCK_EMAIL_SENDER: 'smtp', RESTOCK_EMAIL_FROM: 'r@shop.example' });
    // Assess
    expect(code).not.toBe('running');
    expect(code).not.toBe(0);
    expect(output).toContain('RESTOCK_SMTP_HOST: is required when RESTOCK_EMAIL_SENDER=smtp');
  }, 60_000);
});
