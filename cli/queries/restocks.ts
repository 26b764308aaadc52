/**
 * The read model of `restock restocks` and the console's overview: the
 * restocks that started in a window (the last 24 h by default), newest first,
 * each with its fan-out state and its deliveries counted by state.
 *
 * The window is found through the products whose stock changed in it (every
 * restock writes its product), keeping those that ever restocked (a product
 * without `lastRestockEventKey` has only `ignored` fan-outs), then each one's
 * fan-outs started in the window by the index `restock trace` uses: only
 * indexes terraform/ keeps, no scan of any ledger. With 1,000 products changed
 * in a day that is 10 pages of products, one query per restocked product (16
 * at once) and the deliveries of each listed restock counted with the same count
 * aggregations as `restock status` (`countByState`, one small RPC per state
 * and shard group, whatever the audience size). Fan-outs that decided the
 * event was not a restock (`ignored`) are left out: they told nobody.
 */
import type { Firestore } from '@google-cloud/firestore';
import pLimit from 'p-limit';
import { countByState } from '../../lib/delivery/index.ts';
import { fanoutsOfProduct } from '../../lib/fanout/index.ts';
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
  /** True when the window held more than was read or listed (raise the limit, or narrow the window). */
  truncated: boolean;
}

/**
 * Count aggregations and per-product reads of different restocks run at once:
 * each is one small indexed query or a handful of count RPCs, so 1,000
 * products are ~60 round trips, not 250.
 */
export const CONCURRENCY = 16;
/** Products read per page of the window. */
export const PAGE = 100;
/** Products read at most per answer, so a busy day still answers promptly (the answer says when it stopped short). */
export const MAX_PRODUCTS = 1_000;
/** A product's newest fan-outs read (ignored ones included) to find its restocks in the window. */
export const FANOUTS_PER_PRODUCT = 20;

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

/**
 * The products whose stock state changed since `sinceMs`, newest first. Every
 * restock writes its product (the fan-out's claim stores the new stock with
 * `updatedAtMs`), so a restock that started in the window has its product
 * here. `products.updatedAtMs` keeps its automatic index; `fanouts.startedAtMs`
 * does not (terraform/firestore.tf: a timestamp of a bulk-written collection),
 * which is why the window is found through the products.
 */
async function productsChangedSince(db: Firestore, sinceMs: number): Promise<{ productIds: string[]; truncated: boolean }> {
  const ids: string[] = [];
  let read = 0;
  let query = db.collection(COLLECTIONS.products).where('updatedAtMs', '>=', sinceMs).orderBy('updatedAtMs', 'desc');
  while (read < MAX_PRODUCTS) {
    const page = await guard('query', `${COLLECTIONS.products} changed since ${new Date(sinceMs).toISOString()}`, query.select('updatedAtMs', 'lastRestockEventKey').limit(PAGE).get());
    read += page.size;
    // Every sale of a product writes it too: only a product that ever restocked can have a restock's fan-out.
    ids.push(...page.docs.filter((d) => typeof d.get('lastRestockEventKey') === 'string').map((d) => d.id));
    if (page.size < PAGE) return { productIds: ids, truncated: false };
    query = query.startAfter(page.docs[page.size - 1]!);
  }
  return { productIds: ids, truncated: true };
}

/** The restocks (not `ignored`) among a product's newest fan-outs that started since `sinceMs`, by the (productId, startedAtMs desc) index `restock trace` uses. */
async function restocksOfProduct(db: Firestore, productId: string, sinceMs: number): Promise<FanoutSummary[]> {
  // The window bounds the query itself: a product's older fan-outs are not read only to be dropped.
  const snap = await guard('query', `${COLLECTIONS.fanouts} of product ${productId}`, fanoutsOfProduct(db, productId, FANOUTS_PER_PRODUCT, sinceMs).get());
  return snap.docs.map((d) => fanoutSummary(d.id, d.data())).filter((f) => f.state !== 'ignored' && (f.startedAtMs ?? 0) >= sinceMs);
}

/**
 * Reads the restocks that started since `q.sinceMs`, newest first.
 * @throws BackendError when Firestore fails or does not answer.
 */
export async function readRestocks(backend: Backend, q: RestocksQuery): Promise<RestocksReport> {
  const limit = pLimit(CONCURRENCY);
  const products = await productsChangedSince(backend.db, q.sinceMs);
  const found = (await Promise.all(products.productIds.map((id) => limit(() => restocksOfProduct(backend.db, id, q.sinceMs))))).flat();
  const newest = found.sort((a, b) => (b.startedAtMs ?? 0) - (a.startedAtMs ?? 0) || a.eventKey.localeCompare(b.eventKey));
  const restocks = await Promise.all(
    newest.slice(0, q.limit).map((f) =>
      limit(async () => {
        const byState = await guard('count', `${COLLECTIONS.deliveries} of ${f.eventKey} by state`, countByState(backend.db, f.eventKey, f.ledgerShards ?? backend.config.ledgerShards));
        return restockRow(f, byState);
      }),
    ),
  );
  return { sinceMs: q.sinceMs, restocks, truncated: products.truncated || newest.length > q.limit };
}
