/**
 * A hot product that sells out again mid-fan-out (issue 40), end to end on a
 * running stack (`npm run demo -- --sell-out-after-ms N [--restock-again-after-ms M]`):
 * restocks a seeded audience's product through the inventory stand-in, sells
 * it out `sellOutAfterMs` later through the stand-in, optionally restocks it
 * again `restockAgainAfterMs` after the sell-out, and counts at the sink (not
 * the ledger) who was told what and when, and who kept their place.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { recipientRef } from '../../lib/log.ts';
import { COLLECTIONS, subscriptionsRef, type FanoutDoc } from '../../lib/model.ts';
import type { NotificationRecord } from '../sink/index.ts';
import type { StackClients, StackDescription } from '../stack/index.ts';
import { putStock, type SeededAudience } from './index.ts';

/** What the sell-out run observed. */
export interface SellOutRunSummary {
  productId: string;
  subscribers: number;
  available: number;
  /** The restock, and the restock again (null without one). */
  eventKey: string;
  againEventKey: string | null;
  sellOutAfterMs: number;
  restockAgainAfterMs: number | null;
  /** Shoppers the first restock told (sent at the sink). */
  told: number;
  /** Notifications the sink delivered for the first restock after the sell-out was committed (the stock update answered). */
  toldAfterSellOut: number;
  /**
   * Of those, delivered after the pipeline had seen the sell-out (its event
   * claimed): only chunks already sending may still finish (docs/how-it-works.md).
   */
  toldAfterSellOutSeen: number;
  /** Ledger entries of the first restock claimed for sending after the pipeline had seen the sell-out: must be 0. */
  claimedAfterSellOutSeen: number;
  /**
   * Shoppers the first restock did not tell who kept their place: still
   * subscribed once it settled, or (with a restock again) told by the next one.
   */
  keptPlace: number;
  /** Shoppers told by the restock again. */
  toldAgain: number;
  /** Shoppers told more than once on a channel, across both restocks: must be 0. */
  toldTwice: number;
  /** With a restock again: shoppers told by neither restock (must be 0). */
  missing: number;
  /** The first restock's ledger in the state that keeps a place (`soldOutBeforeSend`). */
  soldOutBeforeSend: number;
  /** How the first restock's fan-out ended: its state, and why it stopped paging when it did. */
  fanout: { state: string | null; stopped: string | null; chunks: number | null; recipients: number | null };
  elapsedMs: number;
  ok: boolean;
  failure?: string;
}

export interface SellOutRunOptions {
  available: number;
  sellOutAfterMs: number;
  /** Restock again this long after the sell-out; undefined: never. */
  restockAgainAfterMs?: number;
  timeoutMs: number;
  /** After everything looks settled, watch this long for late sends. */
  settleMs: number;
  onStep?: (line: string) => void;
}

interface FanoutView {
  state: string;
  startedAtMs: number;
  stopped?: { reason: string; atMs: number };
  chunks: number;
  recipients: number;
}

async function fanoutOf(clients: StackClients, eventKey: string): Promise<FanoutView | undefined> {
  return (await clients.firestore.collection(COLLECTIONS.fanouts).doc(eventKey).get()).data() as (FanoutDoc & FanoutView) | undefined;
}

async function sinkNotifications(description: StackDescription, productId: string): Promise<NotificationRecord[]> {
  const res = await fetch(`${description.sink}/notifications?productId=${encodeURIComponent(productId)}`);
  return ((await res.json()) as { notifications: NotificationRecord[] }).notifications;
}

/** Ledger entries of `eventKey` per state (its `deliveries` documents, read once). */
async function ledgerOf(clients: StackClients, eventKey: string): Promise<{ state: string; createdAtMs: number; updatedAtMs: number; attempts: number }[]> {
  const snap = await clients.firestore.collection(COLLECTIONS.deliveries).where('eventKey', '==', eventKey).get();
  return snap.docs.map((d) => d.data() as { state: string; createdAtMs: number; updatedAtMs: number; attempts: number });
}

/**
 * Sells the audience's product out, restocks `available` units, sells out
 * again after `sellOutAfterMs`, optionally restocks after that, waits for
 * every fan-out to end and the ledger to settle, then counts at the sink.
 */
export async function runSellOut(description: StackDescription, clients: StackClients, audience: SeededAudience, o: SellOutRunOptions): Promise<SellOutRunSummary> {
  const { productId } = audience;
  const say = o.onStep ?? (() => undefined);
  const email = (u: string) => `${u}@example.com`;
  const userOfRef = new Map(audience.userIds.map((u) => [recipientRef(email(u)), u]));
  await putStock(description.inventory, productId, { available: 0, ...audience.product });
  const startedAtMs = Date.now();
  const { eventId: eventKey } = await putStock(description.inventory, productId, { available: o.available, ...audience.product });
  say(`restocked ${o.available} unit(s) (event ${eventKey})`);
  await sleep(Math.max(0, o.sellOutAfterMs - (Date.now() - startedAtMs)));
  const { eventId: soldOutKey } = await putStock(description.inventory, productId, { available: 0, ...audience.product });
  const soldOutAtMs = Date.now();
  say(`sold out ${soldOutAtMs - startedAtMs} ms after the restock (event ${soldOutKey})`);
  let againEventKey: string | null = null;
  if (o.restockAgainAfterMs !== undefined) {
    await sleep(o.restockAgainAfterMs);
    againEventKey = (await putStock(description.inventory, productId, { available: o.available, ...audience.product })).eventId;
    say(`restocked again ${Date.now() - soldOutAtMs} ms after the sell-out (event ${againEventKey})`);
  }

  // Every fan-out ends and its ledger settles (no entry `sending` or `failed`); with a restock again, until nobody
  // waits any more (a chunk of it that met the first restock's claims still sending is retried by the queue, with
  // nothing of its own open meanwhile); then a little longer for late sends.
  const deadline = startedAtMs + o.timeoutMs;
  const events = [eventKey, ...(againEventKey ? [againEventKey] : [])];
  let failure: string | undefined;
  for (;;) {
    const views = await Promise.all(events.map((k) => fanoutOf(clients, k)));
    const ledgers = await Promise.all(events.map((k) => ledgerOf(clients, k)));
    const running = views.some((v) => !v || v.state === 'running');
    const open = ledgers.flat().filter((e) => e.state === 'sending' || e.state === 'failed').length;
    const waiting = againEventKey ? (await subscriptionsRef(clients.firestore, productId).count().get()).data().count : 0;
    if (!running && open === 0 && waiting === 0) break;
    if (Date.now() > deadline) {
      failure = `timed out with ${running ? 'a fan-out still running' : open > 0 ? `${open} ledger entries open` : `${waiting} shopper(s) still waiting after the restock again`}`;
      break;
    }
    await sleep(300);
  }
  await sleep(o.settleMs);

  const soldOutSeenAtMs = (await fanoutOf(clients, soldOutKey))?.startedAtMs ?? soldOutAtMs;
  const notifications = await sinkNotifications(description, productId);
  const sent = notifications.filter((n) => n.status === 'sent' && n.sentAtMs !== undefined);
  const first = sent.filter((n) => n.eventKey === eventKey);
  const again = againEventKey ? sent.filter((n) => n.eventKey === againEventKey) : [];
  const toldBy = (records: NotificationRecord[]) => new Set(records.map((n) => userOfRef.get(n.recipientRef)).filter((u): u is string => u !== undefined));
  const toldFirst = toldBy(first);
  const toldAgainUsers = toldBy(again);
  // Per shopper and channel, across both restocks: every delivery, and every key delivered more than once.
  const perUser = new Map<string, number>();
  for (const n of sent) {
    const u = `${userOfRef.get(n.recipientRef) ?? n.recipientRef}:${n.channel}`;
    perUser.set(u, (perUser.get(u) ?? 0) + 1 + n.resends);
  }
  const toldTwice = [...perUser.values()].filter((n) => n > 1).length;
  const stillSubscribed = new Set((await subscriptionsRef(clients.firestore, productId).select().get()).docs.map((d) => d.id));
  const notToldFirst = audience.userIds.filter((u) => !toldFirst.has(u));
  const keptPlace = notToldFirst.filter((u) => (againEventKey ? toldAgainUsers.has(u) : stillSubscribed.has(u))).length;
  const missing = againEventKey ? audience.userIds.filter((u) => !toldFirst.has(u) && !toldAgainUsers.has(u)).length : 0;
  const ledger = await ledgerOf(clients, eventKey);
  const view = await fanoutOf(clients, eventKey);
  const summary: SellOutRunSummary = {
    productId,
    subscribers: audience.userIds.length,
    available: o.available,
    eventKey,
    againEventKey,
    sellOutAfterMs: o.sellOutAfterMs,
    restockAgainAfterMs: o.restockAgainAfterMs ?? null,
    told: toldFirst.size,
    toldAfterSellOut: first.filter((n) => n.sentAtMs! > soldOutAtMs).length,
    toldAfterSellOutSeen: first.filter((n) => n.sentAtMs! > soldOutSeenAtMs).length,
    claimedAfterSellOutSeen: ledger.filter((e) => e.state !== 'soldOutBeforeSend' && e.createdAtMs > soldOutSeenAtMs).length,
    keptPlace,
    toldAgain: toldAgainUsers.size,
    toldTwice,
    missing,
    soldOutBeforeSend: ledger.filter((e) => e.state === 'soldOutBeforeSend').length,
    fanout: { state: view?.state ?? null, stopped: view?.stopped?.reason ?? null, chunks: view?.chunks ?? null, recipients: view?.recipients ?? null },
    elapsedMs: Date.now() - startedAtMs,
    ok: false,
  };
  const problems = [
    failure,
    summary.toldTwice > 0 && `${summary.toldTwice} shopper(s) told twice`,
    summary.claimedAfterSellOutSeen > 0 && `${summary.claimedAfterSellOutSeen} notification(s) claimed after the sell-out was seen`,
    summary.missing > 0 && `${summary.missing} shopper(s) told by neither restock`,
    !againEventKey && summary.keptPlace !== notToldFirst.length && `${notToldFirst.length - summary.keptPlace} shopper(s) not told lost their place`,
  ].filter(Boolean) as string[];
  summary.ok = problems.length === 0;
  if (problems.length) summary.failure = problems.join('; ');
  return summary;
}
