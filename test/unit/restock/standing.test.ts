/**
 * The one stock check of a restock (issue 40): a newer stock event that sells
 * the product out or restocks it again stops the older restock, for good.
 */
import { describe, expect, test } from 'vitest';
import fc from 'fast-check';
import { decideStockUpdate, restockStanding } from '../../../lib/restock/index.ts';
import type { InventoryEvent } from '../../../lib/events/index.ts';
import type { ProductDoc } from '../../../lib/model.ts';

const product = (available: number, lastRestockEventKey?: string) => ({ available, ...(lastRestockEventKey ? { lastRestockEventKey } : {}) });

describe('may a restock still tell shoppers?', () => {
  test.each([
    ['its stock is still above the threshold', product(5, 'r1'), 0, { kind: 'on' }],
    ['a newer event only lowered the stock', product(1, 'r1'), 0, { kind: 'on' }],
    ['a newer event sold it out', product(0, 'r1'), 0, { kind: 'stopped', reason: 'sold-out' }],
    ['a newer event took it to the threshold', product(2, 'r1'), 2, { kind: 'stopped', reason: 'sold-out' }],
    ['a newer restock came', product(5, 'r2'), 0, { kind: 'stopped', reason: 'superseded' }],
    ['a newer restock came and sold out too', product(0, 'r2'), 0, { kind: 'stopped', reason: 'superseded' }],
    ['the pipeline recorded no restock of the product', product(0), 0, { kind: 'on' }],
    ['the product has no state', undefined, 0, { kind: 'on' }],
  ])('%s', (_what, p, threshold, expected) => {
    expect(restockStanding(p, 'r1', threshold)).toEqual(expected);
  });

  const event = (sequence: number, available: number): InventoryEvent => ({ type: 'inventory.updated', version: 1, productId: 'p', available, sequence });

  test('property: once stopped, no later event starts the same restock again', () => {
    fc.assert(
      fc.property(fc.array(fc.nat(20), { minLength: 1, maxLength: 12 }), fc.nat(3), (stocks, threshold) => {
        // Prepare: the product sold out, then restocked by r0.
        let stored: ProductDoc | undefined = { productId: 'p', available: 0, sequence: 1, updatedAtMs: 0 };
        const first = decideStockUpdate(stored, event(2, threshold + 1), 'r0', threshold, 0);
        stored = first.kind === 'restock' ? first.next : stored;
        let stopped = false;
        // Act: any stock events after it, in order.
        stocks.forEach((available, i) => {
          const d = decideStockUpdate(stored, event(3 + i, available), `e${i}`, threshold, 0);
          if (d.kind === 'restock' || d.kind === 'not-restock') stored = d.next;
          const standing = restockStanding(stored, 'r0', threshold);
          // Assess: stopped for good once stopped; stopped exactly when a newer event sold out or restocked.
          if (stopped) expect(standing.kind).toBe('stopped');
          stopped ||= standing.kind === 'stopped';
          expect(standing.kind === 'stopped').toBe(stocks.slice(0, i + 1).some((s) => s <= threshold));
        });
      }),
    );
  });
});
