/**
 * Holding back (issue 33): a chunk's claim sends nothing to a shopper outside
 * their send window; it holds them (`held`) grouped by the instant their
 * window opens, keeps their subscription, and the held send re-checks the
 * restock when it comes due.
 */
import { describe, expect, test } from 'vitest';
import fc from 'fast-check';
import { planChunkClaim, planFirstAttempt, SIGNUP_REPLACED_ERROR, type ClaimContext, type LedgerEntry } from '../../../lib/delivery/rules.ts';
import { dedupKey, type SubscriptionDoc } from '../../../lib/model.ts';
import { parseSendWindow } from '../../../lib/send-window.ts';
import type { DeliveryTask } from '../../../lib/tasks/index.ts';

// 2026-06-01T06:00Z: 06:00 in UTC, 08:00 in Berlin, 15:00 in Tokyo, 02:00 in New York.
const NOW = Date.parse('2026-06-01T06:00:00Z');
const window = { window: parseSendWindow('08:00-21:00'), defaultTimeZone: 'UTC' };
const ctx: ClaimContext = { nowMs: NOW, leaseMs: 120_000, window };

const task = (userIds: string[], over: Partial<DeliveryTask> = {}): DeliveryTask => ({ version: 1, eventKey: 'evt', productId: 'sku', generation: 0, product: { available: 5 }, userIds, ...over });
const sub = (userId: string, timeZone?: string): SubscriptionDoc => ({
  userId,
  productId: 'sku',
  channels: { email: `${userId}@example.com` },
  createdAtMs: 1,
  updatedAtMs: 1,
  ...(timeZone ? { timeZone } : {}),
});
const keyOf = (userId: string) => dedupKey({ productId: 'sku', userId, createdAtMs: 1 }, 'email');
const heldEntry = (userId: string, heldUntilMs: number): LedgerEntry => ({
  dedupKey: keyOf(userId),
  eventKey: 'evt',
  productId: 'sku',
  userId,
  channel: 'email',
  state: 'held',
  attempts: 0,
  leaseExpiresAtMs: null,
  lastError: null,
  sentAtMs: null,
  createdAtMs: NOW - 3_600_000,
  updatedAtMs: NOW - 3_600_000,
  heldUntilMs,
});

describe('holding back a chunk outside its shoppers’ windows', () => {
  test('a shopper whose window is open is claimed; others are held until their own window opens, grouped by that instant, subscriptions kept', () => {
    const users = ['berlin', 'tokyo', 'ny-1', 'ny-2', 'default-utc'];
    const subs = [sub('berlin', 'Europe/Berlin'), sub('tokyo', 'Asia/Tokyo'), sub('ny-1', 'America/New_York'), sub('ny-2', 'America/New_York'), sub('default-utc')];
    const plan = planFirstAttempt(task(users), subs, ctx)!;

    expect(plan.claimed.map((c) => c.userId)).toEqual(['berlin', 'tokyo']);
    expect(plan.held).toBe(3);
    const nyOpens = Date.parse('2026-06-01T12:00:00Z'); // 08:00 EDT
    const utcOpens = Date.parse('2026-06-01T08:00:00Z');
    expect(plan.holds).toEqual(
      new Map([
        [nyOpens, ['ny-1', 'ny-2']],
        [utcOpens, ['default-utc']],
      ]),
    );
    const holds = plan.writes.filter((w) => w.kind === 'hold');
    expect(holds.map((w) => [w.entry.userId, w.entry.state, w.entry.heldUntilMs, w.entry.leaseExpiresAtMs])).toEqual([
      ['ny-1', 'held', nyOpens, null],
      ['ny-2', 'held', nyOpens, null],
      ['default-utc', 'held', utcOpens, null],
    ]);
    expect(plan.served).toEqual([]);
    expect(plan.renewed).toEqual([]);
    // Both ways of claiming decide the same.
    expect(planChunkClaim(task(users), subs, users.map(() => ({})), ctx)).toEqual(plan);
  });

  test('without a window, nobody is held', () => {
    const plan = planChunkClaim(task(['ny']), [sub('ny', 'America/New_York')], [{}], { nowMs: NOW, leaseMs: 120_000 });
    expect(plan.claimed).toHaveLength(1);
    expect(plan.held).toBe(0);
  });

  test('a zone the runtime does not know (stored before validation) reads as the default zone, never holds forever', () => {
    const plan = planChunkClaim(task(['x']), [sub('x', 'Mars/Olympus')], [{}], ctx);
    expect(plan.holds).toEqual(new Map([[Date.parse('2026-06-01T08:00:00Z'), ['x']]]));
  });

  test('property: the delayed tasks of a chunk are at most its distinct zones, and every held recipient is in exactly one', () => {
    const zones = ['Europe/Berlin', 'America/New_York', 'Asia/Tokyo', 'Pacific/Kiritimati', 'Etc/GMT+12', 'UTC', 'Asia/Kolkata', 'America/Los_Angeles'];
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...zones), { minLength: 1, maxLength: 200 }), fc.integer({ min: 0, max: 86_400_000 }), (userZones, offsetMs) => {
        const users = userZones.map((_, i) => `u${i}`);
        const plan = planChunkClaim(task(users), users.map((u, i) => sub(u, userZones[i])), users.map(() => ({})), { ...ctx, nowMs: NOW + offsetMs });
        expect(plan.holds.size).toBeLessThanOrEqual(new Set(userZones).size);
        const grouped = [...plan.holds.values()].flat();
        expect(grouped.length).toBe(plan.held);
        expect(new Set(grouped).size).toBe(grouped.length);
        expect(plan.claimed.length + plan.held).toBe(users.length);
        for (const [opensAtMs] of plan.holds) expect(opensAtMs).toBeGreaterThan(NOW + offsetMs - 60_000);
      }),
      { numRuns: 200 },
    );
  });
});

describe('when the held send comes due', () => {
  const opened = Date.parse('2026-06-01T12:00:00Z');
  const due: ClaimContext = { ...ctx, nowMs: opened };

  test('its window open and the restock on: the held entry is claimed and sent', () => {
    const plan = planChunkClaim(task(['ny'], { heldUntilMs: opened }), [sub('ny', 'America/New_York')], [{ email: heldEntry('ny', opened) }], due);
    expect(plan.claimed.map((c) => c.userId)).toEqual(['ny']);
    expect(plan.writes).toEqual([expect.objectContaining({ kind: 'claim', entry: expect.objectContaining({ state: 'sending' }) })]);
  });

  test.each([
    ['sold-out', "not sent: the product sold out again while the shopper's send window was closed"],
    ['superseded', "not sent: a newer restock superseded this one while the shopper's send window was closed"],
  ] as const)('the restock stopped meanwhile (%s): nothing is sent, the entry says why, the subscription stays', (reason, lastError) => {
    const plan = planChunkClaim(task(['ny'], { heldUntilMs: opened }), [sub('ny', 'America/New_York')], [{ email: heldEntry('ny', opened) }], { ...due, stopped: reason });
    expect(plan.claimed).toEqual([]);
    expect(plan.writes).toEqual([
      expect.objectContaining({ kind: 'keep', entry: expect.objectContaining({ state: 'soldOutBeforeSend', skipped: reason, heldUntilMs: opened, lastError }) }),
    ]);
    expect(plan.served).toEqual([]);
  });

  test('run a moment before the opening it was scheduled for (clock skew), it holds nothing again under its own name: the chunk is busy and retried', () => {
    const plan = planChunkClaim(task(['ny'], { heldUntilMs: opened }), [sub('ny', 'America/New_York')], [{ email: heldEntry('ny', opened) }], { ...due, nowMs: opened - 2_000 });
    expect(plan.claimed).toEqual([]);
    expect(plan.held).toBe(0);
    expect(plan.writes).toEqual([]);
    expect(plan.busy).toBe(1);
  });

  test('a retry of the chunk that held them, its windows still closed, holds them again for the same opening (the same delayed task)', () => {
    const plan = planChunkClaim(task(['ny']), [sub('ny', 'America/New_York')], [{ email: heldEntry('ny', opened) }], { ...ctx, retryCount: 1 });
    expect(plan.holds).toEqual(new Map([[opened, ['ny']]]));
    expect(plan.busy).toBe(0);
  });

  test('it never takes the first-attempt path (its chunk wrote its entries): a shopper who subscribed anew while held is claimed under the new sign-up, and the old sign-up\'s held entry closes', () => {
    const heldTask = task(['ny'], { heldUntilMs: opened });
    const renewed: SubscriptionDoc = { ...sub('ny', 'America/New_York'), createdAtMs: opened - 60_000, updatedAtMs: opened - 60_000 };
    expect(planFirstAttempt(heldTask, [renewed], due)).toBeUndefined();

    const plan = planChunkClaim(heldTask, [renewed], [{}], due, [[heldEntry('ny', opened)]]);

    expect(plan.claimed.map((c) => [c.userId, c.key])).toEqual([['ny', dedupKey({ productId: 'sku', userId: 'ny', createdAtMs: opened - 60_000 }, 'email')]]);
    expect(plan.writes).toContainEqual({ kind: 'close', key: keyOf('ny'), update: expect.objectContaining({ state: 'unsubscribed', lastError: SIGNUP_REPLACED_ERROR }) });
  });

  test('a shopper who unsubscribed while held is closed, never sent', () => {
    const plan = planChunkClaim(task(['ny'], { heldUntilMs: opened }), [undefined], [[heldEntry('ny', opened)]], due);
    expect(plan.claimed).toEqual([]);
    expect(plan.writes).toEqual([expect.objectContaining({ kind: 'close', update: expect.objectContaining({ state: 'unsubscribed' }) })]);
  });
});
