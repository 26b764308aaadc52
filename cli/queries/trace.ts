/**
 * The read model of `restock trace --user <userId> [--product <productId>]`: the answer to
 * "where is my notification?". Shows whether the shopper's subscriptions are
 * still there (one-shot: a sent notification removes it), every ledger entry
 * for the shopper, newest first, and, with `--product`, the product's recent
 * fan-outs, marking those that produced nothing for this shopper. An event
 * that came through the inventory service's outbox shows its row (pending,
 * sent or failed; attempts; staged and sent times; the last error).
 *
 * Addresses are never printed: only which channels a subscription holds.
 */
import { COLLECTIONS, subscriptionsRef, type Channel, type ConsentRecord } from '../../lib/model.ts';
import { entriesOfUser } from '../../lib/delivery/index.ts';
import { fanoutRef, fanoutsOfProduct } from '../../lib/fanout/index.ts';
import type { Backend } from '../backend.ts';
import { guard } from '../guard.ts';
import type { OutboxRow } from '../../lib/outbox/index.ts';
import { tryReadOutboxRows } from './outbox.ts';
import { deliverySummary, fanoutSummary, type DeliverySummary, type FanoutSummary } from '../records.ts';

/** Whom `restock trace` looks for. */
export interface TraceQuery {
  userId: string;
  productId?: string | undefined;
  limit: number;
}

/** One subscription of the shopper: its channels, never its addresses. */
export interface TraceSubscription {
  productId: string;
  channels: Channel[];
  locale: string | null;
  /** The shopper's IANA time zone for send windows; null: RESTOCK_DEFAULT_TIME_ZONE applies. */
  timeZone: string | null;
  createdAtMs: number | null;
  /** How the shopper consented (issue 32); null for a subscription written before consent records existed. */
  consent: ConsentRecord | null;
}

/** One event as it concerns the shopper. */
export interface TraceEvent {
  eventKey: string;
  /** The event's fan-out, when its document still exists. */
  fanout: FanoutSummary | null;
  /** This shopper's deliveries for the event (one per channel); empty when the event never reached them. */
  deliveries: DeliverySummary[];
  /** The inventory service's outbox row of the event, when it came through the outbox (and TTL has not deleted it). */
  outbox: OutboxRow | null;
}

/** What `restock trace` reports about one shopper. */
export interface TraceReport {
  userId: string;
  productId: string | null;
  subscriptions: TraceSubscription[];
  /** Events that reached the shopper, newest delivery first, plus (with `--product`) recent fan-outs that did not. */
  events: TraceEvent[];
  /** Why the outbox could not be read (the events are shown without their rows); null when it was read. */
  outboxUnreadable: string | null;
}

function subscriptionOf(productId: string, d: Record<string, unknown>): TraceSubscription {
  const channels = d.channels && typeof d.channels === 'object' ? (Object.keys(d.channels).filter((k) => (d.channels as Record<string, unknown>)[k]) as Channel[]) : [];
  return {
    productId,
    channels: channels.sort(),
    locale: typeof d.locale === 'string' ? d.locale : null,
    timeZone: typeof d.timeZone === 'string' ? d.timeZone : null,
    createdAtMs: typeof d.createdAtMs === 'number' ? d.createdAtMs : null,
    consent: d.consent && typeof d.consent === 'object' ? (d.consent as ConsentRecord) : null,
  };
}

/**
 * Reads everything recorded about one shopper.
 * @throws BackendError when Firestore fails or does not answer (an unreadable outbox is reported in `outboxUnreadable` instead).
 */
export async function readTrace(backend: Backend, q: TraceQuery): Promise<TraceReport> {
  const { db } = backend;
  const subscriptionsRead = q.productId
    ? guard(
        'read',
        `${COLLECTIONS.products}/${q.productId}/${COLLECTIONS.subscriptions}/${q.userId}`,
        subscriptionsRef(db, q.productId).doc(q.userId).get(),
      ).then((s) => (s.exists ? [subscriptionOf(q.productId!, s.data() ?? {})] : []))
    : guard('query', `${COLLECTIONS.subscriptions} of user ${q.userId}`, db.collectionGroup(COLLECTIONS.subscriptions).where('userId', '==', q.userId).get()).then((s) =>
        s.docs.map((d) => subscriptionOf(d.ref.parent.parent?.id ?? String(d.get('productId') ?? ''), d.data())),
      );
  const recentFanouts = q.productId
    ? guard(
        'query',
        `${COLLECTIONS.fanouts} of product ${q.productId}`,
        fanoutsOfProduct(db, q.productId, q.limit).get(),
      ).then((s) => s.docs.map((d) => fanoutSummary(d.id, d.data())))
    : Promise.resolve([] as FanoutSummary[]);
  const [subscriptions, ledger, fanouts] = await Promise.all([
    subscriptionsRead,
    guard('query', `${COLLECTIONS.deliveries} of user ${q.userId}`, entriesOfUser(db, q.userId, q.productId, q.limit)),
    recentFanouts,
  ]);
  const rows = ledger.map((d) => deliverySummary(d.id, d.data()));
  const eventKeys = [...new Set(rows.map((r) => r.eventKey))];
  const known = new Map(fanouts.map((f) => [f.eventKey, f]));
  const missing = eventKeys.filter((k) => k && !known.has(k));
  if (missing.length) {
    const refs = missing.map((k) => fanoutRef(db, k));
    const snaps = await guard('read', `${missing.length} ${COLLECTIONS.fanouts}`, db.getAll(...refs));
    for (const s of snaps) if (s.exists) known.set(s.id, fanoutSummary(s.id, s.data() ?? {}));
  }
  const keys = [...eventKeys, ...fanouts.map((f) => f.eventKey).filter((k) => !eventKeys.includes(k))];
  const outbox = await tryReadOutboxRows(backend, keys.filter(Boolean));
  const events: TraceEvent[] = keys.map((k) => ({ eventKey: k, fanout: known.get(k) ?? null, deliveries: rows.filter((r) => r.eventKey === k), outbox: outbox.rows.get(k) ?? null }));
  return { userId: q.userId, productId: q.productId ?? null, subscriptions, events, outboxUnreadable: outbox.unreadable };
}

