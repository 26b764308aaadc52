/**
 * The read model of `restock demand` and the console's demand and product
 * pages: which products shoppers wait for, how many sign up a day, and what
 * the last restock of each turned into (its funnel).
 *
 * Cost, for a shop with many products and a million shoppers:
 *
 * - Shoppers waiting are the documents of
 *   `products/{productId}/restockSubscriptions`, counted with one count
 *   aggregation per product (one small RPC whatever the audience); no
 *   subscription document is read. There is no count across products grouped
 *   by product in Firestore, so every product considered costs one count: the
 *   products are read from `products` in document-id order (100 a page, only
 *   the fields shown) and at most {@link MAX_PRODUCTS} of them are considered;
 *   the answer says `truncated` when the collection held more.
 * - Sign-ups per day are count aggregations over `createdAtMs` ranges of one
 *   product's subscriptions (one per day, served by the automatic
 *   single-field index waves already page by), asked only for the products
 *   listed. They count the sign-ups still waiting: a shopper told (one-shot)
 *   or unsubscribed is no longer there, and one who subscribed again counts on
 *   the day of the new sign-up.
 * - The last restock's conversion is its funnel (`./funnel.ts`, the one
 *   `restock status` shows), read for the listed products only; their
 *   fan-outs are read in one `getAll`.
 *
 * Products the pipeline never recorded a stock state for (no stock event and
 * no `restock backfill` yet) have no `products` document and are not
 * considered by the listing; `readProductDemand` counts them all the same.
 * Not a collection-group query over every subscription ordered by
 * `createdAtMs`: that index would take every sign-up of the shop in one
 * rising range and cap a subscribe storm (promise 14) at about 500 writes/s.
 */
import { FieldPath, type Firestore } from '@google-cloud/firestore';
import pLimit from 'p-limit';
import { fanoutsOfProduct, readFanouts } from '../../lib/fanout/index.ts';
import { COLLECTIONS, productRef, subscriptionsRef } from '../../lib/model.ts';
import type { Backend } from '../backend.ts';
import { guard } from '../guard.ts';
import { fanoutSummary, type FanoutSummary } from '../records.ts';
import { purchasedOf, readFunnel, type FunnelRow } from './funnel.ts';
import { countSubscribers } from './subscribers.ts';

/** Products read per page of `products`. */
const PAGE = 100;
/** Products considered at most per answer: each costs one count aggregation (the answer says when it stopped short). */
export const MAX_PRODUCTS = 1_000;
/** Count aggregations and funnels run at once (each a small RPC). */
export const CONCURRENCY = 16;
/** Days of sign-ups `restock demand` shows per product. */
export const DEMAND_DAYS = 7;
/** Days of sign-ups one product's page shows. */
export const PRODUCT_DAYS = 30;
/** A product's newest fan-outs read to find its past restocks (sales are fan-outs too, `ignored`). */
const FANOUTS_READ = 50;
/** Past restocks one product's page lists, newest first. */
export const PRODUCT_RESTOCKS = 10;

const DAY_MS = 86_400_000;

/** One UTC day of sign-ups: those whose `createdAtMs` is in `[dayStartMs, dayStartMs + 1 day)`. */
export interface SignupDay {
  dayStartMs: number;
  signups: number;
}

/** What a restock turned into: its funnel in all (docs/funnel.md), and purchases over notified. */
export interface RestockResult {
  eventKey: string;
  startedAtMs: number | null;
  state: string;
  /** Why a newer stock event ended it early, if one did. */
  stopped: string | null;
  /** Recipients its fan-out enqueued (this generation). */
  recipients: number;
  funnel: FunnelRow;
  /** Purchases (direct and assisted) per notification; null when it notified nobody. */
  conversion: number | null;
}

/** One product of the demand listing. */
export interface DemandRow {
  productId: string;
  name: string | null;
  /** Units available as the pipeline last recorded them (null: never recorded). */
  available: number | null;
  waiting: number;
  /** The last {@link DEMAND_DAYS} UTC days, oldest first; the last one is today so far. */
  signupsPerDay: SignupDay[];
  /** Null when the product never restocked. */
  lastRestock: RestockResult | null;
}

/** What to list. */
export interface DemandQuery {
  /** At most this many products, those with the most shoppers waiting. */
  top: number;
  nowMs: number;
}

/** What `restock demand` and the console's demand page report. */
export interface DemandReport {
  readAtMs: number;
  /** Products whose waiting shoppers were counted. */
  considered: number;
  /** Products with at least one shopper waiting, among those considered. */
  withWaiting: number;
  /** The `top` of them, most shoppers waiting first. */
  products: DemandRow[];
  /** True when `products` held more than {@link MAX_PRODUCTS}: products past them were not counted. */
  truncated: boolean;
}

/** One product's demand and restocks (`restock product demand`, the console's product page). */
export interface ProductDemandReport {
  productId: string;
  readAtMs: number;
  name: string | null;
  available: number | null;
  waiting: number;
  /** The last {@link PRODUCT_DAYS} UTC days, oldest first. */
  signupsPerDay: SignupDay[];
  /** Its restocks among its newest fan-outs, newest first, at most {@link PRODUCT_RESTOCKS}. */
  restocks: RestockResult[];
  /** True when it had more restocks than are listed (or more fan-outs than were read). */
  restocksTruncated: boolean;
}

/** The products with shoppers waiting, most first (ties by product id), at most `top`. Pure. */
export function rankByWaiting<T extends { productId: string; waiting: number }>(products: readonly T[], top: number): T[] {
  return products
    .filter((p) => p.waiting > 0)
    .sort((a, b) => b.waiting - a.waiting || (a.productId < b.productId ? -1 : a.productId > b.productId ? 1 : 0))
    .slice(0, top);
}

/**
 * The start of each of the last `days` UTC days at `nowMs`, oldest first;
 * the last is today's. Pure.
 */
export function dayStarts(nowMs: number, days: number): number[] {
  const today = Math.floor(nowMs / DAY_MS) * DAY_MS;
  return Array.from({ length: days }, (_, i) => today - (days - 1 - i) * DAY_MS);
}

/** Purchases (direct and assisted) per notification, null when nobody was notified. Pure. */
export function conversionOf(row: FunnelRow): number | null {
  return row.notified === 0 ? null : purchasedOf(row) / row.notified;
}

const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);
const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

interface ProductFacts {
  productId: string;
  name: string | null;
  available: number | null;
  lastRestockEventKey: string | null;
}

function factsOf(productId: string, d: Record<string, unknown> | undefined): ProductFacts {
  return { productId, name: str(d?.name), available: num(d?.available), lastRestockEventKey: str(d?.lastRestockEventKey) };
}

/** Up to {@link MAX_PRODUCTS} products in document-id order, with the fields the listing shows. */
async function productsConsidered(db: Firestore): Promise<{ products: ProductFacts[]; truncated: boolean }> {
  const products: ProductFacts[] = [];
  let query = db.collection(COLLECTIONS.products).orderBy(FieldPath.documentId()).select('name', 'available', 'lastRestockEventKey');
  for (;;) {
    const page = await guard('list', COLLECTIONS.products, query.limit(Math.min(PAGE, MAX_PRODUCTS - products.length + 1)).get());
    products.push(...page.docs.map((d) => factsOf(d.id, d.data())));
    // One more than the bound is asked for, so "exactly MAX_PRODUCTS" is not called truncated.
    if (products.length > MAX_PRODUCTS) return { products: products.slice(0, MAX_PRODUCTS), truncated: true };
    if (page.size < PAGE) return { products, truncated: false };
    query = query.startAfter(page.docs[page.size - 1]!);
  }
}

/** Sign-ups still waiting per UTC day, one count aggregation a day. */
async function signupsPerDay(db: Firestore, productId: string, nowMs: number, days: number): Promise<SignupDay[]> {
  return Promise.all(
    dayStarts(nowMs, days).map(async (dayStartMs) => {
      const query = subscriptionsRef(db, productId).where('createdAtMs', '>=', dayStartMs).where('createdAtMs', '<', dayStartMs + DAY_MS);
      const snap = await guard('count', `sign-ups of ${productId} on ${new Date(dayStartMs).toISOString().slice(0, 10)}`, query.count().get());
      return { dayStartMs, signups: snap.data().count };
    }),
  );
}

/** A restock's result: its funnel over the shards its fan-out recorded. */
async function restockResult(backend: Backend, fanout: FanoutSummary): Promise<RestockResult> {
  const shards = fanout.ledgerShards ?? backend.config.ledgerShards;
  const funnel = (await guard('count', `the funnel of ${fanout.eventKey}`, readFunnel(backend.db, fanout.eventKey, shards, []))).total;
  return {
    eventKey: fanout.eventKey,
    startedAtMs: fanout.startedAtMs,
    state: String(fanout.state),
    stopped: fanout.stopped?.reason ?? null,
    recipients: fanout.recipients,
    funnel,
    conversion: conversionOf(funnel),
  };
}

/** The fan-outs of the listed products' last restocks (`lastRestockEventKey`), in one read; a product never restocked, or whose fan-out is gone, has none. */
async function lastRestocks(db: Firestore, products: readonly ProductFacts[]): Promise<Map<string, FanoutSummary>> {
  const keys = products.flatMap((p) => (p.lastRestockEventKey === null ? [] : [p.lastRestockEventKey]));
  const docs = await guard('read', `the last restocks' ${COLLECTIONS.fanouts}`, readFanouts(db, keys));
  return new Map([...docs].map(([key, doc]) => [key, fanoutSummary(key, doc as unknown as Record<string, unknown>)]));
}

/**
 * The products with the most shoppers waiting, with their sign-ups per day
 * and their last restock's funnel.
 * @throws BackendError when Firestore fails or does not answer.
 */
export async function readDemand(backend: Backend, q: DemandQuery): Promise<DemandReport> {
  const limit = pLimit(CONCURRENCY);
  const { products, truncated } = await productsConsidered(backend.db);
  const counted = await Promise.all(products.map((p) => limit(async () => ({ ...p, waiting: await countSubscribers(backend, p.productId) }))));
  const ranked = rankByWaiting(counted, q.top);
  const fanouts = await lastRestocks(backend.db, ranked);
  const rows = await Promise.all(
    ranked.map(async (p): Promise<DemandRow> => {
      const fanout = p.lastRestockEventKey === null ? undefined : fanouts.get(p.lastRestockEventKey);
      const [days, lastRestock] = await Promise.all([limit(() => signupsPerDay(backend.db, p.productId, q.nowMs, DEMAND_DAYS)), fanout ? limit(() => restockResult(backend, fanout)) : null]);
      return { productId: p.productId, name: p.name, available: p.available, waiting: p.waiting, signupsPerDay: days, lastRestock };
    }),
  );
  return { readAtMs: q.nowMs, considered: products.length, withWaiting: counted.filter((p) => p.waiting > 0).length, products: rows, truncated };
}

/**
 * One product: shoppers waiting, sign-ups per day over {@link PRODUCT_DAYS}
 * days, and its past restocks with their funnels. A product without a stock
 * state (never seen by the pipeline) is answered too: its shoppers may wait.
 * @throws BackendError when Firestore fails or does not answer.
 */
export async function readProductDemand(backend: Backend, productId: string, nowMs: number): Promise<ProductDemandReport> {
  const { db } = backend;
  const limit = pLimit(CONCURRENCY);
  const [productSnap, waiting, days, fanoutsSnap] = await Promise.all([
    guard('read', `${COLLECTIONS.products}/${productId}`, productRef(db, productId).get()),
    countSubscribers(backend, productId),
    signupsPerDay(db, productId, nowMs, PRODUCT_DAYS),
    guard('query', `${COLLECTIONS.fanouts} of product ${productId}`, fanoutsOfProduct(db, productId, FANOUTS_READ).get()),
  ]);
  const restocks = fanoutsSnap.docs.map((d) => fanoutSummary(d.id, d.data())).filter((f) => f.state !== 'ignored');
  const facts = factsOf(productId, productSnap.data());
  return {
    productId,
    readAtMs: nowMs,
    name: facts.name,
    available: facts.available,
    waiting,
    signupsPerDay: days,
    restocks: await Promise.all(restocks.slice(0, PRODUCT_RESTOCKS).map((f) => limit(() => restockResult(backend, f)))),
    restocksTruncated: restocks.length > PRODUCT_RESTOCKS || fanoutsSnap.size === FANOUTS_READ,
  };
}
