/**
 * The demo's funnel step (`npm run demo -- --click-rate 0.3 --buy-rate 0.1`):
 * after the restock told everyone, a share of the shoppers follow the tracked
 * link their notification carried (as a phone's browser would, past the
 * prefetch window that takes a mail gateway's scan for what it is), and a
 * share report an order through the subscription API's `POST /v1/conversions`,
 * as a storefront does at checkout. What the merchant then reads is the
 * restock's funnel, by the same query `restock status` prints it with
 * (cli/queries/funnel.ts), so the demo shows what a shop would see.
 *
 * Who does what is the first shoppers by user id, so a run is repeatable:
 * clickers are the first `clickRate` of those told; buyers the first `buyRate`
 * of those told, clickers first, so a buy rate above the click rate adds
 * assisted orders (told, not clicked, bought) to the direct ones.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import pLimit from 'p-limit';
import { readFunnel, type Funnel } from '../../cli/queries/funnel.ts';
import { readFanout } from '../../lib/fanout/index.ts';
import { COLLECTIONS } from '../../lib/model.ts';
import type { NotificationRecord } from '../sink/index.ts';
import type { StackClients, StackDescription } from '../stack/index.ts';
import { pollUntil } from '../stack/ports.ts';
import { sinkGet } from './index.ts';

/** A phone's browser: what a shopper's tap on a link sends (a crawler's or a library's is never counted). */
const SHOPPER_BROWSER = 'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36';
/** Every demo order's value: 49.99 EUR. */
const ORDER = { valueMinor: 4999, currency: 'EUR' } as const;

export interface FunnelOptions {
  productId: string;
  eventKey: string;
  /** Share of the shoppers told who follow their link, 0 to 1. */
  clickRate: number;
  /** Share of the shoppers told who order, clickers first, 0 to 1. */
  buyRate: number;
  /** RESTOCK_CLICK_PREFETCH_SECONDS of the stack: a follow sooner after the send is a gateway's scan. */
  prefetchSeconds: number;
  timeoutMs: number;
  onStep?: (line: string) => void;
}

export interface FunnelRun {
  /** Links the demo followed, and orders it reported (201 each). */
  followed: number;
  ordered: number;
  /** The restock's funnel as `restock status` reads it. */
  funnel: Funnel;
}

/** Who clicks and who buys among `told` (user ids), by the rule in the header. Pure. */
export function shoppersActing(told: readonly string[], clickRate: number, buyRate: number): { clickers: string[]; buyers: string[] } {
  const sorted = [...told].sort();
  const clickers = sorted.slice(0, Math.round(sorted.length * clickRate));
  const buyers = sorted.slice(0, Math.round(sorted.length * buyRate));
  return { clickers, buyers };
}

/**
 * Follows the links of `clickRate` of the shoppers the sink says were told of
 * `eventKey`, waits until `applyShopperActions` recorded the clicks, reports
 * the orders of `buyRate` of them, and reads the funnel.
 * @throws Error when a link or an order is refused, or the clicks are not recorded in time.
 */
export async function clickAndBuy(description: StackDescription, clients: StackClients, o: FunnelOptions): Promise<FunnelRun> {
  const deadline = Date.now() + o.timeoutMs;
  const { notifications } = await sinkGet<{ notifications: NotificationRecord[] }>(description.sink, `/notifications?productId=${encodeURIComponent(o.productId)}`);
  const told = notifications.filter((n) => n.eventKey === o.eventKey && n.status === 'sent' && n.clickUrl && n.userId);
  if (told.length === 0) throw new Error('the sink holds no tracked link of this restock (RESTOCK_CLICK_TRACKING off, or RESTOCK_NOTIFIER_SEND_USER_ID=false?)');
  const linkOf = new Map(told.map((n) => [n.userId!, n.clickUrl!]));
  const { clickers, buyers } = shoppersActing([...linkOf.keys()], o.clickRate, o.buyRate);

  // A link's token is issued just before its message is handed over, so past the last send plus the window every follow counts.
  const lastSentAtMs = Math.max(...told.map((n) => n.sentAtMs ?? n.lastReceivedAtMs));
  const countsFromMs = lastSentAtMs + o.prefetchSeconds * 1000 + 500;
  if (clickers.length > 0 && Date.now() < countsFromMs) {
    o.onStep?.(`waiting ${((countsFromMs - Date.now()) / 1000).toFixed(1)} s past the prefetch window (a follow sooner is a mail gateway's scan, never counted)...`);
    await sleep(countsFromMs - Date.now());
  }
  const limit = pLimit(16);
  await Promise.all(
    clickers.map((userId) =>
      limit(async () => {
        const res = await fetch(linkOf.get(userId)!, { redirect: 'manual', headers: { 'user-agent': SHOPPER_BROWSER } });
        await res.arrayBuffer();
        if (res.status !== 302) throw new Error(`following ${userId}'s link answered ${res.status}`);
      }),
    ),
  );
  let recorded = 0;
  const allRecorded = async () => {
    recorded = (await clients.firestore.collection(COLLECTIONS.clicks).where('eventKey', '==', o.eventKey).count().get()).data().count;
    return recorded >= clickers.length;
  };
  await pollUntil(allRecorded, { timeoutMs: Math.max(1, deadline - Date.now()), intervalMs: 500 });
  if (recorded < clickers.length) throw new Error(`${recorded} of ${clickers.length} clicks recorded before the deadline`);
  o.onStep?.(`followed ${clickers.length} links (${recorded} clicks recorded); reporting ${buyers.length} orders...`);

  const api = description.functions.restockSubscriptions.replace(/\/$/, '');
  await Promise.all(
    buyers.map((userId) =>
      limit(async () => {
        const order = { orderId: `demo-${o.eventKey}-${userId}`, userId, productId: o.productId, ...ORDER, purchasedAt: new Date().toISOString() };
        const res = await fetch(`${api}/v1/conversions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(order) });
        const text = await res.text();
        if (res.status !== 201) throw new Error(`reporting ${userId}'s order answered ${res.status}: ${text}`);
      }),
    ),
  );

  const fanout = await readFanout(clients.firestore, o.eventKey);
  const funnel = await readFunnel(clients.firestore, o.eventKey, fanout.ledgerShards ?? 1, [], told.length);
  return { followed: clickers.length, ordered: buyers.length, funnel };
}
