/**
 * The funnel (cli/queries/funnel.ts): the sum of rows; the funnel of a
 * restock that sent nothing, which `restock status` answers without a query;
 * and, against a fake Firestore, which aggregations a funnel makes.
 */
import type { Firestore } from '@google-cloud/firestore';
import { describe, expect, it } from 'vitest';
import { emptyFunnel, readFunnel, sumRows } from '../../../cli/queries/funnel.ts';
import { CHANNELS } from '../../../lib/model.ts';

const ZERO = { notified: 0, clicked: 0, purchased: { direct: 0, assisted: 0 }, revenueMinor: {} };

describe('the funnel', () => {
  it('in all is the sum of its rows, revenue per currency', () => {
    const a = { notified: 3, clicked: 1, purchased: { direct: 1, assisted: 1 }, revenueMinor: { EUR: 4999 } };
    const b = { notified: 2, clicked: 1, purchased: { direct: 1, assisted: 0 }, revenueMinor: { EUR: 1, USD: 1000 } };
    expect(sumRows([a, b])).toEqual({ notified: 5, clicked: 2, purchased: { direct: 2, assisted: 1 }, revenueMinor: { EUR: 5000, USD: 1000 } });
    expect(sumRows([])).toEqual(ZERO);
  });

  it('of a restock that sent nothing is zero on every channel and wave, read without touching the database', async () => {
    const untouchable = new Proxy({}, { get: () => { throw new Error('the database was queried'); } }) as Firestore;
    const funnel = await readFunnel(untouchable, 'evt', 256, [{ wave: 1, notified: 0 }, { wave: 2, notified: 0 }], 0);
    expect(funnel).toEqual(emptyFunnel([1, 2]));
    expect(funnel.total).toEqual(ZERO);
    expect(Object.keys(funnel.byChannel)).toEqual([...CHANNELS]);
    expect(funnel.byWave).toEqual([{ wave: 1, ...ZERO }, { wave: 2, ...ZERO }]);
    expect(emptyFunnel([]).byWave).toBeUndefined();
  });
  it('queries no clicks or orders of a channel or wave that notified nobody, and derives assisted from the orders counted with each currency', async () => {
    // Prepare: a fake Firestore that answers from a table of documents and records every aggregation's filters.
    type Filters = Record<string, unknown>;
    const docs: Record<string, Filters[]> = {
      deliveries: [...Array.from({ length: 3 }, () => ({ shard: 7, eventKey: 'evt', channel: 'email', state: 'sent', wave: 1 }))],
      clicks: [{ eventKey: 'evt', channel: 'email', wave: 1 }],
      conversions: [
        { eventKey: 'evt', channel: 'email', wave: 1, attribution: 'direct', currency: 'EUR', valueMinor: 4999 },
        { eventKey: 'evt', channel: 'email', wave: 1, attribution: 'assisted', currency: 'EUR', valueMinor: 1 },
        { eventKey: 'evt', channel: 'email', wave: 1, attribution: 'assisted', currency: 'USD', valueMinor: 1000 },
      ],
    };
    const aggregations: { collection: string; filters: Filters }[] = [];
    const query = (collection: string, filters: Filters, after?: unknown): unknown => {
      const matching = () => docs[collection]!.filter((d) => Object.entries(filters).every(([f, v]) => (Array.isArray(v) ? v.includes(d[f]) : d[f] === v)));
      const aggregate = (spec: Record<string, unknown>) => ({
        get: async () => {
          aggregations.push({ collection, filters });
          const m = matching();
          const data = Object.fromEntries(Object.keys(spec).map((k) => [k, k === 'revenue' ? m.reduce((n, d) => n + (d.valueMinor as number), 0) : m.length]));
          return { data: () => data };
        },
      });
      return {
        where: (field: string, _op: string, value: unknown) => query(collection, { ...filters, [field]: value }, after),
        orderBy: () => query(collection, filters, after),
        select: () => query(collection, filters, after),
        limit: () => query(collection, filters, after),
        startAfter: (v: unknown) => query(collection, filters, v),
        count: () => aggregate({ count: true }),
        aggregate,
        get: async () => {
          const next = [...new Set(matching().map((d) => d.currency as string))].sort().find((c) => after === undefined || c > (after as string));
          return { empty: next === undefined, docs: next === undefined ? [] : [{ get: () => next }] };
        },
      };
    };
    const db = { collection: (name: string) => query(name, {}) } as unknown as Firestore;

    // Act: two waves, the second of which notified nobody.
    const funnel = await readFunnel(db, 'evt', 256, [{ wave: 1, notified: 3 }, { wave: 2, notified: 0 }], 3);

    // Assess
    const email = { notified: 3, clicked: 1, purchased: { direct: 1, assisted: 2 }, revenueMinor: { EUR: 5000, USD: 1000 } };
    expect(funnel.byChannel).toEqual({ ...Object.fromEntries(CHANNELS.map((c) => [c, ZERO])), email });
    expect(funnel.total).toEqual(email);
    expect(funnel.byWave).toEqual([{ wave: 1, ...email }, { wave: 2, ...ZERO }]);
    const beyondSent = aggregations.filter((a) => a.collection !== 'deliveries');
    expect(beyondSent.filter((a) => a.filters.channel !== undefined && a.filters.channel !== 'email')).toEqual([]);
    expect(beyondSent.filter((a) => a.filters.wave === 2)).toEqual([]);
    expect(aggregations.filter((a) => a.collection === 'deliveries' && a.filters.wave !== undefined)).toEqual([]);
    // Per used row: clicks, direct, and one count-and-sum per currency.
    expect(beyondSent.length).toBe(2 * (2 + 2));
  });
});
