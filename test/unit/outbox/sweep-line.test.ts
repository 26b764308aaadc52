/**
 * The sweep's report line is what the outbox alerts read (terraform/outbox.tf's
 * log-based metrics): one line per sweep, marked `outboxSweep: true`, with
 * every field those metrics extract. Both sides are pinned here, so renaming a
 * field on either side fails a test instead of silencing an alert.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { Logger } from '../../../lib/log.ts';
import { sweepAndReport, SWEEP_LOG_MESSAGE } from '../../../lib/outbox/index.ts';
import type { OutboxRelay, OutboxStore } from '../../../lib/outbox/index.ts';

const NOW = 1_800_000_000_000;

async function sweepLine(stats: { pending: number; failed: number; oldestPendingStagedAtMs: number | null }): Promise<Record<string, unknown>> {
  const lines: string[] = [];
  const relay = { sweep: async () => ({ claimed: 3, sent: 2, retried: 1, failed: 0, batches: 1 }) } as unknown as OutboxRelay;
  const store = { stats: async () => stats } as unknown as OutboxStore;
  await sweepAndReport(store, relay, { budgetMs: 1000, now: () => NOW, log: new Logger({}, 'DEBUG', (l) => lines.push(l)) });
  expect(lines).toHaveLength(1);
  return JSON.parse(lines[0]!) as Record<string, unknown>;
}

describe('the outbox sweep line', () => {
  test('reports what the sweep did beside the outbox\u2019s gauges, marked for the log metrics', async () => {
    const line = await sweepLine({ pending: 4, failed: 2, oldestPendingStagedAtMs: NOW - 90_000 });
    expect(line).toMatchObject({ message: SWEEP_LOG_MESSAGE, severity: 'INFO', outboxSweep: true, claimed: 3, sent: 2, retried: 1, failed: 0, batches: 1, pendingRows: 4, failedRows: 2, oldestPendingAgeMs: 90_000 });
  });

  test('says 0 for the oldest pending age when nothing is pending', async () => {
    expect((await sweepLine({ pending: 0, failed: 0, oldestPendingStagedAtMs: null })).oldestPendingAgeMs).toBe(0);
  });

  test('carries every jsonPayload field terraform/outbox.tf selects or extracts', async () => {
    const line = await sweepLine({ pending: 1, failed: 1, oldestPendingStagedAtMs: NOW - 1 });
    const fields = new Set([...readFileSync('terraform/outbox.tf', 'utf8').matchAll(/jsonPayload\.([A-Za-z]+)/g)].map((m) => m[1]!));
    // The filter's marker and the two extracted gauges at least, so this test cannot pass on an empty match.
    expect([...fields]).toEqual(expect.arrayContaining(['outboxSweep', 'failedRows', 'oldestPendingAgeMs']));
    for (const f of fields) expect(line, `terraform/outbox.tf reads jsonPayload.${f}`).toHaveProperty(f);
  });
});
