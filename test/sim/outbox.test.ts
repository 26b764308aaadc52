import { describe, expect, it } from 'vitest';
import { selfTest } from '../../sim/index.ts';
import { World } from '../../sim/world.ts';

describe('the outbox relay in the simulation', () => {
  it('a change whose inventory process died between commit and publish, under a Pub/Sub outage and two sweeps at once, is published by the sweep', { timeout: 120_000 }, async () => {
    // Prepare: seed 11 routes the restock through lib/outbox, kills the inventory process after every commit, takes Pub/Sub down (refusing) and runs sweeps in pairs.
    const world = new World({ seed: 11, subscribers: 30 });
    expect(world.inventory.plan).toMatchObject({ on: true, dieAfterCommit: 1, outage: { hang: false } });

    // Act
    const r = await world.run();

    // Assess: published at least once, and every promise (the outbox's included) held.
    expect(r.violations).toEqual([]);
    expect(world.inventory.published.has('restock-6')).toBe(true);
    expect(r.stats.outboxSweeps).toBeGreaterThan(0);
    expect(world.store.read('outbox/restock-6')?.data.state).toBe('sent');
  });

  it('a stock change rolled back after staging is never published and leaves no row', { timeout: 120_000 }, async () => {
    const world = new World({ seed: 5, subscribers: 30 });
    expect(world.inventory.plan).toMatchObject({ on: true, rollback: true });

    const r = await world.run();

    expect(r.violations).toEqual([]);
    expect([...world.inventory.rolledBack]).toEqual(['rolled-back-9']);
    expect(world.inventory.published.has('rolled-back-9')).toBe(false);
    expect(world.store.read('outbox/rolled-back-9')).toBeUndefined();
  });

  it('catches a relay that marks its rows sent before publishing them', { timeout: 240_000 }, async () => {
    // Act: the simulator against the broken relay (a child process with the load hook).
    const report = await selfTest({ maxSeeds: 10, subscribers: 30, jobs: 1, only: ['relay-marks-sent-before-publishing'] });

    // Assess: caught, by the invariant that names promise 10.
    expect(report.results.map((x) => [x.variant, x.caught, x.invariant])).toEqual([['relay-marks-sent-before-publishing', true, 'outbox-sent-means-published']]);
  });
});
