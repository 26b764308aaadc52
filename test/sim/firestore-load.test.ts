import { describe, expect, it } from 'vitest';
import { CONSTANTS } from '../../sim/production/constants.ts';
import { FirestoreLoad, RAMP_500_50_5, rampCapacity, rampLowerBoundMs, rangeOf } from '../../sim/production/firestore-load.ts';

const MINUTE = 60_000;

/** Offers `offeredPerSecond` operations to one new range in commits of `commit`, for `ms`; returns what was admitted in each second. */
function drive(load: FirestoreLoad, range: string, offeredPerSecond: number, ms: number, commit = 10): number[] {
  const perSecond: number[] = [];
  const stepMs = (commit / offeredPerSecond) * 1000;
  for (let t = 0; t < ms; t += stepMs) {
    const verdict = load.write(new Map([[range, commit]]), [], t);
    const second = Math.floor(t / 1000);
    perSecond[second] = (perSecond[second] ?? 0) + ('waitMs' in verdict ? commit : 0);
  }
  return perSecond;
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

describe('Firestore\u2019s ramp-up rule (500/50/5) in the production clock', () => {
  it('is Google\u2019s figures: 500 operations/s to start, 50 % more every 5 minutes', () => {
    expect(RAMP_500_50_5).toEqual({ startOpsPerSecond: 500, growth: 1.5, stepMs: 5 * MINUTE });
    expect(CONSTANTS.rampStartOpsPerSecond.source).toMatch(/cloud\.google\.com\/firestore\/docs\/best-practices#ramping_up_traffic/);
  });

  it('a new range serves 500/s for its first 5 minutes, then 750/s, then 1,125/s', () => {
    expect(rampCapacity(0)).toBe(500);
    expect(rampCapacity(5 * MINUTE - 1)).toBe(500);
    expect(rampCapacity(5 * MINUTE)).toBe(750);
    expect(rampCapacity(10 * MINUTE)).toBe(1125);
    expect(rampCapacity(15 * MINUTE)).toBeCloseTo(1687.5);
  });

  it('a cold range offered 4,000 writes/s is held at 500/s, then at 750/s and 1,125/s after each 5 minutes; the rest is refused', () => {
    const load = new FirestoreLoad('cold', 'E');

    const admitted = drive(load, 'deliveries documents', 4000, 16 * MINUTE);

    // Past the first second (a range queues up to a second of work before it refuses).
    expect(mean(admitted.slice(2, 299))).toBeCloseTo(500, -1);
    expect(mean(admitted.slice(302, 599))).toBeCloseTo(750, -1);
    expect(mean(admitted.slice(602, 899))).toBeCloseTo(1125, -1);
    expect(mean(admitted.slice(902, 959))).toBeCloseTo(1687.5, -1);
    expect(load.stats().refusedWrites.resourceExhausted).toBeGreaterThan(0);
  });

  it('warm: a range that existed before the event is not held; a range new for the event (its key in the name) is', () => {
    const load = new FirestoreLoad('warm', 'restock-1');

    const old = drive(load, 'deliveries documents', 4000, 10_000);
    const fresh = drive(load, 'deliveries index deliveries_by_event_and_state eventKey="restock-1" state="sending"', 4000, 10_000);

    expect(mean(old)).toBeCloseTo(4000, -2);
    expect(mean(fresh.slice(2))).toBeCloseTo(500, -1);
  });

  it('an index led by the ledger\u2019s shard holds an event in one prefix per shard: warm, each ramps on its own; cold, the index is one range', () => {
    const entry = (shard: number) => ({ key: '', index: 'i', fields: ['shard', 'eventKey', 'state'], values: [shard, 'E', 'sending'], scope: 'COLLECTION' as const, parent: 'deliveries' });
    const ops = (n: number) => new Map(Array.from({ length: n }, (_, s) => [rangeOf(entry(s), true)!, 1_000] as const));
    expect(rangeOf(entry(7), true)).toBe('deliveries index i shard=7 eventKey="E" state="sending"');

    // 16 shards, 1,000 operations each, in one commit at t=0: warm, 16 ranges at 500/s each take 2 s; cold, one range takes 32 s.
    const warm = new FirestoreLoad('warm', 'E');
    const cold = new FirestoreLoad('cold', 'E');
    expect(warm.read(ops(16), 0)).toBe(2_000);
    expect(cold.read(ops(16), 0)).toBe(32_000);
    expect(cold.stats().ranges.map((r) => r.range)).toEqual(['deliveries index i']);
  });

  it('reads wait behind a busy range instead of being refused', () => {
    const load = new FirestoreLoad('cold', 'E');
    const ops = new Map([['products/p/restockSubscriptions documents', 1000]]);

    expect(load.read(ops, 0)).toBe(2000); // 1,000 documents at 500/s
    expect(load.read(ops, 0)).toBe(4000); // queued behind the first
  });

  it('one document takes a burst of writes, then about one a second; beyond that ABORTED', () => {
    const load = new FirestoreLoad('warm', 'E');
    const product = ['products/p'];
    const at = (ms: number) => load.write(new Map(), product, ms);

    const burst = Array.from({ length: CONSTANTS.documentWriteBurst.value }, () => at(0));
    expect(burst.every((v) => 'waitMs' in v)).toBe(true);
    expect(at(0)).toEqual({ refused: 'ABORTED', what: 'products/p' });
    expect('waitMs' in at(1000)).toBe(true);
    expect(at(1000)).toMatchObject({ refused: 'ABORTED' });
  });

  it('the fewest seconds the rule allows one range: 2,000,000 operations need over 25 minutes, 30,000 fit in the first minute', () => {
    expect(rampLowerBoundMs(30_000)).toBe(60_000);
    expect(rampLowerBoundMs(150_000)).toBe(5 * MINUTE);
    // 150,000 + 225,000 + 337,500 + 506,250 + 759,375 = 1,978,125 in 25 minutes; the rest at 1,139,062.5 per 5 minutes.
    expect(rampLowerBoundMs(2_000_000)).toBeGreaterThan(25 * MINUTE);
    expect(rampLowerBoundMs(2_000_000)).toBeLessThan(26 * MINUTE);
  });

  it('an index led by fields constant in an event keeps the event under one prefix; one led by a per-shopper field spreads it; an inserted timestamp after a constant prefix is the sequential limit\u2019s', () => {
    const entry = (fields: string[], values: unknown[]) => ({ key: '', index: 'i', fields, values, scope: 'COLLECTION' as const, parent: 'deliveries' });

    expect(rangeOf(entry(['eventKey', 'state'], ['E', 'sent']), true)).toBe('deliveries index i eventKey="E" state="sent"');
    expect(rangeOf(entry(['userId', 'createdAtMs'], ['u1', 5]), true)).toBe('deliveries index i');
    expect(rangeOf(entry(['eventKey', 'createdAtMs'], ['E', 5]), true)).toBeUndefined();
    expect(rangeOf(entry(['eventKey', 'createdAtMs'], ['E', 5]), false)).toBe('deliveries index i eventKey="E"');
  });
});
