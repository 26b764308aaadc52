/**
 * Recording orders: `conversions/{orderKey}` (sha256 of the order id),
 * created once with its attribution. The same order reported again (a
 * retried request, a webhook redelivered, 64 at once) finds it and changes
 * nothing; reported again with other facts it is a conflict.
 */
import { createHash } from 'node:crypto';
import { Timestamp, type Firestore } from '@google-cloud/firestore';
import { status } from '@grpc/grpc-js';
import { clickKey } from '../clicks/index.ts';
// The ledger module itself, not lib/delivery's door: the door reaches lib/subscriptions (through lib/notify and lib/unsubscribe), which imports this folder.
import { entriesOfUser } from '../delivery/ledger.ts';
import { CHANNELS, COLLECTIONS, type ClickDoc, type ConversionDoc, type DeliveryDoc } from '../model.ts';
import { attribute, creditedNotification, type RecordedClick, type SentNotification } from './rules.ts';

/** An order as the storefront reports it (validated by the API): the facts of a conversion before it is attributed. */
export type ConversionRequest = Pick<ConversionDoc, 'orderId' | 'userId' | 'productId' | 'valueMinor' | 'currency' | 'purchasedAtMs'>;

/** `created`: recorded now; `existing`: the same order was recorded before, with the same facts. */
export interface RecordedConversion {
  outcome: 'created' | 'existing';
  conversion: Omit<ConversionDoc, 'expireAt'>;
}

/** The order id was reported before with other facts: 409, naming the first field that differs. */
export class ConversionConflictError extends Error {
  override readonly name = 'ConversionConflictError';
  constructor(readonly field: keyof ConversionRequest) {
    super(`order was reported before with another ${field}; an order id names one order`);
  }
}

/** `conversions/{orderKey}`: the order id hashed, so any id the storefront uses is a valid document id. */
export function orderKey(orderId: string): string {
  return createHash('sha256').update(orderId).digest('hex');
}

const FACTS: readonly (keyof ConversionRequest)[] = ['userId', 'productId', 'valueMinor', 'currency', 'purchasedAtMs'];

/** Notifications a shopper's ledger is read for, newest first: more than a shopper gets about one product within any window. */
const LEDGER_READ = 50;

export interface ConversionStoreOptions {
  /** RESTOCK_ATTRIBUTION_WINDOW_DAYS in ms. */
  windowMs: number;
  /** Days an order is kept (RESTOCK_LEDGER_TTL_DAYS, like the notifications and clicks it is counted with). */
  ttlDays: number;
}

/** Orders on the pipeline's Firestore database. */
export class FirestoreConversionStore {
  constructor(
    private readonly db: Firestore,
    private readonly options: ConversionStoreOptions,
  ) {}

  /** The shopper's sent notifications of the product, newest first (the ledger's userId, productId, createdAtMs index). */
  private async notifications(userId: string, productId: string): Promise<SentNotification[]> {
    return (await entriesOfUser(this.db, userId, productId, LEDGER_READ))
      .map((d) => d.data() as DeliveryDoc)
      .filter((d) => d.state === 'sent' && d.sentAtMs !== null)
      .map((d) => ({ eventKey: d.eventKey, channel: d.channel, sentAtMs: d.sentAtMs!, ...(d.wave !== undefined ? { wave: d.wave } : {}) }));
  }

  /** The shopper's clicks of one restock, read by key in one call (one document per channel). */
  private async clicks(userId: string, eventKey: string): Promise<RecordedClick[]> {
    const refs = CHANNELS.map((c) => this.db.collection(COLLECTIONS.clicks).doc(clickKey(eventKey, userId, c)));
    return (await this.db.getAll(...refs)).filter((s) => s.exists).map((s) => s.data() as ClickDoc);
  }

  /**
   * Attributes and records the order, or answers the one recorded before.
   * @throws ConversionConflictError when the order id was recorded with other facts.
   */
  async record(request: ConversionRequest, nowMs: number): Promise<RecordedConversion> {
    const ref = this.db.collection(COLLECTIONS.conversions).doc(orderKey(request.orderId));
    const before = await ref.get();
    if (before.exists) return this.existing(before.data() as ConversionDoc, request);
    const notifications = await this.notifications(request.userId, request.productId);
    // Only the credited restock's clicks decide direct or assisted: read those, not every notified restock's.
    const credited = creditedNotification(request.purchasedAtMs, notifications, this.options.windowMs);
    const clicks = credited ? await this.clicks(request.userId, credited.eventKey) : [];
    const credit = attribute(request.purchasedAtMs, notifications, clicks, this.options.windowMs);
    const conversion: Omit<ConversionDoc, 'expireAt'> = { ...request, recordedAtMs: nowMs, ...credit };
    try {
      await ref.create({ ...conversion, expireAt: Timestamp.fromMillis(nowMs + this.options.ttlDays * 86_400_000) });
      return { outcome: 'created', conversion };
    } catch (err) {
      if ((err as { code?: unknown }).code !== status.ALREADY_EXISTS) throw err;
      // Reported twice at once: the other request recorded it.
      return this.existing((await ref.get()).data() as ConversionDoc, request);
    }
  }

  private existing(doc: ConversionDoc, request: ConversionRequest): RecordedConversion {
    const differs = FACTS.find((f) => doc[f] !== request[f]);
    if (differs) throw new ConversionConflictError(differs);
    const { expireAt: _expireAt, ...conversion } = doc;
    return { outcome: 'existing', conversion };
  }
}
