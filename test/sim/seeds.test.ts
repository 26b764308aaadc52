import { describe, expect, it } from 'vitest';
import { runSeed } from '../../sim/index.ts';

// A few hundred fault schedules of the real flows, in process. The full
// sweep (1,000 seeds × 500 shoppers) is `npm run simulate`; this keeps every
// change honest against the same invariants in well under a minute.
const SEEDS = 300;
const SUBSCRIBERS = 30;

describe('simulation: every promise under seeded faults', () => {
  it(`keeps every promise over ${SEEDS} seeds of ${SUBSCRIBERS} shoppers`, { timeout: 240_000 }, async () => {
    const violations: string[] = [];
    let deaths = 0;
    let notifications = 0;
    let splitSeeds = 0;
    let erasingSeeds = 0;

    for (let seed = 1; seed <= SEEDS; seed++) {
      const r = await runSeed({ seed, subscribers: SUBSCRIBERS, traceLimit: 0 });
      deaths += r.stats.deaths;
      notifications += r.stats.notifications;
      if (r.stats.ranges > 1) splitSeeds++;
      if (r.stats.erasures > 0) erasingSeeds++;
      for (const v of r.violations) violations.push(`seed ${seed}: ${v.invariant}: ${v.message}`);
    }

    expect(violations).toEqual([]);
    // The seeds did put the flows under faults, and shoppers were told.
    expect(deaths).toBeGreaterThan(SEEDS / 4);
    expect(notifications).toBeGreaterThan(SEEDS * SUBSCRIBERS * 0.9);
    // Some seeds paged their audience as key ranges in parallel, under the same faults
    // (only seeds whose pages are smaller than the audience can split).
    expect(splitSeeds).toBeGreaterThan(SEEDS / 25);
    // Some seeds erased a shopper while the restock ran (promise 17).
    expect(erasingSeeds).toBeGreaterThan(SEEDS / 10);
  });
});

describe('simulation: an instance never dies of an unhandled rejection', () => {
  it('a read-ahead page that fails while the page before it is enqueued does not crash the fan-out (seed 3 at 500 shoppers did)', { timeout: 120_000 }, async () => {
    const r = await runSeed({ seed: 3, subscribers: 500, traceLimit: 0 });

    expect(r.violations).toEqual([]);
    expect(r.stats.crashes).toBe(0);
  });
});
