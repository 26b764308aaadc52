/**
 * The delivery ledger's store, `deliveries/{dedupKey}`: who was told what, per
 * (event, recipient, channel). It reads snapshots, asks `rules.ts` what to do
 * and carries the plan out; every query of the ledger lives here, for the
 * delivery function, redrive and the CLI alike.
 *
 * Storage work is per chunk, not per recipient: one claim (a first attempt:
 * one read and one all-or-nothing commit; else one transaction reading every
 * subscription and ledger entry), then one batched write that records the
 * outcomes and removes the subscriptions that are done.
 */
import {
  FieldPath,
  Timestamp,
  type DocumentReference,
  type DocumentSnapshot,
  type Firestore,
  type Query,
  type QueryDocumentSnapshot,
  type WriteBatch,
} from '@google-cloud/firestore';
import { status } from '@grpc/grpc-js';
import { CHANNELS, COLLECTIONS, MAX_WRITES_PER_COMMIT, DELIVERY_STATES, LEDGER_SHARDS, ledgerShardOf, productRef, subscriptionsRef, type ChunkReceiptDoc, type DeliveryDoc, type DeliveryState, type ProductDoc, type RestockStop, type SubscriptionDoc } from '../model.ts';
import { restockStanding } from '../restock/index.ts';
import { chunkTaskId, type DeliveryTask } from '../tasks/index.ts';
import { grpcCode } from '../grpc.ts';
import { runTransaction } from '../transaction.ts';
import { notificationKey, planChunkClaim, planFirstAttempt, revisitsLedger, subscriptionDone, type ClaimContext, type ClaimPlan, type LedgerWrite, type Outcome, type RecipientLedger } from './rules.ts';
import type { Channel } from '../channels.ts';

/**
 * What a claim of a chunk found and took: the plan of `rules.ts`, with the
 * subscription documents the outcomes may remove.
 */
export interface ChunkClaim extends Omit<ClaimPlan, 'writes' | 'served' | 'renewed'> {
  /**
   * The subscription document of each recipient still subscribed, which the
   * outcomes may remove, with its update time as the claim read it: it is
   * removed only if nothing changed it since (a PUT in between stands).
   */
  subscriptions: Map<string, ClaimedSubscription>;
}

/** A subscription as the claim read it: where it is, its update time, and the `updatedAtMs` every API write sets. */
export interface ClaimedSubscription {
  ref: DocumentReference;
  readAt: Timestamp;
  updatedAtMs: unknown;
}

/** What recording a chunk's outcomes did to the one-shot subscriptions. */
export interface RecordResult {
  /** Subscriptions removed with the entry that settled them (promise 6). */
  removed: number;
  /**
   * Subscriptions that would have been removed but were changed after the
   * claim read them (a PUT of new channels or addresses): they are kept, so
   * the shopper's latest request stands, and the outcomes are recorded anyway.
   */
  changedMeanwhile: number;
}


/** `deliveries/{key}`. */
export function deliveryRef(db: Firestore, key: string): DocumentReference {
  return db.collection(COLLECTIONS.deliveries).doc(key);
}

/** `fanouts/{eventKey}/chunks/{chunkTaskId}`: the receipt of one chunk's claim. */
export function chunkReceiptRef(db: Firestore, task: Pick<DeliveryTask, 'eventKey' | 'generation' | 'userIds'>): DocumentReference {
  return db.collection(COLLECTIONS.fanouts).doc(task.eventKey).collection(COLLECTIONS.chunkReceipts).doc(chunkTaskId(task.eventKey, task.generation, task.userIds));
}

/** Claim options: the clock, the lease, how long entries are kept, and the restock threshold the stock check draws. */
export interface ClaimOptions extends Omit<ClaimContext, 'stopped'> {
  ttlDays: number;
  threshold: number;
  /** The shard count the entries' shard is taken in: the fan-out's recorded one, carried by the task (rules.ts `ledgerShardsFor`). */
  ledgerShards: number;
}

/** Firestore's limit of values in one `in` filter. */
const MAX_IN_VALUES = 30;

/**
 * Whether a claim of `task` writes its chunk's receipt: only a fan-out's own chunk does. A
 * redrive's task is no chunk of the fan-out, and a held send's chunk wrote the receipt when it
 * held them. One rule for both claim paths.
 */
function writesReceipt(task: Pick<DeliveryTask, 'redriveRunId' | 'heldUntilMs'>): boolean {
  return task.redriveRunId === undefined && task.heldUntilMs === undefined;
}

// Its only timestamp is the TTL's expireAt, whose indexes terraform/ turns off (a steadily increasing indexed field keeps an index hot, docs/design.md "Scale").
function receiptOf(task: DeliveryTask, o: ClaimOptions): ChunkReceiptDoc {
  return { generation: task.generation, recipients: task.userIds.length, expireAt: expireAtFor(o) };
}

function claimOf(task: DeliveryTask, plan: ClaimPlan, subSnaps: readonly DocumentSnapshot[]): ChunkClaim {
  const { writes: _writes, served: _served, renewed: _renewed, ...rest } = plan;
  const read = new Map<string, DocumentSnapshot>();
  task.userIds.forEach((u, i) => read.set(u, subSnaps[i]!));
  const subscriptions = new Map<string, ClaimedSubscription>();
  for (const r of plan.recipients) {
    const snap = read.get(r.userId);
    if (r.subscribed && snap?.updateTime) subscriptions.set(r.userId, { ref: snap.ref, readAt: snap.updateTime, updatedAtMs: snap.get('updatedAtMs') });
  }
  return { ...rest, subscriptions };
}

/**
 * Claims every notification of the chunk that the ledger's rule lets this
 * attempt take (rules.ts {@link planChunkClaim}). A `sending` entry whose lease
 * expired is claimed again: its earlier outcome was never recorded (crash or
 * timeout), so it is sent again with the same key, which a downstream that
 * honours it deduplicates.
 *
 * First the one stock check (lib/restock `restockStanding`): the product's
 * stock state is read in the same `getAll` as the subscriptions, outside any
 * transaction, so a stock update never waits on a delivery (no lock on
 * `products/{id}`) and the claim costs no extra round trip. A restock a newer
 * event ended claims nothing: the chunk's entries end `soldOutBeforeSend` and
 * the subscriptions stay. The state read is at most one round trip old when
 * the claim commits; a chunk claimed before the sell-out was seen is in
 * flight and finishes.
 *
 * A chunk's first attempt usually finds no ledger entry at all, so it is
 * claimed without a transaction: one commit that creates every entry, all or
 * nothing, on the condition that none exists ({@link planFirstAttempt}). If
 * any exists (a retry, a concurrent attempt, another restock of the same
 * sign-ups) the commit changes nothing and the chunk is claimed in a
 * transaction that reads the ledger. Both paths carry out the same decision;
 * the first spares the transaction and two thirds of the reads.
 *
 * Either commit also writes the chunk's receipt (not for a redrive's task, nor a held send's:
 * its chunk wrote one),
 * so `restock status` can tell a chunk whose task died unclaimed.
 */
export async function claimChunk(db: Firestore, task: DeliveryTask, o: ClaimOptions): Promise<ChunkClaim> {
  const unique = new Set(task.userIds).size === task.userIds.length;
  const subs = subscriptionsRef(db, task.productId);
  // A repeated id would be read twice; such a chunk goes to the transaction, which reads its subscriptions itself.
  const [productSnap, ...subSnaps] = await db.getAll(productRef(db, task.productId), ...(unique ? task.userIds.map((u) => subs.doc(u)) : []));
  const standing = restockStanding(productSnap!.data() as ProductDoc | undefined, task.eventKey, o.threshold);
  const ctx: ClaimContext & ClaimOptions = { ...o, ...(standing.kind === 'stopped' ? { stopped: standing.reason } : {}) };
  return (unique ? await claimUnclaimedChunk(db, task, ctx, subSnaps) : undefined) ?? claimChunkInTransaction(db, task, ctx, subSnaps);
}

function expireAtFor(o: ClaimOptions): Timestamp {
  return Timestamp.fromMillis(o.nowMs + o.ttlDays * 86_400_000);
}

/** The first-attempt path of {@link claimChunk}, from the subscriptions it read; undefined when the chunk needs the transactional one. */
async function claimUnclaimedChunk(db: Firestore, task: DeliveryTask, o: ClaimContext & ClaimOptions, snaps: readonly DocumentSnapshot[]): Promise<ChunkClaim | undefined> {
  const plan = planFirstAttempt(task, snaps.map((s) => s.data() as SubscriptionDoc | undefined), o);
  if (!plan) return undefined;
  const batch = db.batch();
  const expireAt = expireAtFor(o);
  for (const w of plan.writes) {
    if (w.kind !== 'close') batch.create(deliveryRef(db, w.key), { ...w.entry, shard: ledgerShardOf(w.key, o.ledgerShards), expireAt });
  }
  if (writesReceipt(task)) batch.set(chunkReceiptRef(db, task), receiptOf(task, o));
  try {
    await batch.commit();
  } catch (err) {
    if (grpcCode(err) === status.ALREADY_EXISTS) return undefined; // some entry exists: the general path decides
    throw err;
  }
  return claimOf(task, plan, snaps);
}

/**
 * The general path of {@link claimChunk}, in one transaction: the chunk's
 * subscriptions, then, by key, the entries of their sign-ups (the keys need
 * each subscription's `createdAtMs`; a read by key also holds an absent entry
 * against a concurrent create) and the entries found for shoppers whose
 * sign-up is unknown.
 *
 * Those are found before the transaction by a plain query of the chunk's
 * shoppers' entries for the product, any sign-up (one per 30 shoppers; no
 * query ever runs inside the transaction, where it would lock what it
 * scans): for a shopper whose subscription was gone at the first read only
 * the ledger can say whether they were told or left, and on a retry or a
 * redrive an entry an earlier sign-up left open must be closed by someone.
 * The transaction reads what the query found by key again, so it decides on
 * current, held versions. A first attempt that only met another restock's
 * entries (every subscription there) needs no query.
 */
async function claimChunkInTransaction(db: Firestore, task: DeliveryTask, o: ClaimContext & ClaimOptions, firstRead: readonly DocumentSnapshot[] = []): Promise<ChunkClaim> {
  const subs = subscriptionsRef(db, task.productId);
  const users = [...new Set(task.userIds)];
  const firstSubs = new Map(firstRead.map((s) => [s.id, s.data() as SubscriptionDoc | undefined]));
  const everyone = revisitsLedger(task, o);
  const found = await entryKeysOf(db, task.productId, everyone ? users : users.filter((u) => !firstSubs.get(u)));
  const keysOf = (userId: string, sub: SubscriptionDoc) => CHANNELS.map((c) => notificationKey(task, userId, sub, c));
  return runTransaction(db, async (tx) => {
    const subSnaps = await tx.getAll(...task.userIds.map((u) => subs.doc(u)));
    const docs = subSnaps.map((s) => s.data() as SubscriptionDoc | undefined);
    const wanted = new Set<string>();
    task.userIds.forEach((u, i) => {
      const first = firstSubs.get(u);
      for (const k of [...(docs[i] ? keysOf(u, docs[i]) : []), ...(first ? keysOf(u, first) : []), ...(found.get(u) ?? [])]) wanted.add(k);
    });
    const entrySnaps = wanted.size > 0 ? await tx.getAll(...[...wanted].map((k) => deliveryRef(db, k))) : [];
    const byKey = new Map(entrySnaps.filter((s) => s.exists).map((s) => [s.id, s.data() as DeliveryDoc]));
    const byUser = new Map<string, DeliveryDoc[]>();
    for (const e of byKey.values()) byUser.set(e.userId, [...(byUser.get(e.userId) ?? []), e]);
    const ledgers: RecipientLedger[] = task.userIds.map((u, i) => {
      const doc = docs[i];
      if (!doc) return byUser.get(u) ?? [];
      return Object.fromEntries(CHANNELS.map((c) => [c, byKey.get(notificationKey(task, u, doc, c))]).filter(([, d]) => d !== undefined));
    });
    const others = task.userIds.map((u, i) => (docs[i] ? (byUser.get(u) ?? []) : []));
    const plan = planChunkClaim(task, docs, ledgers, o, others);
    const expireAt = expireAtFor(o);
    // A repeated recipient is planned twice; one write per document is what a transaction allows.
    const writes = new Map<string, LedgerWrite>();
    for (const w of plan.writes) writes.set(w.key, w);
    for (const w of writes.values()) {
      // A close also gives an entry from before the shard its shard, so the event queries find it from then on.
      if (w.kind === 'close') tx.update(deliveryRef(db, w.key), { ...w.update, shard: ledgerShardOf(w.key, o.ledgerShards) });
      else tx.set(deliveryRef(db, w.key), { ...w.entry, shard: ledgerShardOf(w.key, o.ledgerShards), expireAt });
    }
    for (const userId of new Set(plan.served)) tx.delete(subs.doc(userId));
    // A new wish under spent keys becomes a new sign-up; its place in sign-up order moves to now, as a new one's would.
    for (const userId of new Set(plan.renewed)) tx.update(subs.doc(userId), { createdAtMs: o.nowMs });
    if (writesReceipt(task)) tx.set(chunkReceiptRef(db, task), receiptOf(task, o));
    return claimOf(task, plan, subSnaps);
  });
}

/** The ids of `userIds`' ledger entries for `productId`, any sign-up: plain queries (no transaction), ids only, one per 30 shoppers. */
async function entryKeysOf(db: Firestore, productId: string, userIds: readonly string[]): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  const pages = await Promise.all(
    Array.from({ length: Math.ceil(userIds.length / MAX_IN_VALUES) }, (_, i) =>
      // userId-in + productId, newest first: the shape of `restock trace --product`, so the ledger's one
      // composite index (userId, productId, createdAtMs desc) serves it and no index is added for it.
      db
        .collection(COLLECTIONS.deliveries)
        .where('userId', 'in', userIds.slice(i * MAX_IN_VALUES, (i + 1) * MAX_IN_VALUES))
        .where('productId', '==', productId)
        .orderBy('createdAtMs', 'desc')
        .select('userId')
        .get(),
    ),
  );
  for (const page of pages) for (const d of page.docs) out.set(d.get('userId'), [...(out.get(d.get('userId')) ?? []), d.id]);
  return out;
}

export type { Outcome } from './rules.ts';

/**
 * Records outcomes and deletes each subscription that is done
 * ({@link subscriptionDone}) — in the same write as the ledger entry that
 * settles it (promise 6). A recipient's writes always share one commit;
 * commits are cut at Firestore's write limit only between recipients.
 *
 * The delete carries the claim's read time as a precondition: a subscription
 * changed in between (a PUT of new channels or addresses) is kept. A commit
 * refused for that is written again recipient by recipient, and a recipient
 * whose subscription the API changed (its `updatedAtMs` moved) gets its
 * outcomes recorded without the delete; one whose update time alone moved
 * (a restore, an import) is removed with them.
 * @throws whatever Firestore throws otherwise: the chunk fails and is retried.
 */
export async function recordOutcomes(db: Firestore, claim: ChunkClaim, outcomes: readonly Outcome[], nowMs: number): Promise<RecordResult> {
  const byUser = new Map<string, Outcome[]>();
  for (const o of outcomes) {
    const list = byUser.get(o.delivery.userId);
    list ? list.push(o) : byUser.set(o.delivery.userId, [o]);
  }
  const recipients = new Map(claim.recipients.map((r) => [r.userId, r]));
  const groups: RecipientWrites[] = [...byUser].map(([userId, userOutcomes]) => ({
    userOutcomes,
    remove: subscriptionDone(recipients.get(userId)!, userOutcomes) ? claim.subscriptions.get(userId) : undefined,
  }));

  const commits: RecipientWrites[][] = [];
  let current: RecipientWrites[] = [];
  let writes = 0;
  for (const g of groups) {
    const needed = g.userOutcomes.length + (g.remove ? 1 : 0);
    if (writes + needed > MAX_WRITES_PER_COMMIT) {
      commits.push(current);
      current = [];
      writes = 0;
    }
    current.push(g);
    writes += needed;
  }
  if (current.length > 0) commits.push(current);
  const results = await Promise.all(commits.map((c) => commitRecipients(db, c, nowMs)));
  return results.reduce((sum, r) => ({ removed: sum.removed + r.removed, changedMeanwhile: sum.changedMeanwhile + r.changedMeanwhile }), { removed: 0, changedMeanwhile: 0 });
}

/** One recipient's outcomes, and its subscription to remove when they settle it. */
interface RecipientWrites {
  userOutcomes: Outcome[];
  remove: ClaimedSubscription | undefined;
}

function batchOf(db: Firestore, groups: readonly RecipientWrites[], nowMs: number): WriteBatch {
  const batch = db.batch();
  for (const g of groups) {
    for (const o of g.userOutcomes) batch.update(deliveryRef(db, o.delivery.key), outcomeFields(o, nowMs));
    if (g.remove) batch.delete(g.remove.ref, { lastUpdateTime: g.remove.readAt });
  }
  return batch;
}

/** Commits one group of recipients; on a refused precondition, each recipient alone. */
async function commitRecipients(db: Firestore, groups: readonly RecipientWrites[], nowMs: number): Promise<RecordResult> {
  try {
    await batchOf(db, groups, nowMs).commit();
    return { removed: groups.filter((g) => g.remove).length, changedMeanwhile: 0 };
  } catch (err) {
    if (grpcCode(err) !== status.FAILED_PRECONDITION) throw err;
  }
  if (groups.length > 1) {
    const each = await Promise.all(groups.map((g) => commitRecipients(db, [g], nowMs)));
    return each.reduce((sum, r) => ({ removed: sum.removed + r.removed, changedMeanwhile: sum.changedMeanwhile + r.changedMeanwhile }), { removed: 0, changedMeanwhile: 0 });
  }
  // The subscription's update time moved since the claim. A PUT that changed it sets its updatedAtMs, and then the
  // shopper's latest request stands: the outcomes are recorded and the subscription stays. A write that changed
  // nothing the API writes (an import, a restore, the emulator restarted from its export) renews the update time
  // alone: the subscription is served, and goes with its outcomes in one commit as promise 6 asks.
  const [g] = groups as [RecipientWrites];
  const removed = await runTransaction(db, async (tx) => {
    const snap = g.remove ? await tx.get(g.remove.ref) : undefined;
    for (const o of g.userOutcomes) tx.update(deliveryRef(db, o.delivery.key), outcomeFields(o, nowMs));
    const unchanged = snap?.exists === true && snap.get('updatedAtMs') === g.remove!.updatedAtMs;
    if (unchanged) tx.delete(g.remove!.ref);
    return unchanged;
  });
  return removed ? { removed: 1, changedMeanwhile: 0 } : { removed: 0, changedMeanwhile: 1 };
}

function outcomeFields(o: Outcome, nowMs: number) {
  return {
    state: o.state,
    leaseExpiresAtMs: null,
    updatedAtMs: nowMs,
    lastError: o.error ?? null,
    ...(o.state === 'sent' ? { sentAtMs: nowMs } : {}),
  };
}

/**
 * The shards in groups of at most 30, Firestore's limit of values in one `in`
 * (and of disjunctions in one query): consecutive, so a group's entries all
 * come before the next group's in document-id order.
 */
export function shardGroups(shards: number = LEDGER_SHARDS, perQuery: number = MAX_IN_VALUES): number[][] {
  return Array.from({ length: Math.ceil(shards / perQuery) }, (_, i) => Array.from({ length: Math.min(perQuery, shards - i * perQuery) }, (_, j) => i * perQuery + j));
}

/**
 * The ledger entries of one event in a group of shards. Every query of an
 * event goes through its shards: the indexes that serve them are led by the
 * shard (terraform/firestore.tf), so no index holds an event under one prefix
 * of its own. One `in` per query, the rest equalities: the shape Firestore
 * serves from one composite without a second disjunction.
 */
function entriesOf(db: Firestore, eventKey: string, shards: readonly number[]): Query {
  return db.collection(COLLECTIONS.deliveries).where('shard', 'in', [...shards]).where('eventKey', '==', eventKey);
}

/** The sum of one count aggregation per shard group. */
async function countOverShards(shards: number, count: (group: readonly number[]) => Promise<number>): Promise<number> {
  return (await Promise.all(shardGroups(shards).map(count))).reduce((a, b) => a + b, 0);
}

/**
 * Counts an event's ledger entries per state: one count aggregation per state
 * and group of shards (7 states, 9 groups: 63, in parallel), whatever the
 * audience. Entries without a shard (written before it existed) are not
 * counted: `FanoutDoc.ledgerShards` says whether an event may have any.
 */
export async function countByState(db: Firestore, eventKey: string, shards: number = LEDGER_SHARDS): Promise<Record<DeliveryState, number>> {
  const counts = await Promise.all(
    DELIVERY_STATES.map(async (state) => [state, await countOverShards(shards, async (group) => (await entriesOf(db, eventKey, group).where('state', '==', state).count().get()).data().count)] as const),
  );
  return Object.fromEntries(counts) as Record<DeliveryState, number>;
}

/** How many of an event's notifications wave `wave` claimed that ended `sent` (one count aggregation per group of shards). */
export async function countSentOfWave(db: Firestore, eventKey: string, wave: number, shards: number = LEDGER_SHARDS): Promise<number> {
  return countOverShards(shards, async (group) => (await entriesOf(db, eventKey, group).where('wave', '==', wave).where('state', '==', 'sent').count().get()).data().count);
}

/** How many of an event's notifications on `channel` ended `sent` (the funnel's "notified"; one count aggregation per group of shards). */
export async function countSentOnChannel(db: Firestore, eventKey: string, channel: Channel, shards: number = LEDGER_SHARDS): Promise<number> {
  return countOverShards(shards, async (group) => (await entriesOf(db, eventKey, group).where('channel', '==', channel).where('state', '==', 'sent').count().get()).data().count);
}

/**
 * How many of an event's held sends were skipped when their window opened,
 * because the restock had stopped for `reason` (the entry's `skipped`): one
 * count aggregation per group of shards, served by the composite index
 * `deliveries_by_shard_event_and_skipped` (terraform/firestore.tf).
 */
export async function countSkippedHeld(db: Firestore, eventKey: string, reason: RestockStop, shards: number = LEDGER_SHARDS): Promise<number> {
  return countOverShards(shards, async (group) => (await entriesOf(db, eventKey, group).where('skipped', '==', reason).count().get()).data().count);
}

/**
 * One page (at most `limit`, in document order after `cursor`) of an event's
 * entries in `states`. A shard is a prefix of the id, so the groups of shards
 * taken in order, each in document order, are document order: the page reads
 * the cursor's group first and, only when that leaves it short, every later
 * group at once (one round more, where a group at a time would be up to eight:
 * a status sample of an event with nothing pending visits them all). One
 * query per state and group (each state an equality, so a query stays one
 * disjunction of at most 30), merged by id.
 */
export async function pageOfEntries(db: Firestore, eventKey: string, states: readonly DeliveryState[], limit: number, cursor?: string, shards: number = LEDGER_SHARDS): Promise<QueryDocumentSnapshot[]> {
  const groups = shardGroups(shards);
  const first = cursor === undefined ? 0 : groups.findIndex((g) => g.includes(ledgerShardOf(cursor, shards)));
  const read = async (groups: readonly (readonly number[])[], wanted: number, after?: string) => {
    const found = await Promise.all(
      groups.flatMap((group) =>
        states.map((state) => {
          let query = entriesOf(db, eventKey, group).where('state', '==', state).orderBy(FieldPath.documentId()).limit(wanted);
          if (after !== undefined) query = query.startAfter(after);
          return query.get();
        }),
      ),
    );
    return found.flatMap((q) => q.docs).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)).slice(0, wanted);
  };
  const page = await read([groups[first]!], limit, cursor);
  if (page.length < limit && first + 1 < groups.length) page.push(...(await read(groups.slice(first + 1), limit - page.length)));
  return page;
}

/** One shopper's entries (optionally for one product), newest first. */
export async function entriesOfUser(db: Firestore, userId: string, productId: string | undefined, limit: number): Promise<QueryDocumentSnapshot[]> {
  let query = db.collection(COLLECTIONS.deliveries).where('userId', '==', userId);
  if (productId) query = query.where('productId', '==', productId);
  return (await query.orderBy('createdAtMs', 'desc').limit(limit).get()).docs;
}

/** How many chunk receipts an event's fan-out has for `generation` (chunks whose recipients delivery accounted for). */
export async function countChunkReceipts(db: Firestore, eventKey: string, generation: number): Promise<number> {
  const snap = await db.collection(COLLECTIONS.fanouts).doc(eventKey).collection(COLLECTIONS.chunkReceipts).where('generation', '==', generation).count().get();
  return snap.data().count;
}
