/**
 * `restock demand` and `restock product demand`: the pure decisions of the
 * read model (ranking by shoppers waiting, UTC day buckets, conversion) and
 * the commands over recorded operations (usage errors naming the flag, human
 * output, --json). The read model on real Firestore is
 * test/integration/cli/demand.test.ts.
 */
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import type { DemandQuery, DemandReport, ProductDemandReport, RestockResult } from '../../../cli/queries/demand.ts';
import type { Backend } from '../../../cli/backend.ts';
import { CONCURRENCY, conversionOf, dayStarts, DEMAND_DAYS, MAX_PRODUCTS, PRODUCT_DAYS, PRODUCT_RESTOCKS, rankByWaiting, readDemand } from '../../../cli/queries/demand.ts';
import { DEMAND_SHARED_MS } from '../../../console/app.ts';
import { DEMAND_PAGE_TOP } from '../../../console/pages.ts';
import { sumRows } from '../../../cli/queries/funnel.ts';
import { run } from './fakes.ts';

const NOW = Date.UTC(2026, 11, 7, 15, 30); // 2026-12-07 15:30 UTC
const DAY = 86_400_000;

describe('ranking by shoppers waiting', () => {
  test('most waiting first, ties by product id, products nobody waits for left out, at most top', () => {
    const ranked = rankByWaiting(
      [
        { productId: 'b', waiting: 5 },
        { productId: 'a', waiting: 5 },
        { productId: 'c', waiting: 0 },
        { productId: 'd', waiting: 9 },
        { productId: 'e', waiting: 1 },
      ],
      3,
    );
    expect(ranked.map((p) => p.productId)).toEqual(['d', 'a', 'b']);
  });

  test('property: the answer is the top of the waiting products, in non-increasing order, whatever the input order', () => {
    const products = fc.uniqueArray(fc.record({ productId: fc.string({ minLength: 1, maxLength: 4 }), waiting: fc.nat(20) }), { selector: (p) => p.productId, maxLength: 40 });
    fc.assert(
      fc.property(products, fc.integer({ min: 1, max: 50 }), (all, top) => {
        const ranked = rankByWaiting(all, top);
        const waiting = all.filter((p) => p.waiting > 0);
        expect(ranked.length).toBe(Math.min(top, waiting.length));
        for (let i = 1; i < ranked.length; i++) expect(ranked[i - 1]!.waiting).toBeGreaterThanOrEqual(ranked[i]!.waiting);
        // Nobody left out waits for more than the last one listed.
        const cut = ranked.at(-1)?.waiting ?? 0;
        const listed = new Set(ranked.map((p) => p.productId));
        for (const p of waiting) if (!listed.has(p.productId)) expect(p.waiting).toBeLessThanOrEqual(cut);
        expect(rankByWaiting([...all].reverse(), top)).toEqual(ranked);
      }),
    );
  });
});

describe('sign-up days', () => {
  test('the last n UTC days, oldest first, the last one today from midnight', () => {
    expect(dayStarts(NOW, 3)).toEqual([Date.UTC(2026, 11, 5), Date.UTC(2026, 11, 6), Date.UTC(2026, 11, 7)]);
  });

  test('a sign-up at midnight UTC is in the day it starts, one a millisecond before in the day before', () => {
    const [yesterday, today] = dayStarts(Date.UTC(2026, 11, 7), 2);
    expect(today).toBe(Date.UTC(2026, 11, 7));
    expect(yesterday).toBe(Date.UTC(2026, 11, 7) - DAY);
  });

  test('property: the days are contiguous, a day apart, and now falls in the last', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 4_102_444_800_000 }), fc.integer({ min: 1, max: 60 }), (now, days) => {
        const starts = dayStarts(now, days);
        expect(starts.length).toBe(days);
        for (let i = 1; i < starts.length; i++) expect(starts[i]! - starts[i - 1]!).toBe(DAY);
        expect(starts.at(-1)! % DAY).toBe(0);
        expect(now).toBeGreaterThanOrEqual(starts.at(-1)!);
        expect(now).toBeLessThan(starts.at(-1)! + DAY);
      }),
    );
  });
});

describe('conversion', () => {
  test('purchases, direct and assisted, per shopper notified; none without anyone notified', () => {
    expect(conversionOf({ ...sumRows([]), notified: 200, purchased: { direct: 6, assisted: 4 } })).toBe(0.05);
    expect(conversionOf(sumRows([]))).toBeNull();
  });
});

/**
 * A Firestore that answers every count with `waiting`, lists `products`, holds
 * a fan-out for every key and nothing else, and records how documents were read.
 */
function recordingDb(products: { id: string; lastRestockEventKey: string | null }[], waiting: (path: string) => number) {
  const reads = { getAll: [] as string[][], single: [] as string[] };
  const at = (path: string): Record<string, unknown> => {
    const q: Record<string, unknown> = {
      path,
      id: path.split('/').at(-1),
      where: () => q,
      orderBy: () => q,
      select: () => q,
      limit: () => q,
      startAfter: () => q,
      count: () => ({ get: async () => ({ data: () => ({ count: waiting(path) }) }) }),
      aggregate: () => ({ get: async () => ({ data: () => ({ count: 0, orders: 0, revenue: 0 }) }) }),
      collection: (name: string) => at(`${path}/${name}`),
      doc: (id: string) => ({
        ...at(`${path}/${id}`),
        get: async () => {
          reads.single.push(`${path}/${id}`);
          return { id, exists: path === 'fanouts', data: () => (path === 'fanouts' ? fanout(id) : undefined) };
        },
      }),
      get: async () => {
        const docs = path === 'products' ? products.map((p) => ({ id: p.id, data: () => ({ lastRestockEventKey: p.lastRestockEventKey }), get: () => undefined })) : [];
        return { size: docs.length, empty: docs.length === 0, docs };
      },
    };
    return q;
  };
  const fanout = (eventKey: string) => ({ eventKey, productId: `p-of-${eventKey}`, state: 'complete', recipients: 1, startedAtMs: 0, ledgerShards: 1 });
  const db = {
    collection: (name: string) => at(name),
    getAll: async (...refs: { path: string; id: string }[]) => {
      reads.getAll.push(refs.map((r) => r.path));
      return refs.map((r) => ({ id: r.id, exists: true, data: () => fanout(r.id) }));
    },
  };
  return { backend: { db, config: { ledgerShards: 1 } } as unknown as Backend, reads };
}

describe('readDemand on a recording Firestore', () => {
  test('reads the fan-outs of the listed products\u2019 last restocks in one read, not one each, and none of the products left out', async () => {
    // Prepare: three products, two listed (--top 2), one of them never restocked.
    const products = [
      { id: 'a', lastRestockEventKey: 'evt-a' },
      { id: 'b', lastRestockEventKey: null },
      { id: 'c', lastRestockEventKey: 'evt-c' },
    ];
    const waitingOf: Record<string, number> = { a: 5, b: 4, c: 1 };
    const { backend, reads } = recordingDb(products, (path) => waitingOf[path.split('/')[1] ?? ''] ?? 0);

    // Act
    const report = await readDemand(backend, { top: 2, nowMs: NOW });

    // Assess
    expect(report.products.map((p) => [p.productId, p.waiting, p.lastRestock?.eventKey ?? null])).toEqual([
      ['a', 5, 'evt-a'],
      ['b', 4, null],
    ]);
    expect(reads.getAll).toEqual([['fanouts/evt-a']]);
    expect(reads.single).toEqual([]);
  });
});

function restock(overrides: Partial<RestockResult> = {}): RestockResult {
  const funnel = { ...sumRows([]), notified: 40, clicked: 10, purchased: { direct: 3, assisted: 1 }, revenueMinor: { EUR: 19_996 } };
  return { eventKey: 'evt-9', startedAtMs: NOW - DAY, state: 'complete', stopped: null, recipients: 40, funnel, conversion: conversionOf(funnel), ...overrides };
}

function demandReport(overrides: Partial<DemandReport> = {}): DemandReport {
  const days = dayStarts(NOW, 7).map((dayStartMs, i) => ({ dayStartMs, signups: i }));
  return {
    readAtMs: NOW,
    considered: 12,
    withWaiting: 3,
    products: [
      { productId: 'sku-hot', name: 'Trail shoe', available: 0, waiting: 1204, signupsPerDay: days, lastRestock: restock() },
      { productId: 'sku-new', name: null, available: null, waiting: 3, signupsPerDay: days, lastRestock: null },
    ],
    truncated: false,
    ...overrides,
  };
}

describe('restock demand', () => {
  test.each([
    [['demand', '--top', '0'], /--top <n>.*expected an integer from 1 to 100, got 0/],
    [['demand', '--top', '101'], /--top <n>.*expected an integer from 1 to 100, got 101/],
    [['demand', '--top', 'many'], /--top <n>.*expected an integer/],
    [['demand', '--tpo', '3'], /unknown option '--tpo'/],
  ])('%j is a usage error (exit 2) naming the flag', async (argv, message) => {
    const r = await run(argv);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stdout).toBe('');
  });

  test('asks for the top it was given (10 by default) at the CLI clock', async () => {
    const asked: DemandQuery[] = [];
    const readDemand = async (q: DemandQuery) => {
      asked.push(q);
      return demandReport();
    };
    await run(['demand'], { ops: { readDemand }, nowMs: () => NOW });
    await run(['demand', '--top', '3'], { ops: { readDemand }, nowMs: () => NOW });
    expect(asked).toEqual([
      { top: 10, nowMs: NOW },
      { top: 3, nowMs: NOW },
    ]);
  });

  test('prints one line per product: waiting, stock, sign-ups per day, the last restock and its conversion', async () => {
    const r = await run(['demand'], { ops: { readDemand: async () => demandReport() } });
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toBe('3 product(s) with shoppers waiting, of 12 considered; the 2 with the most:');
    expect(lines[1]).toMatch(/^ {2}sku-hot +1204 waiting +stock 0 +sign-ups 7 d 21 \(0 1 2 3 4 5 6\) +last restock 2026-12-06T15:30:00.000Z: notified 40, clicked 10, purchased 4 \(10.0 %\), revenue EUR 199.96$/);
    expect(lines[2]).toMatch(/^ {2}sku-new +3 waiting +stock - .* never restocked$/);
    expect(r.stdout).not.toContain('only the first');
  });

  test('says when it stopped short of every product', async () => {
    const r = await run(['demand'], { ops: { readDemand: async () => demandReport({ truncated: true }) } });
    expect(r.stdout).toContain('only the first 1000 products (by id) were counted');
  });

  test('--json prints the report as one document', async () => {
    const r = await run(['demand', '--json'], { ops: { readDemand: async () => demandReport() } });
    expect(JSON.parse(r.stdout)).toEqual(demandReport());
  });
});

describe('restock product demand', () => {
  const report: ProductDemandReport = {
    productId: 'sku-hot',
    readAtMs: NOW,
    name: 'Trail shoe',
    available: 0,
    waiting: 1204,
    signupsPerDay: dayStarts(NOW, 2).map((dayStartMs, i) => ({ dayStartMs, signups: 10 + i })),
    restocks: [restock(), restock({ eventKey: 'evt-8', state: 'complete', stopped: 'sold-out', funnel: sumRows([]), conversion: null })],
    restocksTruncated: false,
  };

  test('prints the waiting count, the sign-ups per day and each restock with what it sold', async () => {
    const asked: [string, number][] = [];
    const r = await run(['product', 'demand', 'sku-hot'], {
      ops: {
        readProductDemand: async (id, now) => {
          asked.push([id, now]);
          return report;
        },
      },
      nowMs: () => NOW,
    });
    expect(r.code).toBe(0);
    expect(asked).toEqual([['sku-hot', NOW]]);
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toBe('product sku-hot (Trail shoe): 1204 shopper(s) waiting, stock 0');
    expect(lines).toContain('  2026-12-06  10');
    expect(lines).toContain('  2026-12-07  11');
    expect(r.stdout).toMatch(/evt-9 +started 2026-12-06T15:30:00.000Z +complete +40 enqueued +notified 40, clicked 10, purchased 4 \(10.0 %\)/);
    expect(r.stdout).toMatch(/evt-8 .*complete \(stopped: sold-out\) .*purchased 0 \(-\)/);
  });

  test('a product id with a slash is a usage error naming it', async () => {
    const r = await run(['product', 'demand', 'a/b']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/not a valid id/);
  });

  test('--json prints the report as one document', async () => {
    const r = await run(['product', 'demand', 'sku-hot', '--json'], { ops: { readProductDemand: async () => report } });
    expect(JSON.parse(r.stdout)).toEqual(report);
  });
});

describe('the manual states the bounds the code sets', () => {
  const read = (page: string) => readFileSync(new URL(`../../../docs/${page}`, import.meta.url), 'utf8').replace(/\s+/g, ' ');
  const n = (x: number) => x.toLocaleString('en-US');

  test('operate.md: products counted at most, and how many at once; the days of sign-ups and the restocks listed', () => {
    const operate = read('operate.md');
    expect(operate).toContain(`of at most ${n(MAX_PRODUCTS)} products read in id order`);
    expect(operate).toContain(`at most ${n(MAX_PRODUCTS)} are counted, ${CONCURRENCY} at once`);
    expect(operate).toContain(`over the last ${DEMAND_DAYS} days`);
    expect(operate).toContain(`sign-ups per UTC day over ${PRODUCT_DAYS} days, and its past restocks (at most ${PRODUCT_RESTOCKS}, newest first)`);
  });

  test('console.md: the products the demand page lists and counts, and what a product page shows', () => {
    const console = read('console.md');
    expect(console).toContain(`the ${DEMAND_PAGE_TOP} products with the most shoppers waiting (of at most ${n(MAX_PRODUCTS)} counted`);
    expect(console).toContain(`sign-ups of the last ${DEMAND_DAYS} days`);
    expect(console).toContain(`\`restock demand --top ${DEMAND_PAGE_TOP}\``);
    expect(console).toContain(`one count aggregation each (at most ${n(MAX_PRODUCTS)}, ${CONCURRENCY} at once)`);
    expect(console).toContain(`sign-ups per day (${DEMAND_DAYS} counts) and the last restock's funnel of the ${DEMAND_PAGE_TOP} it lists`);
    expect(console).toContain(`sign-ups per UTC day over ${PRODUCT_DAYS} days`);
    expect(console).toContain(`${PRODUCT_DAYS} counts of sign-ups`);
    expect(console).toContain(`past restocks (newest first, at most ${PRODUCT_RESTOCKS})`);
    expect(console).toContain('serves every operator asking for a minute (`DEMAND_SHARED_MS`');
    expect(DEMAND_SHARED_MS).toBe(60_000);
  });
});
