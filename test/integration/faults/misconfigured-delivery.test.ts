/**
 * A delivery function that cannot work with its settings refuses to start,
 * naming the setting, instead of failing every task silently until Cloud
 * Tasks gives up; and `restock status` never calls an event settled while a
 * chunk it enqueued was never claimed by delivery.
 */
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { describe, expect, test } from 'vitest';
import type { StatusReport } from '../../../cli/commands/status.ts';
import { COLLECTIONS, type FanoutDoc } from '../../../lib/model.ts';
import { REPO_ROOT } from '../../../emulators/stack/index.ts';
import { stack, uniqueProductId } from '../../helpers/index.ts';
import { restockJson } from '../../helpers/cli.ts';

const FUNCTIONS_FRAMEWORK_MAIN = join(dirname(createRequire(import.meta.url).resolve('@google-cloud/functions-framework')), 'main.js');

/**
 * Starts one function as the stack does, and resolves once it either exits
 * (`exited` with its code) or says it is serving (`serving`; it is then stopped).
 */
function startFunction(target: string, env: Record<string, string>): Promise<{ outcome: 'exited' | 'serving'; code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', FUNCTIONS_FRAMEWORK_MAIN, `--target=${target}`, `--source=functions/${target}.ts`, '--port=0'], {
      cwd: REPO_ROOT,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    let serving = false;
    const onData = (b: Buffer) => {
      output += b.toString();
      if (!serving && /Serving function/.test(output)) {
        serving = true;
        child.kill('SIGTERM');
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('error', reject);
    child.on('close', (code) => resolve({ outcome: serving ? 'serving' : 'exited', code, output }));
  });
}

describe('a misconfigured delivery function', () => {
  test('refuses to start, naming RESTOCK_NOTIFIER_URL, when the http notifier has no URL', async () => {
    const r = await startFunction('deliverRestockBatch', { RESTOCK_NOTIFIER: 'http', GOOGLE_CLOUD_PROJECT: 'restock-local' });

    expect(r.outcome).toBe('exited');
    expect(r.code).not.toBe(0);
    expect(r.output).toContain('RESTOCK_NOTIFIER_URL');
  });

  test('the other functions, which never send, still start without it', async () => {
    // Everything else a production fan-out needs (it verifies its callers), and no notifier URL.
    const r = await startFunction('fanOutRestock', {
      RESTOCK_NOTIFIER: 'http',
      GOOGLE_CLOUD_PROJECT: 'restock-local',
      RESTOCK_TASKS_SERVICE_ACCOUNT: 'restock-tasks@restock-local.iam.gserviceaccount.com',
      RESTOCK_PUSH_SERVICE_ACCOUNT: 'restock-pubsub-push@restock-local.iam.gserviceaccount.com',
      RESTOCK_TASK_SIGNING_KEYS: 'a-task-signing-key-of-more-than-32-bytes',
    });

    expect(r.outcome).toBe('serving');
  });
});

describe('restock status of an event whose chunk no delivery ever claimed', () => {
  test('is not settled, and says how many chunks are unaccounted for', async () => {
    // Prepare: a completed fan-out that enqueued one chunk, whose task then died before delivery could run
    // (no ledger entry, no chunk receipt, nothing left in the queue).
    const s = stack();
    const productId = uniqueProductId('unaccounted');
    const eventKey = `evt-${productId}`;
    const nowMs = Date.now();
    await s.firestore.collection(COLLECTIONS.fanouts).doc(eventKey).set({
      eventKey, productId, state: 'complete', event: {}, product: { available: 2 }, leaseOwner: null, leaseExpiresAtMs: 0, cursor: 'user-9',
      generation: 0, attempts: 1, pages: 1, chunks: 1, recipients: 10, startedAtMs: nowMs, updatedAtMs: nowMs, completedAtMs: nowMs,
      chunkReceipts: true, // started since chunk receipts exist: each chunk a delivery claims leaves one
      ledgerShards: 1, // as every fan-out on this stack records it (RESTOCK_LEDGER_SHARDS=1 on the emulators)
    } satisfies FanoutDoc);

    // Act
    const report = await restockJson<StatusReport>(['status', eventKey], { stack: s.description });

    // Assess
    expect(report).toMatchObject({ queuedTasks: 0, unaccountedChunks: 1, settled: false });
    expect(report.deliveries.total).toBe(0);
  });
});
