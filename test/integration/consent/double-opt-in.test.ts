/**
 * Double opt-in on the real stack (issue 32, promise 16): the subscription
 * API with RESTOCK_DOUBLE_OPT_IN=email and email over SMTP, its confirmation
 * emails at the local SMTP server, the public function's `/v1/confirm/{token}` and
 * `applyShopperActions` confirming through Pub/Sub, restocks fanned out and
 * counted at the notification sink.
 *
 * - a pending subscription is not notified; confirmed from the link received
 *   at the SMTP server, it is, with its consent record;
 * - one that expires unconfirmed is gone, and its link confirms nothing;
 * - the per-address limit holds under 64 concurrent PUTs for one address, and
 *   64 concurrent identical PUTs send one message;
 * - pending requests take places under the per-user cap, so one user id
 *   cannot have confirmations sent to any number of addresses;
 * - push and web push are confirmed the way they are notified: one
 *   confirmation at the FCM or web push stand-in (the link its click target),
 *   none for a second PUT within the limit, and the shopper is told of a
 *   restock only once the link confirmed it; through the notification
 *   service, the sink gets a confirmation it keeps apart from restocks.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { COLLECTIONS, type SubscriptionDoc } from '../../../lib/model.ts';
import type { ReceivedPush } from '../../../emulators/fcm/server.ts';
import { webPushSubscriptions } from '../../../emulators/stack/index.ts';
import type { ReceivedWebPush } from '../../../emulators/webpush/server.ts';
import { inventoryEvent, pushDirect, sink, stack, uniqueProductId, waitFor } from '../../helpers/index.ts';
import { startFunction, type FunctionProcess } from '../../helpers/function-process.ts';
import { MailServer } from '../channels/servers.ts';
import { send } from '../subscriptions/http-client.ts';

const LIMIT = 3;
const BY_SMTP = { RESTOCK_DOUBLE_OPT_IN: 'email', RESTOCK_EMAIL_SENDER: 'smtp' };
let api: FunctionProcess;
let shortLived: FunctionProcess;
let capped: FunctionProcess;
let byChannel: FunctionProcess;
let viaService: FunctionProcess;
const CAP = 2;
let mail: MailServer;

beforeAll(async () => {
  [api, shortLived, capped, byChannel, viaService] = await Promise.all([
    // Email confirmed over SMTP, as Terraform deploys it (the stack's own email sender is the sink).
    startFunction('restockSubscriptions', { ...BY_SMTP, RESTOCK_CONFIRMATIONS_PER_ADDRESS: String(LIMIT) }),
    // 0.002 h = 7.2 s: long enough to read the link, short enough to wait out.
    startFunction('restockSubscriptions', { ...BY_SMTP, RESTOCK_CONFIRMATION_TTL_HOURS: '0.002' }),
    startFunction('restockSubscriptions', { ...BY_SMTP, RESTOCK_MAX_SUBSCRIPTIONS_PER_USER: String(CAP) }),
    // Push and web push confirmed, each by its direct sender (the stack's web push is direct too; its push goes through the sink).
    startFunction('restockSubscriptions', { RESTOCK_DOUBLE_OPT_IN: 'email,push,webpush', RESTOCK_PUSH_SENDER: 'fcm', RESTOCK_WEBPUSH_SENDER: 'webpush', RESTOCK_CONFIRMATIONS_PER_ADDRESS: String(LIMIT) }),
    // Push confirmed the way the stack notifies it: through the notification service (the sink).
    startFunction('restockSubscriptions', { RESTOCK_DOUBLE_OPT_IN: 'push' }),
  ]);
  mail = MailServer.of(stack().description);
}, 120_000);

afterAll(() => {
  api?.stop();
  shortLived?.stop();
  capped?.stop();
  byChannel?.stop();
  viaService?.stop();
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

  /** Follows a confirmation link as the shopper's browser would: the page, then its button's POST. */
  async function confirmByLink(link: string): Promise<void> {
    expect((await fetch(link)).status).toBe(200);
    const posted = await fetch(link, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'confirm=yes' });
    expect(posted.status).toBe(200);
  }

  const quiet = () => new Promise((r) => setTimeout(r, 1_500));
  const confirmLinkPattern = /^https?:\/\/\S+\/v1\/confirm\/c2\.[\w-]+$/;

  test('a pending web push subscription gets one confirmation at the push service, opens its link when clicked, and is told of a restock only once confirmed', async () => {
    // Prepare: a browser subscription the storefront does not vouch for.
    const productId = uniqueProductId('doi-webpush');
    const userId = `${productId}-gus`;
    const [browser] = await webPushSubscriptions(stack().description.webpush, 1);
    const id = browser!.endpoint.split('/').at(-1)!;
    const pushes = async (): Promise<ReceivedWebPush[]> =>
      ((await (await fetch(`${stack().description.webpush}/messages`)).json()) as { messages: ReceivedWebPush[] }).messages.filter((m) => m.subscription === id && m.status === 201);
    const body = { json: { channels: { webpush: browser }, locale: 'ja-JP' } };

    // Act 1: the PUT, and a second one within the limit.
    const first = await send(base(byChannel), 'PUT', path(productId, userId), body);
    const confirmations = await waitFor(async () => ((await pushes()).length > 0 ? pushes() : undefined), { timeoutMs: 20_000, what: 'a web push confirmation' });
    const second = await send(base(byChannel), 'PUT', path(productId, userId), body);
    await quiet();

    // Assess 1: pending; exactly one push, decrypted as a confirmation in the shopper's language whose link is the confirmation link.
    expect(first.status).toBe(202);
    expect(first.body).toMatchObject({ status: 'pending', confirmChannel: 'webpush' });
    expect(second.status).toBe(202);
    expect(await pushes()).toHaveLength(1);
    const payload = JSON.parse(confirmations[0]!.payload!) as Record<string, string>;
    expect(payload).toMatchObject({ kind: 'confirmation', lang: 'ja', productId });
    expect(payload.link).toMatch(confirmLinkPattern);
    expect(payload).not.toHaveProperty('restockKey');

    // Act 2: a restock while pending.
    await fanOut(productId, 2, 25, 0);
    await quiet();

    // Assess 2: nothing more reached the browser; the request is still pending.
    expect(await pushes()).toHaveLength(1);
    expect((await subscriptionRef(productId, userId).get()).exists).toBe(false);

    // Act 3: the shopper clicks the confirmation; the product sells out and comes back.
    await confirmByLink(payload.link!);
    const confirmed = await waitFor(async () => (await subscriptionRef(productId, userId).get()).data() as SubscriptionDoc | undefined, { timeoutMs: 20_000, what: 'the confirmed subscription' });
    await fanOut(productId, 3, 0, 25);
    await fanOut(productId, 4, 25, 0);

    // Assess 3: confirmed on web push, then told once, by a restock message.
    expect(confirmed.consent).toMatchObject({ channels: { webpush: 'confirmed' } });
    const told = await waitFor(async () => ((await pushes()).length === 2 ? pushes() : undefined), { timeoutMs: 60_000, what: 'the restock push' });
    expect(told[1]!.restockKey).toMatch(/^[0-9a-f]{64}$/);
    expect(JSON.parse(told[1]!.payload!)).toMatchObject({ productId, lang: 'ja' });
  });

  test('a pending push token gets one FCM confirmation whose click target is the link; a second PUT sends none; confirmed, it is told of a restock', async () => {
    // Prepare
    const productId = uniqueProductId('doi-push');
    const userId = `${productId}-hal`;
    const token = `tok-${productId}`;
    const atFcm = async (): Promise<ReceivedPush[]> =>
      ((await (await fetch(`${stack().description.fcm}/messages?token=${encodeURIComponent(token)}`)).json()) as { messages: ReceivedPush[] }).messages.filter((m) => m.status === 200);

    // Act 1
    const first = await send(base(byChannel), 'PUT', path(productId, userId), { json: { channels: { push: token } } });
    const [confirmation] = await waitFor(async () => ((await atFcm()).length > 0 ? atFcm() : undefined), { timeoutMs: 20_000, what: 'an FCM confirmation' });
    const second = await send(base(byChannel), 'PUT', path(productId, userId), { json: { channels: { push: token } } });
    await quiet();

    // Assess 1: one message, marked as a confirmation, not a restock, opening the link.
    expect([first.status, second.status]).toEqual([202, 202]);
    expect(await atFcm()).toHaveLength(1);
    const data = confirmation!.message.data as Record<string, string>;
    expect(data).toMatchObject({ kind: 'confirmation', productId });
    expect(data.link).toMatch(confirmLinkPattern);
    expect(confirmation!.restockKey).toBeUndefined();

    // Act 2: confirmed from the link, then a restock (the stack's delivery sends push through the sink).
    await confirmByLink(data.link!);
    await waitFor(async () => (await subscriptionRef(productId, userId).get()).exists || undefined, { timeoutMs: 20_000, what: 'the confirmed subscription' });
    await fanOut(productId, 2, 25, 0);

    // Assess 2
    const told = await waitFor(async () => {
      const sent = (await sink().notifications(productId)).filter((n) => n.status === 'sent');
      return sent.length > 0 ? sent : undefined;
    }, { timeoutMs: 60_000, what: 'the restock notification' });
    expect(told.map((n) => n.channel)).toEqual(['push']);
  });

  test('the per-address limit holds for a push token as for an email address', async () => {
    // Prepare: one stranger's token typed by 16 different shoppers at once.
    const productId = uniqueProductId('doi-push-limit');
    const token = `tok-${productId}`;

    // Act
    const answers = await Promise.all(Array.from({ length: 16 }, (_, i) => send(base(byChannel), 'PUT', path(productId, `${productId}-u${i}`), { json: { channels: { push: token } } })));
    await quiet();

    // Assess
    expect(answers.filter((a) => a.status === 202)).toHaveLength(LIMIT);
    expect(answers.filter((a) => a.status === 429)).toHaveLength(16 - LIMIT);
    const atFcm = ((await (await fetch(`${stack().description.fcm}/messages?token=${encodeURIComponent(token)}`)).json()) as { messages: ReceivedPush[] }).messages;
    expect(atFcm).toHaveLength(LIMIT);
  });

  test("one address is confirmed at a time: one's own email beside a stranger's push token is refused naming the token, and neither is sent anything", async () => {
    // Prepare: were one link to confirm both, following the one sent to one's own email would subscribe the stranger's device.
    const productId = uniqueProductId('doi-pair');
    const userId = `${productId}-joe`;
    const token = `tok-${productId}`;

    // Act
    const refused = await send(base(byChannel), 'PUT', path(productId, userId), { json: { channels: { email: `${userId}@example.com`, push: token } } });
    await quiet();

    // Assess: 400 naming the second address; no confirmation at the FCM stand-in or the sink (email's sender here); nothing kept.
    expect(refused.status).toBe(400);
    expect(refused.body).toMatchObject({ type: 'tag:restock-fanout,2026:problem:invalid-request', errors: [{ pointer: '#/channels/push' }] });
    const atFcm = ((await (await fetch(`${stack().description.fcm}/messages?token=${encodeURIComponent(token)}`)).json()) as { messages: unknown[] }).messages;
    expect(atFcm).toEqual([]);
    expect(await sink().confirmations(productId)).toEqual([]);
    expect((await pendingRef(productId, userId).get()).exists).toBe(false);
    expect((await subscriptionRef(productId, userId).get()).exists).toBe(false);
  });

  test('through the notification service, a pending push token gets one confirmation the sink keeps apart from restocks', async () => {
    // Prepare: push by the stack's own sender, the notification service.
    const productId = uniqueProductId('doi-push-http');
    const userId = `${productId}-ida`;
    const token = `tok-${productId}`;

    // Act
    const pending = await send(base(viaService), 'PUT', path(productId, userId), { json: { channels: { push: token } } });
    const again = await send(base(viaService), 'PUT', path(productId, userId), { json: { channels: { push: token } } });
    const [confirmation] = await waitFor(async () => {
      const c = await sink().confirmations(productId);
      return c.length > 0 ? c : undefined;
    }, { timeoutMs: 20_000, what: 'a confirmation at the sink' });
    await quiet();

    // Assess: one confirmation, for this shopper and channel, with the link; no restock notification.
    expect([pending.status, again.status]).toEqual([202, 202]);
    expect(await sink().confirmations(productId)).toHaveLength(1);
    expect(confirmation).toMatchObject({ channel: 'push', userId, status: 'sent', requests: 1 });
    expect(confirmation!.confirmUrl).toMatch(confirmLinkPattern);
    expect(await sink().notifications(productId)).toEqual([]);
    await confirmByLink(confirmation!.confirmUrl);
    await waitFor(async () => (await subscriptionRef(productId, userId).get()).exists || undefined, { timeoutMs: 20_000, what: 'the confirmed subscription' });
  });
});
