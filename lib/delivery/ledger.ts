/**
 * The delivery ledger, `deliveries/{dedupKey}`: who was told what, per
 * (event, recipient, channel). Storage work is per chunk, not per recipient:
 * one transaction claims the chunk (one read of every subscription and ledger
 * entry, one commit), one batched write records the outcomes and removes the
 * subscriptions that are done.
 */
import { Timestamp, type DocumentReference, type DocumentSnapshot, type Firestore, type WriteBatch } from '@google-cloud/firestore';
import { CHANNELS, COLLECTIONS, dedupKey, FINAL_DELIVERY_STATES, type Channel, type DeliveryDoc, type DeliveryState, type SubscriptionDoc } from '../model.ts';
import type { DeliveryTask } from './payload.ts';

/** One notification this attempt has claimed and must send. */
export interface ClaimedDelivery {
  key: string;
  userId: string;
  channel: Channel;
  to: string;
  locale?: string;
  attempts: number;
}

export interface ChunkClaim {
  claimed: ClaimedDelivery[];
  /** Leased by another attempt that is still within its lease. */
  busy: number;
  /** Final before this attempt (an earlier attempt settled them). */
  alreadySettled: number;
  /** Recipients whose subscription no longer exists and who were never notified: they unsubscribed. */
  unsubscribed: number;
  /** Per recipient: the subscription, and the final states known before this attempt. */
  recipients: Map<string, { ref: DocumentReference; channels: Channel[]; settled: Map<Channel, DeliveryState> }>;
}

/** Firestore's limit of writes in one commit. */
const MAX_WRITES_PER_COMMIT = 500;

export function deliveryRef(db: Firestore, key: string): DocumentReference {
  return db.collection(COLLECTIONS.deliveries).doc(key);
}

function isFinal(state: DeliveryState | undefined): boolean {
  return state !== undefined && FINAL_DELIVERY_STATES.includes(state);
}

/**
 * Claims every notification of the chunk that is not settled and not leased
 * by a live attempt. A `sending` entry whose lease expired is claimed again:
 * its earlier outcome was never recorded (crash or timeout), so it is sent
 * again with the same key, which a downstream that honours it deduplicates.
 */
export async function claimChunk(
  db: Firestore,
  task: DeliveryTask,
  o: { nowMs: number; leaseMs: number; ttlDays: number },
): Promise<ChunkClaim> {
  const subs = db.collection(COLLECTIONS.products).doc(task.productId).collection(COLLECTIONS.subscriptions);
  return db.runTransaction(async (tx) => {
    const subRefs = task.userIds.map((u) => subs.doc(u));
    const ledgerRefs = task.userIds.flatMap((u) => CHANNELS.map((c) => deliveryRef(db, dedupKey(task.eventKey, u, c))));
    const snaps: DocumentSnapshot[] = await tx.getAll(...subRefs, ...ledgerRefs);
    const result: ChunkClaim = { claimed: [], busy: 0, alreadySettled: 0, unsubscribed: 0, recipients: new Map() };
    const expireAt = Timestamp.fromMillis(o.nowMs + o.ttlDays * 86_400_000);

    task.userIds.forEach((userId, i) => {
      const sub = snaps[i]!.data() as SubscriptionDoc | undefined;
      const ledger = new Map<Channel, DeliveryDoc | undefined>(
        CHANNELS.map((c, j) => [c, snaps[task.userIds.length + i * CHANNELS.length + j]!.data() as DeliveryDoc | undefined]),
      );
      if (!sub) {
        const anySettled = [...ledger.values()].some((d) => isFinal(d?.state));
        anySettled ? result.alreadySettled++ : result.unsubscribed++;
        return;
      }
      const channels = CHANNELS.filter((c) => sub.channels?.[c]);
      const settled = new Map<Channel, DeliveryState>();
      result.recipients.set(userId, { ref: subRefs[i]!, channels, settled });
      for (const channel of channels) {
        const entry = ledger.get(channel);
        if (entry && isFinal(entry.state)) {
          settled.set(channel, entry.state);
          result.alreadySettled++;
          continue;
        }
        if (entry?.state === 'sending' && (entry.leaseExpiresAtMs ?? 0) > o.nowMs) {
          result.busy++;
          continue;
        }
        const key = dedupKey(task.eventKey, userId, channel);
        const attempts = (entry?.attempts ?? 0) + 1;
        const doc: DeliveryDoc = {
          dedupKey: key,
          eventKey: task.eventKey,
          productId: task.productId,
          userId,
          channel,
          state: 'sending',
          attempts,
          leaseExpiresAtMs: o.nowMs + o.leaseMs,
          lastError: entry?.lastError ?? null,
          sentAtMs: null,
          createdAtMs: entry?.createdAtMs ?? o.nowMs,
          updatedAtMs: o.nowMs,
          expireAt,
        };
        tx.set(ledgerRefs[i * CHANNELS.length + CHANNELS.indexOf(channel)]!, doc);
        result.claimed.push({ key, userId, channel, to: sub.channels[channel]!, attempts, ...(sub.locale ? { locale: sub.locale } : {}) });
      }
    });
    return result;
  });
}

/** The outcome of one claimed notification, to record. */
export interface Outcome {
  delivery: ClaimedDelivery;
  state: Extract<DeliveryState, 'sent' | 'failed' | 'rejected' | 'exhausted'>;
  error?: string;
}

/**
 * Records outcomes and deletes each subscription whose every channel is now
 * `sent` or `rejected` — in the same write as the ledger entry that settles it
 * (promise 6). A recipient's writes always share one commit; commits are cut
 * at Firestore's write limit only between recipients.
 * @returns how many subscriptions were removed.
 */
export async function recordOutcomes(db: Firestore, claim: ChunkClaim, outcomes: readonly Outcome[], nowMs: number): Promise<number> {
  const byUser = new Map<string, Outcome[]>();
  for (const o of outcomes) byUser.set(o.delivery.userId, [...(byUser.get(o.delivery.userId) ?? []), o]);

  const batches: WriteBatch[] = [];
  let batch = db.batch();
  let writes = 0;
  let removed = 0;
  for (const [userId, userOutcomes] of byUser) {
    const recipient = claim.recipients.get(userId)!;
    const states = new Map(recipient.settled);
    for (const o of userOutcomes) states.set(o.delivery.channel, o.state);
    const done = recipient.channels.every((c) => states.get(c) === 'sent' || states.get(c) === 'rejected');
    const needed = userOutcomes.length + (done ? 1 : 0);
    if (writes + needed > MAX_WRITES_PER_COMMIT) {
      batches.push(batch);
      batch = db.batch();
      writes = 0;
    }
    for (const o of userOutcomes) {
      batch.update(deliveryRef(db, o.delivery.key), {
        state: o.state,
        leaseExpiresAtMs: null,
        updatedAtMs: nowMs,
        lastError: o.error ?? null,
        ...(o.state === 'sent' ? { sentAtMs: nowMs } : {}),
      });
    }
    if (done) {
      batch.delete(recipient.ref);
      removed++;
    }
    writes += needed;
  }
  if (writes > 0) batches.push(batch);
  await Promise.all(batches.map((b) => b.commit()));
  return removed;
}
