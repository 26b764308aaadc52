import { describe, expect, test } from 'vitest';
import fc from 'fast-check';
import { decideStockUpdate, isRestock } from '../../../lib/restock/index.ts';
import type { InventoryEvent } from '../../../lib/events/index.ts';
import type { ProductDoc } from '../../../lib/model.ts';

const event = (e: Partial<InventoryEvent>): InventoryEvent => ({ type: 'inventory.updated', version: 1, productId: 'p', available: 10, sequence: 5, ...e });
const stored = (p: Partial<ProductDoc>): ProductDoc => ({ productId: 'p', available: 0, sequence: 4, updatedAtMs: 1, ...p });

describe('is it a restock?', () => {
  test.each([
    [0, 1, 0, true],
    [0, 0, 0, false],
    [1, 5, 0, false],
    [5, 0, 0, false],
    [2, 3, 2, true],
    [3, 4, 2, false],
    [0, 2, 2, false],
  ])('previous %i → available %i with threshold %i: %s', (previous, available, threshold, expected) => {
    expect(isRestock(previous, available, threshold)).toBe(expected);
  });

  test('property: a restock is exactly a crossing of the threshold from at-or-below to above', () => {
    fc.assert(
      fc.property(fc.nat(1000), fc.nat(1000), fc.nat(1000), (previous, available, threshold) => {
        expect(isRestock(previous, available, threshold)).toBe(previous <= threshold && available > threshold);
      }),
    );
  });
});

describe('deciding what an event does to the stock state', () => {
  test('an event not newer than the stored sequence is stale and changes nothing', () => {
    expect(decideStockUpdate(stored({ sequence: 5 }), event({ sequence: 5 }), 'e', 0, 100)).toEqual({ kind: 'stale', storedSequence: 5 });
    expect(decideStockUpdate(stored({ sequence: 9 }), event({ sequence: 5 }), 'e', 0, 100).kind).toBe('stale');
  });

  test('the stored quantity is the previous one when the event has none', () => {
    expect(decideStockUpdate(stored({ available: 0 }), event({ available: 3 }), 'e', 0, 100).kind).toBe('restock');
    expect(decideStockUpdate(stored({ available: 2 }), event({ available: 3 }), 'e', 0, 100).kind).toBe('not-restock');
  });

  test("the event's own previousAvailable wins over the stored quantity", () => {
    expect(decideStockUpdate(stored({ available: 7 }), event({ previousAvailable: 0, available: 3 }), 'e', 0, 100).kind).toBe('restock');
  });

  test('a product never seen before is taken as sold out', () => {
    const d = decideStockUpdate(undefined, event({ available: 4 }), 'e', 0, 100);
    expect(d).toMatchObject({ kind: 'restock', previousAvailable: 0, next: { available: 4, sequence: 5, lastRestockEventKey: 'e' } });
  });

  test('the next state records the event and keeps product details, updating them when the event carries some', () => {
    const d = decideStockUpdate(stored({ name: 'Old', url: 'https://x/1' }), event({ product: { name: 'New' } }), 'e9', 0, 123);
    expect('next' in d && d.next).toMatchObject({ name: 'New', url: 'https://x/1', updatedAtMs: 123, lastEventKey: 'e9' });
  });

  test('sell out, restock, sell out, restock: each restock is a restock, each sell-out is not', () => {
    let state: ProductDoc | undefined;
    const kinds: string[] = [];
    [0, 5, 0, 8].forEach((available, i) => {
      const d = decideStockUpdate(state, event({ available, sequence: i + 1 }), `e${i}`, 0, i);
      kinds.push(d.kind);
      if ('next' in d) state = d.next;
    });
    expect(kinds).toEqual(['not-restock', 'restock', 'not-restock', 'restock']);
  });

  test('property: applying events in any order, the state ends at the highest sequence and stale ones never apply', () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.record({ sequence: fc.nat(1000), available: fc.nat(20) }), { selector: (e) => e.sequence, minLength: 1, maxLength: 20 }), (events) => {
        let state: ProductDoc | undefined;
        for (const e of events) {
          const d = decideStockUpdate(state, event(e), `e${e.sequence}`, 0, 0);
          if (d.kind === 'stale') expect(e.sequence).toBeLessThanOrEqual(state!.sequence);
          else if ('next' in d) state = d.next;
        }
        const last = events.reduce((a, b) => (b.sequence > a.sequence ? b : a));
        expect(state).toMatchObject({ sequence: last.sequence, available: last.available });
      }),
    );
  });
});

describe('a sequence that leaps ahead', () => {
  test('beyond the bound it is a jump: ignored, the stored state kept', () => {
    expect(decideStockUpdate(stored({ sequence: 5 }), event({ sequence: 2 ** 53 - 1 }), 'e', 0, 100, 1_000)).toEqual({ kind: 'jump', storedSequence: 5, maxSequenceJump: 1_000 });
  });

  test('at the bound it applies', () => {
    expect(decideStockUpdate(stored({ sequence: 5, available: 0 }), event({ sequence: 1_005, available: 2 }), 'e', 0, 100, 1_000).kind).toBe('restock');
  });

  test('a product with no stored state has nothing to measure the jump from', () => {
    expect(decideStockUpdate(undefined, event({ sequence: 2 ** 53 - 1, available: 2 }), 'e', 0, 100, 1_000).kind).toBe('restock');
  });
});

describe('without waves, a change that stays on one side of the threshold is not stored', () => {
  const keepSides = (s: ProductDoc | undefined, e: InventoryEvent) => decideStockUpdate(s, e, `e${e.sequence}`, 0, 0, Number.POSITIVE_INFINITY, false);

  test('a sale that does not sell out stores nothing; a sell-out, a restock, wave settings, a first sight and a snapshot (from itself to itself) do', () => {
    expect(keepSides(stored({ available: 5, sequence: 4 }), event({ previousAvailable: 5, available: 4, sequence: 5 }))).toEqual({ kind: 'not-restock', previousAvailable: 5, next: undefined });
    expect(keepSides(stored({ available: 1, sequence: 4 }), event({ previousAvailable: 1, available: 0, sequence: 5 }))).toMatchObject({ kind: 'not-restock', next: { available: 0, sequence: 5 } });
    expect(keepSides(stored({ available: 0 }), event({ previousAvailable: 0, available: 3 }))).toMatchObject({ kind: 'restock', next: { available: 3 } });
    expect(keepSides(stored({ available: 5 }), event({ previousAvailable: 5, available: 4, waves: { multiplier: 2 } }))).toMatchObject({ next: { waves: { multiplier: 2 } } });
    expect(keepSides(undefined, event({ previousAvailable: 5, available: 4 }))).toMatchObject({ next: { available: 4 } });
    expect(keepSides(stored({ available: 0 }), event({ previousAvailable: 12, available: 12 }))).toMatchObject({ kind: 'not-restock', next: { available: 12 } });
  });

  test('a sale that overtakes the restock it follows no longer makes that restock stale', () => {
    const soldOut = stored({ available: 0, sequence: 5 });

    const sale = keepSides(soldOut, event({ previousAvailable: 300, available: 299, sequence: 7 }));
    const restock = keepSides(soldOut, event({ previousAvailable: 0, available: 300, sequence: 6 }));

    expect(sale).toMatchObject({ kind: 'not-restock', next: undefined });
    expect(restock.kind).toBe('restock');
  });

  test('property: in any order, an event is stale only behind a newer change that was stored (a crossing or a snapshot)', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 5 }), { minLength: 2, maxLength: 12 }), fc.infiniteStream(fc.nat()), (levels, draws) => {
        // A stock history from sold out, as the producer numbers it; delivered in a random order.
        const events = levels.map((available, i) => event({ available, previousAvailable: i === 0 ? 0 : levels[i - 1]!, sequence: 10 + i }));
        const order = [...events].sort(() => (draws.next().value % 3) - 1);
        let state: ProductDoc | undefined = stored({ available: 0, sequence: 9 });
        for (const e of order) {
          const d = keepSides(state, e);
          if (d.kind === 'stale') {
            const crossedSince = events.some((x) => x.sequence > e.sequence && x.sequence <= state!.sequence && ((x.previousAvailable! > 0) !== (x.available > 0) || x.previousAvailable === x.available));
            expect(crossedSince).toBe(true);
          } else if ('next' in d && d.next) state = d.next;
        }
      }),
    );
  });
});
