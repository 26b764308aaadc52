import { describe, expect, test } from 'vitest';
import { backoffMs, claimDecision, newRow, OutboxValidationError, publishability, settleDecision, settlementFor, stockChangeEvent, type Settlement } from '../../../lib/outbox/index.ts';

const NOW = 1_800_000_000_000;
const policy = { maxAttempts: 3, backoffMinMs: 1000, backoffMaxMs: 5000, sentTtlMs: 60_000 };
const { event } = stockChangeEvent({ productId: 'sku-1', available: 4 }, { available: 0, sequence: 6, name: 'Boot' }, NOW);
const row = newRow('e-1', event, NOW);

describe('stockChangeEvent', () => {
  test('takes the next sequence of the item, its previous level and its stored product details', () => {
    expect(event).toMatchObject({ type: 'inventory.updated', version: 1, productId: 'sku-1', available: 4, previousAvailable: 0, sequence: 7, product: { name: 'Boot' } });
  });

  test('starts a new item at sequence 1 with no previous level', () => {
    const first = stockChangeEvent({ productId: 'sku-new', available: 2 }, undefined, NOW).event;
    expect(first.sequence).toBe(1);
    expect(first).not.toHaveProperty('previousAvailable');
  });

  test.each([
    [{ productId: 'sku-1', available: -1 }, 'available', 'must not be negative'],
    [{ productId: 'sku-1', available: 2.5 }, 'available', 'must be a whole number'],
    [{ productId: 'a/b', available: 1 }, 'productId', expect.stringContaining('document id')],
    [{ productId: 'sku-1', available: 1, product: { url: 'nope' } }, 'product.url', 'must be an https: URL'],
  ])('refuses %j naming %s', (change, field, problem) => {
    const attempt = () => stockChangeEvent(change, undefined, NOW);
    expect(attempt).toThrow(OutboxValidationError);
    try {
      attempt();
    } catch (err) {
      expect(err).toMatchObject({ name: 'OutboxValidationError', field, problem });
    }
  });
});

describe('claimDecision', () => {
  test.each([
    [{ state: 'pending', nextAttemptAtMs: NOW, leaseExpiresAtMs: null }, false, { claim: true }],
    [{ state: 'pending', nextAttemptAtMs: NOW + 1, leaseExpiresAtMs: null }, false, { claim: false, reason: 'not-due' }],
    [{ state: 'pending', nextAttemptAtMs: NOW + 1, leaseExpiresAtMs: null }, true, { claim: true }],
    [{ state: 'pending', nextAttemptAtMs: NOW - 5, leaseExpiresAtMs: NOW + 1 }, true, { claim: false, reason: 'leased' }],
    [{ state: 'pending', nextAttemptAtMs: NOW, leaseExpiresAtMs: NOW }, false, { claim: true }],
    [{ state: 'sent', nextAttemptAtMs: 0, leaseExpiresAtMs: null }, true, { claim: false, reason: 'sent' }],
    [{ state: 'failed', nextAttemptAtMs: 0, leaseExpiresAtMs: null }, false, { claim: false, reason: 'failed' }],
  ] as const)('%j (fast path %s) → %j', (r, fast, expected) => {
    expect(claimDecision(r, NOW, fast)).toEqual(expected);
  });
});

describe('publishability', () => {
  test('a stored event becomes a message whose eventId attribute is the row id', () => {
    const result = publishability(row);
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.message.attributes).toEqual({ eventId: 'e-1', productId: 'sku-1', sequence: '7' });
    expect(JSON.parse(result.message.data.toString())).toMatchObject({ productId: 'sku-1', sequence: 7 });
  });

  test.each([
    ['an event edited into nonsense', { ...row, event: { productId: 'sku-1', available: 'lots', sequence: 7 } }, /^event\.available: /],
    ['an event for another product', { ...row, event: { ...event, productId: 'sku-2' } }, /^event\.productId: /],
    ['an event the consumer would refuse as too large', { ...row, event: { ...event, product: { name: 'x'.repeat(400), url: `https://x.example/${'y'.repeat(1990)}` } } }, /must be at most|bytes/],
    ['an eventId that cannot be a document id', { ...row, eventId: 'a/b' }, /^eventId: /],
  ])('refuses %s with its reason', (_, r, reason) => {
    const result = publishability(r);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.reason).toMatch(reason);
  });
});

describe('settlementFor', () => {
  test('a publish makes the row sent, with its TTL', () => {
    expect(settlementFor(row, { kind: 'published', messageId: 'm', path: 'sweep' }, NOW, policy)).toEqual({ eventId: 'e-1', state: 'sent', publishedAtMs: NOW, messageId: 'm', publishedBy: 'sweep', expireAtMs: NOW + 60_000 });
  });

  test('an unpublishable row fails at once, whatever attempts are left', () => {
    expect(settlementFor(row, { kind: 'unpublishable', reason: 'event.available: bad' }, NOW, policy)).toEqual({ eventId: 'e-1', state: 'failed', attempts: 1, lastError: 'unpublishable: event.available: bad' });
  });

  test('a failed publish backs off, doubling, and fails once the attempts are used', () => {
    const fail = { kind: 'publish-failed', error: 'UNAVAILABLE' } as const;
    expect(settlementFor({ eventId: 'e-1', attempts: 0 }, fail, NOW, policy)).toMatchObject({ state: 'pending', attempts: 1, nextAttemptAtMs: NOW + 1000 });
    expect(settlementFor({ eventId: 'e-1', attempts: 1 }, fail, NOW, policy)).toMatchObject({ state: 'pending', attempts: 2, nextAttemptAtMs: NOW + 2000 });
    expect(settlementFor({ eventId: 'e-1', attempts: 2 }, fail, NOW, policy)).toMatchObject({ state: 'failed', attempts: 3 });
  });

  test('the back-off is capped', () => {
    expect(backoffMs(10, policy)).toBe(5000);
  });
});

describe('settleDecision', () => {
  const sent: Settlement = { eventId: 'e-1', state: 'sent', publishedAtMs: NOW, messageId: 'm', publishedBy: 'sweep', expireAtMs: NOW };
  const retry: Settlement = { eventId: 'e-1', state: 'pending', attempts: 1, nextAttemptAtMs: NOW, lastError: 'x' };

  test('a publish is recorded even by a relay that lost its lease, but never over an earlier record of it', () => {
    expect(settleDecision({ state: 'pending', leaseOwner: 'other' }, 'me', sent)).toBe(true);
    expect(settleDecision({ state: 'failed', leaseOwner: null }, 'me', sent)).toBe(true);
    expect(settleDecision({ state: 'sent', leaseOwner: null }, 'me', sent)).toBe(false);
  });

  test('a failure is recorded only by the lease holder of a pending row', () => {
    expect(settleDecision({ state: 'pending', leaseOwner: 'me' }, 'me', retry)).toBe(true);
    expect(settleDecision({ state: 'pending', leaseOwner: 'other' }, 'me', retry)).toBe(false);
    expect(settleDecision({ state: 'sent', leaseOwner: null }, 'me', retry)).toBe(false);
    expect(settleDecision(undefined, 'me', retry)).toBe(false);
  });
});
