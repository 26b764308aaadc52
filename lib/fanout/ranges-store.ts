/**
 * The key ranges' store, `fanouts/{eventKey}/ranges/g{generation}r{index}`:
 * the plan's write, a range's claim, checkpoint and failure. Each write is
 * one transaction that reads the fan-out and the range, asks `ranges.ts`
 * what to do, and does it. A range never writes the fan-out document except
 * the last one to finish (which completes it), so K chains do not contend
 * on one document.
 */
import type { DocumentReference, Firestore } from '@google-cloud/firestore';
import { COLLECTIONS, type FanoutDoc, type FanoutRangeDoc, type FanoutRangePlan } from '../model.ts';
import { runTransaction } from '../transaction.ts';
import { FanoutNotFoundError, LeaseHeldError, LeaseLostError } from './errors.ts';
import { fanoutRef } from './store.ts';
import { decideRangeCheckpoint, decideRangeFailure, decideRangeTakeover, decideSplit, initialRanges, rangeDocId, type RangeTakeover } from './ranges.ts';
import type { Checkpoint, CheckpointMode, ClaimOptions, ClaimResult } from './rules.ts';

/** Which range of which generation: what a range's continuation task carries. */
export interface RangeRef {
  generation: number;
  index: number;
}

/** `fanouts/{eventKey}/ranges/g{generation}r{index}`. */
export function rangeRef(db: Firestore, eventKey: string, r: RangeRef): DocumentReference {
  return fanoutRef(db, eventKey).collection(COLLECTIONS.fanoutRanges).doc(rangeDocId(r.generation, r.index));
}

function rangeRefs(db: Firestore, fanout: Pick<FanoutDoc, 'eventKey' | 'generation' | 'ranges'>): DocumentReference[] {
  return Array.from({ length: fanout.ranges?.count ?? 0 }, (_, index) => rangeRef(db, fanout.eventKey, { generation: fanout.generation, index }));
}

/** The range documents of a fan-out's current generation, in order (missing ones left out). Empty for a fan-out without ranges. */
export async function readRanges(db: Firestore, fanout: Pick<FanoutDoc, 'eventKey' | 'generation' | 'ranges'>): Promise<FanoutRangeDoc[]> {
  const refs = rangeRefs(db, fanout);
  if (refs.length === 0) return [];
  const snaps = await db.getAll(...refs);
  return snaps.filter((s) => s.exists).map((s) => s.data() as FanoutRangeDoc);
}

/**
 * Records a split per {@link decideSplit}: the fan-out's head and plan, and
 * one document per range, every one unleased (range 0 is then claimed like
 * any other, by the attempt that split), in one commit.
 * @throws LeaseLostError when this attempt no longer owns the fan-out.
 */
export async function writeSplit(db: Firestore, eventKey: string, head: Checkpoint, plan: FanoutRangePlan, o: Pick<ClaimOptions, 'owner' | 'nowMs' | 'leaseMs'>): Promise<{ fanout: FanoutDoc; ranges: FanoutRangeDoc[] }> {
  return runTransaction(db, async (tx) => {
    const ref = fanoutRef(db, eventKey);
    const snap = await tx.get(ref);
    const next = decideSplit(snap.data() as FanoutDoc | undefined, head, plan, o);
    if (next === 'lost') throw new LeaseLostError(eventKey);
    const ranges = initialRanges(next, plan, o);
    tx.set(ref, next);
    for (const r of ranges) tx.set(rangeRef(db, eventKey, r), r);
    return { fanout: next, ranges };
  });
}

/**
 * Claims range `r` of a fan-out per {@link decideRangeTakeover}. Resolves to
 * the claim with the fan-out as read, or `done`.
 * @throws LeaseHeldError when another attempt is paging the range now.
 */
export async function claimRange(db: Firestore, eventKey: string, r: RangeRef, o: Pick<ClaimOptions, 'owner' | 'nowMs' | 'leaseMs'>): Promise<{ decision: Exclude<RangeTakeover, { kind: 'held' }>; fanout: FanoutDoc | undefined }> {
  return runTransaction(db, async (tx) => {
    const [parentSnap, rangeSnap] = await tx.getAll(fanoutRef(db, eventKey), rangeRef(db, eventKey, r));
    const fanout = parentSnap!.data() as FanoutDoc | undefined;
    const decision = decideRangeTakeover(fanout, rangeSnap!.data() as FanoutRangeDoc | undefined, o);
    if (decision.kind === 'held') throw new LeaseHeldError(eventKey, decision.leaseExpiresAtMs);
    if (decision.kind === 'run') tx.set(rangeRef(db, eventKey, r), decision.range);
    return { decision, fanout };
  });
}

/**
 * Claims range `r` for a range's continuation task, as a {@link ClaimResult}:
 * `run` with the range, or `done` (the range or the fan-out is settled, or it
 * belongs to another generation).
 * @throws FanoutNotFoundError, LeaseHeldError
 */
export async function claimStoredRange(db: Firestore, eventKey: string, r: RangeRef, o: Pick<ClaimOptions, 'owner' | 'nowMs' | 'leaseMs'>): Promise<ClaimResult> {
  const { decision, fanout } = await claimRange(db, eventKey, r, o);
  if (!fanout) throw new FanoutNotFoundError(eventKey);
  return decision.kind === 'run' ? { kind: 'run', fanout, range: decision.range } : { kind: 'done', fanout };
}

/**
 * Persists a range's progress per {@link decideRangeCheckpoint}; `finish`
 * reads every range of the generation, so the last one to finish completes
 * the fan-out in the same commit.
 * @throws LeaseLostError when this attempt no longer owns the range, or the fan-out stopped running.
 */
export async function checkpointRange(db: Firestore, eventKey: string, r: RangeRef, progress: Checkpoint, mode: CheckpointMode, o: Pick<ClaimOptions, 'owner' | 'nowMs' | 'leaseMs'>): Promise<FanoutDoc | undefined> {
  return runTransaction(db, async (tx) => {
    const [parentSnap, rangeSnap] = await tx.getAll(fanoutRef(db, eventKey), rangeRef(db, eventKey, r));
    const parent = parentSnap!.data() as FanoutDoc | undefined;
    const siblings = mode === 'finish' && parent ? (await tx.getAll(...rangeRefs(db, parent))).map((s) => s.data() as FanoutRangeDoc | undefined) : [];
    const next = decideRangeCheckpoint(parent, rangeSnap!.data() as FanoutRangeDoc | undefined, progress, mode, o, siblings);
    if (next === 'lost') throw new LeaseLostError(eventKey);
    tx.set(rangeRef(db, eventKey, r), next.range);
    if (next.parent) tx.set(fanoutRef(db, eventKey), next.parent);
    return next.parent;
  });
}

/** Records range `r` as `failed` per {@link decideRangeFailure} (the fan-out is failed separately); false when left alone. */
export async function failRange(db: Firestore, eventKey: string, r: RangeRef, error: string, o: Pick<ClaimOptions, 'owner' | 'nowMs'>): Promise<boolean> {
  return runTransaction(db, async (tx) => {
    const ref = rangeRef(db, eventKey, r);
    const next = decideRangeFailure((await tx.get(ref)).data() as FanoutRangeDoc | undefined, error, o);
    if (next) tx.set(ref, next);
    return next !== undefined;
  });
}
