/**
 * The fan-out's store, `fanouts/{eventKey}`: every read and write of a
 * fan-out document, for the fan-out function, replay, redrive and the CLI
 * alike. Each write is one transaction that reads the document, asks
 * `rules.ts` what to do, and does it.
 */
import type { DocumentReference, Firestore, Query } from '@google-cloud/firestore';
import { COLLECTIONS, productRef, type FanoutDoc, type ProductDoc } from '../model.ts';
import type { ReceivedEvent } from '../events/index.ts';
import { runTransaction } from '../transaction.ts';
import { FanoutNotFoundError, LeaseHeldError, LeaseLostError } from './errors.ts';
import { decideCheckpoint, decideFailure, decideFirstClaim, decideTakeover, type Checkpoint, type CheckpointMode, type ClaimOptions, type ClaimResult } from './rules.ts';

/** `fanouts/{eventKey}`. */
export function fanoutRef(db: Firestore, eventKey: string): DocumentReference {
  return db.collection(COLLECTIONS.fanouts).doc(eventKey);
}

/**
 * The stored fan-out of `eventKey`.
 * @throws FanoutNotFoundError when there is none.
 */
export async function readFanout(db: Firestore, eventKey: string): Promise<FanoutDoc> {
  const snap = await fanoutRef(db, eventKey).get();
  if (!snap.exists) throw new FanoutNotFoundError(eventKey);
  return snap.data() as FanoutDoc;
}

/** A product's fan-outs, newest first; with `sinceMs`, only those started at or after it. */
export function fanoutsOfProduct(db: Firestore, productId: string, limit: number, sinceMs?: number): Query {
  const query = db.collection(COLLECTIONS.fanouts).where('productId', '==', productId).orderBy('startedAtMs', 'desc').limit(limit);
  // A range on the field ordered by is served by the same (productId, startedAtMs desc) index.
  return sinceMs === undefined ? query : query.where('startedAtMs', '>=', sinceMs);
}

/**
 * The fan-outs of `productId` whose stored event has `sequence`, at most
 * `limit` (a dead letter without its eventId is matched to its fan-out so).
 */
export async function fanoutsAtSequence(db: Firestore, productId: string, sequence: number, limit: number): Promise<{ eventKey: string; fanout: FanoutDoc }[]> {
  const snap = await db.collection(COLLECTIONS.fanouts).where('productId', '==', productId).where('event.sequence', '==', sequence).limit(limit).get();
  return snap.docs.map((d) => ({ eventKey: d.id, fanout: d.data() as FanoutDoc }));
}

/** The stored fan-outs of `eventKeys`, in one read; absent keys are left out. */
export async function readFanouts(db: Firestore, eventKeys: readonly string[]): Promise<Map<string, FanoutDoc>> {
  if (eventKeys.length === 0) return new Map();
  const snaps = await db.getAll(...eventKeys.map((k) => fanoutRef(db, k)));
  return new Map(snaps.filter((s) => s.exists).map((s) => [s.id, s.data() as FanoutDoc]));
}

/**
 * Claims the fan-out of a received event: the first attempt decides whether
 * it is a restock (and moves the product's stock state) in the same
 * transaction; later attempts take over per {@link decideTakeover}.
 * @throws LeaseHeldError when another attempt is paging it now.
 */
export async function claimForEvent(db: Firestore, received: ReceivedEvent, o: ClaimOptions): Promise<ClaimResult> {
  const { eventKey, event } = received;
  return runTransaction(db, async (tx) => {
    const [fanoutSnap, productSnap] = await tx.getAll(fanoutRef(db, eventKey), productRef(db, event.productId));
    if (fanoutSnap!.exists) return takeOver(tx, db, fanoutSnap!.data() as FanoutDoc, o);
    const stored = productSnap!.exists ? (productSnap!.data() as ProductDoc) : undefined;
    const { result, product } = decideFirstClaim(received, stored, o);
    if (product) tx.set(productRef(db, event.productId), product);
    tx.create(fanoutRef(db, eventKey), result.fanout);
    return result;
  });
}

type Tx = Parameters<Parameters<Firestore['runTransaction']>[0]>[0];

function takeOver(tx: Tx, db: Firestore, existing: FanoutDoc, o: ClaimOptions): ClaimResult {
  const decision = decideTakeover(existing, o);
  if (decision.kind === 'held') throw new LeaseHeldError(existing.eventKey, decision.leaseExpiresAtMs);
  if (decision.kind === 'run') tx.set(fanoutRef(db, existing.eventKey), decision.fanout);
  return decision;
}

/**
 * Claims a stored fan-out (a continuation, or a replay with `reset`).
 * @throws FanoutNotFoundError, LeaseHeldError
 */
export async function claimStored(db: Firestore, eventKey: string, o: ClaimOptions, reset?: (existing: FanoutDoc) => FanoutDoc): Promise<ClaimResult> {
  return runTransaction(db, async (tx) => {
    const snap = await tx.get(fanoutRef(db, eventKey));
    if (!snap.exists) throw new FanoutNotFoundError(eventKey);
    const existing = snap.data() as FanoutDoc;
    return takeOver(tx, db, reset ? reset(existing) : existing, o);
  });
}

/**
 * Persists progress per {@link decideCheckpoint}, only while this attempt
 * still owns the lease: `renew` keeps it, `release` hands it back
 * (continuation), `finish` completes the fan-out.
 * @throws LeaseLostError when another attempt took over.
 */
export async function checkpoint(db: Firestore, eventKey: string, progress: Checkpoint, mode: CheckpointMode, o: Pick<ClaimOptions, 'owner' | 'nowMs' | 'leaseMs'>): Promise<FanoutDoc> {
  return runTransaction(db, async (tx) => {
    const ref = fanoutRef(db, eventKey);
    const snap = await tx.get(ref);
    const next = decideCheckpoint(snap.data() as FanoutDoc | undefined, progress, mode, o);
    if (next === 'lost') throw new LeaseLostError(eventKey);
    tx.set(ref, next);
    return next;
  });
}

/**
 * Records that a fan-out cannot progress: `failed`, with `error`, per
 * {@link decideFailure}. Resolves to the failed document, or undefined when
 * the fan-out was left alone (already settled, or another attempt holds it).
 */
export async function failFanout(db: Firestore, eventKey: string, error: string, o: Pick<ClaimOptions, 'owner' | 'nowMs'>): Promise<FanoutDoc | undefined> {
  return runTransaction(db, async (tx) => {
    const ref = fanoutRef(db, eventKey);
    const snap = await tx.get(ref);
    const next = decideFailure(snap.data() as FanoutDoc | undefined, error, o);
    if (next) tx.set(ref, next);
    return next;
  });
}
