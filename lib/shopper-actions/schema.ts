/**
 * What a shopper asked for through a public link, as the public function
 * publishes it to RESTOCK_SHOPPER_ACTIONS_TOPIC and `applyShopperActions`
 * applies it: a small discriminated union on `type`. Today only
 * `unsubscribe`; `confirm` (double opt-in) and `click` are meant to join it,
 * each one more member of {@link shopperActionSchema}.
 */
import { z } from 'zod';
import { CHANNELS, isValidDocumentId } from '../model.ts';

const docId = z.string().min(1).max(1500).refine(isValidDocumentId, 'must be a Firestore document id');
const timeMs = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);

/** Remove one subscription, if it is still the generation the link was issued for. */
export const unsubscribeActionSchema = z.strictObject({
  type: z.literal('unsubscribe'),
  productId: docId,
  userId: docId,
  /** The subscription's `createdAtMs` the link was issued for: a later subscription is kept. */
  generation: timeMs,
  requestedAtMs: timeMs,
});

/**
 * Confirm a pending subscription (double opt-in), if it is still the pending
 * request the link was issued for and has not expired.
 */
export const confirmActionSchema = z.strictObject({
  type: z.literal('confirm'),
  productId: docId,
  userId: docId,
  /** The pending request's `createdAtMs` the link was issued for: a later request (another address) is not confirmed by it. */
  generation: timeMs,
  requestedAtMs: timeMs,
});

/**
 * A shopper followed a message's tracked link (lib/clicks): record it once
 * per (event, shopper, channel). Prefetches are never published.
 */
export const clickActionSchema = z.strictObject({
  type: z.literal('click'),
  eventKey: z.string().min(1).max(1500),
  productId: docId,
  userId: docId,
  channel: z.enum(CHANNELS),
  wave: z.number().int().positive().optional(),
  requestedAtMs: timeMs,
});

/** Every action, by `type`. */
export const shopperActionSchema = z.discriminatedUnion('type', [unsubscribeActionSchema, confirmActionSchema, clickActionSchema]);

export type UnsubscribeAction = z.infer<typeof unsubscribeActionSchema>;
export type ConfirmAction = z.infer<typeof confirmActionSchema>;
export type ClickAction = z.infer<typeof clickActionSchema>;
export type ShopperAction = z.infer<typeof shopperActionSchema>;
export type ShopperActionType = ShopperAction['type'];
