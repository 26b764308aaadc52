/**
 * What a restock sold, as metrics (`restock.clicks`, `restock.conversions`,
 * `restock.revenue`, docs/metrics.md): a click is counted when it is the
 * notification's first, never for a repeat or a click without a sent
 * notification; an order when it is first recorded, never for the
 * storefront's retry of it.
 */
import { describe, expect, test } from 'vitest';
import type { RecordedConversion } from '../../../lib/conversions/index.ts';
import { Logger } from '../../../lib/log.ts';
import type { OrderRecorded } from '../../../lib/metrics/index.ts';
import { handleShopperActionPush } from '../../../lib/shopper-actions/index.ts';
import { createSubscriptionApi } from '../../../lib/subscriptions/index.ts';
import { MemorySubscriptionStore } from '../subscriptions/memory-store.ts';

const QUIET = new Logger({}, 'ERROR', () => {});
const NOW = 1_800_000_000_000;

/** A Pub/Sub push of one click action. */
function clickPush(userId: string) {
  const action = { type: 'click', eventKey: 'evt-1', productId: 'sku-1', userId, channel: 'push', requestedAtMs: NOW };
  return { headers: {}, body: { message: { data: Buffer.from(JSON.stringify(action)).toString('base64'), messageId: `m-${userId}` }, subscription: 's' } };
}

describe('restock.clicks', () => {
  test("counts a notification's first click by its channel, not a repeat nor one without a sent notification", async () => {
    const counted: string[] = [];
    const outcomes: Record<string, 'clicked' | 'already-clicked' | 'not-notified'> = { first: 'clicked', again: 'already-clicked', stranger: 'not-notified' };
    const deps = {
      store: { readForPut: async () => ({ subscription: undefined }), deleteSubscription: async () => false } as never,
      clicks: { record: async (c: { userId: string }) => outcomes[c.userId]! },
      metrics: { clickRecorded: (channel: string) => counted.push(channel) },
      logger: QUIET,
    };

    const answers = await Promise.all(['first', 'again', 'stranger'].map((u) => handleShopperActionPush(deps, clickPush(u))));

    expect(answers.map((a) => JSON.parse(a.body ?? '').outcome)).toEqual(['clicked', 'already-clicked', 'not-notified']);
    expect(counted).toEqual(['push']);
  });
});

describe('restock.conversions and restock.revenue', () => {
  test('count an order once when it is recorded, with its attribution, channel, currency and value; its repeat is not counted', async () => {
    const counted: OrderRecorded[] = [];
    let seen = false;
    const conversion: RecordedConversion['conversion'] = {
      orderId: 'o-1',
      userId: 'u-1',
      productId: 'sku-1',
      valueMinor: 4999,
      currency: 'EUR',
      purchasedAtMs: NOW,
      recordedAtMs: NOW,
      attribution: 'direct',
      eventKey: 'evt-1',
      channel: 'email',
    };
    const api = createSubscriptionApi({
      store: new MemorySubscriptionStore(),
      settings: { restockThreshold: 0, maxSubscriptionsPerUser: 5, maxBodyBytes: 4096 },
      conversions: {
        record: async () => {
          const outcome = seen ? 'existing' : 'created';
          seen = true;
          return { outcome, conversion };
        },
      },
      metrics: { orderRecorded: (o) => counted.push(o) },
      nowMs: () => NOW + 60_000,
      logger: QUIET,
    });
    const body = JSON.stringify({ orderId: 'o-1', userId: 'u-1', productId: 'sku-1', valueMinor: 4999, currency: 'EUR', purchasedAt: new Date(NOW).toISOString() });
    const post = () => api({ method: 'POST', url: '/v1/conversions', headers: { 'content-type': 'application/json' }, rawBody: Buffer.from(body) });

    const first = await post();
    const again = await post();

    expect([first.status, again.status]).toEqual([201, 200]);
    expect(counted).toEqual([{ attribution: 'direct', channel: 'email', currency: 'EUR', valueMinor: 4999 }]);
  });
});
