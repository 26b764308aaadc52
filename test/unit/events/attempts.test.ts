import { describe, expect, test } from 'vitest';
import { isLastPushAttempt, parseIncoming } from '../../../lib/events/index.ts';

describe('the last delivery of a Pub/Sub push before the dead-letter topic', () => {
  test("is the push whose deliveryAttempt reaches the subscription's max delivery attempts (Pub/Sub counts from 1, best effort)", () => {
    expect(isLastPushAttempt(4, 5)).toBe(false);
    expect(isLastPushAttempt(5, 5)).toBe(true);
    expect(isLastPushAttempt(6, 5)).toBe(true);
    expect(isLastPushAttempt(1, 5)).toBe(false);
  });

  test('is never a push without a count (no dead-letter policy, Eventarc, the emulator) or with a count that is not a whole number', () => {
    expect(isLastPushAttempt(undefined, 5)).toBe(false);
    expect(isLastPushAttempt(5.5, 5)).toBe(false);
    expect(isLastPushAttempt(Number.NaN, 5)).toBe(false);
  });

  test('reads deliveryAttempt from the push body Pub/Sub sends, beside message and subscription', () => {
    // Prepare: the push body of a subscription with a dead-letter policy.
    const data = Buffer.from(JSON.stringify({ type: 'inventory.updated', version: 1, productId: 'p-1', available: 3, previousAvailable: 0, sequence: 2, occurredAt: '2026-01-01T00:00:00Z' })).toString('base64');
    const body = { message: { data, messageId: 'm-1', publishTime: '2026-01-01T00:00:01Z', attributes: {} }, subscription: 'projects/p/subscriptions/s', deliveryAttempt: 5 };

    // Act
    const incoming = parseIncoming({ headers: { 'content-type': 'application/json' }, body });

    // Assess
    expect(incoming).toMatchObject({ kind: 'event', deliveryAttempt: 5 });
    expect(isLastPushAttempt(incoming.kind === 'event' ? incoming.deliveryAttempt : undefined, 5)).toBe(true);
  });
});
