/**
 * The funnel of one restock, for `restock status <eventKey>`: per channel
 * (and per wave when it ran in waves) how many were notified (ledger entries
 * `sent`), clicked (`clicks`), purchased (`conversions` credited to it, direct
 * or assisted) and the revenue of those purchases per currency. Every figure
 * is a Firestore aggregation (count, or count and sum together), one small
 * RPC each whatever the audience; nothing reads the documents. A channel or
 * wave that notified nobody costs no query past its `sent` count, and a
 * wave's `sent` count is the waves report's (counted once). The currencies an
 * event's orders used are found by skipping through them in currency order
 * (one document read per currency).
 */
import type { Firestore, Query } from '@google-cloud/firestore';
import { AggregateField } from '@google-cloud/firestore';
import { countSentOnChannel } from '../../lib/delivery/index.ts';
import { CHANNELS, COLLECTIONS, type Channel } from '../../lib/model.ts';

/** One row of the funnel. Revenue is in each currency's minor units, e.g. `{ EUR: 4999 }` for 49.99 EUR. */
export interface FunnelRow {
  notified: number;
  clicked: number;
  purchased: { direct: number; assisted: number };
  revenueMinor: Record<string, number>;
}

/** A restock's funnel: in all, by channel, and by wave when it ran in waves. */
export interface Funnel {
  total: FunnelRow;
  byChannel: Record<Channel, FunnelRow>;
  /** One row per wave (1-based `wave`), when the restock ran in waves. */
  byWave?: (FunnelRow & { wave: number })[];
}

/** Currencies the restock's credited orders used, in order: each found by one single-document query after the last. */
async function currenciesOf(db: Firestore, eventKey: string): Promise<string[]> {
  const found: string[] = [];
  for (;;) {
    let query = db.collection(COLLECTIONS.conversions).where('eventKey', '==', eventKey).orderBy('currency').select('currency').limit(1);
    if (found.length > 0) query = query.startAfter(found.at(-1));
    const page = await query.get();
    if (page.empty) return found;
    found.push(page.docs[0]!.get('currency') as string);
  }
}

const count = async (q: Query) => (await q.count().get()).data().count;

/**
 * Clicks, purchases and revenue of the part of a restock `narrow` selects (a
 * channel, a wave) that notified `notified`. Clicks are recorded only against
 * a `sent` notification and orders credited only to one, so a part that
 * notified nobody is zero without a query, and one of a restock without
 * orders (no currencies) counts only its clicks. Each currency is one
 * aggregation of count and sum; assisted is the orders counted there less the
 * direct ones (an order credited to a restock is one or the other).
 */
async function row(db: Firestore, eventKey: string, notified: number, currencies: readonly string[], narrow: (q: Query) => Query): Promise<FunnelRow> {
  if (notified === 0) return sumRows([]);
  const conversions = narrow(db.collection(COLLECTIONS.conversions).where('eventKey', '==', eventKey));
  const [clicked, direct, perCurrency] = await Promise.all([
    count(narrow(db.collection(COLLECTIONS.clicks).where('eventKey', '==', eventKey))),
    currencies.length > 0 ? count(conversions.where('attribution', '==', 'direct')) : 0,
    Promise.all(
      currencies.map(async (c) => {
        const { orders, revenue } = (await conversions.where('currency', '==', c).aggregate({ orders: AggregateField.count(), revenue: AggregateField.sum('valueMinor') }).get()).data();
        return { currency: c, orders, revenue };
      }),
    ),
  ]);
  const purchased = perCurrency.reduce((n, c) => n + c.orders, 0);
  return {
    notified,
    clicked,
    purchased: { direct, assisted: purchased - direct },
    revenueMinor: Object.fromEntries(perCurrency.filter((c) => c.revenue > 0).map((c) => [c.currency, c.revenue])),
  };
}

/** Purchases credited to a row, direct and assisted (an order credited to a restock is one or the other). Pure. */
export function purchasedOf(row: FunnelRow): number {
  return row.purchased.direct + row.purchased.assisted;
}

/** The sum of rows (pure): the restock's funnel in all is the sum of its channels'. */
export function sumRows(rows: readonly FunnelRow[]): FunnelRow {
  const total: FunnelRow = { notified: 0, clicked: 0, purchased: { direct: 0, assisted: 0 }, revenueMinor: {} };
  for (const r of rows) {
    total.notified += r.notified;
    total.clicked += r.clicked;
    total.purchased.direct += r.purchased.direct;
    total.purchased.assisted += r.purchased.assisted;
    for (const [c, v] of Object.entries(r.revenueMinor)) total.revenueMinor[c] = (total.revenueMinor[c] ?? 0) + v;
  }
  return total;
}

/**
 * The funnel of a restock that sent nothing (pure): every row zero. Clicks
 * are recorded only against a `sent` notification and orders credited only
 * to one, so there is nothing to count, and none of the funnel's queries is
 * run.
 */
export function emptyFunnel(waves: readonly number[]): Funnel {
  const zero = (): FunnelRow => sumRows([]);
  const funnel: Funnel = { total: zero(), byChannel: Object.fromEntries(CHANNELS.map((c) => [c, zero()])) as Record<Channel, FunnelRow> };
  if (waves.length > 0) funnel.byWave = waves.map((wave) => ({ wave, ...zero() }));
  return funnel;
}

/** A wave of the restock and how many it notified (the waves report's `delivered`: counted once for both). */
export interface WaveNotified {
  wave: number;
  notified: number;
}

/**
 * Reads the funnel of `eventKey`. `shards` is the ledger shards its fan-out
 * recorded; `waves` its waves with their `sent` counts (empty without waves);
 * `sent`, the ledger's `sent` entries of the event: with none, the funnel is
 * {@link emptyFunnel} without a query. A caller that has not counted them
 * (`restock demand`, which reads a restock's funnel alone) leaves it out: the
 * per-channel counts are read anyway, and a channel that notified nobody costs
 * no query past its count.
 */
export async function readFunnel(db: Firestore, eventKey: string, shards: number, waves: readonly WaveNotified[], sent?: number): Promise<Funnel> {
  if (sent === 0) return emptyFunnel(waves.map((w) => w.wave));
  const [currencies, notified] = await Promise.all([currenciesOf(db, eventKey), Promise.all(CHANNELS.map((c) => countSentOnChannel(db, eventKey, c, shards)))]);
  const channels = await Promise.all(CHANNELS.map((c, i) => row(db, eventKey, notified[i]!, currencies, (q) => q.where('channel', '==', c))));
  const byChannel = Object.fromEntries(CHANNELS.map((c, i) => [c, channels[i]!])) as Record<Channel, FunnelRow>;
  const funnel: Funnel = { total: sumRows(channels), byChannel };
  if (waves.length > 0) {
    funnel.byWave = await Promise.all(waves.map(async (w) => ({ wave: w.wave, ...(await row(db, eventKey, w.notified, currencies, (q) => q.where('wave', '==', w.wave))) })));
  }
  return funnel;
}
