/**
 * What the console's restock page and its JSON endpoint show of a
 * `restock status` report: the progress in the overview's terms (told of the
 * audience, failures) beside the report itself. Pure, so the page, the
 * endpoint the page polls and the tests read one answer.
 */
import { failuresOf } from '../cli/queries/restocks.ts';
import { settledCount, type StatusReport } from '../cli/queries/status.ts';
import type { DeliverySummary } from '../cli/records.ts';

/** A restock's progress, as the console's restock page shows and updates it. */
export interface RestockProgress {
  /** Notifications sent. */
  told: number;
  /** Whom the restock is telling: the recipients its fan-out enqueued, or the ledger's entries when more. */
  audience: number;
  /** Deliveries in a final state (sent, rejected, exhausted, unsubscribed, sold out before sending). */
  settledDeliveries: number;
  failures: number;
  /** Whether nothing more will happen by itself (the report's `settled`): the page stops polling. */
  settled: boolean;
}

/** A sampled ledger entry as the console shows it: without whose it is (its user id, and the dedup key hashed from it). */
export type ConsoleDelivery = Omit<DeliverySummary, 'userId' | 'dedupKey'>;

/**
 * The status report as the console sends it to the browser: the sampled
 * entries (the oldest pending, the last errors) without their shoppers. The
 * page never shows a user id, and the JSON it embeds and polls every second
 * need not carry one (docs/console.md, Personal data).
 */
export type ConsoleStatus = Omit<StatusReport, 'oldestPending' | 'lastErrors'> & { oldestPending: ConsoleDelivery | null; lastErrors: ConsoleDelivery[] };

/** The JSON the restock page polls (`GET /api/restocks/{eventKey}`). */
export interface RestockView {
  /** When the report was read, in ms since the epoch: the x of the progress chart's next point. */
  readAtMs: number;
  progress: RestockProgress;
  status: ConsoleStatus;
}

/** A sampled entry without its shopper. Pure. */
function withoutShopper({ userId: _userId, dedupKey: _dedupKey, ...rest }: DeliverySummary): ConsoleDelivery {
  return rest;
}

/** The progress of a restock out of its status report. Pure. */
export function progressOf(r: StatusReport): RestockProgress {
  const d = r.deliveries;
  return {
    told: d.sent,
    audience: Math.max(d.total, r.fanout?.recipients ?? 0),
    settledDeliveries: settledCount(d),
    failures: failuresOf(d),
    settled: r.settled,
  };
}

/** The view of a status report read at `readAtMs`. Pure. */
export function restockView(status: StatusReport, readAtMs: number): RestockView {
  const { oldestPending, lastErrors } = status;
  return {
    readAtMs,
    progress: progressOf(status),
    status: { ...status, oldestPending: oldestPending ? withoutShopper(oldestPending) : null, lastErrors: lastErrors.map(withoutShopper) },
  };
}

/** A count as people read it (1,234). */
export function count(n: number): string {
  return n.toLocaleString('en-US');
}

/** A time in UTC to the second (the console's pages and the CLI agree on UTC). */
export function utc(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return '-';
  return `${new Date(ms).toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}
