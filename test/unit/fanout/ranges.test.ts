/**
 * Key ranges (lib/fanout/ranges.ts): how many ranges, where the split points
 * fall (ranges never overlap and never leave an id out, promise 3), how a
 * range's claim and checkpoint decide, and that only the last range to
 * finish completes the fan-out, with every range's counts.
 */
import { createHash } from 'node:crypto';
import { describe, expect, test } from 'vitest';
import fc from 'fast-check';
import {
  compareIds,
  decideRangeCheckpoint,
  decideRangeCount,
  decideRangeFailure,
  decideRangeTakeover,
  decideSplit,
  initialRanges,
  interpolateSplits,
  keyAlphabet,
  mergeSplits,
  rangesOf,
  rangesToRefine,
} from '../../../lib/fanout/ranges.ts';
import { resetForReplay } from '../../../lib/fanout/rules.ts';
import { rangeContinuationTaskId } from '../../../lib/tasks/index.ts';
import { isValidDocumentId, type FanoutDoc, type FanoutRangeDoc, type FanoutRangePlan } from '../../../lib/model.ts';

const NOW = 1_700_000_000_000;

/** Which ranges of `plan` hold `id` (ids after the plan's `after` must be in exactly one). */
function holders(plan: Pick<FanoutRangePlan, 'after' | 'splits'>, id: string): number[] {
  return rangesOf(plan)
    .map((r, i) => ({ r, i }))
    .filter(({ r }) => (r.after === null || compareIds(id, r.after) > 0) && (r.until === null || compareIds(id, r.until) <= 0))
    .map(({ i }) => i);
}

function sortedIds(ids: string[]): string[] {
  return [...new Set(ids)].sort(compareIds);
}

const idArb = fc.string({ unit: fc.constantFrom(...'-_0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZé日'), minLength: 1, maxLength: 24 }).filter(isValidDocumentId);

describe('how many ranges', () => {
  test('stays within the configured bounds, and is 1 when ranges are off or one page holds the rest', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 5_000_000 }), fc.integer({ min: 1, max: 100_000 }), fc.integer({ min: 1, max: 8 }), fc.integer({ min: 0, max: 56 }), fc.integer({ min: 1, max: 2_000 }), (remaining, target, min, extra, pageSize) => {
        const b = { target, min, max: min + extra, pageSize };
        const k = decideRangeCount(remaining, b);
        expect(k).toBeGreaterThanOrEqual(1);
        expect(k).toBeLessThanOrEqual(b.max);
        if (remaining <= pageSize || b.max === 1) expect(k).toBe(1);
        // Never a range of less than a page.
        if (k > 1) expect(k).toBeLessThanOrEqual(Math.ceil(remaining / pageSize));
      }),
    );
  });

  test('is about one range per target audience', () => {
    expect(decideRangeCount(200_000, { target: 50_000, min: 1, max: 16, pageSize: 1000 })).toBe(4);
    expect(decideRangeCount(1_000_000, { target: 50_000, min: 1, max: 16, pageSize: 1000 })).toBe(16);
    expect(decideRangeCount(40_000, { target: 50_000, min: 1, max: 16, pageSize: 1000 })).toBe(1);
    expect(decideRangeCount(40_000, { target: 50_000, min: 4, max: 16, pageSize: 1000 })).toBe(4);
  });
});

describe('where the split points fall', () => {
  test('split points are strictly increasing valid ids strictly between the bounds, and every id after the lower bound is in exactly one range', () => {
    fc.assert(
      fc.property(fc.array(idArb, { minLength: 2, maxLength: 60 }), fc.integer({ min: 2, max: 20 }), fc.boolean(), (raw, parts, fromStart) => {
        const ids = sortedIds(raw);
        fc.pre(ids.length >= 2);
        const lo = fromStart ? null : ids[0]!;
        const hi = ids.at(-1)!;
        const splits = interpolateSplits(lo, hi, parts, keyAlphabet(ids.slice(0, 10).concat(hi)));
        expect(splits.length).toBeLessThanOrEqual(parts - 1);
        splits.forEach((s, i) => {
          expect(isValidDocumentId(s)).toBe(true);
          if (lo !== null) expect(compareIds(s, lo)).toBeGreaterThan(0);
          expect(compareIds(s, hi)).toBeLessThan(0);
          if (i > 0) expect(compareIds(s, splits[i - 1]!)).toBeGreaterThan(0);
        });
        for (const id of ids.filter((x) => lo === null || compareIds(x, lo) > 0)) expect(holders({ after: lo, splits }, id)).toHaveLength(1);
      }),
    );
  });

  test('uniform ids (hashes) split into ranges of about equal size', () => {
    const ids = sortedIds(Array.from({ length: 20_000 }, (_, i) => createHash('sha256').update(String(i)).digest('hex').slice(0, 20)));
    const splits = interpolateSplits(ids[99]!, ids.at(-1)!, 8, keyAlphabet([...ids.slice(0, 100), ids.at(-1)!]));
    expect(splits).toHaveLength(7);
    const sizes = new Array<number>(8).fill(0);
    for (const id of ids.slice(100)) sizes[holders({ after: ids[99]!, splits }, id)[0]!]!++;
    for (const size of sizes) expect(size).toBeGreaterThan((19_900 / 8) * 0.75);
  });

  test('sequential ids come out balanced once the oversized ranges are split again between their own first and last ids', () => {
    // Prepare: decimal ids, whose alphabet also holds letters the interpolation must not waste ranges on.
    const ids = Array.from({ length: 20_000 }, (_, i) => `user-${String(i).padStart(6, '0')}`);
    const alphabet = keyAlphabet([...ids.slice(0, 100), ids.at(-1)!]);
    const target = 2_500;
    const countIn = (r: { after: string | null; until: string | null }) =>
      ids.filter((id) => (r.after === null || compareIds(id, r.after) > 0) && (r.until === null || compareIds(id, r.until) <= 0)).length;
    let splits = interpolateSplits(ids[99]!, ids.at(-1)!, 8, alphabet);

    // Act: the planner's refinement rounds, with exact counts.
    for (let round = 0; round < 3; round++) {
      const ranges = rangesOf({ after: ids[99]!, splits });
      const refine = rangesToRefine(ranges.map((r) => ({ ...r, count: countIn(r) })), { target, max: 16, pageSize: 100 });
      if (refine.length === 0) break;
      const extra = new Map(
        refine.map(({ index, parts }) => {
          const inside = ids.filter((id) => countIn({ after: ranges[index]!.after, until: ranges[index]!.until }) > 0 && holders({ after: ids[99]!, splits }, id)[0] === index);
          return [index, interpolateSplits(inside[0]!, inside.at(-1)!, parts, alphabet)] as const;
        }),
      );
      splits = mergeSplits(ranges, extra);
    }

    // Assess: no range holds more than 1.5 targets, and nothing is left out or counted twice.
    const ranges = rangesOf({ after: ids[99]!, splits });
    expect(ranges.length).toBeLessThanOrEqual(16);
    for (const r of ranges) expect(countIn(r)).toBeLessThanOrEqual(target * 1.5);
    expect(ranges.reduce((s, r) => s + countIn(r), 0)).toBe(ids.length - 100);
  });

  test('merged split points stay strictly increasing and inside their ranges', () => {
    const ranges = rangesOf({ after: 'b', splits: ['d', 'f'] });
    expect(mergeSplits(ranges, new Map([[1, ['a', 'e', 'z']], [2, ['g', 'h']]]))).toEqual(['d', 'e', 'f', 'g', 'h']);
  });
});

function fanout(over: Partial<FanoutDoc> = {}): FanoutDoc {
  return {
    eventKey: 'evt',
    productId: 'p',
    state: 'running',
    event: {},
    product: { available: 3 },
    leaseOwner: null,
    leaseExpiresAtMs: 0,
    cursor: 'c0',
    generation: 2,
    attempts: 1,
    pages: 1,
    chunks: 1,
    recipients: 100,
    startedAtMs: NOW - 1000,
    updatedAtMs: NOW - 1000,
    ranges: { count: 3, after: 'c0', splits: ['m', 't'], audience: 5000, plannedAtMs: NOW - 500 },
    ...over,
  };
}

function rangesOfFanout(f: FanoutDoc): FanoutRangeDoc[] {
  return initialRanges(f, f.ranges!, { nowMs: NOW - 500 });
}

const claim = { owner: 'me', nowMs: NOW, leaseMs: 60_000 };

describe("a range's claim", () => {
  test('the plan creates one unleased running range per split, covering (after, s1], (s1, s2], (s2, end)', () => {
    const ranges = rangesOfFanout(fanout());
    expect(ranges.map((r) => [r.index, r.after, r.until, r.state, r.leaseOwner, r.generation])).toEqual([
      [0, 'c0', 'm', 'running', null, 2],
      [1, 'm', 't', 'running', null, 2],
      [2, 't', null, 'running', null, 2],
    ]);
  });

  test('runs a free range, respects a live lease, takes over an expired one, and leaves settled or stale ranges alone', () => {
    const f = fanout();
    const [r] = rangesOfFanout(f);
    expect(decideRangeTakeover(f, r, claim)).toMatchObject({ kind: 'run', range: { leaseOwner: 'me', leaseExpiresAtMs: NOW + 60_000, attempts: 1 } });
    expect(decideRangeTakeover(f, { ...r!, leaseOwner: 'other', leaseExpiresAtMs: NOW + 1 }, claim)).toEqual({ kind: 'held', leaseExpiresAtMs: NOW + 1 });
    expect(decideRangeTakeover(f, { ...r!, leaseOwner: 'other', leaseExpiresAtMs: NOW }, claim).kind).toBe('run');
    expect(decideRangeTakeover(f, { ...r!, state: 'complete' }, claim).kind).toBe('done');
    expect(decideRangeTakeover(fanout({ state: 'failed' }), r, claim).kind).toBe('done');
    expect(decideRangeTakeover(fanout({ generation: 3 }), r, claim).kind).toBe('done');
    expect(decideRangeTakeover(f, undefined, claim).kind).toBe('done');
  });
});

describe("a range's checkpoint", () => {
  const progress = { cursor: 'k', pages: 4, chunks: 40, recipients: 4000, firstTaskAtMs: NOW - 10 };

  test('is lost once another attempt owns the range, or the fan-out stopped running or moved to another generation', () => {
    const f = fanout();
    const r = { ...rangesOfFanout(f)[0]!, leaseOwner: 'me', leaseExpiresAtMs: NOW + 1 };
    expect(decideRangeCheckpoint(f, { ...r, leaseOwner: 'other' }, progress, 'renew', claim)).toBe('lost');
    expect(decideRangeCheckpoint(fanout({ state: 'failed' }), r, progress, 'renew', claim)).toBe('lost');
    expect(decideRangeCheckpoint(fanout({ generation: 3 }), r, progress, 'renew', claim)).toBe('lost');
    expect(decideRangeCheckpoint(f, { ...r, state: 'complete' }, progress, 'renew', claim)).toBe('lost');
  });

  test('renew keeps the lease, release hands it back, and neither writes the fan-out', () => {
    const f = fanout();
    const r = { ...rangesOfFanout(f)[1]!, leaseOwner: 'me', leaseExpiresAtMs: NOW + 1 };
    const renewed = decideRangeCheckpoint(f, r, progress, 'renew', claim);
    expect(renewed).toMatchObject({ range: { cursor: 'k', pages: 4, leaseOwner: 'me', leaseExpiresAtMs: NOW + 60_000, state: 'running' } });
    expect(renewed).not.toHaveProperty('parent');
    expect(decideRangeCheckpoint(f, r, progress, 'release', claim)).toMatchObject({ range: { leaseOwner: null, leaseExpiresAtMs: 0, state: 'running' } });
  });

  test('the fan-out completes only when the last range finishes, counting its head and every range', () => {
    fc.assert(
      fc.property(fc.array(fc.boolean(), { minLength: 2, maxLength: 2 }), fc.integer({ min: 0, max: 2 }), (othersDone, mine) => {
        const f = fanout();
        const all = rangesOfFanout(f).map((r, i) => ({ ...r, pages: i + 1, chunks: 10 * (i + 1), recipients: 1000 * (i + 1) }));
        const me = { ...all[mine]!, leaseOwner: 'me', leaseExpiresAtMs: NOW + 1 };
        const siblings = all.filter((r) => r.index !== mine).map((r, j) => (othersDone[j] ? { ...r, state: 'complete' as const } : r));
        const result = decideRangeCheckpoint(f, me, progress, 'finish', claim, [...siblings, all[mine]]);
        if (result === 'lost') throw new Error('lost');
        expect(result.range).toMatchObject({ state: 'complete', leaseOwner: null, completedAtMs: NOW });
        if (othersDone.every(Boolean)) {
          const others = siblings.reduce((s, r) => ({ pages: s.pages + r.pages, chunks: s.chunks + r.chunks, recipients: s.recipients + r.recipients }), { pages: 0, chunks: 0, recipients: 0 });
          expect(result.parent).toMatchObject({
            state: 'complete',
            pages: f.pages + others.pages + progress.pages,
            chunks: f.chunks + others.chunks + progress.chunks,
            recipients: f.recipients + others.recipients + progress.recipients,
            completedAtMs: NOW,
          });
        } else {
          expect(result.parent).toBeUndefined();
        }
      }),
    );
  });

  test('a range of another generation among the siblings never completes the fan-out', () => {
    const f = fanout();
    const all = rangesOfFanout(f);
    const me = { ...all[0]!, leaseOwner: 'me', leaseExpiresAtMs: NOW + 1 };
    const stale = [{ ...all[1]!, state: 'complete' as const }, { ...all[2]!, state: 'complete' as const, generation: 1 }];
    expect(decideRangeCheckpoint(f, me, { cursor: 'x', pages: 1, chunks: 1, recipients: 1 }, 'finish', claim, stale)).not.toHaveProperty('parent');
  });
});

describe('the split itself, failure and replay', () => {
  test("the split keeps the fan-out running with its head, records the plan and hands the fan-out's lease back", () => {
    const plan = { count: 2, after: 'c0', splits: ['m'], audience: 10, plannedAtMs: NOW };
    const owned = fanout({ ranges: undefined, leaseOwner: 'me', leaseExpiresAtMs: NOW + 1 });
    expect(decideSplit(owned, { cursor: 'c0', pages: 1, chunks: 1, recipients: 100, firstTaskAtMs: NOW - 5 }, plan, claim)).toMatchObject({
      state: 'running',
      ranges: plan,
      cursor: 'c0',
      leaseOwner: null,
      firstTaskAtMs: NOW - 5,
    });
    expect(decideSplit({ ...owned, leaseOwner: 'other' }, { cursor: 'c0', pages: 1, chunks: 1, recipients: 100 }, plan, claim)).toBe('lost');
    // Planned once per generation.
    expect(decideSplit({ ...owned, ranges: plan }, { cursor: 'c0', pages: 1, chunks: 1, recipients: 100 }, plan, claim)).toBe('lost');
  });

  test('a failing range is recorded failed unless settled or held by a live attempt', () => {
    const r = rangesOfFanout(fanout())[0]!;
    expect(decideRangeFailure(r, 'boom', claim)).toMatchObject({ state: 'failed', error: 'boom' });
    expect(decideRangeFailure({ ...r, state: 'complete' }, 'boom', claim)).toBeUndefined();
    expect(decideRangeFailure({ ...r, leaseOwner: 'other', leaseExpiresAtMs: NOW + 1 }, 'boom', claim)).toBeUndefined();
  });

  test('a replay drops the plan, so the new generation plans its own ranges', () => {
    expect(resetForReplay(fanout({ state: 'complete' }))).not.toHaveProperty('ranges');
  });
});

describe('range task names', () => {
  test('are valid Cloud Tasks ids, distinct across ranges, generations and cursors, and repeat for the same point', () => {
    const names = new Set<string>();
    for (const g of [0, 1]) for (const i of [0, 1, 2]) for (const c of [null, 'a', 'b']) names.add(rangeContinuationTaskId('evt', g, i, c));
    expect(names.size).toBe(18);
    for (const n of names) expect(n).toMatch(/^[A-Za-z0-9_-]{1,500}$/);
    expect(rangeContinuationTaskId('evt', 1, 2, 'a')).toBe(rangeContinuationTaskId('evt', 1, 2, 'a'));
  });
});
