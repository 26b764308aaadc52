/**
 * The naive design of docs/design.md "Origin", kept here as the benchmark's
 * baseline and never imported by `lib/`: one process reads every subscriber,
 * calls the notification service once per 100 recipients, one call after the
 * other, and after each call writes one dedup document and one subscription
 * deletion per notified recipient, individually (one RPC each, awaited in
 * turn, as a straightforward loop does).
 *
 * No sleeps, no artificial slowness: every millisecond it takes is the sink's
 * latency or a Firestore round trip.
 */
import { Timestamp, type Firestore } from '@google-cloud/firestore';
import { COLLECTIONS, dedupKey, type SubscriptionDoc } from '../lib/model.ts';

const SEND_PATH = '/v1/notifications:send';
const BATCH = 100;

export interface NaiveRun {
  productId: string;
  eventKey: string;
  product: { name?: string; url?: string; available: number };
}

export interface NaiveResult {
  /** Start to the last notification the sink answered `sent`. */
  elapsedMs: number;
  sent: number;
  sendCalls: number;
}

interface SendAnswer {
  results: { idempotencyKey: string; status: 'sent' | 'retry' | 'rejected' }[];
}

/**
 * Tells every subscriber of `run.productId`, the naive way.
 * @throws Error when the notification service refuses a call (the naive design has no retries).
 */
export async function runNaive(db: Firestore, sinkUrl: string, run: NaiveRun): Promise<NaiveResult> {
  const started = Date.now();
  const subs = db.collection(COLLECTIONS.products).doc(run.productId).collection(COLLECTIONS.subscriptions);
  const everyone = (await subs.get()).docs;
  let sent = 0;
  let sendCalls = 0;
  let lastSentAtMs = started;
  const expireAt = Timestamp.fromMillis(started + 30 * 86_400_000);

  for (let i = 0; i < everyone.length; i += BATCH) {
    const batch = everyone.slice(i, i + BATCH).map((d) => d.data() as SubscriptionDoc);
    const notifications = batch.map((s) => ({
      idempotencyKey: dedupKey({ productId: run.productId, userId: s.userId, createdAtMs: s.createdAtMs }, 'email'),
      channel: 'email' as const,
      to: s.channels.email!,
      template: 'restock' as const,
      data: { eventKey: run.eventKey, productId: run.productId, available: run.product.available, ...(run.product.name ? { productName: run.product.name } : {}) },
    }));
    const res = await fetch(sinkUrl + SEND_PATH, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ notifications }),
    });
    sendCalls++;
    if (!res.ok) throw new Error(`naive baseline: the notification service answered ${res.status}: ${await res.text()}`);
    const answer = (await res.json()) as SendAnswer;
    lastSentAtMs = Date.now();
    for (const [j, r] of answer.results.entries()) {
      if (r.status !== 'sent') continue;
      const s = batch[j]!;
      await db.collection(COLLECTIONS.deliveries).doc(r.idempotencyKey).set({
        dedupKey: r.idempotencyKey,
        eventKey: run.eventKey,
        productId: run.productId,
        userId: s.userId,
        channel: 'email',
        state: 'sent',
        sentAtMs: lastSentAtMs,
        expireAt,
      });
      await subs.doc(s.userId).delete();
      sent++;
    }
  }
  return { elapsedMs: lastSentAtMs - started, sent, sendCalls };
}
