/**
 * Where a fan-out's own bookkeeping names a shopper, and what erasure writes
 * there instead (pure). Paging remembers subscriber ids: a fan-out's
 * `cursor`, its waves' FIFO cursor and current boundary, its key-range plan
 * (`ranges.after`, `ranges.splits`), and each key range's bounds and cursor
 * (`fanouts/{eventKey}/ranges/*`). Only a fan-out that is over is rewritten:
 * it never pages from them again (a replay starts a new generation from the
 * beginning), so the pseudonym, which sorts anywhere, changes nothing it does.
 */
import type { FanoutDoc, FanoutRangeDoc } from '../model.ts';

/** The queries that find them: each a field path compared with the user id (`array-contains` for the split list). */
export const FANOUT_FIELDS_NAMING_A_SHOPPER = ['cursor', 'waves.cursor.userId', 'waves.current.boundary.userId', 'ranges.after'] as const;
export const FANOUT_ARRAYS_NAMING_A_SHOPPER = ['ranges.splits'] as const;
export const RANGE_FIELDS_NAMING_A_SHOPPER = ['cursor', 'after', 'until'] as const;

type Updates = Record<string, unknown>;

/** The field updates that replace `userId` by `pseudonym` in a fan-out document (empty: it does not name them). */
export function fanoutUpdates(doc: Partial<FanoutDoc>, userId: string, pseudonym: string): Updates {
  const updates: Updates = {};
  if (doc.cursor === userId) updates.cursor = pseudonym;
  if (doc.waves?.cursor?.userId === userId) updates['waves.cursor.userId'] = pseudonym;
  if (doc.waves?.current?.boundary.userId === userId) updates['waves.current.boundary.userId'] = pseudonym;
  if (doc.ranges?.after === userId) updates['ranges.after'] = pseudonym;
  if (doc.ranges?.splits.includes(userId)) updates['ranges.splits'] = doc.ranges.splits.map((s) => (s === userId ? pseudonym : s));
  return updates;
}

/** The field updates that replace `userId` by `pseudonym` in a key range (empty: it does not name them). */
export function rangeUpdates(doc: Partial<FanoutRangeDoc>, userId: string, pseudonym: string): Updates {
  const updates: Updates = {};
  for (const field of RANGE_FIELDS_NAMING_A_SHOPPER) if (doc[field] === userId) updates[field] = pseudonym;
  return updates;
}
