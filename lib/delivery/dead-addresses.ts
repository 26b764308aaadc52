/**
 * Dead-address cleanup: an address a sender calls dead (FCM's unregistered push
 * token, a notification service's deadAddress answer) is dead for every
 * product, so it is removed from the shopper's other subscriptions too: a
 * query by address and conditional batched writes per chunk, never a
 * transaction. Without it, each of the shopper's other restocks would try the
 * dead address again and fail.
 *
 * A subscription left with no channel is deleted; one that still has another
 * channel keeps it. The subscription whose delivery found the token dead is
 * not touched here: recording that delivery settles it (promise 6).
 */
import { FieldValue, type Firestore, type QueryDocumentSnapshot } from '@google-cloud/firestore';
import { status } from '@grpc/grpc-js';
import { grpcCode } from '../grpc.ts';
import { CHANNELS, COLLECTIONS, DEAD_ADDRESS_CHANNELS, MAX_WRITES_PER_COMMIT, type Channel, type SubscriptionDoc } from '../model.ts';
import { chunk } from '../tasks/index.ts';

/** An address found dead while delivering a notification about `productId`. */
export interface DeadAddress {
  userId: string;
  channel: Channel;
  address: string;
  /** The product whose delivery found it; its subscription is settled by the ledger. */
  productId: string;
}

/** What the cleanup changes in one subscription. */
export type Cleanup = { action: 'keep' } | { action: 'delete' } | { action: 'remove-channels'; channels: Channel[] };

/**
 * How a subscription changes when the dead addresses are removed from it
 * (pure): channels holding a dead address of its shopper go, and a
 * subscription left with none goes. The product that found an address dead is
 * skipped: its own delivery settles that subscription.
 */
export function cleanupOf(sub: Pick<SubscriptionDoc, 'userId' | 'productId' | 'channels'>, dead: readonly DeadAddress[]): Cleanup {
  const isDead = (c: Channel): boolean =>
    dead.some((d) => d.userId === sub.userId && d.productId !== sub.productId && d.channel === c && d.address === sub.channels?.[c]);
  const remove = CHANNELS.filter((c) => sub.channels?.[c] !== undefined && isDead(c));
  if (remove.length === 0) return { action: 'keep' };
  const left = CHANNELS.filter((c) => sub.channels?.[c] && !remove.includes(c));
  return left.length === 0 ? { action: 'delete' } : { action: 'remove-channels', channels: remove };
}

/** Values Firestore allows in one `in` filter. */
const IN_LIMIT = 30;
/** Rounds of query-and-write before giving up (each round re-reads what a refused precondition left). */
const MAX_ROUNDS = 5;

/** Whether a write was refused because its document changed since it was read. */
function changedSinceRead(err: unknown): boolean {
  const code = grpcCode(err);
  return code === status.FAILED_PRECONDITION || code === status.NOT_FOUND;
}

/**
 * Removes each dead address from its shopper's other subscriptions.
 *
 * Under load this must not serialise deliveries: there is no transaction and
 * no per-shopper query. Each round runs one collection-group query per 30 dead
 * addresses of a channel (`channels.<channel> in [...]`, served by the
 * collection-group index terraform/ creates), and writes every change in
 * batches whose writes each carry the read's `lastUpdateTime` precondition, so
 * a subscription changed meanwhile (a PUT, another cleanup) is never
 * overwritten blindly. A refused batch is simply run again from the query: the
 * cleanup is idempotent (a removed address is no longer found).
 * @returns how many subscriptions changed (deleted or narrowed).
 * @throws whatever Firestore throws, or the last refusal after {@link MAX_ROUNDS}
 * rounds: the caller fails the chunk so the cleanup is tried again, not lost.
 */
export async function forgetDeadAddresses(db: Firestore, dead: readonly DeadAddress[], nowMs: number): Promise<number> {
  if (dead.length === 0) return 0;
  let changed = 0;
  for (let round = 1; ; round++) {
    const found = await findHolders(db, dead);
    const writes = found.flatMap((doc) => {
      const cleanup = cleanupOf(doc.data() as SubscriptionDoc, dead);
      return cleanup.action === 'keep' ? [] : [{ doc, cleanup }];
    });
    if (writes.length === 0) return changed;
    const commits = chunk(writes, MAX_WRITES_PER_COMMIT).map(async (part) => {
      const batch = db.batch();
      for (const { doc, cleanup } of part) {
        const precondition = { lastUpdateTime: doc.updateTime };
        if (cleanup.action === 'delete') batch.delete(doc.ref, precondition);
        else batch.update(doc.ref, { ...Object.fromEntries(cleanup.channels.map((c) => [`channels.${c}`, FieldValue.delete()])), updatedAtMs: nowMs }, precondition);
      }
      await batch.commit();
      return part.length;
    });
    const results = await Promise.allSettled(commits);
    for (const r of results) if (r.status === 'fulfilled') changed += r.value;
    const refused = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (!refused) return changed;
    if (!changedSinceRead(refused.reason) || round >= MAX_ROUNDS) throw refused.reason;
  }
}

/** The subscriptions holding any of the dead addresses: one collection-group query per 30 addresses. */
async function findHolders(db: Firestore, dead: readonly DeadAddress[]): Promise<QueryDocumentSnapshot[]> {
  const queries = DEAD_ADDRESS_CHANNELS.flatMap((channel) => {
    const addresses = [...new Set(dead.filter((d) => d.channel === channel).map((d) => d.address))];
    return chunk(addresses, IN_LIMIT).map((values) => db.collectionGroup(COLLECTIONS.subscriptions).where(`channels.${channel}`, 'in', values).get());
  });
  const snaps = await Promise.all(queries);
  const byPath = new Map<string, QueryDocumentSnapshot>();
  for (const doc of snaps.flatMap((s) => s.docs)) byPath.set(doc.ref.path, doc);
  return [...byPath.values()];
}
