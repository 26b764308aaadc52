/**
 * Issue 31, items 7 and 8: the public unsubscribe function holds no database
 * access. It verifies the link's token and then only publishes an unsubscribe
 * request to RESTOCK_SHOPPER_ACTIONS_TOPIC; the private `applyShopperActions`
 * applies it, and removes the subscription only if it is the generation the
 * link was issued for, so the link of an old email never removes a
 * subscription made later. Bodies are bounded before anything is read, and a
 * bad message is acknowledged and logged without personal data.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { LOCAL_UNSUBSCRIBE_SECRET } from '../../../emulators/stack/index.ts';
import { COLLECTIONS } from '../../../lib/model.ts';
import { sealUnsubscribeToken } from '../../../lib/unsubscribe/index.ts';
import { seedSubscribers, stack, uniqueProductId, waitFor } from '../../helpers/index.ts';
import { startFunction, type FunctionProcess } from '../../helpers/function-process.ts';

const KEYS = [LOCAL_UNSUBSCRIBE_SECRET];
const ONE_CLICK = { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'List-Unsubscribe=One-Click' } as const;

/** restockUnsubscribe with no reachable Firestore at all: it must not need one. */
let withoutDatabase: FunctionProcess;
beforeAll(async () => {
  withoutDatabase = await startFunction('restockUnsubscribe', { FIRESTORE_EMULATOR_HOST: '127.0.0.1:9' });
}, 120_000);
afterAll(() => withoutDatabase?.stop());

const subscriptionRef = (productId: string, userId: string) =>
  stack().firestore.collection(COLLECTIONS.products).doc(productId).collection(COLLECTIONS.subscriptions).doc(userId);

function link(base: string, productId: string, userId: string, generation: number): string {
  return `${base.replace(/\/$/, '')}/v1/unsubscribe/${sealUnsubscribeToken({ productId, userId, generation, issuedAtMs: Date.now() }, KEYS)}`;
}

describe('one-click unsubscribe through the worker', () => {
  test('the link removes the subscription it was issued for, with no database behind the public function', async () => {
    // Prepare
    const productId = uniqueProductId('unsub-worker');
    const [shopper] = await seedSubscribers(productId, 1);
    const generation = (await subscriptionRef(productId, shopper!.userId).get()).get('createdAtMs') as number;

    // Act
    const res = await fetch(link(withoutDatabase.url, productId, shopper!.userId, generation), ONE_CLICK);

    // Assess
    expect(res.status).toBe(200);
    await waitFor(async () => !(await subscriptionRef(productId, shopper!.userId).get()).exists, { timeoutMs: 20_000, what: 'the subscription removed' });
  });

  test("an old email's link does not remove the subscription made later", async () => {
    // Prepare: the link was issued for the first subscription; the shopper subscribed again since.
    const productId = uniqueProductId('unsub-generation');
    const [shopper] = await seedSubscribers(productId, 1);
    const ref = subscriptionRef(productId, shopper!.userId);
    const first = (await ref.get()).get('createdAtMs') as number;
    await ref.update({ createdAtMs: first + 60_000, updatedAtMs: first + 60_000 });
    const later = await seedSubscribers(uniqueProductId('unsub-generation-control'), 1);
    const controlRef = subscriptionRef(later[0]!.productId, later[0]!.userId);
    const controlGeneration = (await controlRef.get()).get('createdAtMs') as number;

    // Act: the old link, then a current link of another subscription (to know the worker has run).
    const base = stack().description.functions.restockUnsubscribe;
    expect((await fetch(link(base, productId, shopper!.userId, first), ONE_CLICK)).status).toBe(200);
    expect((await fetch(link(base, later[0]!.productId, later[0]!.userId, controlGeneration), ONE_CLICK)).status).toBe(200);
    await waitFor(async () => !(await controlRef.get()).exists, { timeoutMs: 20_000, what: 'the control subscription removed' });

    // Assess
    expect((await ref.get()).exists).toBe(true);
  });

  test('an oversized body is refused before anything is read (the one-click form is a few bytes)', async () => {
    const productId = uniqueProductId('unsub-big');
    const res = await fetch(link(stack().description.functions.restockUnsubscribe, productId, 'u1', 1), { ...ONE_CLICK, body: `List-Unsubscribe=One-Click&pad=${'x'.repeat(8_192)}` });
    expect(res.status).toBe(413);
  });
});

describe('applyShopperActions', () => {
  test('a bad message is acknowledged, logged without personal data, and the worker keeps working', async () => {
    // Prepare
    const url = stack().description.functions.applyShopperActions;
    const address = 'leaky.shopper@example.com';
    const bad = [
      { message: { messageId: 'bad-1', data: Buffer.from('not json').toString('base64') } },
      { message: { messageId: 'bad-2', data: Buffer.from(JSON.stringify({ type: 'unsubscribe', productId: 'p', userId: address })).toString('base64') } },
      { message: { messageId: 'bad-3', data: Buffer.from(JSON.stringify({ type: 'teleport', userId: address })).toString('base64') } },
    ];

    // Act
    const statuses = [];
    for (const body of bad) {
      const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      statuses.push(res.status);
    }

    // Assess
    expect(statuses).toEqual([200, 200, 200]);
    const log = readFileSync(join(stack().description.logsDir, 'applyShopperActions.log'), 'utf8');
    expect(log).toContain('shopper action rejected');
    expect(log).not.toContain(address);
  });
});
