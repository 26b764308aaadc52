/**
 * Claiming `fanouts/{eventKey}`: the one transaction that decides, for the
 * first attempt, whether the event is a restock (and moves the product's
 * stock state), and for every attempt, who may page the subscribers now.
 */
import type { Firestore, Transaction } from '@google-cloud/firestore';
import { COLLECTIONS, productRef, type FanoutDoc, type ProductDoc } from '../model.ts';
import type { ReceivedEvent } from '../events/index.ts';
import { decideStockUpdate } from '../restock/index.ts';
import { LeaseHeldError, LeaseLostError, FanoutNotFoundError } from './errors.ts';
import { runTransaction } from '../transaction.ts';

export type ClaimResult =
  /** This attempt holds the lease and must page from `fanout.cursor`. */
  | { kind: 'run'; fanout: FanoutDoc }
  /** An earlier attempt finished (or ignored) this event: acknowledge, do nothing. */
  | { kind: 'done'; fanout: FanoutDoc }
  /** Decided now: not a restock, or stale. Stored so redeliveries are cheap. */
  | { kind: 'ignored'; fanout: FanoutDoc };

export interface ClaimOptions {
  owner: string;
  nowMs: number;
  leaseMs: number;
  threshold: number;
  /** RESTOCK_MAX_SEQUENCE_JUMP; unbounded when omitted. */
  maxSequenceJump?: number;
}

export function fanoutRef(db: Firestore, eventKey: string) {
  return db.collection(COLLECTIONS.fanouts).doc(eventKey);
}


/** Takes over an existing fan-out if its lease is free (or ours). */
function takeOver(tx: Transaction, db: Firestore, existing: FanoutDoc, o: ClaimOptions): ClaimResult {
  if (existing.state === 'complete' || existing.state === 'ignored') return { kind: 'done', fanout: existing };
  if (existing.leaseOwner && existing.leaseOwner !== o.owner && existing.leaseExpiresAtMs > o.nowMs) {
    throw new LeaseHeldError(existing.eventKey, existing.leaseExpiresAtMs);
  }
  const fanout: FanoutDoc = {
    ...existing,
    state: 'running',
    leaseOwner: o.owner,
    leaseExpiresAtMs: o.nowMs + o.leaseMs,
    attempts: existing.attempts + 1,
    updatedAtMs: o.nowMs,
  };
  tx.set(fanoutRef(db, existing.eventKey), fanout);
  return { kind: 'run', fanout };
}

/**
 * Claims the fan-out of a received event.
 * @throws LeaseHeldError when another attempt is paging it now.
 */
export async function claimForEvent(db: Firestore, received: ReceivedEvent, o: ClaimOptions): Promise<ClaimResult> {
  const { eventKey, event } = received;
  return runTransaction(db, async (tx) => {
    const [fanoutSnap, productSnap] = await tx.getAll(fanoutRef(db, eventKey), productRef(db, event.productId));
    if (fanoutSnap!.exists) return takeOver(tx, db, fanoutSnap!.data() as FanoutDoc, o);

    const stored = productSnap!.exists ? (productSnap!.data() as ProductDoc) : undefined;
    const decision = decideStockUpdate(stored, event, eventKey, o.threshold, o.nowMs, o.maxSequenceJump);
    const product = decision.kind === 'stale' || decision.kind === 'jump' ? stored : decision.next;
    const base: FanoutDoc = {
      eventKey,
      productId: event.productId,
      state: 'ignored',
      event: event as unknown as Record<string, unknown>,
      product: {
        available: event.available,
        ...(product?.name !== undefined ? { name: product.name } : {}),
        ...(product?.url !== undefined ? { url: product.url } : {}),
      },
      leaseOwner: null,
      leaseExpiresAtMs: 0,
      cursor: null,
      generation: 0,
      attempts: 1,
      pages: 0,
      chunks: 0,
      recipients: 0,
      startedAtMs: o.nowMs,
      updatedAtMs: o.nowMs,
      ...(received.publishTimeMs !== undefined ? { publishTimeMs: received.publishTimeMs } : {}),
    };
    if (decision.kind === 'stale' || decision.kind === 'jump') {
      const reason =
        decision.kind === 'stale'
          ? `stale: sequence ${event.sequence} is not newer than ${decision.storedSequence}`
          : `sequence jump: ${event.sequence} is more than RESTOCK_MAX_SEQUENCE_JUMP (${decision.maxSequenceJump}) past ${decision.storedSequence}; if the producer really moved on, repair with restock product reset-stock`;
      const fanout: FanoutDoc = { ...base, reason, completedAtMs: o.nowMs };
      tx.create(fanoutRef(db, eventKey), fanout);
      return { kind: 'ignored', fanout };
    }
    tx.set(productRef(db, event.productId), decision.next);
    if (decision.kind === 'not-restock') {
      const fanout: FanoutDoc = {
        ...base,
        reason: `not a restock: ${decision.previousAvailable} -> ${event.available} (threshold ${o.threshold})`,
        completedAtMs: o.nowMs,
      };
      tx.create(fanoutRef(db, eventKey), fanout);
      return { kind: 'ignored', fanout };
    }
    const fanout: FanoutDoc = { ...base, state: 'running', leaseOwner: o.owner, leaseExpiresAtMs: o.nowMs + o.leaseMs };
    tx.create(fanoutRef(db, eventKey), fanout);
    return { kind: 'run', fanout };
  });
}

/**
 * Claims a stored fan-out (a continuation, or a replay).
 * @throws FanoutNotFoundError, LeaseHeldError
 */
export async function claimStored(
  db: Firestore,
  eventKey: string,
  o: ClaimOptions,
  reset?: (existing: FanoutDoc) => FanoutDoc,
): Promise<ClaimResult> {
  return runTransaction(db, async (tx) => {
    const snap = await tx.get(fanoutRef(db, eventKey));
    if (!snap.exists) throw new FanoutNotFoundError(eventKey);
    const existing = snap.data() as FanoutDoc;
    return takeOver(tx, db, reset ? reset(existing) : existing, o);
  });
}

/** Progress to persist at a checkpoint. */
export type Checkpoint = Pick<FanoutDoc, 'cursor' | 'pages' | 'chunks' | 'recipients'> & {
  firstTaskAtMs?: number;
};

/**
 * Persists progress and renews the lease, only while this attempt still owns it.
 * `finish` completes the fan-out; `release` hands the lease back (continuation).
 * @throws LeaseLostError when another attempt took over.
 */
export async function checkpoint(
  db: Firestore,
  eventKey: string,
  progress: Checkpoint,
  o: ClaimOptions & { finish?: boolean; release?: boolean },
): Promise<FanoutDoc> {
  return runTransaction(db, async (tx) => {
    const ref = fanoutRef(db, eventKey);
    const snap = await tx.get(ref);
    const current = snap.data() as FanoutDoc | undefined;
    if (!current || current.leaseOwner !== o.owner) throw new LeaseLostError(eventKey);
    // The first task is recorded once: an earlier attempt's time wins over this one's.
    const firstTaskAtMs = current.firstTaskAtMs ?? progress.firstTaskAtMs;
    const next: FanoutDoc = {
      ...current,
      ...progress,
      ...(firstTaskAtMs !== undefined ? { firstTaskAtMs } : {}),
      updatedAtMs: o.nowMs,
      leaseExpiresAtMs: o.finish || o.release ? 0 : o.nowMs + o.leaseMs,
      leaseOwner: o.finish || o.release ? null : o.owner,
      ...(o.finish ? { state: 'complete' as const, completedAtMs: o.nowMs } : {}),
    };
    tx.set(ref, next);
    return next;
  });
}
