/**
 * The one stock check every part of a restock asks before telling anyone
 * (issue 40): has a newer stock event for the product ended this restock?
 * Pure over the product's stock state as the pipeline last recorded it
 * (`products/{productId}`); the fan-out's paging, each chunk's claim and
 * the waves call it, and so will send windows and caps: a rule that decides
 * "may this restock still tell shoppers now?" belongs here, beside it.
 */
import type { ProductDoc, RestockStop } from '../model.ts';
import { isAvailable } from './rule.ts';

export type { RestockStop } from '../model.ts';
/** Every reason a restock stops, in the order `restock status` explains them. */
export const RESTOCK_STOPS: readonly RestockStop[] = ['sold-out', 'superseded'];

/** Whether a restock may still tell shoppers, and if not, why. */
export type RestockStanding = { kind: 'on' } | { kind: 'stopped'; reason: RestockStop };

/**
 * Whether restock `eventKey` may still tell shoppers, from the product's stock
 * state. Only a newer event can stop it, and the state says so in one of two
 * ways: its last restock is another event (`superseded`), or its last restock
 * is this one and the stock is now at or under `threshold` (`sold-out`). An
 * event that only lowers the stock (10 → 5) leaves the restock on.
 *
 * A product with no state, or whose state records no restock at all, stops
 * nothing: the pipeline never saw this restock's stock change (a hand-made
 * task, a product from before the field existed), so nothing newer can be
 * known. Once stopped, a restock stays stopped: stock that comes back is a
 * restock of its own, which moves `lastRestockEventKey` on.
 */
export function restockStanding(product: Pick<ProductDoc, 'available' | 'lastRestockEventKey'> | undefined, eventKey: string, threshold: number): RestockStanding {
  if (!product || product.lastRestockEventKey === undefined) return { kind: 'on' };
  if (product.lastRestockEventKey !== eventKey) return { kind: 'stopped', reason: 'superseded' };
  if (!isAvailable(product.available, threshold)) return { kind: 'stopped', reason: 'sold-out' };
  return { kind: 'on' };
}
