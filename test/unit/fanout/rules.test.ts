/**
 * The fan-out's decisions (lib/fanout/rules.ts) and the one transition table
 * of both aggregates (lib/model.ts): settled fan-outs are left alone, a live
 * lease is respected, a fan-out fails only from `running`, and every decision
 * moves along the table.
 */
import { describe, expect, test } from 'vitest';
import fc from 'fast-check';
import { decideCheckpoint, decideFailure, decideFirstClaim, decideTakeover, pageSizeFor, replayRefusal, resetForReplay } from '../../../lib/fanout/rules.ts';
import {
  CLOSED_DELIVERY_STATES,
  DELIVERY_TRANSITIONS,
  FANOUT_STATES,
  FANOUT_TRANSITIONS,
  canMoveFanout,
  type FanoutDoc,
} from '../../../lib/model.ts';

const NOW = 1_700_000_000_000;

const fanoutArb = fc
  .record({
    state: fc.constantFrom(...FANOUT_STATES),
    leaseOwner: fc.constantFrom(null, 'me', 'other'),
    leaseDelta: fc.integer({ min: -60_000, max: 60_000 }),
    attempts: fc.integer({ min: 1, max: 5 }),
    firstTaskAtMs: fc.option(fc.integer({ min: NOW - 10_000, max: NOW }), { nil: undefined }),
  })
  .map(
    ({ state, leaseOwner, leaseDelta, attempts, firstTaskAtMs }): FanoutDoc => ({
      eventKey: 'evt',
      productId: 'sku',
      state,
      event: {},
      product: { available: 3 },
      leaseOwner,
      leaseExpiresAtMs: leaseOwner ? NOW + leaseDelta : 0,
      cursor: 'u10',
      generation: 0,
      attempts,
      pages: 1,
      chunks: 1,
      recipients: 10,
      startedAtMs: NOW - 10_000,
      updatedAtMs: NOW - 5_000,
      ...(firstTaskAtMs !== undefined ? { firstTaskAtMs } : {}),
    }),
  );

const o = { owner: 'me', nowMs: NOW, leaseMs: 60_000, ledgerShards: 256 };
const liveForeignLease = (f: FanoutDoc) => f.leaseOwner === 'other' && f.leaseExpiresAtMs > NOW;

describe('the transition tables', () => {
  test('a closed delivery state and an ignored fan-out have no way out', () => {
    for (const s of CLOSED_DELIVERY_STATES) expect(DELIVERY_TRANSITIONS[s]).toEqual([]);
    expect(FANOUT_TRANSITIONS.ignored).toEqual([]);
  });
});

describe('fan-out takeover', () => {
  test('a settled fan-out is left alone, a live foreign lease is respected, otherwise this attempt takes the lease', () => {
    fc.assert(
      fc.property(fanoutArb, (f) => {
        const d = decideTakeover(f, o);
        if (f.state !== 'running') expect(d).toEqual({ kind: 'done', fanout: f });
        else if (liveForeignLease(f)) expect(d).toEqual({ kind: 'held', leaseExpiresAtMs: f.leaseExpiresAtMs });
        else {
          expect(d).toMatchObject({ kind: 'run', fanout: { state: 'running', leaseOwner: 'me', leaseExpiresAtMs: NOW + 60_000, attempts: f.attempts + 1 } });
        }
      }),
    );
  });
});

describe('fan-out failure', () => {
  test('only a running fan-out whose lease is free or ours ends failed, with its error and its lease released', () => {
    fc.assert(
      fc.property(fanoutArb, fc.string({ minLength: 1 }), (f, error) => {
        const next = decideFailure(f, error, o);
        if (f.state !== 'running' || liveForeignLease(f)) expect(next).toBeUndefined();
        else {
          expect(next).toMatchObject({ state: 'failed', error, leaseOwner: null, leaseExpiresAtMs: 0, completedAtMs: NOW });
          expect(canMoveFanout(f.state, next!.state)).toBe(true);
        }
      }),
    );
  });

  test('a failed fan-out is replayable, and its replay starts a new generation from the first subscriber without the old error', () => {
    const failed: FanoutDoc = { ...fc.sample(fanoutArb, 1)[0]!, state: 'failed', error: 'EnqueueError: PERMISSION_DENIED', leaseOwner: null, leaseExpiresAtMs: 0 };

    expect(replayRefusal(failed, NOW)).toBeUndefined();
    const reset = resetForReplay(failed);

    expect(reset).toMatchObject({ state: 'running', generation: failed.generation + 1, cursor: null, pages: 0, chunks: 0, recipients: 0 });
    expect(reset.error).toBeUndefined();
    expect(decideTakeover(reset, o).kind).toBe('run');
  });

  test('a fan-out started, or replayed, now is marked as one whose chunks get receipts (restock status counts them only then)', () => {
    const { chunkReceipts: _none, ...older }: FanoutDoc = { ...fc.sample(fanoutArb, 1)[0]!, state: 'complete' };
    const event = { type: 'inventory.updated' as const, version: 1 as const, productId: 'p-1', available: 5, previousAvailable: 0, sequence: 2, occurredAt: '2026-01-01T00:00:00Z' };

    expect(decideFirstClaim({ eventKey: 'e-1', event }, undefined, { ...o, threshold: 0 }).result.fanout.chunkReceipts).toBe(true);
    expect(resetForReplay(older).chunkReceipts).toBe(true);
  });
});

describe('fan-out checkpoint', () => {
  test('only the lease owner of a running fan-out checkpoints; finish completes, release hands the lease back, the first task time is kept', () => {
    fc.assert(
      fc.property(fanoutArb, fc.constantFrom('renew' as const, 'release' as const, 'finish' as const), (f, mode) => {
        const progress = { cursor: 'u20', pages: 2, chunks: 2, recipients: 20, firstTaskAtMs: NOW };
        const next = decideCheckpoint(f, progress, mode, o);
        if (f.leaseOwner !== 'me' || f.state !== 'running') {
          expect(next).toBe('lost');
          return;
        }
        if (next === 'lost') throw new Error('owner lost its own lease');
        expect(canMoveFanout(f.state, next.state)).toBe(true);
        expect(next.state).toBe(mode === 'finish' ? 'complete' : 'running');
        expect(next.leaseOwner).toBe(mode === 'renew' ? 'me' : null);
        expect(next.firstTaskAtMs).toBe(f.firstTaskAtMs ?? NOW);
        expect(next).toMatchObject({ cursor: 'u20', pages: 2, chunks: 2, recipients: 20 });
      }),
    );
  });
});

describe('pageSizeFor', () => {
  test('the first page of a chain from the first subscriber is one chunk (promise 9), every later page a whole page', () => {
    expect(pageSizeFor(true, { chunkSize: 100, pageSize: 1000 })).toBe(100);
    expect(pageSizeFor(false, { chunkSize: 100, pageSize: 1000 })).toBe(1000);
  });

  test('a page smaller than a chunk bounds the first page too', () => {
    expect(pageSizeFor(true, { chunkSize: 500, pageSize: 200 })).toBe(200);
  });
});
