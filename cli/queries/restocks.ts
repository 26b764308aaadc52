/**
 * The read model of `restock restocks` and the console's overview: the
 * restocks that started in a window (the last 24 h by default), newest first,
 * each with its fan-out state and its deliveries counted by state.
 *
 * The fan-outs come from one query on `startedAtMs` (Firestore's automatic
 * single-field index: no composite index, no scan of any ledger); each
 * restock's deliveries are counted with the same count aggregations as
 * `restock status` (`countByState`, one small RPC per state and shard group,
 * whatever the audience size). Fan-outs that decided the event was not a
 * restock (`ignored`) are left out: they told nobody.
 */
import type { Firestore } from '@google-cloud/firestore';
import pLimit from 'p-limit';
import { countByState } from '../../lib/delivery/index.ts';
import { COLLECTIONS, DELIVERY_STATES } from '../../lib/model.ts';
import type { Backend } from '../backend.ts';
import { guard } from '../guard.ts';
import { fanoutSummary, type FanoutSummary } from '../records.ts';
import type { DeliveryCounts } from './status.ts';

/** Which restocks to list. */
export interface RestocksQuery {
  /** Restocks whose fan-out started at or after this time. */
  sinceMs: number;
  /** At most this many (the newest). */
  limit: number;
}

/** One restock of the overview. */
export interface RestockRow {
  fanout: FanoutSummary;
  deliveries: DeliveryCounts;
  /** Notifications sent (the ledger's `sent`). */
  told: number;
  /** How many the restock is telling: the recipients its fan-out enqueued, or the ledger's entries when more. */
  audience: number;
  /** Notifications that did not get through: `failed` (still retried), `exhausted` and `rejected`. */
  failures: number;
}

/** What `restock restocks` and the overview report. */
export interface RestocksReport {
  sinceMs: number;
  restocks: RestockRow[];
  /** True when more fan-outs started in the window than were read (raise the limit, or narrow the window). */
  truncated: boolean;
}

/** Count aggregations of different restocks run at once: each is a handful of RPCs. */
const COUNT_CONCURRENCY = 4;
/** Fan-outs read per page of the window (ignored ones are skipped, so a page may yield fewer restocks). */
const PAGE = 100;
/** Fan-outs read at most per answer, so a window full of ignored events still answers promptly. */
const MAX_READ = 2_000;

/** The failures of a restock, as the overview counts them. Pure. */
export function failuresOf(d: Pick<DeliveryCounts, 'failed' | 'exhausted' | 'rejected'>): number {
  return d.failed + d.exhausted + d.rejected;
}

/** One overview row out of a fan-out and its counts. Pure. */
export function restockRow(fanout: FanoutSummary, byState: Record<(typeof DELIVERY_STATES)[number], number>): RestockRow {
  const total = DELIVERY_STATES.reduce((sum, s) => sum + byState[s], 0);
  const deliveries: DeliveryCounts = { ...byState, total };
  return { fanout, deliveries, told: byState.sent, audience: Math.max(fanout.recipients, total), failures: failuresOf(byState) };
}

async function restockFanouts(db: Firestore, q: RestocksQuery): Promise<{ fanouts: FanoutSummary[]; truncated: boolean }> {
  const found: FanoutSummary[] = [];
  let query = db.collection(COLLECTIONS.fanouts).where('startedAtMs', '>=', q.sinceMs).orderBy('startedAtMs', 'desc');
  for (let read = 0; read < MAX_READ; ) {
    const page = await guard('query', `${COLLECTIONS.fanouts} started since ${new Date(q.sinceMs).toISOString()}`, query.limit(PAGE).get());
    read += page.size;
    for (const d of page.docs) {
      const f = fanoutSummary(d.id, d.data());
      if (f.state === 'ignored') continue;
      found.push(f);
      if (found.length > q.limit) return { fanouts: found.slice(0, q.limit), truncated: true };
    }
    if (page.size < PAGE) return { fanouts: found, truncated: false };
    query = query.startAfter(page.docs[page.size - 1]!);
  }
  return { fanouts: found.slice(0, q.limit), truncated: true };
}

/**
 * Reads the restocks that started since `q.sinceMs`, newest first.
 * @throws BackendError when Firestore fails or does not answer.
 */
export async function readRestocks(backend: Backend, q: RestocksQuery): Promise<RestocksReport> {
  const { fanouts, truncated } = await restockFanouts(backend.db, q);
  const limit = pLimit(COUNT_CONCURRENCY);
  const restocks = await Promise.all(
    fanouts.map((f) =>
      limit(async () => {
        const byState = await guard('count', `${COLLECTIONS.deliveries} of ${f.eventKey} by state`, countByState(backend.db, f.eventKey, f.ledgerShards ?? backend.config.ledgerShards));
        return restockRow(f, byState);
      }),
    ),
  );
  return { sinceMs: q.sinceMs, restocks, truncated };
}
