/**
 * The ledger's decisions (lib/delivery/rules.ts), over any input: the
 * first-attempt path and the transactional path claim the same, a closed
 * state never reopens, and only the domain's redrivable states are redriven.
 */
import { describe, expect, test } from 'vitest';
import fc from 'fast-check';
import {
  isRedrivable,
  mayClaim,
  NotRedrivableError,
  planChunkClaim,
  planFirstAttempt,
  planRedrive,
  redriveStates,
  type ClaimPlan,
  type ClaimContext,
  type LedgerEntry,
} from '../../../lib/delivery/rules.ts';
import {
  CHANNELS,
  CLOSED_DELIVERY_STATES,
  DELIVERY_STATES,
  REDRIVABLE_DELIVERY_STATES,
  canMoveDelivery,
  dedupKey,
  type Channel,
  type DeliveryState,
  type SubscriptionDoc,
} from '../../../lib/model.ts';
import type { DeliveryTask } from '../../../lib/tasks/index.ts';

const NOW = 1_700_000_000_000;
const ctx = { nowMs: NOW, leaseMs: 120_000 };

const userId = fc.constantFrom('u1', 'u2', 'u3', 'u4', 'u5');
const state = fc.constantFrom(...DELIVERY_STATES);
const channels = fc.record({ email: fc.option(fc.constant('a@example.com'), { nil: undefined }), push: fc.option(fc.constant('tok'), { nil: undefined }) });

/** The sign-up every subscription of the world has (`createdAtMs` 0), so its entries' keys. */
const signupKey = (user: string, channel: Channel) => dedupKey({ productId: 'sku', userId: user, createdAtMs: 0 }, channel);

/** Ledger entries per channel, as the transactional path reads a subscribed recipient's. */
type ByChannel = Partial<Record<Channel, LedgerEntry>>;

function entryArb(user: string, channel: Channel) {
  // `evt0` is an earlier restock that reached the same sign-up (promise 15).
  return fc.record({ state, leaseDelta: fc.integer({ min: -300_000, max: 300_000 }), attempts: fc.integer({ min: 1, max: 10 }), eventKey: fc.constantFrom('evt', 'evt0') }).map(
    ({ state, leaseDelta, attempts, eventKey }): LedgerEntry => ({
      dedupKey: signupKey(user, channel),
      eventKey,
      productId: 'sku',
      userId: user,
      channel,
      state,
      attempts,
      leaseExpiresAtMs: state === 'sending' ? NOW + leaseDelta : null,
      lastError: null,
      sentAtMs: null,
      createdAtMs: NOW - 1000,
      updatedAtMs: NOW - 1000,
    }),
  );
}

/** A chunk (possibly with repeated recipients), each recipient's subscription (or none) and ledger entries (or none). */
const world = fc
  .record({ userIds: fc.array(userId, { minLength: 1, maxLength: 6 }), redrive: fc.boolean() })
  .chain(({ userIds, redrive }) => {
    const distinct: string[] = [...new Set<string>(userIds)];
    return fc.record({
      task: fc.constant<DeliveryTask>({
        version: 1,
        eventKey: 'evt',
        productId: 'sku',
        generation: 0,
        product: { available: 3 },
        userIds,
        ...(redrive ? { redriveRunId: 'run1' } : {}),
      }),
      subs: fc.tuple(
        ...distinct.map((u) =>
          fc.option(
            channels.map((c): SubscriptionDoc => ({ userId: u, productId: 'sku', channels: Object.fromEntries(Object.entries(c).filter(([, v]) => v)), createdAtMs: 0, updatedAtMs: 0 })),
            { nil: undefined },
          ),
        ),
      ),
      ledgers: fc.tuple(
        ...distinct.map((u) =>
          fc.record(Object.fromEntries(CHANNELS.map((c) => [c, fc.option(entryArb(u, c), { nil: undefined })])) as Record<Channel, fc.Arbitrary<LedgerEntry | undefined>>),
        ),
      ),
    }).map(({ task, subs, ledgers }) => {
      const subOf = new Map(distinct.map((u, i) => [u, subs[i]]));
      const ledgerOf = new Map(
        distinct.map((u, i) => [u, Object.fromEntries(Object.entries(ledgers[i]!).filter(([, e]) => e !== undefined)) as ByChannel]),
      );
      return { task, subs: task.userIds.map((u) => subOf.get(u)), ledgers: task.userIds.map((u) => ledgerOf.get(u)!) };
    });
  });

/**
 * What the store does on a first attempt: try the first-attempt plan, whose
 * commit creates every claimed entry on the condition that none exists; if
 * it cannot be tried or the commit would fail, run the transactional plan.
 */
function claimAsTheStoreDoes(task: DeliveryTask, subs: (SubscriptionDoc | undefined)[], ledgers: ByChannel[], c: ClaimContext = ctx): ClaimPlan {
  const existing = new Set(ledgers.flatMap((l) => Object.values(l).map((e) => e!.dedupKey)));
  const first = planFirstAttempt(task, subs, c);
  if (first?.writes.every((w) => w.kind !== 'close' && w.create && !existing.has(w.key))) return first;
  return planChunkClaim(task, subs, ledgers, c);
}

/** States in which an entry still waits for an attempt to settle it. */
const OPEN_STATES: readonly DeliveryState[] = ['sending', 'failed', 'held'];

/** Whether a subscribed recipient has an open ledger entry on a channel its subscription no longer has. */
function hasOpenEntryOnDroppedChannel(subs: (SubscriptionDoc | undefined)[], ledgers: ByChannel[]): boolean {
  return subs.some((sub, i) => sub !== undefined && CHANNELS.some((c) => !sub.channels[c] && OPEN_STATES.includes(ledgers[i]?.[c]?.state as DeliveryState)));
}

function ledgerState(ledgers: ByChannel[], key: string): DeliveryState | undefined {
  for (const l of ledgers) for (const e of Object.values(l)) if (e?.dedupKey === key) return e.state;
  return undefined;
}

describe('the ledger claim decision', () => {
  test('the first-attempt path and the transactional path claim exactly the same, unless an open entry sits on a channel the shopper dropped', () => {
    fc.assert(
      fc.property(world, ({ task, subs, ledgers }) => {
        // The one thing a create-only commit cannot see: the next test covers who closes it.
        fc.pre(!hasOpenEntryOnDroppedChannel(subs, ledgers));
        expect(claimAsTheStoreDoes(task, subs, ledgers)).toEqual(planChunkClaim(task, subs, ledgers, ctx));
      }),
      { numRuns: 1000 },
    );
  });

  test('a retry or a redrive never takes the first-attempt path, and its transaction closes every open entry on a dropped channel', () => {
    fc.assert(
      fc.property(world, fc.integer({ min: 0, max: 5 }), ({ task, subs, ledgers }, retryCount) => {
        const retryCtx = { ...ctx, retryCount };
        if (retryCount > 0 || task.redriveRunId !== undefined) expect(planFirstAttempt(task, subs, retryCtx)).toBeUndefined();
        const plan = planChunkClaim(task, subs, ledgers, retryCtx);
        task.userIds.forEach((userId, i) => {
          const sub = subs[i];
          if (!sub) return;
          for (const channel of CHANNELS) {
            const entry = ledgers[i]?.[channel];
            if (sub.channels[channel] || !entry || !OPEN_STATES.includes(entry.state) || (entry.leaseExpiresAtMs ?? 0) > NOW) continue;
            expect(plan.writes).toContainEqual(expect.objectContaining({ kind: 'close', key: signupKey(userId, channel) }));
          }
        });
      }),
      { numRuns: 1000 },
    );
  });

  test('the first-attempt plan is the transactional plan of an empty ledger, and is refused when a subscription is gone, a recipient repeats or the task is a redrive\'s', () => {
    fc.assert(
      fc.property(world, ({ task, subs }) => {
        const first = planFirstAttempt(task, subs, ctx);
        const repeated = new Set(task.userIds).size !== task.userIds.length;
        if (repeated || subs.some((s) => s === undefined) || task.redriveRunId !== undefined) expect(first).toBeUndefined();
        else expect(first).toEqual(planChunkClaim(task, subs, task.userIds.map(() => ({})), ctx));
      }),
    );
  });

  test('a closed state (sent, rejected, unsubscribed) never reopens; exhausted reopens only for a redrive task or another restock, soldOutBeforeSend only for another restock', () => {
    fc.assert(
      fc.property(world, ({ task, subs, ledgers }) => {
        const plan = planChunkClaim(task, subs, ledgers, ctx);
        for (const w of plan.writes) {
          const from = ledgerState(ledgers, w.key);
          const entry = ledgers.flatMap((l) => Object.values(l)).find((e) => e?.dedupKey === w.key);
          expect(from === undefined || !CLOSED_DELIVERY_STATES.includes(from)).toBe(true);
          if (from === 'exhausted' && w.kind === 'claim') expect(task.redriveRunId !== undefined || entry?.eventKey !== task.eventKey).toBe(true);
          if (from === 'soldOutBeforeSend') expect(entry?.eventKey).not.toBe(task.eventKey);
        }
      }),
      { numRuns: 1000 },
    );
  });

  test('a restock that stopped claims nothing: what it would have taken ends soldOutBeforeSend, and no subscription is removed for it', () => {
    fc.assert(
      fc.property(world, fc.constantFrom('sold-out' as const, 'superseded' as const), ({ task, subs, ledgers }, stopped) => {
        const on = planChunkClaim(task, subs, ledgers, ctx);
        const off = planChunkClaim(task, subs, ledgers, { ...ctx, stopped });
        expect(off.claimed).toEqual([]);
        expect(off.renewed).toEqual([]);
        for (const w of off.writes) if (w.kind !== 'close') expect(w.entry).toMatchObject({ state: 'soldOutBeforeSend', leaseExpiresAtMs: null });
        // It keeps only places it would have claimed, each counted.
        const keeps = off.writes.filter((w) => w.kind === 'keep');
        expect(off.soldOutBeforeSend).toBe(keeps.length);
        const claimedOn = new Set(on.writes.filter((w) => w.kind === 'claim').map((w) => w.key));
        for (const w of keeps) expect(claimedOn.has(w.key)).toBe(true);
        // And both paths still agree.
        fc.pre(!hasOpenEntryOnDroppedChannel(subs, ledgers));
        expect(claimAsTheStoreDoes(task, subs, ledgers, { ...ctx, stopped })).toEqual(off);
      }),
      { numRuns: 1000 },
    );
  });

  test("another restock's claim still sending the same sign-up makes the chunk busy, and one it sent or rejected is settled: the sign-up is told once", () => {
    const task: DeliveryTask = { version: 1, eventKey: 'evt', productId: 'sku', generation: 0, product: { available: 1 }, userIds: ['u1'] };
    const sub: SubscriptionDoc = { userId: 'u1', productId: 'sku', channels: { email: 'a@example.com' }, createdAtMs: 0, updatedAtMs: 0 };
    const entry = (state: DeliveryState, leaseExpiresAtMs: number | null): LedgerEntry => ({
      dedupKey: signupKey('u1', 'email'), eventKey: 'evt0', productId: 'sku', userId: 'u1', channel: 'email', state, attempts: 1, leaseExpiresAtMs, lastError: null, sentAtMs: null, createdAtMs: NOW - 5, updatedAtMs: NOW - 5,
    });
    expect(planChunkClaim(task, [sub], [{ email: entry('sending', NOW + 1000) }], ctx)).toMatchObject({ busy: 1, claimed: [] });
    expect(planChunkClaim(task, [sub], [{ email: entry('sent', null) }], ctx)).toMatchObject({ busy: 0, alreadySettled: 1, claimed: [] });
    expect(planChunkClaim(task, [sub], [{ email: entry('soldOutBeforeSend', null) }], ctx).claimed).toHaveLength(1);
    expect(planChunkClaim(task, [sub], [{ email: entry('exhausted', null) }], ctx).claimed).toHaveLength(1);
  });

  test('every write the claim plans is a transition the table allows', () => {
    fc.assert(
      fc.property(world, ({ task, subs, ledgers }) => {
        for (const w of planChunkClaim(task, subs, ledgers, ctx).writes) {
          const to = w.kind === 'close' ? w.update.state : w.entry.state;
          expect(canMoveDelivery(ledgerState(ledgers, w.key), to), `${ledgerState(ledgers, w.key)} -> ${to}`).toBe(true);
        }
      }),
      { numRuns: 1000 },
    );
  });

  test('a live lease is never claimed; it counts as busy', () => {
    fc.assert(
      fc.property(world, ({ task, subs, ledgers }) => {
        const claimed = new Set(planChunkClaim(task, subs, ledgers, ctx).claimed.map((c) => c.key));
        for (const l of ledgers) for (const e of Object.values(l) as LedgerEntry[]) if (e.state === 'sending' && e.leaseExpiresAtMs! > NOW) expect(claimed.has(e.dedupKey)).toBe(false);
      }),
    );
  });

  test('an entry left open by a shopper who has since unsubscribed ends unsubscribed, not rejected', () => {
    const task: DeliveryTask = { version: 1, eventKey: 'evt', productId: 'sku', generation: 0, product: { available: 1 }, userIds: ['u1'] };
    const failed: LedgerEntry = { dedupKey: signupKey('u1', 'email'), eventKey: 'evt', productId: 'sku', userId: 'u1', channel: 'email', state: 'failed', attempts: 2, leaseExpiresAtMs: null, lastError: '503', sentAtMs: null, createdAtMs: NOW, updatedAtMs: NOW };

    const plan = planChunkClaim(task, [undefined], [{ email: failed }], ctx);

    expect(plan.writes).toEqual([{ kind: 'close', key: failed.dedupKey, update: expect.objectContaining({ state: 'unsubscribed', leaseExpiresAtMs: null }) }]);
    expect(plan).toMatchObject({ unsubscribed: 1, alreadySettled: 0, busy: 0, claimed: [] });
  });
});

describe('a subscription served by an earlier attempt (promise 6)', () => {
  const task: DeliveryTask = { version: 1, eventKey: 'evt', productId: 'sku', generation: 0, product: { available: 1 }, userIds: ['u1'] };
  const sentEmail = (updatedAtMs: number): LedgerEntry => ({
    dedupKey: dedupKey({ productId: 'sku', userId: 'u1', createdAtMs: NOW - 120_000 }, 'email'), eventKey: 'evt', productId: 'sku', userId: 'u1', channel: 'email', state: 'sent',
    attempts: 1, leaseExpiresAtMs: null, lastError: null, sentAtMs: updatedAtMs, createdAtMs: NOW - 60_000, updatedAtMs,
  });
  const emailOnly = (updatedAtMs: number): SubscriptionDoc => ({ userId: 'u1', productId: 'sku', channels: { email: 'a@example.com' }, createdAtMs: NOW - 120_000, updatedAtMs });

  test('a shopper who dropped a channel while the other was being sent is removed once every channel left is settled', () => {
    // Subscribed again (email only) at NOW-30s, after the claim; email was recorded sent at NOW-10s.
    const plan = planChunkClaim(task, [emailOnly(NOW - 30_000)], [{ email: sentEmail(NOW - 10_000) }], ctx);

    expect(plan.served).toEqual(['u1']);
    expect(plan.claimed).toEqual([]);
  });

  test('a shopper who subscribed again after being told keeps the new subscription for the next restock', () => {
    const plan = planChunkClaim(task, [emailOnly(NOW - 5_000)], [{ email: sentEmail(NOW - 10_000) }], ctx);

    expect(plan.served).toEqual([]);
  });
});

describe('redrive, a rule of the domain', () => {
  test('only exhausted, failed and sending can be asked for; any other state is refused whoever calls', () => {
    expect(redriveStates([])).toEqual(['exhausted']);
    expect(redriveStates(['failed', 'exhausted', 'failed'])).toEqual(['failed', 'exhausted']);
    for (const s of ['sent', 'rejected', 'unsubscribed', 'bogus']) expect(() => redriveStates([s])).toThrow(NotRedrivableError);
    expect(() => redriveStates(['exhausted', 'sent'])).toThrow(/"sent" cannot be redriven/);
  });

  test('an entry is redrivable exactly when it is exhausted, failed, or sending past its lease', () => {
    fc.assert(
      fc.property(state, fc.integer({ min: -300_000, max: 300_000 }), (s, leaseDelta) => {
        const entry = { state: s, leaseExpiresAtMs: s === 'sending' ? NOW + leaseDelta : null };
        const expected = s === 'exhausted' || s === 'failed' || (s === 'sending' && leaseDelta <= 0);
        expect(isRedrivable(entry, NOW)).toBe(expected);
      }),
    );
  });

  test("redrive's plan takes only redrivable entries of the asked states, each recipient once", () => {
    const entries = fc.array(
      fc.record({ userId, state, leaseExpiresAtMs: fc.option(fc.integer({ min: NOW - 10_000, max: NOW + 10_000 }), { nil: null }) }),
      { maxLength: 20 },
    );
    fc.assert(
      fc.property(entries, fc.subarray([...REDRIVABLE_DELIVERY_STATES], { minLength: 1 }), (page, states) => {
        const { picked, userIds } = planRedrive(page, states, NOW);
        for (const e of picked) {
          expect(states).toContain(e.state);
          expect(isRedrivable(e, NOW)).toBe(true);
        }
        expect(new Set(userIds).size).toBe(userIds.length);
        expect(new Set(userIds)).toEqual(new Set(picked.map((e) => e.userId)));
      }),
    );
  });

  test('a redrive task may claim exhausted entries; an ordinary retry may not', () => {
    const exhausted = { state: 'exhausted' as const, leaseExpiresAtMs: null, eventKey: 'e1' };
    expect(mayClaim(exhausted, { redriveRunId: 'r1', eventKey: 'e1' }, NOW)).toBe(true);
    expect(mayClaim(exhausted, { eventKey: 'e1' }, NOW)).toBe(false);
    // The next restock of the same sign-up tries again (a failed send keeps the subscription, promise 6).
    expect(mayClaim(exhausted, { eventKey: 'e2' }, NOW)).toBe(true);
    for (const s of CLOSED_DELIVERY_STATES) expect(mayClaim({ state: s, leaseExpiresAtMs: null, eventKey: 'e1' }, { redriveRunId: 'r1', eventKey: 'e2' }, NOW)).toBe(false);
  });
});
