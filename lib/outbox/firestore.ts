/**
 * The Firestore adapter (the default): stages a stock change inside the
 * caller's own transaction, and keeps the rows the relay works on.
 *
 * Documents: `inventoryItems/{productId}` (the inventory service's item: its
 * level and the per-product sequence) and `outbox/{eventId}` (an
 * {@link OutboxRow}; times in ms, `expireAt` a Timestamp for the TTL policy).
 */
import { randomUUID } from 'node:crypto';
import { Timestamp, type DocumentData, type DocumentSnapshot, type Firestore, type Transaction } from '@google-cloud/firestore';
import type { InventoryEvent } from '../events/index.ts';
import { outgoingTraceparent } from '../trace/index.ts';
import { runTransaction } from '../transaction.ts';
import { canRedrive, claimDecision, claimFields, redriveFields, settleDecision, settlementFields } from './decide.ts';
import { newRow, stockChangeEvent, type ItemAfter, type ItemBefore, type StockChange } from './event.ts';
import type { ClaimRequest, OutboxRow, OutboxState, OutboxStats, OutboxStore, RedriveResult, Settlement } from './model.ts';

export const DEFAULT_OUTBOX_COLLECTION = 'outbox';
export const DEFAULT_ITEMS_COLLECTION = 'inventoryItems';

export interface FirestoreOutboxOptions {
  /** Collection of the outbox rows; default `outbox`. */
  outboxCollection?: string;
  /** Collection of the inventory items whose documents carry the sequence; default `inventoryItems`. */
  itemsCollection?: string;
  now?: () => number;
}

/** What staging wrote: the event id (the message's `eventId`), the event and the item as of the change. */
export interface StagedChange {
  eventId: string;
  event: InventoryEvent;
  item: ItemAfter;
}

/** Firestore keeps `expireAtMs` as the Timestamp `expireAt`, the field the TTL policy watches. */
function toDoc(fields: Partial<OutboxRow>): DocumentData {
  const { expireAtMs, ...rest } = fields;
  return expireAtMs === undefined ? rest : { ...rest, expireAt: expireAtMs === null ? null : Timestamp.fromMillis(expireAtMs) };
}

function fromDoc(snap: DocumentSnapshot): OutboxRow {
  const d = snap.data()!;
  const expireAt = d.expireAt as Timestamp | null | undefined;
  return {
    eventId: snap.id,
    productId: String(d.productId ?? ''),
    sequence: Number(d.sequence ?? 0),
    event: d.event,
    state: d.state as OutboxState,
    attempts: Number(d.attempts ?? 0),
    stagedAtMs: Number(d.stagedAtMs ?? 0),
    nextAttemptAtMs: Number(d.nextAttemptAtMs ?? 0),
    leaseOwner: (d.leaseOwner as string | null | undefined) ?? null,
    leaseExpiresAtMs: (d.leaseExpiresAtMs as number | null | undefined) ?? null,
    publishedAtMs: (d.publishedAtMs as number | null | undefined) ?? null,
    messageId: (d.messageId as string | null | undefined) ?? null,
    publishedBy: (d.publishedBy as OutboxRow['publishedBy'] | undefined) ?? null,
    lastError: (d.lastError as string | null | undefined) ?? null,
    expireAtMs: expireAt ? expireAt.toMillis() : null,
    ...(typeof d.traceparent === 'string' ? { traceparent: d.traceparent } : {}),
  };
}

export class FirestoreOutbox implements OutboxStore {
  readonly outboxCollection: string;
  readonly itemsCollection: string;
  private readonly now: () => number;

  constructor(
    readonly db: Firestore,
    options: FirestoreOutboxOptions = {},
  ) {
    this.outboxCollection = options.outboxCollection ?? DEFAULT_OUTBOX_COLLECTION;
    this.itemsCollection = options.itemsCollection ?? DEFAULT_ITEMS_COLLECTION;
    this.now = options.now ?? Date.now;
  }

  /**
   * Inside the caller's transaction `tx`: reads the item, then writes its new
   * level with the next sequence of the product, and the `pending` outbox row
   * with the whole event. Both commit with the caller's other writes or not at
   * all (promises 10 and 11). Call it after the transaction's own reads
   * (Firestore wants every read before the first write) and let the kit write
   * the item's `available`, `sequence`, `name`, `url` and `updatedAtMs`
   * (other fields of the item are the caller's: they are merged, not replaced).
   * The row keeps `options.traceparent`, by default the ambient trace (lib/trace).
   * @throws OutboxValidationError naming the field, before anything is written.
   */
  async stageStockChange(tx: Transaction, change: StockChange, options: { eventId?: string; traceparent?: string } = {}): Promise<StagedChange> {
    const nowMs = this.now();
    // Validate what can be validated before the read, so a bad product id never reaches Firestore's path rules.
    stockChangeEvent(change, undefined, nowMs);
    const itemRef = this.db.collection(this.itemsCollection).doc(change.productId);
    const snap = await tx.get(itemRef);
    const before = snap.exists ? (snap.data() as ItemBefore) : undefined;
    const { event, item } = stockChangeEvent(change, before, nowMs);
    const eventId = options.eventId ?? randomUUID();
    tx.set(itemRef, item, { merge: true });
    // The row keeps the stock change's trace, so a sweep publishes under it too (lib/trace).
    tx.create(this.rowRef(eventId), toDoc(newRow(eventId, event, nowMs, options.traceparent ?? outgoingTraceparent())));
    return { eventId, event, item };
  }

  /** The inventory item as stored, or undefined. */
  async item(productId: string): Promise<ItemAfter | undefined> {
    const snap = await this.db.collection(this.itemsCollection).doc(productId).get();
    return snap.exists ? (snap.data() as ItemAfter) : undefined;
  }

  private rowRef(eventId: string) {
    return this.db.collection(this.outboxCollection).doc(eventId);
  }

  async claim(request: ClaimRequest): Promise<OutboxRow[]> {
    const { eventIds, nowMs, leaseMs, owner, limit } = request;
    return runTransaction(this.db, async (tx) => {
      let snaps: DocumentSnapshot[];
      if (eventIds) {
        snaps = eventIds.length === 0 ? [] : await tx.getAll(...eventIds.slice(0, limit).map((id) => this.rowRef(id)));
      } else {
        const due = this.db
          .collection(this.outboxCollection)
          .where('state', '==', 'pending')
          .where('nextAttemptAtMs', '<=', nowMs)
          .orderBy('nextAttemptAtMs')
          .limit(limit);
        snaps = (await tx.get(due)).docs;
      }
      const claimed: OutboxRow[] = [];
      const fields = claimFields(owner, nowMs, leaseMs);
      for (const snap of snaps) {
        if (!snap.exists) continue;
        const row = fromDoc(snap);
        if (!claimDecision(row, nowMs, eventIds !== undefined).claim) continue;
        tx.update(snap.ref, fields);
        claimed.push({ ...row, ...fields });
      }
      return claimed;
    });
  }

  async settle(owner: string, settlements: readonly Settlement[]): Promise<void> {
    if (settlements.length === 0) return;
    await runTransaction(this.db, async (tx) => {
      const snaps = await tx.getAll(...settlements.map((s) => this.rowRef(s.eventId)));
      settlements.forEach((s, i) => {
        const snap = snaps[i]!;
        if (settleDecision(snap.exists ? fromDoc(snap) : undefined, owner, s)) tx.update(snap.ref, toDoc(settlementFields(s)));
      });
    });
  }

  async get(eventId: string): Promise<OutboxRow | undefined> {
    const snap = await this.rowRef(eventId).get();
    return snap.exists ? fromDoc(snap) : undefined;
  }

  async list(state: OutboxState, limit: number): Promise<OutboxRow[]> {
    const snap = await this.db.collection(this.outboxCollection).where('state', '==', state).orderBy('stagedAtMs').limit(limit).get();
    return snap.docs.map(fromDoc);
  }

  async stats(): Promise<OutboxStats> {
    const col = this.db.collection(this.outboxCollection);
    const count = async (state: OutboxState) => (await col.where('state', '==', state).count().get()).data().count;
    const [pending, sent, failed, oldest] = await Promise.all([
      count('pending'),
      count('sent'),
      count('failed'),
      col.where('state', '==', 'pending').orderBy('stagedAtMs').limit(1).get(),
    ]);
    const first = oldest.docs[0];
    return { pending, sent, failed, oldestPendingStagedAtMs: first ? Number(first.get('stagedAtMs')) : null };
  }

  async redrive(eventIds: readonly string[], nowMs: number): Promise<RedriveResult[]> {
    return Promise.all(
      eventIds.map((eventId) =>
        runTransaction(this.db, async (tx): Promise<RedriveResult> => {
          const snap = await tx.get(this.rowRef(eventId));
          if (!snap.exists) return { eventId, outcome: 'not-found' };
          const state = snap.get('state') as OutboxState;
          if (!canRedrive(state)) return { eventId, outcome: 'not-redrivable', state };
          tx.update(snap.ref, toDoc(redriveFields(nowMs)));
          return { eventId, outcome: 'redriven' };
        }),
      ),
    );
  }

  async failedIds(limit: number): Promise<string[]> {
    const snap = await this.db.collection(this.outboxCollection).where('state', '==', 'failed').select().limit(limit).get();
    return snap.docs.map((d) => d.id);
  }
}
