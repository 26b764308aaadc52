/**
 * The funnel's pure parts (cli/queries/funnel.ts): the sum of rows, and the
 * funnel of a restock that sent nothing, which `restock status` answers
 * without a query.
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
});
