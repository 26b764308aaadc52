/**
 * Promise 14, hot products stay open (issue 12): many storefront clients
 * subscribing different shoppers to ONE sold-out product at once, through the
 * real `restockSubscriptions` function on the Firestore emulator. Before the
 * subscribe path dropped its transaction, 16 such clients got 503 after 503.
 * No timing is asserted (that is `npm run bench:subscribe`): every shopper is
 * answered 2xx, and what is stored is right.
 */
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../lib/config.ts';
import { subscriptionsRef } from '../../../lib/model.ts';
import { subscribeConcurrently } from '../../../emulators/scenario/subscribe.ts';
import { stack } from '../../helpers/index.ts';
import { send } from './http-client.ts';

const settings = parseConfig(stack().description.env);
const MAX_PER_USER = settings.maxSubscriptionsPerUser;
const CLIENTS = 64;
const SHOPPERS = 400;
const apiUrl = () => stack().description.functions.restockSubscriptions;
const unique = (prefix: string) => `${prefix}-${randomUUID().slice(0, 8)}`;

describe('a hot product’s subscribe storm', () => {
  it(`${CLIENTS} concurrent clients subscribing ${SHOPPERS} shoppers to one product are all answered 201, and all are stored`, async () => {
    // Prepare
    const productId = unique('campaign');
    await stack().firestore.doc(`products/${productId}`).set({ productId, available: 0, sequence: 3, updatedAtMs: Date.now() });
    const shopper = (i: number) => `shopper-${productId}-${i}`;

    // Act
    const load = await subscribeConcurrently(
      apiUrl(),
      SHOPPERS,
      (i) => ({ productId, userId: shopper(i), body: { channels: { email: `${shopper(i)}@example.com` } } }),
      { clients: CLIENTS },
    );

    // Assess
    expect(load.statuses).toEqual({ '201': SHOPPERS });
    expect((await subscriptionsRef(stack().firestore, productId).count().get()).data().count).toBe(SHOPPERS);
    const counted = await send(apiUrl().replace(/\/$/, ''), 'GET', `/v1/products/${productId}/subscriptions?count=true`);
    expect(counted.body).toEqual({ productId, count: SHOPPERS });
  });

  it('during the storm, one shopper’s own sequential calls still meet the per-user cap exactly', async () => {
    // Prepare
    const hot = unique('campaign');
    const userId = unique('flooder');
    const ownProducts = Array.from({ length: MAX_PER_USER + 1 }, () => unique('sku'));

    // Act
    const storm = subscribeConcurrently(
      apiUrl(),
      SHOPPERS,
      (i) => ({ productId: hot, userId: `shopper-${hot}-${i}`, body: { channels: { push: `token-${i}` } } }),
      { clients: CLIENTS - 1 },
    );
    const own: number[] = [];
    for (const p of ownProducts) {
      own.push((await send(apiUrl().replace(/\/$/, ''), 'PUT', `/v1/products/${p}/subscriptions/${userId}`, { json: { channels: { push: 't' } } })).status);
    }
    const stormResult = await storm;

    // Assess
    expect(own).toEqual([...Array<number>(MAX_PER_USER).fill(201), 409]);
    expect(stormResult.statuses).toEqual({ '201': SHOPPERS });
  });

  it('the same shopper subscribed by many clients at once is created once: one 201, the rest 200, one document', async () => {
    // Prepare
    const productId = unique('campaign');
    const userId = unique('shopper');

    // Act
    const load = await subscribeConcurrently(apiUrl(), CLIENTS, () => ({ productId, userId, body: { channels: { push: 'same' } } }), { clients: CLIENTS });

    // Assess
    expect(load.statuses).toEqual({ '201': 1, '200': CLIENTS - 1 });
    expect((await subscriptionsRef(stack().firestore, productId).count().get()).data().count).toBe(1);
  });
});
