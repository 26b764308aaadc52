/**
 * From a stock change to the event and the outbox row that carry it: pure,
 * shared by both adapters. The event is validated with `lib/events`' schema,
 * the one definition the consumer parses with, so nothing the producer stages
 * can be rejected downstream.
 */
import { EVENT_TYPE, EVENT_VERSION, inventoryEventSchema, type InventoryEvent } from '../events/index.ts';
import { firstProblem } from '../validation.ts';
import { OutboxValidationError } from './errors.ts';
import type { OutboxRow } from './model.ts';

/** What the inventory service changes: the new level, and the product's details when it knows them. */
export interface StockChange {
  productId: string;
  available: number;
  product?: { name?: string; url?: string };
  /** The product's own wave settings, carried by this change's event (docs/waves.md); unset keeps the consumer's. */
  waves?: InventoryEvent['waves'];
}

/** The inventory item as stored before the change (undefined for a new item). */
export interface ItemBefore {
  available?: number;
  sequence?: number;
  name?: string;
  url?: string;
}

/** The item as it is after the change, as the adapters store it. */
export interface ItemAfter {
  productId: string;
  available: number;
  sequence: number;
  name?: string;
  url?: string;
  updatedAtMs: number;
}

/**
 * The event for `change` over the item as it was: the next sequence of the
 * product (one more than the item's), the previous level, and the product's
 * details (the change's, else those already stored).
 * @throws OutboxValidationError naming the first field that is not valid.
 */
export function stockChangeEvent(change: StockChange, before: ItemBefore | undefined, nowMs: number): { event: InventoryEvent; item: ItemAfter } {
  if (change === null || typeof change !== 'object') throw new OutboxValidationError('(root)', 'must be an object');
  const previousSequence = before?.sequence ?? 0;
  const name = change.product?.name ?? before?.name;
  const url = change.product?.url ?? before?.url;
  const candidate = {
    type: EVENT_TYPE,
    version: EVENT_VERSION,
    productId: change.productId,
    available: change.available,
    ...(before?.available !== undefined ? { previousAvailable: before.available } : {}),
    sequence: previousSequence + 1,
    occurredAt: new Date(nowMs).toISOString(),
    ...(name !== undefined || url !== undefined ? { product: { ...(name !== undefined ? { name } : {}), ...(url !== undefined ? { url } : {}) } } : {}),
    ...(change.waves !== undefined ? { waves: change.waves } : {}),
  };
  const parsed = inventoryEventSchema.safeParse(candidate);
  if (!parsed.success) {
    const { field, problem } = firstProblem(parsed.error, candidate);
    throw new OutboxValidationError(field, problem, { cause: parsed.error });
  }
  const event = parsed.data;
  return {
    event,
    item: {
      productId: event.productId,
      available: event.available,
      sequence: event.sequence,
      ...(name !== undefined ? { name } : {}),
      ...(url !== undefined ? { url } : {}),
      updatedAtMs: nowMs,
    },
  };
}

/** A freshly staged row: pending, due at once, never tried; `traceparent` is the stock change's trace, when known. */
export function newRow(eventId: string, event: InventoryEvent, nowMs: number, traceparent?: string): OutboxRow {
  return {
    eventId,
    productId: event.productId,
    sequence: event.sequence,
    event,
    state: 'pending',
    attempts: 0,
    stagedAtMs: nowMs,
    nextAttemptAtMs: nowMs,
    leaseOwner: null,
    leaseExpiresAtMs: null,
    publishedAtMs: null,
    messageId: null,
    publishedBy: null,
    lastError: null,
    expireAtMs: null,
    ...(traceparent !== undefined ? { traceparent } : {}),
  };
}
