/**
 * The rule "is this a restock?" and how an event moves a product's stock
 * state. Pure: the transaction that applies it lives in `stockState.ts`.
 */
import type { InventoryEvent } from '../events/index.ts';
import type { ProductDoc } from '../model.ts';

/**
 * A restock is stock crossing the threshold upwards: `previous <= threshold < available`.
 * With the default threshold 0 that is "was sold out, now is not".
 */
export function isRestock(previous: number, available: number, threshold: number): boolean {
  return !isAvailable(previous, threshold) && isAvailable(available, threshold);
}

/** Stock counts as available above the threshold: the one line both the restock rule and the subscription API draw. */
export function isAvailable(quantity: number, threshold: number): boolean {
  return quantity > threshold;
}

/** What an event means for a product's stock state. */
export type StockDecision =
  /** Apply the event; notify the product's subscribers. */
  | { kind: 'restock'; previousAvailable: number; next: ProductDoc }
  /**
   * Nobody is notified. `next` is the state to store, or undefined when the
   * change need not be stored (see {@link decideStockUpdate}'s `keepEveryChange`).
   */
  | { kind: 'not-restock'; previousAvailable: number; next: ProductDoc | undefined }
  /** The event is not newer than the state already seen: ignore it entirely (promise 5). */
  | { kind: 'stale'; storedSequence: number }
  /**
   * The event's sequence leaps further ahead of the stored one than any producer
   * would: applying it would make every real event after it stale. Ignored.
   */
  | { kind: 'jump'; storedSequence: number; maxSequenceJump: number };

/**
 * Decides what `event` means given the stored state of its product.
 *
 * The previous quantity is the event's own `previousAvailable` when it has one
 * (the producer knows best what it changed), else the stored quantity, else 0:
 * a product nobody has reported yet is taken as sold out, because shoppers can
 * only wait for products that are sold out.
 *
 * `maxSequenceJump` bounds how far past the stored sequence an event may move
 * it (a product with no stored state has nothing to measure from).
 *
 * With `keepEveryChange` false, a change that stays on the same side of the
 * threshold (a sale that does not sell out, stock added to stock) is not
 * stored (`next` undefined) unless it is a snapshot (`previousAvailable` equal
 * to `available`), carries wave settings or would leave the
 * stored sequence more than half of `maxSequenceJump` behind: what the
 * restock and sell-out decisions read, the side of the threshold, is then the
 * same, and a burst of sales no longer writes `products/{id}` once each (one
 * document takes about one sustained write a second) nor overtakes the
 * restock it follows and makes it stale. The fan-out keeps every change while
 * waves are in force: a wave is sized from the stock stored.
 */
export function decideStockUpdate(
  stored: ProductDoc | undefined,
  event: InventoryEvent,
  eventKey: string,
  threshold: number,
  nowMs: number,
  maxSequenceJump = Number.POSITIVE_INFINITY,
  keepEveryChange = true,
): StockDecision {
  if (stored && event.sequence <= stored.sequence) return { kind: 'stale', storedSequence: stored.sequence };
  if (stored && event.sequence - stored.sequence > maxSequenceJump) return { kind: 'jump', storedSequence: stored.sequence, maxSequenceJump };
  const previousAvailable = event.previousAvailable ?? stored?.available ?? 0;
  const restock = isRestock(previousAvailable, event.available, threshold);
  const next: ProductDoc = {
    ...stored,
    productId: event.productId,
    available: event.available,
    sequence: event.sequence,
    updatedAtMs: nowMs,
    lastEventKey: eventKey,
    ...(restock ? { lastRestockEventKey: eventKey } : {}),
    ...(event.product?.name !== undefined ? { name: event.product.name } : {}),
    ...(event.product?.url !== undefined ? { url: event.product.url } : {}),
    ...(event.waves !== undefined ? { waves: { ...stored?.waves, ...event.waves } } : {}),
  };
  if (restock) return { kind: 'restock', previousAvailable, next };
  const store =
    keepEveryChange ||
    !stored ||
    isAvailable(previousAvailable, threshold) !== isAvailable(event.available, threshold) ||
    // A change from itself to itself is how a producer records its stock (docs/inventory-service.md).
    event.previousAvailable === event.available ||
    event.waves !== undefined ||
    event.sequence - stored.sequence > maxSequenceJump / 2;
  return { kind: 'not-restock', previousAvailable, next: store ? next : undefined };
}
