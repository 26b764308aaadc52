/** What the wave tests share: shoppers with distinct sign-up times, and the waves as the store and the ledger see them. */
import { COLLECTIONS, type DeliveryDoc, type FanoutDoc, type SubscriptionDoc, type WaveDoc } from '../../../lib/model.ts';
import { seedProduct } from '../../../emulators/stack/index.ts';
import { stack, waitFor } from '../../helpers/index.ts';

/**
 * Seeds `n` shoppers of `productId` (sold out at sequence 1) who signed up one
 * millisecond apart, with ids in the reverse order of their sign-up, so an
 * order by id is the opposite of the order waves must keep. Resolves them
 * oldest first.
 */
export async function seedQueue(productId: string, n: number): Promise<SubscriptionDoc[]> {
  const db = stack().firestore;
  await seedProduct(db, productId, {});
  const base = Date.now() - n - 60_000;
  const width = String(n).length;
  const docs: SubscriptionDoc[] = Array.from({ length: n }, (_, i) => {
    const userId = `u${String(n - i).padStart(width, '0')}`;
    return { userId, productId, channels: { email: `${userId}@example.com` }, createdAtMs: base + i, updatedAtMs: base + i };
  });
  const writer = db.bulkWriter({ throttling: false });
  const subs = db.collection(COLLECTIONS.products).doc(productId).collection(COLLECTIONS.subscriptions);
  for (const d of docs) void writer.set(subs.doc(d.userId), d);
  await writer.close();
  return docs;
}

export async function fanout(eventKey: string): Promise<FanoutDoc | undefined> {
  return (await stack().firestore.collection(COLLECTIONS.fanouts).doc(eventKey).get()).data() as FanoutDoc | undefined;
}

/** Waits until the fan-out of `eventKey` satisfies `ok` (a wave ended, the restock settled). */
export async function waitForFanout(eventKey: string, what: string, ok: (f: FanoutDoc) => boolean, timeoutMs = 90_000): Promise<FanoutDoc> {
  let last: FanoutDoc | undefined;
  await waitFor(
    async () => {
      last = await fanout(eventKey);
      return last !== undefined && ok(last);
    },
    { timeoutMs, what },
  );
  return last!;
}

/** The wave records of an event, in order. */
export async function waveRecords(eventKey: string): Promise<WaveDoc[]> {
  const snap = await stack().firestore.collection(COLLECTIONS.fanouts).doc(eventKey).collection(COLLECTIONS.waves).get();
  return snap.docs.map((d) => d.data() as WaveDoc).sort((a, b) => a.generation - b.generation || a.index - b.index);
}

/** The event's ledger entries that ended `sent`. */
export async function sentEntries(eventKey: string): Promise<DeliveryDoc[]> {
  const snap = await stack().firestore.collection(COLLECTIONS.deliveries).where('eventKey', '==', eventKey).get();
  return snap.docs.map((d) => d.data() as DeliveryDoc).filter((d) => d.state === 'sent');
}

/** Waits until `n` of the event's notifications are `sent` in the ledger. */
export async function waitForSent(eventKey: string, n: number): Promise<DeliveryDoc[]> {
  let sent: DeliveryDoc[] = [];
  await waitFor(
    async () => {
      sent = await sentEntries(eventKey);
      return sent.length >= n;
    },
    { timeoutMs: 90_000, what: `${n} sent notifications of ${eventKey}` },
  );
  return sent;
}

/**
 * The wave that told each shopper, in sign-up order (`Infinity` for nobody):
 * FIFO holds when this never goes down.
 */
export function wavesInSignupOrder(queue: readonly SubscriptionDoc[], sent: readonly DeliveryDoc[]): number[] {
  const waveOf = new Map(sent.map((d) => [d.userId, d.wave ?? 0]));
  return queue.map((s) => waveOf.get(s.userId) ?? Number.POSITIVE_INFINITY);
}
