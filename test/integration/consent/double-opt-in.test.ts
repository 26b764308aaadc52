/**
 * Double opt-in on the real stack (issue 32, promise 16): the subscription
 * API with RESTOCK_DOUBLE_OPT_IN=email, its confirmation emails at the local
 * SMTP server, the public function's `/v1/confirm/{token}` and
 * `applyShopperActions` confirming through Pub/Sub, restocks fanned out and
 * counted at the notification sink.
 *
 * - a pending subscription is not notified; confirmed from the link received
 *   at the SMTP server, it is, with its consent record;
 * - one that expires unconfirmed is gone, and its link confirms nothing;
 * - the per-address limit holds under 64 concurrent PUTs for one address, and
 *   64 concurrent identical PUTs send one message;
 * - pending requests take places under the per-user cap, so one user id
 *   cannot have confirmations sent to any number of addresses.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { COLLECTIONS, type SubscriptionDoc } from '../../../lib/model.ts';
import { inventoryEvent, pushDirect, sink, stack, uniqueProductId, waitFor } from '../../helpers/index.ts';
import { startFunction, type FunctionProcess } from '../../helpers/function-process.ts';
import { MailServer } from '../channels/servers.ts';
import { send } from '../subscriptions/http-client.ts';

const LIMIT = 3;
let api: FunctionProcess;
let shortLived: FunctionProcess;
let capped: FunctionProcess;
const CAP = 2;
let mail: MailServer;

beforeAll(async () => {
  [api, shortLived, capped] = await Promise.all([
    startFunction('restockSubscriptions', { RESTOCK_DOUBLE_OPT_IN: 'email', RESTOCK_CONFIRMATIONS_PER_ADDRESS: String(LIMIT) }),
    // 0.002 h = 7.2 s: long enough to read the link, short enough to wait out.
    startFunction('restockSubscriptions', { RESTOCK_DOUBLE_OPT_IN: 'email', RESTOCK_CONFIRMATION_TTL_HOURS: '0.002' }),
    startFunction('restockSubscriptions', { RESTOCK_DOUBLE_OPT_IN: 'email', RESTOCK_MAX_SUBSCRIPTIONS_PER_USER: String(CAP) }),
  ]);
  mail = MailServer.of(stack().description);
}, 120_000);

afterAll(() => {
  api?.stop();
  shortLived?.stop();
  capped?.stop();
});

const base = (f: FunctionProcess) => f.url.replace(/\/$/, '');
const path = (productId: string, userId: string) => `/v1/products/${encodeURIComponent(productId)}/subscriptions/${encodeURIComponent(userId)}`;
const subscriptionRef = (productId: string, userId: string) => stack().firestore.collection(COLLECTIONS.products).doc(productId).collection(COLLECTIONS.subscriptions).doc(userId);
const pendingRef = (productId: string, userId: string) => stack().firestore.collection(COLLECTIONS.products).doc(productId).collection(COLLECTIONS.pendingSubscriptions).doc(userId);

/** The confirmation link of the one confirmation email `to` received. */
async function confirmationLink(to: string): Promise<string> {
  const mails = await waitFor(async () => {
    const m = (await mail.messagesTo(to)).filter((x) => x.headers['x-restock-confirmation']);
    return m.length > 0 ? m : undefined;
  }, { timeoutMs: 20_000, what: `a confirmation email to ${to}` });
  expect(mails).toHaveLength(1);
  const link = /https?:\/\/\S+\/v1\/confirm\/c2\.[\w-]+/.exec(mails[0]!.text ?? '')?.[0];
  expect(link, 'a confirmation link in the text').toBeDefined();
  return link!;
}

async function fanOut(productId: string, sequence: number, available: number, previousAvailable: number): Promise<void> {
  const event = inventoryEvent({ productId, sequence, available, previousAvailable });
  const res = await pushDirect(stack().description.functions.fanOutRestock, { data: event, messageId: `${productId}-s${sequence}` });
  expect(res.status).toBe(200);
}

describe('double opt-in', () => {
  test('a pending subscription is not notified; confirmed from the link received at the SMTP server, it is', async () => {
    // Prepare: Ann's address is unconfirmed; Bea's the storefront verified (the control that the restock ran).
    const productId = uniqueProductId('doi');
    const ann = { userId: `${productId}-ann`, email: `ann-${productId}@example.com` };
    const bea = { userId: `${productId}-bea`, email: `bea-${productId}@example.com` };
    const pending = await send(base(api), 'PUT', path(productId, ann.userId), { json: { channels: { email: ann.email }, consent: { wording: 'restock-v1' } } });
    const vouched = await send(base(api), 'PUT', path(productId, bea.userId), { json: { channels: { email: bea.email }, consent: { wording: 'restock-v1', verified: ['email'] } } });
    expect(pending.status).toBe(202);
    expect(pending.body).toMatchObject({ status: 'pending', confirmChannel: 'email', consent: { wording: 'restock-v1', channels: { email: 'confirmed' } } });
    expect(vouched.status).toBe(201);
    expect(vouched.body.consent).toMatchObject({ wording: 'restock-v1', channels: { email: 'storefront-verified' }, storefront: 'anonymous' });
    expect((await mail.messagesTo(bea.email)).length).toBe(0);
    const link = await confirmationLink(ann.email);

    // Act 1: a restock while Ann's request is pending.
    await fanOut(productId, 2, 25, 0);

    // Assess 1: Bea is told, Ann is not (and her request is still pending, not a subscription).
    await waitFor(async () => ((await sink().notifications(productId)).some((n) => n.status === 'sent') ? true : undefined), { timeoutMs: 60_000, what: "Bea's notification" });
    const told = await sink().notifications(productId);
    expect(told.map((n) => n.recipientRef)).toHaveLength(1);
    expect((await subscriptionRef(productId, ann.userId).get()).exists).toBe(false);
    expect((await pendingRef(productId, ann.userId).get()).exists).toBe(true);

    // Act 2: a GET of the link (a mail scanner) changes nothing; the page's POST confirms.
    expect((await fetch(link)).status).toBe(200);
    expect((await pendingRef(productId, ann.userId).get()).exists).toBe(true);
    const posted = await fetch(link, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'confirm=yes' });
    expect(posted.status).toBe(200);
    const confirmed = await waitFor(async () => (await subscriptionRef(productId, ann.userId).get()).data() as SubscriptionDoc | undefined, { timeoutMs: 20_000, what: "Ann's confirmed subscription" });
    expect(confirmed.consent).toMatchObject({ wording: 'restock-v1', channels: { email: 'confirmed' }, storefront: 'anonymous' });
    expect(confirmed.consent!.confirmedAtMs).toBeGreaterThanOrEqual(confirmed.consent!.givenAtMs);
    expect((await pendingRef(productId, ann.userId).get()).exists).toBe(false);
    expect((await send(base(api), 'GET', path(productId, ann.userId))).body).toMatchObject({ channels: ['email'], consent: { channels: { email: 'confirmed' } } });

    // Act 3: it sells out and comes back.
    await fanOut(productId, 3, 0, 25);
    await fanOut(productId, 4, 25, 0);

    // Assess 3: now Ann is told, once.
    await waitFor(async () => ((await sink().notifications(productId)).filter((n) => n.status === 'sent').length === 2 ? true : undefined), { timeoutMs: 60_000, what: "Ann's notification" });
    expect((await sink().notifications(productId)).filter((n) => n.status === 'sent')).toHaveLength(2);
  });

  test('a request that expires unconfirmed is gone, and its link confirms nothing', async () => {
    // Prepare
    const productId = uniqueProductId('doi-expiry');
    const userId = `${productId}-cy`;
    const email = `cy-${productId}@example.com`;
    const put = await send(base(shortLived), 'PUT', path(productId, userId), { json: { channels: { email } } });
    expect(put.status).toBe(202);
    const link = await confirmationLink(email);
    expect((await pendingRef(productId, userId).get()).get('expireAt').toMillis()).toBe(put.body.expiresAtMs);

    // Act: wait out its life, then follow the link.
    await new Promise((r) => setTimeout(r, Math.max(0, put.body.expiresAtMs - Date.now()) + 500));
    const read = await send(base(shortLived), 'GET', path(productId, userId));
    const posted = await fetch(link, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'confirm=yes' });

    // Assess: reads no longer see it; the confirmation found it expired and deleted it instead.
    expect(read.status).toBe(404);
    expect(posted.status).toBe(200);
    await waitFor(async () => !(await pendingRef(productId, userId).get()).exists, { timeoutMs: 20_000, what: 'the expired request deleted' });
    expect((await subscriptionRef(productId, userId).get()).exists).toBe(false);
  });

  test(`the per-address limit (${LIMIT} a day) holds under 64 concurrent PUTs for one address`, async () => {
    // Prepare: 64 different shoppers (a stranger's address typed 64 times) on one product.
    const productId = uniqueProductId('doi-limit');
    const victim = `victim-${productId}@example.com`;

    // Act
    const answers = await Promise.all(Array.from({ length: 64 }, (_, i) => send(base(api), 'PUT', path(productId, `${productId}-u${i}`), { json: { channels: { email: victim } } })));

    // Assess: exactly LIMIT accepted and mailed; the rest 429 naming the field, and nothing kept for them.
    const statuses = answers.map((a) => a.status);
    expect(statuses.filter((s) => s === 202)).toHaveLength(LIMIT);
    expect(statuses.filter((s) => s === 429)).toHaveLength(64 - LIMIT);
    const refused = answers.find((a) => a.status === 429)!;
    expect(refused.body).toMatchObject({ type: expect.stringMatching(/confirmation-rate-limited$/), errors: [{ pointer: '#/channels/email' }] });
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    await new Promise((r) => setTimeout(r, 1_000));
    expect(await mail.messagesTo(victim)).toHaveLength(LIMIT);
    const kept = await stack().firestore.collection(COLLECTIONS.products).doc(productId).collection(COLLECTIONS.pendingSubscriptions).get();
    expect(kept.size).toBe(LIMIT);
  });

  test('64 concurrent identical PUTs while pending send one message', async () => {
    // Prepare
    const productId = uniqueProductId('doi-repeat');
    const userId = `${productId}-dee`;
    const email = `dee-${productId}@example.com`;

    // Act
    const answers = await Promise.all(Array.from({ length: 64 }, () => send(base(api), 'PUT', path(productId, userId), { json: { channels: { email } } })));
    const again = await send(base(api), 'PUT', path(productId, userId), { json: { channels: { email } } });

    // Assess
    expect(answers.map((a) => a.status)).toEqual(Array(64).fill(202));
    expect(again.status).toBe(202);
    await new Promise((r) => setTimeout(r, 1_000));
    expect(await mail.messagesTo(email)).toHaveLength(1);
  });

  test(`pending requests count against the per-user cap (${CAP}) beside subscriptions, and a refused one sends nothing`, async () => {
    // Prepare: Fay holds one subscription (an address the storefront vouched for) and one pending request.
    const productId = uniqueProductId('doi-cap');
    const userId = `${productId}-fay`;
    const email = (n: number) => `fay${n}-${productId}@example.com`;
    const held = await send(base(capped), 'PUT', path(`${productId}-1`, userId), { json: { channels: { email: email(1) }, consent: { verified: ['email'] } } });
    const waiting = await send(base(capped), 'PUT', path(`${productId}-2`, userId), { json: { channels: { email: email(2) } } });
    expect([held.status, waiting.status]).toEqual([201, 202]);

    // Act: a third product, to a third address, pending; and a repeat of the pending one.
    const third = await send(base(capped), 'PUT', path(`${productId}-3`, userId), { json: { channels: { email: email(3) } } });
    const repeat = await send(base(capped), 'PUT', path(`${productId}-2`, userId), { json: { channels: { email: email(2) } } });

    // Assess: refused with the cap's problem, nothing kept, no message to the third address; the repeat still answers 202.
    expect(third.status).toBe(409);
    expect(third.body).toMatchObject({ type: expect.stringMatching(/subscription-limit-reached$/), limit: CAP });
    expect(repeat.status).toBe(202);
    expect((await pendingRef(`${productId}-3`, userId).get()).exists).toBe(false);
    await confirmationLink(email(2));
    await new Promise((r) => setTimeout(r, 1_000));
    expect(await mail.messagesTo(email(3))).toHaveLength(0);
  });
});
