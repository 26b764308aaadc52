/**
 * What the sink has received, in memory only (no per-request disk I/O: the
 * benchmark pushes tens of thousands of notifications through it). Counters
 * are kept incrementally per product so `GET /stats` stays cheap while a demo
 * polls it.
 *
 * The recipient address is never stored: records carry a one-way reference.
 */
import { recipientRef } from '../../lib/log.ts';
import type { Confirmation, ItemStatus, Notification } from './contract.ts';

/** Everything known about one idempotency key. */
export interface NotificationRecord {
  idempotencyKey: string;
  productId: string;
  eventKey: string;
  channel: Notification['channel'];
  /** One-way hash of the address (see `recipientRef`), never the address. */
  recipientRef: string;
  /** The tracked link the message carried (lib/clicks), so a test or the demo can follow it as a shopper would. */
  clickUrl?: string;
  /** The shopper the service was told of (absent with RESTOCK_NOTIFIER_SEND_USER_ID=false). */
  userId?: string;
  /** Final status so far; `pending` while no item answer was given (timeouts, 429, 503). */
  status: ItemStatus | 'pending';
  reason?: string;
  /** Requests that carried this key. */
  requests: number;
  firstReceivedAtMs: number;
  lastReceivedAtMs: number;
  /** When the key was first answered `sent` (the delivery). */
  sentAtMs?: number;
  /** The event's publish time as the caller reported it. */
  publishTimeMs?: number;
  /** Times the key arrived again after it had been answered `sent`. */
  resends: number;
}

/** One confirmation key as received: kept apart from the restock records, so no count of notifications includes it. */
export interface ConfirmationRecord {
  idempotencyKey: string;
  productId: string;
  channel: Confirmation['channel'];
  recipientRef: string;
  userId?: string;
  locale?: string;
  /** The link, so a test or the demo can confirm as the shopper would. */
  confirmUrl: string;
  status: ItemStatus;
  reason?: string;
  requests: number;
  firstReceivedAtMs: number;
}

/** Counters of `GET /stats`. */
export interface SinkStats {
  /** Send requests (per product: requests carrying at least one of its items). */
  requests: number;
  /** Items received, counting repeats. */
  items: number;
  uniqueKeys: number;
  /** Keys answered `sent` (each counted once). */
  delivered: number;
  /** Keys received in more than one request. */
  duplicateKeys: number;
  /** Keys received again after they had been answered `sent` (the notifier re-sent a delivered one). */
  resentKeys: number;
  /** Keys whose final status is `rejected`. */
  rejected: number;
  /** Item answers `retry` (counting repeats). */
  retried: number;
  firstReceivedAtMs: number | null;
  lastReceivedAtMs: number | null;
  /** First and last delivery (`sent`) times. */
  firstDeliveredAtMs: number | null;
  lastDeliveredAtMs: number | null;
}

function emptyStats(): SinkStats {
  return {
    requests: 0,
    items: 0,
    uniqueKeys: 0,
    delivered: 0,
    duplicateKeys: 0,
    resentKeys: 0,
    rejected: 0,
    retried: 0,
    firstReceivedAtMs: null,
    lastReceivedAtMs: null,
    firstDeliveredAtMs: null,
    lastDeliveredAtMs: null,
  };
}

/** The sink's memory: one record per key, counters overall and per product. */
export class SinkStore {
  private readonly records = new Map<string, NotificationRecord>();
  private readonly confirmationRecords = new Map<string, ConfirmationRecord>();
  private readonly keysByProduct = new Map<string, string[]>();
  private readonly statsByProduct = new Map<string, SinkStats>();
  private total = emptyStats();

  /** Records the arrival of one request's items; returns their records in request order. */
  receive(items: readonly Notification[], nowMs: number): NotificationRecord[] {
    const products = new Set<string>();
    const out: NotificationRecord[] = [];
    const seenInRequest = new Set<string>();
    for (const item of items) {
      const productId = item.data.productId;
      products.add(productId);
      const scoped = this.productStats(productId);
      let record = this.records.get(item.idempotencyKey);
      if (!record) {
        record = {
          idempotencyKey: item.idempotencyKey,
          productId,
          eventKey: item.data.eventKey,
          channel: item.channel,
          recipientRef: recipientRef(item.to),
          status: 'pending',
          requests: 0,
          firstReceivedAtMs: nowMs,
          lastReceivedAtMs: nowMs,
          resends: 0,
        };
        if (item.data.publishTimeMs !== undefined) record.publishTimeMs = item.data.publishTimeMs;
        if (item.data.clickUrl !== undefined) record.clickUrl = item.data.clickUrl;
        if (item.userId !== undefined) record.userId = item.userId;
        this.records.set(item.idempotencyKey, record);
        const keys = this.keysByProduct.get(productId);
        if (keys) keys.push(item.idempotencyKey);
        else this.keysByProduct.set(productId, [item.idempotencyKey]);
        for (const s of [this.total, scoped]) s.uniqueKeys += 1;
      }
      if (!seenInRequest.has(item.idempotencyKey)) {
        seenInRequest.add(item.idempotencyKey);
        record.requests += 1;
        if (record.requests === 2) for (const s of [this.total, this.productStats(record.productId)]) s.duplicateKeys += 1;
      }
      record.lastReceivedAtMs = nowMs;
      for (const s of [this.total, scoped]) {
        s.items += 1;
        s.firstReceivedAtMs ??= nowMs;
        s.lastReceivedAtMs = nowMs;
      }
      out.push(record);
    }
    this.total.requests += 1;
    for (const productId of products) this.productStats(productId).requests += 1;
    return out;
  }

  /**
   * Records one confirmation and answers it: `sent` (a key sent before is
   * not counted again), or rejected by the address rules every channel has.
   */
  confirm(item: Confirmation, ruled: { reason: string } | undefined, nowMs: number): ConfirmationRecord {
    let record = this.confirmationRecords.get(item.idempotencyKey);
    if (!record) {
      record = {
        idempotencyKey: item.idempotencyKey,
        productId: item.data.productId,
        channel: item.channel,
        recipientRef: recipientRef(item.to),
        ...(item.userId !== undefined ? { userId: item.userId } : {}),
        ...(item.locale !== undefined ? { locale: item.locale } : {}),
        confirmUrl: item.data.confirmUrl,
        status: 'sent',
        requests: 0,
        firstReceivedAtMs: nowMs,
      };
      this.confirmationRecords.set(item.idempotencyKey, record);
    }
    record.requests += 1;
    record.status = ruled ? 'rejected' : 'sent';
    if (ruled) record.reason = ruled.reason;
    return record;
  }

  /** Confirmations received, of one product or all, in order of first arrival. */
  confirmations(productId?: string): ConfirmationRecord[] {
    return [...this.confirmationRecords.values()].filter((r) => productId === undefined || r.productId === productId);
  }

  /** Records the answer given for one item. */
  answer(record: NotificationRecord, status: ItemStatus, nowMs: number, reason?: string): void {
    const counters = [this.total, this.productStats(record.productId)];
    if (status === 'sent' && record.status !== 'sent') {
      record.sentAtMs = nowMs;
      for (const s of counters) {
        s.delivered += 1;
        s.firstDeliveredAtMs ??= nowMs;
        s.lastDeliveredAtMs = nowMs;
      }
    }
    if (status === 'rejected' && record.status !== 'rejected') for (const s of counters) s.rejected += 1;
    if (status !== 'rejected' && record.status === 'rejected') for (const s of counters) s.rejected -= 1;
    if (status === 'retry') for (const s of counters) s.retried += 1;
    record.status = status;
    if (reason === undefined) delete record.reason;
    else record.reason = reason;
  }

  /** Notes that an already delivered key arrived again (the duplicate the ledger exists to prevent). */
  resent(record: NotificationRecord): void {
    record.resends += 1;
    if (record.resends === 1) for (const s of [this.total, this.productStats(record.productId)]) s.resentKeys += 1;
  }

  /** Counters overall, or for one product (all zero when nothing of it arrived). */
  stats(productId?: string): SinkStats {
    if (productId === undefined) return { ...this.total };
    return { ...(this.statsByProduct.get(productId) ?? emptyStats()) };
  }

  /** Records of one product (or all), in order of first arrival. */
  notifications(productId?: string): NotificationRecord[] {
    if (productId === undefined) return [...this.records.values()];
    return (this.keysByProduct.get(productId) ?? []).flatMap((k) => this.records.get(k) ?? []);
  }

  /** Forgets one product, or everything. */
  reset(productId?: string): void {
    for (const [key, r] of this.confirmationRecords) if (productId === undefined || r.productId === productId) this.confirmationRecords.delete(key);
    if (productId === undefined) {
      this.records.clear();
      this.keysByProduct.clear();
      this.statsByProduct.clear();
      this.total = emptyStats();
      return;
    }
    for (const key of this.keysByProduct.get(productId) ?? []) this.records.delete(key);
    this.keysByProduct.delete(productId);
    this.statsByProduct.delete(productId);
  }

  private productStats(productId: string): SinkStats {
    let s = this.statsByProduct.get(productId);
    if (!s) {
      s = emptyStats();
      this.statsByProduct.set(productId, s);
    }
    return s;
  }
}
