/**
 * Planning a split: the reads that choose K and the split points (the
 * decisions are `ranges.ts`'s). All reads are ids only or count
 * aggregations capped with a limit, so planning costs a few small RPCs per
 * round whatever the audience, and it runs after the first chunk is
 * enqueued and the page after it read, so it never delays the first
 * notification (promise 9).
 */
import { FieldPath } from '@google-cloud/firestore';
import { status } from '@grpc/grpc-js';
import { grpcCode } from '../grpc.ts';
import { onEmulators } from '../config.ts';
import type { Query } from '@google-cloud/firestore';
import { subscriptionsRef, type FanoutRangePlan } from '../model.ts';
import type { Runtime } from '../runtime.ts';
import { countCap, decideRangeCount, interpolateSplits, keyAlphabet, mergeSplits, rangesOf, rangesToRefine, type RangeBounds, type RangeBoundsOf } from './ranges.ts';

/** Rounds of measuring and splitting again: enough for sequential ids, bounded so planning stays a few RPCs. */
const REFINE_ROUNDS = 3;

/** The range bounds of `rt`'s settings. */
export function rangeBoundsOf(rt: Pick<Runtime, 'config'>): RangeBounds {
  const c = rt.config;
  return { target: c.fanoutRangeTarget, min: c.fanoutMinRanges, max: c.fanoutMaxRanges, pageSize: c.pageSize };
}

function inRange(rt: Runtime, productId: string, r: RangeBoundsOf): Query {
  let q: Query = subscriptionsRef(rt.db, productId).orderBy(FieldPath.documentId());
  if (r.after !== null) q = q.startAfter(r.after);
  if (r.until !== null) q = q.endAt(r.until);
  return q;
}

async function countIn(rt: Runtime, productId: string, r: RangeBoundsOf, cap: number): Promise<number> {
  const snap = await inRange(rt, productId, r).limit(cap).count().get();
  return snap.data().count;
}

/**
 * The last subscriber's id in `r` (null when it is empty), or, when it holds
 * more than `counted`, the id at that position. One descending key scan; the
 * Firestore emulator refuses those (FAILED_PRECONDITION "does not support
 * descending key scans"), so there it skips `counted - 1` ids instead (an
 * offset, which production would bill per skipped id: never used there).
 */
async function lastIdIn(rt: Runtime, productId: string, r: RangeBoundsOf, counted: number): Promise<string | null> {
  // The emulator takes ~7 s to refuse a descending scan whatever the collection's size (6.8 s at 200 ids,
  // 7.4 s at 50,000), which held a split's planning back by seconds: there, go straight to the offset.
  if (onEmulators(rt.config) && counted >= 1) return lastIdByOffset(rt, productId, r, counted);
  let q: Query = subscriptionsRef(rt.db, productId).orderBy(FieldPath.documentId(), 'desc');
  // Descending: the upper bound comes first.
  if (r.until !== null) q = q.startAt(r.until);
  if (r.after !== null) q = q.endBefore(r.after);
  try {
    const snap = await q.select().limit(1).get();
    return snap.docs[0]?.id ?? null;
  } catch (err) {
    if (grpcCode(err) !== status.FAILED_PRECONDITION || counted < 1) throw err;
    return lastIdByOffset(rt, productId, r, counted);
  }
}

async function lastIdByOffset(rt: Runtime, productId: string, r: RangeBoundsOf, counted: number): Promise<string | null> {
  const snap = await inRange(rt, productId, r).select().offset(counted - 1).limit(1).get();
  return snap.docs[0]?.id ?? null;
}

async function firstIdIn(rt: Runtime, productId: string, r: RangeBoundsOf): Promise<string | null> {
  const snap = await inRange(rt, productId, r).select().limit(1).get();
  return snap.docs[0]?.id ?? null;
}

/**
 * Plans the split of what follows `after` into key ranges, or resolves to
 * undefined when one chain is enough (K = 1). `sample`: ids already read
 * (the first chunk), whose characters are the digits of the interpolation.
 */
export async function planSplit(rt: Runtime, productId: string, after: string | null, sample: readonly string[]): Promise<FanoutRangePlan | undefined> {
  const bounds = rangeBoundsOf(rt);
  if (bounds.max <= 1) return undefined;
  const whole: RangeBoundsOf = { after, until: null };
  const audience = await countIn(rt, productId, whole, countCap(bounds));
  const k = decideRangeCount(audience, bounds);
  if (k <= 1) return undefined;
  const last = await lastIdIn(rt, productId, whole, audience);
  if (last === null) return undefined;
  const alphabet = keyAlphabet([...sample, last]);
  let splits = interpolateSplits(after, last, k, alphabet);
  // Measure and split again what came out too large (skewed ids): each round is K counts and two id reads per range split.
  for (let round = 0; round < REFINE_ROUNDS && splits.length > 0; round++) {
    const ranges = rangesOf({ after, splits });
    const measured = await Promise.all(ranges.map(async (r) => ({ ...r, count: await countIn(rt, productId, r, bounds.target * 4) })));
    const refine = rangesToRefine(measured, bounds);
    if (refine.length === 0) break;
    const extra = new Map<number, string[]>();
    await Promise.all(
      refine.map(async ({ index, parts }) => {
        const r = ranges[index]!;
        const [first, lastOf] = await Promise.all([firstIdIn(rt, productId, r), lastIdIn(rt, productId, r, measured[index]!.count)]);
        if (first === null || lastOf === null) return;
        // Split points strictly after the first id: the first sub-range keeps at least it.
        extra.set(index, interpolateSplits(first, lastOf, parts, keyAlphabet([...alphabet, first, lastOf])));
      }),
    );
    const next = mergeSplits(ranges, extra);
    if (next.length === splits.length) break;
    splits = next;
  }
  if (splits.length === 0) return undefined;
  return { count: splits.length + 1, after, splits, audience, plannedAtMs: rt.now() };
}
