/**
 * A restock in waves, end to end on a running stack (`npm run demo --
 * --wave-multiplier ...`): restocks a seeded audience's product through the
 * inventory stand-in with the product's own wave settings, sells it out
 * through the stand-in after a number of waves, and reports each wave and
 * whether shoppers were told in sign-up order.
 */
import { COLLECTIONS, subscriptionsRef, type DeliveryDoc, type FanoutDoc, type FifoKey, type WaveDoc } from '../../lib/model.ts';
import { compareFifo } from '../../lib/fanout/index.ts';
import type { StackClients, StackDescription } from '../stack/index.ts';
import { putStock, type SeededAudience } from './index.ts';

/** One wave as the demo saw it. */
export interface DemoWave {
  index: number;
  /** Units in stock when the wave started. */
  available: number;
  /** Shoppers of the wave whose notification was sent. */
  notified: number;
  startedAtMs: number;
}

/** What a restock in waves did. `ok` when it went as asked: waves stopped by the sell-out, FIFO kept, nobody twice. */
export interface WavesRunSummary {
  productId: string;
  eventKey: string;
  subscribers: number;
  available: number;
  waveMultiplier: number;
  waveIntervalMs: number;
  waves: DemoWave[];
  notified: number;
  notifiedInSignupOrder: boolean;
  duplicates: number;
  stopReason: string | null;
  stillSubscribed: number;
  elapsedMs: number;
  ok: boolean;
  failure?: string;
}

export interface WavesRunOptions {
  available: number;
  multiplier: number;
  intervalMs: number;
  /** Sell the product out once this many waves are enqueued (0: never). */
  sellOutAfterWaves: number;
  timeoutMs: number;
  onWave?: (wave: number) => void;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Sells the audience's product out, restocks `available` units with the
 * product's wave settings, sells out again after `sellOutAfterWaves` waves,
 * and follows the fan-out until it ends and its notifications are settled.
 */
export async function runWaves(description: StackDescription, clients: StackClients, audience: SeededAudience, o: WavesRunOptions): Promise<WavesRunSummary> {
  const db = clients.firestore;
  const { productId } = audience;
  // The queue as it stands before the restock: sign-up order is what the waves must keep.
  const queue: FifoKey[] = (await subscriptionsRef(db, productId).select('createdAtMs').get()).docs
    .map((d) => ({ createdAtMs: Number(d.get('createdAtMs')), userId: d.id }))
    .sort(compareFifo);
  await putStock(description.inventory, productId, { available: 0, ...audience.product });
  const startedAtMs = Date.now();
  const { eventId: eventKey } = await putStock(description.inventory, productId, { available: o.available, ...audience.product, waves: { multiplier: o.multiplier, intervalMs: o.intervalMs } });
  const deadline = startedAtMs + o.timeoutMs;
  const fanoutRef = db.collection(COLLECTIONS.fanouts).doc(eventKey);
  let fanout: FanoutDoc | undefined;
  let soldOut = false;
  let seen = 0;
  for (;;) {
    if (Date.now() > deadline) throw new Error(`the restock ${eventKey} did not end within the timeout`);
    fanout = (await fanoutRef.get()).data() as FanoutDoc | undefined;
    // Waves wholly enqueued: all before the current one, and the current one only when it ended the restock by reaching the last shopper.
    const w = fanout?.waves;
    const enqueued = !w ? 0 : w.phase === 'done' && w.stopReason === 'audience-exhausted' ? w.index : w.index - 1;
    if (enqueued > seen) {
      seen = enqueued;
      o.onWave?.(seen);
    }
    if (!soldOut && o.sellOutAfterWaves > 0 && fanout?.waves?.phase === 'waiting' && enqueued >= o.sellOutAfterWaves) {
      await putStock(description.inventory, productId, { available: 0, ...audience.product });
      soldOut = true;
    }
    if (fanout && fanout.state !== 'running') break;
    await sleep(200);
  }
  const records = (await fanoutRef.collection(COLLECTIONS.waves).get()).docs.map((d) => d.data() as WaveDoc).sort((a, b) => a.index - b.index);
  const taken = records.reduce((n, w) => n + w.taken, 0);
  let entries: DeliveryDoc[] = [];
  for (;;) {
    entries = (await db.collection(COLLECTIONS.deliveries).where('eventKey', '==', eventKey).get()).docs.map((d) => d.data() as DeliveryDoc);
    if (entries.filter((e) => e.state !== 'sending' && e.state !== 'failed').length >= taken * audience.channels.length || Date.now() > deadline) break;
    await sleep(300);
  }
  const sent = entries.filter((e) => e.state === 'sent');
  const waveOf = new Map(sent.map((e) => [e.userId, e.wave ?? 0]));
  const order = queue.map((k) => waveOf.get(k.userId) ?? Number.POSITIVE_INFINITY);
  const notifiedInSignupOrder = order.every((w, i) => i === 0 || order[i - 1]! <= w);
  const sinkStats = (await (await fetch(`${description.sink}/stats?productId=${encodeURIComponent(productId)}`)).json()) as { delivered: number; duplicateKeys: number };
  const stillSubscribed = (await subscriptionsRef(db, productId).count().get()).data().count;
  const waves = records.map((w) => ({ index: w.index, available: w.available, notified: sent.filter((e) => e.wave === w.index).length, startedAtMs: w.startedAtMs }));
  const stopReason = fanout.waves?.stopReason ?? null;
  const problems = [
    !notifiedInSignupOrder && 'shoppers were not told in sign-up order',
    sinkStats.duplicateKeys > 0 && `${sinkStats.duplicateKeys} notification(s) sent twice`,
    o.sellOutAfterWaves > 0 && waves.length > o.sellOutAfterWaves && `${waves.length} waves ran though the product sold out after ${o.sellOutAfterWaves}`,
    sent.length !== taken * audience.channels.length && `${sent.length} of ${taken} shoppers taken were told`,
  ].filter(Boolean) as string[];
  return {
    productId,
    eventKey,
    subscribers: audience.userIds.length,
    available: o.available,
    waveMultiplier: o.multiplier,
    waveIntervalMs: o.intervalMs,
    waves,
    notified: sent.length,
    notifiedInSignupOrder,
    duplicates: sinkStats.duplicateKeys,
    stopReason,
    stillSubscribed,
    elapsedMs: Date.now() - startedAtMs,
    ok: problems.length === 0,
    ...(problems.length ? { failure: problems.join('; ') } : {}),
  };
}
