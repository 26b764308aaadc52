/**
 * The funnel of one restock, for `restock status <eventKey>`: per channel
 * (and per wave when it ran in waves) how many were notified (ledger entries
 * `sent`), clicked (`clicks`), purchased (`conversions` credited to it, direct
 * or assisted) and the revenue of those purchases per currency. Every figure
 * is a Firestore aggregation (count or sum), one small RPC each whatever the
 * audience; nothing reads the documents. The currencies an event's orders
 * used are found by skipping through them in currency order (one document
 * read per currency).
 */
import type { Firestore, Query } from '@google-cloud/firestore';
import { AggregateField } from '@google-cloud/firestore';
import { countSentOfWave, countSentOnChannel } from '../../lib/delivery/index.ts';
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

/** Clicks, purchases and revenue of the part of a restock `narrow` selects (a channel, a wave). */
async function row(db: Firestore, eventKey: string, notified: Promise<number>, currencies: readonly string[], narrow: (q: Query) => Query): Promise<FunnelRow> {
  const conversions = narrow(db.collection(COLLECTIONS.conversions).where('eventKey', '==', eventKey));
  const [n, clicked, direct, assisted, sums] = await Promise.all([
    notified,
    count(narrow(db.collection(COLLECTIONS.clicks).where('eventKey', '==', eventKey))),
    count(conversions.where('attribution', '==', 'direct')),
    count(conversions.where('attribution', '==', 'assisted')),
    Promise.all(currencies.map(async (c) => [c, (await conversions.where('currency', '==', c).aggregate({ revenue: AggregateField.sum('valueMinor') }).get()).data().revenue] as const)),
  ]);
  return { notified: n, clicked, purchased: { direct, assisted }, revenueMinor: Object.fromEntries(sums.filter(([, v]) => v > 0)) };
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

/**
 * Reads the funnel of `eventKey`. `shards` is the ledger shards its fan-out
 * recorded; `waves` the indexes of its waves (empty without waves); `sent`,
 * the ledger's `sent` entries of the event: with none, the funnel is
 * {@link emptyFunnel} without a query.
 */
export async function readFunnel(db: Firestore, eventKey: string, shards: number, waves: readonly number[], sent: number): Promise<Funnel> {
  if (sent === 0) return emptyFunnel(waves);
  const currencies = await currenciesOf(db, eventKey);
  const channels = await Promise.all(CHANNELS.map((c) => row(db, eventKey, countSentOnChannel(db, eventKey, c, shards), currencies, (q) => q.where('channel', '==', c))));
  const byChannel = Object.fromEntries(CHANNELS.map((c, i) => [c, channels[i]!])) as Record<Channel, FunnelRow>;
  const funnel: Funnel = { total: sumRows(channels), byChannel };
  if (waves.length > 0) {
    funnel.byWave = await Promise.all(waves.map(async (wave) => ({ wave, ...(await row(db, eventKey, countSentOfWave(db, eventKey, wave, shards), currencies, (q) => q.where('wave', '==', wave))) })));
  }
  return funnel;
}
