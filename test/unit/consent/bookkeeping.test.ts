/**
 * Erasure of a fan-out's bookkeeping (lib/shoppers/bookkeeping.ts): every
 * place paging remembers a subscriber id is rewritten, and nothing else.
 */
import { describe, expect, it } from 'vitest';
import { fanoutUpdates, rangeUpdates } from '../../../lib/shoppers/bookkeeping.ts';

const U = 'user-7';
const P = 'erased:abc';

describe('the fan-out bookkeeping erasure rewrites', () => {
  it('the cursor, the waves’ cursor and boundary, and the key-range plan’s lower bound and splits', () => {
    const doc = {
      cursor: U,
      waves: { cursor: { createdAtMs: 1, userId: U }, current: { boundary: { createdAtMs: 2, userId: U } } },
      ranges: { count: 3, after: U, splits: ['a', U], audience: 9, plannedAtMs: 0 },
    };
    expect(fanoutUpdates(doc as never, U, P)).toEqual({
      cursor: P,
      'waves.cursor.userId': P,
      'waves.current.boundary.userId': P,
      'ranges.after': P,
      'ranges.splits': ['a', P],
    });
  });

  it('nothing in a fan-out that names other shoppers', () => {
    const doc = { cursor: 'user-8', waves: { cursor: { createdAtMs: 1, userId: 'user-70' } }, ranges: { after: null, splits: ['user-71'] } };
    expect(fanoutUpdates(doc as never, U, P)).toEqual({});
  });

  it('a key range’s bounds and cursor, each only where it is the shopper', () => {
    expect(rangeUpdates({ after: U, until: 'z', cursor: U }, U, P)).toEqual({ after: P, cursor: P });
    expect(rangeUpdates({ after: null, until: U, cursor: null }, U, P)).toEqual({ until: P });
    expect(rangeUpdates({ after: 'a', until: 'b', cursor: 'a1' }, U, P)).toEqual({});
  });
});
