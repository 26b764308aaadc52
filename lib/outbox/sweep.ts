/**
 * One scheduled sweep of the outbox and the line that reports it. The line
 * is a contract with terraform/outbox.tf: its log-based metrics select it by
 * `jsonPayload.outboxSweep=true` and extract `failedRows` and
 * `oldestPendingAgeMs`; a renamed field would leave the outbox alerts without
 * data (test/unit/outbox/sweep-line.test.ts pins both sides).
 */
import type { Logger } from '../log.ts';
import type { OutboxStore } from './model.ts';
import type { OutboxRelay, RelayReport } from './relay.ts';

/** The message of the sweep's report line. */
export const SWEEP_LOG_MESSAGE = 'outbox sweep';

/**
 * What one sweep did (claimed/sent/retried/failed, batches) beside the
 * outbox's gauges, named apart: `failed` is this sweep's, `failedRows` every
 * row that gave up.
 */
export interface SweepReport extends RelayReport {
  batches: number;
  pendingRows: number;
  failedRows: number;
  /** Age of the oldest pending row, ms; 0 when none is pending. */
  oldestPendingAgeMs: number;
}

/** The gauges of the outbox as `stats` reports them, at `nowMs`. */
export function sweepGauges(stats: Awaited<ReturnType<OutboxStore['stats']>>, nowMs: number): Pick<SweepReport, 'pendingRows' | 'failedRows' | 'oldestPendingAgeMs'> {
  const oldestPendingAgeMs = stats.oldestPendingStagedAtMs === null ? 0 : Math.max(0, nowMs - stats.oldestPendingStagedAtMs);
  return { pendingRows: stats.pending, failedRows: stats.failed, oldestPendingAgeMs };
}

/**
 * Runs one sweep within `budgetMs`, reads the outbox's gauges, and logs the
 * report line the alerts read.
 * @throws whatever the store throws (the scheduler's next run tries again).
 */
export async function sweepAndReport(store: OutboxStore, relay: OutboxRelay, o: { budgetMs: number; now: () => number; log: Logger }): Promise<SweepReport> {
  const done = await relay.sweep(o.budgetMs);
  const report: SweepReport = { ...done, ...sweepGauges(await store.stats(), o.now()) };
  o.log.info(SWEEP_LOG_MESSAGE, { ...report, outboxSweep: true });
  return report;
}
