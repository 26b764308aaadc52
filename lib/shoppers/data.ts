/**
 * A shopper's data, exported or erased on request (`GET` and `DELETE
 * /v1/shoppers/{userId}`, `restock shopper export|erase`).
 *
 * What the pipeline's database holds about a shopper, and what erasure does
 * with it (docs/privacy.md has the retention table):
 *
 * | where | personal data | erasure |
 * | --- | --- | --- |
 * | `products/*\/restockSubscriptions/{userId}` | user id, addresses, consent | deleted, after its sign-up's ledger keys are closed |
 * | `products/*\/pendingSubscriptions/{userId}` | user id, addresses, consent | deleted |
 * | `shoppers/{userId}` | user id, product ids | deleted |
 * | `deliveries/{key}` | user id (the key is a hash of it) | the user id replaced by a keyed pseudonym; key, state, product, channel, times kept (dedup) |
 * | `rejectedEvents/{key}` | whatever a bad event carried (addresses are masked when recorded) | every occurrence of the user id and addresses replaced |
 * | `fanouts/{eventKey}` (`cursor`, waves' cursor and boundary, key-range plan) and its `ranges/*` (bounds, cursor) | subscriber ids paging remembers | replaced by the pseudonym once the fan-out is over; a running one is counted, not touched |
 * | `clicks/{key}` | user id (the key is a hash of it), which link was followed when | the user id replaced by the pseudonym; event, channel, time kept (the funnel's counts) |
 * | `conversions/{orderKey}` | user id, order id (the key is a hash of it), product, value | the user id replaced by the pseudonym and the order id removed; product, value, currency, attribution kept (the funnel's revenue) |
 *
 * Nothing erased comes back from work in flight (docs/design.md promise 17):
 * before a subscription is deleted, the ledger entries of every channel of its
 * sign-up are closed (`unsubscribed`, the pseudonym as user) in the same
 * commit. A chunk that read the subscription before the erasure and claims
 * after it finds its entries existing, so its one-commit first attempt fails
 * and its transaction, which re-reads the subscription, finds it gone and
 * the keys closed: nothing is sent and nothing is written with the user id.
 * A chunk that claimed before the erasure is sending: it finishes (like a
 * restock that sold out again, a chunk in flight is not recalled) and records
 * its outcome with `update`, which never writes the user id back. A
 * confirmation in flight is a transaction on the pending request, which the
 * erasure deleted: it confirms nothing.
 */
import { FieldPath, FieldValue, Timestamp, type DocumentReference, type DocumentSnapshot, type Firestore, type QueryDocumentSnapshot, type QuerySnapshot } from '@google-cloud/firestore';
import { status } from '@grpc/grpc-js';
import { recipientRef } from '../log.ts';
import { FANOUT_ARRAYS_NAMING_A_SHOPPER, FANOUT_FIELDS_NAMING_A_SHOPPER, RANGE_FIELDS_NAMING_A_SHOPPER, fanoutUpdates, rangeUpdates } from './bookkeeping.ts';
import { chunk } from '../tasks/index.ts';
import { CHANNELS, COLLECTIONS, MAX_WRITES_PER_COMMIT, dedupKey, type ClickDoc, type ConversionDoc, type DeliveryDoc, type PendingSubscriptionDoc, type SubscriptionDoc } from '../model.ts';

/** Everything held about one shopper, as `GET /v1/shoppers/{userId}` answers it. */
export interface ShopperExport {
  userId: string;
  exportedAtMs: number;
  /** Active subscriptions, with their addresses and consent records. */
  subscriptions: SubscriptionDoc[];
  /** Requests waiting for their double opt-in confirmation (expired ones included until TTL deletes them). */
  pendingConfirmations: (Omit<PendingSubscriptionDoc, 'expireAt'> & { expiresAtMs: number })[];
  /** The products the API lists for the shopper (`shoppers/{userId}`), or null when there is no record. */
  shopperRecord: { productIds: string[]; updatedAtMs: number | null } | null;
  /** Every notification of the ledger: which restock, product, channel, when, and what became of it. */
  notifications: {
    eventKey: string;
    productId: string;
    channel: string;
    state: string;
    attempts: number;
    createdAtMs: number;
    updatedAtMs: number;
    sentAtMs: number | null;
    lastError: string | null;
  }[];
  /** Rejected events whose recorded excerpt mentions the shopper. */
  rejectedEvents: { eventKey: string; receivedAtMs: number; reason: string }[];
  /** The tracked links the shopper followed: which restock, product, channel, when (the first time each). */
  clicks: { eventKey: string; productId: string; channel: string; wave?: number; clickedAtMs: number }[];
  /** The orders the storefront reported, and the notification each is attributed to. */
  orders: Omit<ConversionDoc, 'userId' | 'expireAt'>[];
}

/** What an erasure did: counts per kind of record, and when. Holds no personal data (the user id only as its log reference). */
export interface ErasureReceipt {
  /** The shopper as logs refer to them (a keyed hash), so the receipt can be matched against logs. */
  user: string;
  erasedAtMs: number;
  counts: {
    subscriptions: number;
    pendingConfirmations: number;
    shopperRecords: number;
    /** Ledger entries whose user id was replaced by the pseudonym (keys and states kept). */
    ledgerEntriesPseudonymised: number;
    /** Ledger keys of erased sign-ups closed before any notification claimed them. */
    ledgerKeysClosed: number;
    rejectedEventsScrubbed: number;
    /** Fan-out documents and key ranges whose cursors, bounds or wave boundaries named the shopper, now the pseudonym. */
    fanoutCursorsMoved: number;
    /** The same, of fan-outs still running: erase again once the restock is over. */
    fanoutCursorsInFlight: number;
    /** Clicks whose user id was replaced by the pseudonym (counted in funnels, no longer the shopper's). */
    clicksPseudonymised: number;
    /** Orders whose user id was replaced by the pseudonym and whose order id was removed (revenue kept). */
    ordersPseudonymised: number;
  };
  /** Where personal data may remain outside this database until its own retention ends (docs/privacy.md). */
  outside: string[];
}

/** Export and erasure, as the subscription API and the CLI call them. */
export interface ShopperData {
  export(userId: string, nowMs: number): Promise<ShopperExport>;
  erase(userId: string, nowMs: number): Promise<ErasureReceipt>;
}

/** How every erased shopper's pseudonym begins. */
export const ERASED_USER_PREFIX = 'erased:';

/** What an erased shopper's ledger entries carry instead of their user id: the keyed log reference, so an operator can still match logs. */
export function erasedUserId(userId: string): string {
  return `${ERASED_USER_PREFIX}${recipientRef(userId)}`;
}

/** Every string in `text` replaced by `[erased]` (pure). */
export function redact(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const s of secrets) if (s.length > 0) out = out.split(s).join('[erased]');
  return out;
}

/** `lastError` of a ledger key an erasure closed. */
export const ERASED_ERROR = 'the shopper was erased on request';

/** What is outside the pipeline's database, and so outside any erasure (docs/privacy.md says how long each lives). */
const OUTSIDE = [
  'Cloud Tasks: delivery tasks already queued carry the user id until dispatched (they send nothing: the keys are closed)',
  'Pub/Sub shopper-actions and its dead-letter topic: unsubscribe and confirm requests carry product and user id until acknowledged or expired (applied after the erasure they change nothing)',
  'Cloud Logging: user ids only as keyed hashes; addresses never',
  'The providers of notifications already sent: the notification service (addresses, and the user id unless RESTOCK_NOTIFIER_SEND_USER_ID=false), the SMTP server and FCM (addresses and tokens), under their own retention (docs/privacy.md)',
];

const BATCH = 400;

/** Subscriptions erased per commit: each is its channels' ledger keys plus its own delete. */
const SIGNUPS_PER_COMMIT = Math.floor(MAX_WRITES_PER_COMMIT / (CHANNELS.length + 1));

export interface ShopperDataOptions {
  /** Days a closed ledger key is kept (RESTOCK_LEDGER_TTL_DAYS), like every ledger entry. */
  ledgerTtlDays: number;
}

/** {@link ShopperData} on the pipeline's Firestore database. */
export class FirestoreShopperData implements ShopperData {
  constructor(
    private readonly db: Firestore,
    private readonly options: ShopperDataOptions,
  ) {}

  private subscriptionsOf(userId: string) {
    return this.db.collectionGroup(COLLECTIONS.subscriptions).where('userId', '==', userId).get();
  }

  private pendingOf(userId: string) {
    return this.db.collectionGroup(COLLECTIONS.pendingSubscriptions).where('userId', '==', userId).get();
  }

  /** The shape of `restock trace`'s query, so the ledger's composite index (userId, createdAtMs desc) serves it. */
  private ledgerOf(userId: string, limit?: number) {
    const query = this.db.collection(COLLECTIONS.deliveries).where('userId', '==', userId).orderBy('createdAtMs', 'desc');
    return (limit === undefined ? query : query.limit(limit)).get();
  }

  private clicksOf(userId: string, limit?: number) {
    const query = this.db.collection(COLLECTIONS.clicks).where('userId', '==', userId);
    return (limit === undefined ? query : query.limit(limit)).get();
  }

  private ordersOf(userId: string, limit?: number) {
    const query = this.db.collection(COLLECTIONS.conversions).where('userId', '==', userId);
    return (limit === undefined ? query : query.limit(limit)).get();
  }

  private shopperRef(userId: string): DocumentReference {
    return this.db.collection(COLLECTIONS.shoppers).doc(userId);
  }

  /**
   * Rejected events whose stored text mentions any of `needles`. There is no
   * index on free text, so this reads the collection page by page (`raw`,
   * `reason` and `field` only); the collection holds poison input for
   * RESTOCK_REJECTED_TTL_DAYS, so it stays small.
   */
  private async rejectedMentioning(needles: readonly string[]): Promise<QueryDocumentSnapshot[]> {
    const found: QueryDocumentSnapshot[] = [];
    let after: string | undefined;
    for (;;) {
      let query = this.db.collection(COLLECTIONS.rejectedEvents).orderBy(FieldPath.documentId()).select('raw', 'reason', 'field', 'receivedAtMs', 'eventKey').limit(500);
      if (after !== undefined) query = query.startAfter(after);
      const page = await query.get();
      for (const d of page.docs) {
        const text = [d.get('raw'), d.get('reason'), d.get('field'), d.id].filter((v) => typeof v === 'string').join('\n');
        if (needles.some((n) => n.length > 0 && text.includes(n))) found.push(d);
      }
      if (page.size < 500) return found;
      after = page.docs.at(-1)!.id;
    }
  }

  async export(userId: string, nowMs: number): Promise<ShopperExport> {
    const [subs, pending, ledger, shopper, clicks, orders] = await Promise.all([
      this.subscriptionsOf(userId),
      this.pendingOf(userId),
      this.ledgerOf(userId),
      this.shopperRef(userId).get(),
      this.clicksOf(userId),
      this.ordersOf(userId),
    ]);
    const subscriptions = subs.docs.map((d) => d.data() as SubscriptionDoc);
    const pendings = pending.docs.map((d) => d.data() as PendingSubscriptionDoc);
    const addresses = [...subscriptions, ...pendings].flatMap((s) => CHANNELS.map((c) => s.channels[c]).filter((a): a is string => a !== undefined));
    const rejected = await this.rejectedMentioning([userId, ...addresses]);
    return {
      userId,
      exportedAtMs: nowMs,
      subscriptions,
      pendingConfirmations: pendings.map(({ expireAt, ...rest }) => ({ ...rest, expiresAtMs: expireAt.toMillis() })),
      shopperRecord: shopper.exists
        ? { productIds: (shopper.get('productIds') as string[] | undefined) ?? [], updatedAtMs: (shopper.get('updatedAtMs') as number | undefined) ?? null }
        : null,
      notifications: ledger.docs
        .map((d) => d.data() as DeliveryDoc)
        .sort((a, b) => a.createdAtMs - b.createdAtMs)
        .map((e) => ({
          eventKey: e.eventKey,
          productId: e.productId,
          channel: e.channel,
          state: e.state,
          attempts: e.attempts,
          createdAtMs: e.createdAtMs,
          updatedAtMs: e.updatedAtMs,
          sentAtMs: e.sentAtMs,
          lastError: e.lastError,
        })),
      rejectedEvents: rejected.map((d) => ({ eventKey: d.id, receivedAtMs: d.get('receivedAtMs') as number, reason: String(d.get('reason') ?? '') })),
      clicks: clicks.docs
        .map((d) => d.data() as ClickDoc)
        .sort((a, b) => a.clickedAtMs - b.clickedAtMs)
        .map((c) => ({ eventKey: c.eventKey, productId: c.productId, channel: c.channel, ...(c.wave !== undefined ? { wave: c.wave } : {}), clickedAtMs: c.clickedAtMs })),
      orders: orders.docs
        .map((d) => d.data() as ConversionDoc)
        .sort((a, b) => a.purchasedAtMs - b.purchasedAtMs)
        .map(({ userId: _userId, expireAt: _expireAt, ...o }) => o),
    };
  }

  /**
   * Erases the shopper (see the module comment for what and in which order).
   * Idempotent: a second call finds nothing and answers a receipt of zeros.
   */
  async erase(userId: string, nowMs: number): Promise<ErasureReceipt> {
    const pseudonym = erasedUserId(userId);
    const counts: ErasureReceipt['counts'] = {
      subscriptions: 0,
      pendingConfirmations: 0,
      shopperRecords: 0,
      ledgerEntriesPseudonymised: 0,
      ledgerKeysClosed: 0,
      rejectedEventsScrubbed: 0,
      fanoutCursorsMoved: 0,
      fanoutCursorsInFlight: 0,
      clicksPseudonymised: 0,
      ordersPseudonymised: 0,
    };
    // The addresses are needed to scrub free text, so they are read before anything is deleted.
    const [subs, pending] = await Promise.all([this.subscriptionsOf(userId), this.pendingOf(userId)]);
    const addresses = [...subs.docs, ...pending.docs].flatMap((d) => CHANNELS.map((c) => (d.get('channels') as SubscriptionDoc['channels'] | undefined)?.[c]).filter((a): a is string => typeof a === 'string'));

    for (const group of chunk(subs.docs, SIGNUPS_PER_COMMIT)) {
      const done = await this.closeSignupsAndDelete(group, pseudonym, nowMs);
      counts.ledgerKeysClosed += done.keysClosed;
      counts.subscriptions += done.deleted;
    }
    for (const group of chunk(pending.docs, MAX_WRITES_PER_COMMIT)) {
      const batch = this.db.batch();
      for (const p of group) batch.delete(p.ref);
      await batch.commit();
      counts.pendingConfirmations += group.length;
    }
    const shopper = await this.shopperRef(userId).get();
    if (shopper.exists) {
      await shopper.ref.delete();
      counts.shopperRecords++;
    }
    counts.ledgerEntriesPseudonymised = await this.pseudonymiseLedger(userId, pseudonym, nowMs);
    for (const group of chunk(await this.rejectedMentioning([userId, ...addresses]), MAX_WRITES_PER_COMMIT)) {
      const batch = this.db.batch();
      for (const d of group) {
        const fields: Record<string, string> = {};
        for (const f of ['raw', 'reason', 'field'] as const) {
          const v = d.get(f);
          if (typeof v === 'string') fields[f] = redact(v, [userId, ...addresses]);
        }
        batch.update(d.ref, fields);
      }
      await batch.commit();
      counts.rejectedEventsScrubbed += group.length;
    }
    counts.clicksPseudonymised = await this.pseudonymise((limit) => this.clicksOf(userId, limit), { userId: pseudonym, erasedAtMs: nowMs });
    counts.ordersPseudonymised = await this.pseudonymise((limit) => this.ordersOf(userId, limit), { userId: pseudonym, orderId: FieldValue.delete(), erasedAtMs: nowMs });
    const cursors = await this.moveCursors(userId, pseudonym);
    counts.fanoutCursorsMoved = cursors.moved;
    counts.fanoutCursorsInFlight = cursors.inFlight;
    return { user: recipientRef(userId), erasedAtMs: nowMs, counts, outside: OUTSIDE };
  }

  /**
   * Closes every ledger key of the subscriptions' sign-ups (each channel) and
   * deletes the subscriptions, in one commit for the group (one read of the
   * keys, one commit, where a subscription each took two round trips): an
   * absent entry is created closed (`unsubscribed`, which nothing reopens),
   * an existing one gets the pseudonym as its user. The commit fails if a
   * chunk created an entry since it was read (ALREADY_EXISTS) or a
   * subscription changed; then it reads the group again and tries again.
   * @returns how many subscriptions it deleted and how many keys it created closed.
   */
  private async closeSignupsAndDelete(subs: readonly QueryDocumentSnapshot[], pseudonym: string, nowMs: number): Promise<{ deleted: number; keysClosed: number }> {
    const ledger = this.db.collection(COLLECTIONS.deliveries);
    for (let round = 1; ; round++) {
      const snaps: readonly DocumentSnapshot[] = round === 1 ? subs : await this.db.getAll(...subs.map((s) => s.ref));
      const live = snaps.filter((s) => s.exists);
      if (live.length === 0) return { deleted: 0, keysClosed: 0 };
      const keys = live.flatMap((snap) => {
        const doc = snap.data() as SubscriptionDoc;
        return CHANNELS.map((channel) => ({ doc, channel, ref: ledger.doc(dedupKey(doc, channel)) }));
      });
      const entries = await this.db.getAll(...keys.map((k) => k.ref));
      const batch = this.db.batch();
      let keysClosed = 0;
      keys.forEach(({ doc, channel, ref }, i) => {
        if (entries[i]!.exists) {
          batch.update(ref, { userId: pseudonym });
          return;
        }
        keysClosed++;
        const closed: DeliveryDoc = {
          dedupKey: ref.id,
          eventKey: 'erased',
          productId: doc.productId,
          userId: pseudonym,
          channel,
          state: 'unsubscribed',
          attempts: 0,
          leaseExpiresAtMs: null,
          lastError: ERASED_ERROR,
          sentAtMs: null,
          createdAtMs: nowMs,
          updatedAtMs: nowMs,
          expireAt: Timestamp.fromMillis(nowMs + this.options.ledgerTtlDays * 86_400_000),
        };
        batch.create(ref, closed);
      });
      for (const snap of live) batch.delete(snap.ref, snap.updateTime ? { lastUpdateTime: snap.updateTime } : {});
      try {
        await batch.commit();
        return { deleted: live.length, keysClosed };
      } catch (err) {
        const code = (err as { code?: unknown }).code;
        if (round >= 10 || (code !== status.ALREADY_EXISTS && code !== status.FAILED_PRECONDITION && code !== status.NOT_FOUND && code !== status.ABORTED)) throw err;
      }
    }
  }

  /** Applies `fields` to every document `page` finds (a query on the user id, which the update removes), a page at a time; returns how many. */
  private async pseudonymise(page: (limit: number) => Promise<QuerySnapshot>, fields: Record<string, unknown>): Promise<number> {
    let total = 0;
    for (;;) {
      const found = await page(BATCH);
      if (found.empty) return total;
      const batch = this.db.batch();
      for (const d of found.docs) batch.update(d.ref, fields);
      await batch.commit();
      total += found.size;
    }
  }

  /** Replaces the user id of every ledger entry of the shopper by the pseudonym; returns how many. */
  private async pseudonymiseLedger(userId: string, pseudonym: string, nowMs: number): Promise<number> {
    let total = 0;
    for (;;) {
      const page = await this.ledgerOf(userId, BATCH);
      if (page.empty) return total;
      const batch = this.db.batch();
      for (const d of page.docs) batch.update(d.ref, { userId: pseudonym, erasedAtMs: nowMs });
      await batch.commit();
      total += page.size;
    }
  }

  /**
   * The fan-outs' bookkeeping that names the shopper (lib/shoppers/bookkeeping.ts):
   * cursors, wave boundaries, key-range plans and the key ranges' bounds and
   * cursors. A fan-out that is over (complete, ignored, failed) never pages
   * from them again, so they become the pseudonym. One still running pages
   * from them: it is left alone and counted (`fanoutCursorsInFlight`); it
   * moves on at its next page, and an erasure repeated once the restock is
   * over replaces what remains. A key range counts as running while its
   * fan-out runs, whatever its own state: a failed range may be resumed.
   */
  private async moveCursors(userId: string, pseudonym: string): Promise<{ moved: number; inFlight: number }> {
    const fanouts = this.db.collection(COLLECTIONS.fanouts);
    const ranges = this.db.collectionGroup(COLLECTIONS.fanoutRanges);
    const found = await Promise.all([
      ...FANOUT_FIELDS_NAMING_A_SHOPPER.map((f) => fanouts.where(f, '==', userId).get()),
      ...FANOUT_ARRAYS_NAMING_A_SHOPPER.map((f) => fanouts.where(f, 'array-contains', userId).get()),
      ...RANGE_FIELDS_NAMING_A_SHOPPER.map((f) => ranges.where(f, '==', userId).get()),
    ]);
    const docs = new Map<string, QueryDocumentSnapshot>();
    for (const snap of found) for (const d of snap.docs) docs.set(d.ref.path, d);
    const parents = new Map<string, DocumentSnapshot>();
    const parentRefs = [...docs.values()].map((d) => d.ref.parent.parent).filter((r): r is DocumentReference => r !== null);
    if (parentRefs.length > 0) for (const p of await this.db.getAll(...parentRefs)) parents.set(p.ref.path, p);
    let moved = 0;
    let inFlight = 0;
    for (const d of docs.values()) {
      const parent = d.ref.parent.parent;
      const fanout = parent ? parents.get(parent.path) : d;
      const updates = parent ? rangeUpdates(d.data(), userId, pseudonym) : fanoutUpdates(d.data(), userId, pseudonym);
      if (fanout?.get('state') === 'running') {
        inFlight++;
        continue;
      }
      try {
        await d.ref.update(updates, { lastUpdateTime: d.updateTime });
        moved++;
      } catch (err) {
        if ((err as { code?: unknown }).code !== status.FAILED_PRECONDITION) throw err;
        inFlight++;
      }
    }
    return { moved, inFlight };
  }

}
