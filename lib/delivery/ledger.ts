/**
 * The delivery ledger, `deliveries/{dedupKey}`: who was told what, per
 * (event, recipient, channel). Storage work is per chunk, not per recipient:
 * one claim (a first attempt: one read and one all-or-nothing commit; else one
 * transaction reading every subscription and ledger entry), then one batched
 * write that records the outcomes and removes the subscriptions that are done.
 */
import { Timestamp, type DocumentReference, type DocumentSnapshot, type Firestore, type WriteBatch } from '@google-cloud/firestore';
import { CHANNELS, COLLECTIONS, dedupKey, subscriptionsRef, FINAL_DELIVERY_STATES, type Channel, type DeliveryDoc, type DeliveryState, type SubscriptionDoc } from '../model.ts';
import type { DeliveryTask } from './payload.ts';
import { runTransaction } from '../transaction.ts';
import { status } from '@grpc/grpc-js';

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

interface ClaimOptions {
  nowMs: number;
  leaseMs: number;
  ttlDays: number;
}



function newEntry(task: DeliveryTask, userId: string, channel: Channel, o: ClaimOptions, expireAt: Timestamp, previous?: DeliveryDoc): DeliveryDoc {
  return {
    dedupKey: dedupKey(task.eventKey, userId, channel),
    eventKey: task.eventKey,
    productId: task.productId,
    userId,
    channel,
    state: 'sending',
    attempts: (previous?.attempts ?? 0) + 1,
    leaseExpiresAtMs: o.nowMs + o.leaseMs,
    lastError: previous?.lastError ?? null,
    sentAtMs: null,
    createdAtMs: previous?.createdAtMs ?? o.nowMs,
    updatedAtMs: o.nowMs,
    expireAt,
  };
}

/**
 * Claims every notification of the chunk that is not settled and not leased
 * by a live attempt. A `sending` entry whose lease expired is claimed again:
 * its earlier outcome was never recorded (crash or timeout), so it is sent
 * again with the same key, which a downstream that honours it deduplicates.
 *
 * A chunk's first attempt usually finds no ledger entry at all, so it is
 * claimed without a transaction: one read of the subscriptions and one commit
 * that creates every entry, all or nothing, on the condition that none exists.
 * If any exists (a retry, a concurrent attempt) or a subscription is gone, the
 * commit changes nothing and the chunk is claimed in a transaction that reads
 * the ledger. Same outcome either way; the first path spares the transaction
 * and two thirds of the reads, which is most of a chunk's storage time.
 */
export async function claimChunk(db: Firestore, task: DeliveryTask, o: ClaimOptions): Promise<ChunkClaim> {
  return (await claimUnclaimedChunk(db, task, o)) ?? claimChunkInTransaction(db, task, o);
}

/** The first-attempt path of {@link claimChunk}; undefined when the chunk needs the transactional one. */
async function claimUnclaimedChunk(db: Firestore, task: DeliveryTask, o: ClaimOptions): Promise<ChunkClaim | undefined> {
  if (new Set(task.userIds).size !== task.userIds.length) return undefined; // a create per repeated id would fail the commit
  const subs = subscriptionsRef(db, task.productId);
  const subRefs = task.userIds.map((u) => subs.doc(u));
  const snaps = await db.getAll(...subRefs);
  if (snaps.some((s) => !s.exists)) return undefined; // unsubscribed or already settled: only the ledger can tell
  const expireAt = Timestamp.fromMillis(o.nowMs + o.ttlDays * 86_400_000);
  const result: ChunkClaim = { claimed: [], busy: 0, alreadySettled: 0, unsubscribed: 0, recipients: new Map() };
  const batch = db.batch();
  task.userIds.forEach((userId, i) => {
    const sub = snaps[i]!.data() as SubscriptionDoc;
    const channels = CHANNELS.filter((c) => sub.channels?.[c]);
    result.recipients.set(userId, { ref: subRefs[i]!, channels, settled: new Map() });
    for (const channel of channels) {
      const doc = newEntry(task, userId, channel, o, expireAt);
      batch.create(deliveryRef(db, doc.dedupKey), doc);
      result.claimed.push({ key: doc.dedupKey, userId, channel, to: sub.channels[channel]!, attempts: 1, ...(sub.locale ? { locale: sub.locale } : {}) });
    }
  });
  if (result.claimed.length === 0) return result;
  try {
    await batch.commit();
  } catch (err) {
    if ((err as { code?: unknown })?.code === status.ALREADY_EXISTS) return undefined; // some entry exists: the general path decides
    throw err;
  }
  return result;
}

/** The general path of {@link claimChunk}: reads every subscription and ledger entry of the chunk in one transaction. */
async function claimChunkInTransaction(db: Firestore, task: DeliveryTask, o: ClaimOptions): Promise<ChunkClaim> {
  const subs = subscriptionsRef(db, task.productId);
  return runTransaction(db, async (tx) => {
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
        // Gone: settled by an earlier attempt, or the shopper unsubscribed. An entry an
        // attempt left open (failed, or sending past its lease after a crash) would
        // otherwise stay open forever: it ends `rejected`, which no retry reopens.
        let open = false;
        CHANNELS.forEach((channel, j) => {
          const entry = ledger.get(channel);
          if (!entry || isFinal(entry.state)) return;
          if (entry.state === 'sending' && (entry.leaseExpiresAtMs ?? 0) > o.nowMs) {
            result.busy++; // its attempt may still record it; if that attempt died, the retry after the lease settles it
            return;
          }
          open = true;
          tx.update(ledgerRefs[i * CHANNELS.length + j]!, {
            state: 'rejected',
            lastError: 'unsubscribed before the notification was confirmed',
            leaseExpiresAtMs: null,
            updatedAtMs: o.nowMs,
          });
        });
        const anySettled = [...ledger.values()].some((d) => isFinal(d?.state));
        open || !anySettled ? result.unsubscribed++ : result.alreadySettled++;
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
        const doc = newEntry(task, userId, channel, o, expireAt, entry);
        tx.set(ledgerRefs[i * CHANNELS.length + CHANNELS.indexOf(channel)]!, doc);
        result.claimed.push({ key: doc.dedupKey, userId, channel, to: sub.channels[channel]!, attempts: doc.attempts, ...(sub.locale ? { locale: sub.locale } : {}) });
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
  for (const o of outcomes) {
    const list = byUser.get(o.delivery.userId);
    list ? list.push(o) : byUser.set(o.delivery.userId, [o]);
  }

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
