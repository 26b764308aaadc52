/**
 * The rules of double opt-in as pure functions (lib/subscriptions/consent.ts,
 * pending-store.ts `confirmDecision`), the confirmation link's own purpose
 * (lib/unsubscribe/token.ts), the limit's slots (lib/consent/limit.ts) and the
 * PUT path over in-memory stores (lib/subscriptions/pending.ts).
 */
import { Timestamp } from '@google-cloud/firestore';
import { describe, expect, it } from 'vitest';
import { addressDigest, slotIds } from '../../../lib/consent/limit.ts';
import type { PendingSubscriptionDoc, SubscriptionDoc } from '../../../lib/model.ts';
import {
  ConfirmationRateLimitedError,
  channelsToConfirm,
  confirmDecision,
  consentRecordOf,
  planPut,
  putPending,
  type ConfirmationMessage,
  type PendingStore,
  SubscriptionLimitError,
  type SubscriptionVersion,
} from '../../../lib/subscriptions/index.ts';
import { InvalidRequestError } from '../../../lib/http/index.ts';
import { InvalidConfirmTokenError, InvalidUnsubscribeTokenError, ExpiredConfirmTokenError, openLinkToken, openUnsubscribeToken, sealLinkToken, sealUnsubscribeToken } from '../../../lib/unsubscribe/token.ts';

const KEYS = ['a-test-only-link-key-0123456789abcdef0123'];
const sub = (channels: SubscriptionDoc['channels'], consent?: SubscriptionDoc['consent']): SubscriptionDoc => ({ userId: 'u', productId: 'p', channels, createdAtMs: 1, updatedAtMs: 1, ...(consent ? { consent } : {}) });

describe('which addresses need confirming', () => {
  it('an unvouched email under double opt-in does; push, a verified email and an address the subscription already holds do not', () => {
    expect(channelsToConfirm({ channels: { email: 'a@x.io', push: 't' } }, undefined, ['email'])).toEqual(['email']);
    expect(channelsToConfirm({ channels: { email: 'a@x.io' }, consent: { verified: ['email'] } }, undefined, ['email'])).toEqual([]);
    expect(channelsToConfirm({ channels: { email: 'a@x.io' } }, sub({ email: 'a@x.io' }), ['email'])).toEqual([]);
    expect(channelsToConfirm({ channels: { email: 'b@x.io' } }, sub({ email: 'a@x.io' }), ['email'])).toEqual(['email']);
    expect(channelsToConfirm({ channels: { email: 'a@x.io' } }, undefined, [])).toEqual([]);
  });

  it('the consent record says how each address is vouched for, keeping the method of an address already held', () => {
    const at = { nowMs: 5, storefront: 'shop@p.iam.gserviceaccount.com' };
    expect(consentRecordOf({ channels: { email: 'a@x.io', push: 't' }, consent: { wording: 'v2', verified: ['push'] } }, undefined, ['email'], at)).toEqual({
      givenAtMs: 5,
      storefront: 'shop@p.iam.gserviceaccount.com',
      wording: 'v2',
      channels: { email: 'confirmed', push: 'storefront-verified' },
    });
    const held = sub({ email: 'a@x.io' }, { givenAtMs: 1, storefront: 's', channels: { email: 'confirmed' }, confirmedAtMs: 3 });
    expect(consentRecordOf({ channels: { email: 'a@x.io' } }, held, ['email'], at)).toMatchObject({ channels: { email: 'confirmed' }, confirmedAtMs: 3 });
  });
});

describe('a repeated PUT and its consent record', () => {
  const storefront = 'shop@p.iam.gserviceaccount.com';
  const policyAt = (nowMs: number, request: Parameters<typeof consentRecordOf>[0], by = storefront) => ({
    restockThreshold: 0,
    maxSubscriptionsPerUser: 10,
    nowMs,
    consent: (existing: SubscriptionDoc | undefined) => consentRecordOf(request, existing, ['email'], { nowMs, storefront: by }),
  });
  const first = { channels: { email: 'a@x.io' }, consent: { wording: 'v1', verified: ['email' as const] } };
  const held = sub({ email: 'a@x.io' }, consentRecordOf(first, undefined, ['email'], { nowMs: 1, storefront }));

  it('the same addresses and the same consent again write nothing', () => {
    expect(planPut(held, undefined, 'p', 'u', first, policyAt(9, first))).toEqual({ kind: 'unchanged', subscription: held });
  });

  it('a new wording alone replaces the consent record (the consent record must capture what the shopper saw)', () => {
    const again = { ...first, consent: { ...first.consent, wording: 'v2' } };
    expect(planPut(held, undefined, 'p', 'u', again, policyAt(9, again))).toEqual({
      kind: 'replace',
      subscription: { ...held, updatedAtMs: 9, consent: { givenAtMs: 9, storefront, wording: 'v2', channels: { email: 'storefront-verified' } } },
    });
  });

  it('another storefront asking, or a subscription without a record, records the consent given now', () => {
    expect(planPut(held, undefined, 'p', 'u', first, policyAt(9, first, 'other@p.iam.gserviceaccount.com')).kind).toBe('replace');
    const legacy = sub({ email: 'a@x.io' });
    const plain = { channels: { email: 'a@x.io' } };
    expect(planPut(legacy, undefined, 'p', 'u', plain, policyAt(9, plain))).toEqual({
      kind: 'replace',
      subscription: { ...legacy, updatedAtMs: 9, consent: { givenAtMs: 9, storefront, channels: { email: 'not-required' } } },
    });
  });
});

describe('what a confirmation does', () => {
  const pending = { createdAtMs: 100, expireAt: Timestamp.fromMillis(1_000) };
  it('confirms only the request the link named, unexpired, not over a later subscription', () => {
    expect(confirmDecision(pending, 100, 500)).toBe('confirm');
    expect(confirmDecision(undefined, 100, 500)).toBe('already-gone');
    expect(confirmDecision(pending, 99, 500)).toBe('later-request-kept');
    expect(confirmDecision(pending, 100, 1_000)).toBe('expired');
    expect(confirmDecision(pending, 100, 500, 200)).toBe('drop');
    expect(confirmDecision(pending, 100, 500, 50)).toBe('confirm');
  });
});

describe('the confirmation link', () => {
  const claims = { productId: 'p', userId: 'u', generation: 100, issuedAtMs: 1_000 };
  it('is its own purpose: a confirmation token never opens as an unsubscribe token, nor the reverse', () => {
    const confirm = sealLinkToken('confirm', claims, KEYS);
    expect(confirm.startsWith('c2.')).toBe(true);
    expect(openLinkToken('confirm', confirm, KEYS, { nowMs: 2_000, maxAgeMs: 10_000 })).toEqual(claims);
    expect(() => openUnsubscribeToken(confirm, KEYS, { nowMs: 2_000, maxAgeMs: 10_000 })).toThrow(InvalidUnsubscribeTokenError);
    // The same bytes under the other prefix do not open either: the key differs per purpose.
    const forged = `u2.${confirm.slice(3)}`;
    expect(() => openUnsubscribeToken(forged, KEYS, { nowMs: 2_000, maxAgeMs: 10_000 })).toThrow(/does not open/);
    expect(() => openLinkToken('confirm', sealUnsubscribeToken(claims, KEYS), KEYS, { nowMs: 2_000, maxAgeMs: 10_000 })).toThrow(InvalidConfirmTokenError);
  });

  it('expires with the pending request', () => {
    const token = sealLinkToken('confirm', claims, KEYS);
    expect(() => openLinkToken('confirm', token, KEYS, { nowMs: 1_000 + 7_200_001, maxAgeMs: 7_200_000 })).toThrow(ExpiredConfirmTokenError);
    expect(() => openLinkToken('confirm', token, KEYS, { nowMs: 1_000 + 7_200_001, maxAgeMs: 7_200_000 })).toThrow(/2 hours/);
  });
});

describe('the per-address limit', () => {
  it("names an address by a keyed hash, case-folded, and gives it N slots a UTC day", () => {
    expect(addressDigest('k1', 'email', 'Ann@X.io')).toBe(addressDigest('k1', 'email', 'ann@x.io'));
    expect(addressDigest('k1', 'email', 'ann@x.io')).not.toBe(addressDigest('k2', 'email', 'ann@x.io'));
    expect(addressDigest('k1', 'email', 'ann@x.io')).not.toContain('ann');
    const day = 86_400_000;
    expect(slotIds('d', 3 * day + 5, 2)).toEqual(['d-3-0', 'd-3-1']);
    expect(slotIds('d', 4 * day, 2)).toEqual(['d-4-0', 'd-4-1']);
  });
});

/** An in-memory {@link PendingStore} with Firestore's preconditions. */
function memoryPending(): PendingStore & { docs: Map<string, { doc: PendingSubscriptionDoc; version: number }> } {
  const docs = new Map<string, { doc: PendingSubscriptionDoc; version: number }>();
  let clock = 0;
  const v = (n: number) => String(n) as SubscriptionVersion;
  return {
    docs,
    async readPending(p, u) {
      const s = docs.get(`${p}/${u}`);
      return s ? { doc: s.doc, version: v(s.version) } : undefined;
    },
    async createPending(doc) {
      if (docs.has(`${doc.productId}/${doc.userId}`)) return undefined;
      docs.set(`${doc.productId}/${doc.userId}`, { doc, version: ++clock });
      return v(clock);
    },
    async replacePending(doc, version) {
      const s = docs.get(`${doc.productId}/${doc.userId}`);
      if (!s || v(s.version) !== version) return undefined;
      docs.set(`${doc.productId}/${doc.userId}`, { doc, version: ++clock });
      return v(clock);
    },
    async markSent(p, u, createdAtMs, sentAtMs) {
      const s = docs.get(`${p}/${u}`);
      if (s && s.doc.createdAtMs === createdAtMs) docs.set(`${p}/${u}`, { doc: { ...s.doc, sentAtMs }, version: ++clock });
    },
    async countLivePendingOfUser(u, nowMs, upTo) {
      return Math.min(upTo, [...docs.values()].filter((s) => s.doc.userId === u && s.doc.expireAt.toMillis() > nowMs).length);
    },
    async deletePending(p, u, version) {
      const s = docs.get(`${p}/${u}`);
      if (!s || v(s.version) !== version) return false;
      docs.delete(`${p}/${u}`);
      return true;
    },
    async confirm() {
      return 'already-gone';
    },
  };
}

describe('a PUT under double opt-in', () => {
  const policy = { restockThreshold: 0, maxSubscriptionsPerUser: 3, doubleOptIn: ['email'] as const, confirmationTtlMs: 3_600_000, storefront: 'anonymous', nowMs: 10_000 };
  /** A shopper whose record lists `listed` products, of which `active` are still subscriptions. */
  const storeHolding = (listed: number, active = listed) => ({
    readForPut: async () => ({}),
    listedFor: async () => listed,
    recountSubscriptionsOfUser: async (_u: string, upTo: number) => Math.min(active, upTo),
  });
  const store = storeHolding(0);
  /** A confirmation sender that sends everything and keeps what it sent. */
  const recordingSender = () => {
    const sent: ConfirmationMessage[] = [];
    return {
      sent,
      sender: {
        send: async (m: ConfirmationMessage) => {
          sent.push(m);
          return { outcome: 'sent' as const };
        },
      },
    };
  };

  it('stores the request pending and sends one message; the same request again sends nothing', async () => {
    const pending = memoryPending();
    const { sent, sender } = recordingSender();
    const first = await putPending(store, pending, sender, 'p', 'u', { channels: { email: 'a@x.io' } }, policy);
    const again = await putPending(store, pending, sender, 'p', 'u', { channels: { email: 'a@x.io' } }, { ...policy, nowMs: 11_000 });
    expect(first?.outcome).toBe('pending-created');
    expect(again?.outcome).toBe('pending-unchanged');
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatchObject({ to: 'a@x.io', generation: 10_000, expiresAtMs: 10_000 + 3_600_000 });
  });

  it('over the address limit keeps nothing and says when to retry', async () => {
    const pending = memoryPending();
    const sender = { send: async () => ({ outcome: 'limited' as const, retryAfterMs: 5_000 }) };
    await expect(putPending(store, pending, sender, 'p', 'u', { channels: { email: 'a@x.io' } }, policy)).rejects.toThrow(ConfirmationRateLimitedError);
    expect(pending.docs.size).toBe(0);
  });

  it('counts live pending requests and subscriptions against the per-user cap; expired requests and a repeat of a live one do not take a place', async () => {
    const { sent, sender } = recordingSender();
    const ask = (s: ReturnType<typeof storeHolding>, p: PendingStore, product: string, nowMs = policy.nowMs) =>
      putPending(s, p, sender, product, 'u', { channels: { email: `${product}@x.io` } }, { ...policy, nowMs });

    // Three requests fill a cap of 3; the fourth is refused and sends nothing; a repeat of a live one is still answered.
    const pending = memoryPending();
    for (const product of ['p1', 'p2', 'p3']) expect((await ask(store, pending, product))?.outcome).toBe('pending-created');
    await expect(ask(store, pending, 'p4')).rejects.toThrow(SubscriptionLimitError);
    expect(sent.map((m) => m.productId)).toEqual(['p1', 'p2', 'p3']);
    expect((await ask(store, pending, 'p2', policy.nowMs + 1))?.outcome).toBe('pending-unchanged');
    // Once they expired, they take no place.
    expect((await ask(store, pending, 'p4', policy.nowMs + policy.confirmationTtlMs))?.outcome).toBe('pending-created');

    // Two subscriptions and one request fill it too; a record listing products whose subscriptions deliveries removed is recounted.
    const one = memoryPending();
    expect((await ask(storeHolding(2), one, 'p1'))?.outcome).toBe('pending-created');
    await expect(ask(storeHolding(2), one, 'p2')).rejects.toThrow(SubscriptionLimitError);
    expect((await ask(storeHolding(2, 1), one, 'p2'))?.outcome).toBe('pending-created');
  });

  it('refuses a request with two unvouched addresses, naming the second, and sends nothing: confirming one address must not vouch for another', async () => {
    // Without it, following the link sent to one's own email made a stranger's push token a subscriber too.
    const pending = memoryPending();
    const { sent, sender } = recordingSender();
    const both = { ...policy, doubleOptIn: ['email', 'push'] as const };

    const refused = await putPending(store, pending, sender, 'p', 'u', { channels: { email: 'a@x.io', push: 'strangers-token' } }, both).catch((e: unknown) => e);

    expect(refused).toBeInstanceOf(InvalidRequestError);
    expect((refused as InvalidRequestError).field).toBe('#/channels/push');
    expect((refused as Error).message).toMatch(/one address is confirmed at a time/);
    expect(sent).toHaveLength(0);
    expect(pending.docs.size).toBe(0);
    // Vouched for by the storefront, or already held by the shopper's subscription, the second address needs nothing.
    expect((await putPending(store, pending, sender, 'p', 'u', { channels: { email: 'a@x.io', push: 't' }, consent: { verified: ['push'] } }, both))?.outcome).toBe('pending-created');
    expect(sent.map((m) => m.channel)).toEqual(['email']);
    expect(pending.docs.get('p/u')?.doc.confirmChannel).toBe('email');
  });

  it('answers undefined (write the subscription as always) when nothing needs confirming', async () => {
    const pending = memoryPending();
    const sender = { send: async () => ({ outcome: 'sent' as const }) };
    expect(await putPending(store, pending, sender, 'p', 'u', { channels: { push: 't' } }, policy)).toBeUndefined();
    expect(await putPending(store, pending, sender, 'p', 'u', { channels: { email: 'a@x.io' }, consent: { verified: ['email'] } }, policy)).toBeUndefined();
  });
});
