/**
 * The direct channels on the real stack: the delivery function sends email
 * through the local SMTP server (`smtp` sender, nodemailer) and push through
 * the local FCM v1 stand-in (`fcm` sender); what the servers received is
 * counted per dedup key.
 *
 * - exactly once per channel when an answer is lost (the SMTP server drops
 *   the connection after taking the message) or refused for now (FCM 503,
 *   SMTP 451): the ledger says `sent` once, and a mailbox / device sees one
 *   message per key;
 * - an unregistered push token is `rejected` and removed from the shopper's
 *   other subscriptions; an SMTP 550 is `rejected`;
 * - one-click unsubscribe driven from a received message's List-Unsubscribe
 *   header: GET never unsubscribes, POST does, again harmlessly, a forged
 *   token is refused;
 * - English and Japanese messages as received;
 * - no log line of any process holds an address or a token.
 *
 * Its own stack, with the direct senders chosen and fast queue retries.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { COLLECTIONS, dedupKey, type DeliveryDoc, type SubscriptionDoc } from '../../../lib/model.ts';
import { accessFor, inventoryEvent, pushDirect, seedSubscribers, startStack, uniqueProductId, waitFor, type Stack, type StackAccess } from '../../helpers/index.ts';
import { seedProduct } from '../../../emulators/stack/index.ts';
import { MailServer, PushServer } from '../../integration/channels/servers.ts';

let stack: Stack;
let on: StackAccess;
let mail: MailServer;
let push: PushServer;
/** Every address and token the tests give the stack, for the log scan. */
const secrets: string[] = [];

beforeAll(async () => {
  stack = await startStack({
    env: {
      RESTOCK_EMAIL_SENDER: 'smtp',
      RESTOCK_PUSH_SENDER: 'fcm',
      RESTOCK_CHUNK_SIZE: '10',
      RESTOCK_NOTIFIER_RETRIES: '1',
      RESTOCK_NOTIFIER_TIMEOUT_MS: '2000',
      RESTOCK_SMTP_TIMEOUT_MS: '3000',
      RESTOCK_DELIVERY_LEASE_MS: '5000',
    },
    queue: { minBackoffSeconds: 0.2, maxBackoffSeconds: 1, maxAttempts: 30 },
    // Every log statement, not only production's: a debug line leaking an address is a leak waiting for a debug session.
    logLevel: 'debug',
  });
  on = accessFor(stack.description);
  mail = MailServer.of(stack.description);
  push = PushServer.of(stack.description);
}, 180_000);

afterAll(async () => {
  await on?.close();
  await stack?.stop();
});

/** Fans out a restock of `productId` straight to the fan-out function; resolves the event key. */
async function restock(productId: string, product: { name?: string; url?: string } = {}): Promise<string> {
  const event = inventoryEvent({ productId, product: { name: product.name ?? `Lamp ${productId}`, url: product.url ?? `https://shop.example/p/${productId}` } });
  const eventKey = `m-${productId}`;
  const res = await pushDirect(stack.description.functions.fanOutRestock, { data: event, messageId: eventKey });
  expect(res.status).toBe(200);
  return eventKey;
}

async function ledger(eventKey: string): Promise<DeliveryDoc[]> {
  const snap = await on.firestore.collection(COLLECTIONS.deliveries).where('eventKey', '==', eventKey).get();
  return snap.docs.map((d) => d.data() as DeliveryDoc);
}

/** Waits until the event has `n` ledger entries, all final. */
async function settled(eventKey: string, n: number): Promise<DeliveryDoc[]> {
  return waitFor(
    async () => {
      const entries = await ledger(eventKey);
      return entries.length === n && entries.every((d) => ['sent', 'rejected', 'exhausted', 'unsubscribed'].includes(d.state)) ? entries : undefined;
    },
    { timeoutMs: 120_000, intervalMs: 300, what: `${n} settled deliveries of ${eventKey}` },
  );
}

function subscriptionRef(productId: string, userId: string) {
  return on.firestore.collection(COLLECTIONS.products).doc(productId).collection(COLLECTIONS.subscriptions).doc(userId);
}

async function subscribe(productId: string, userId: string, channels: SubscriptionDoc['channels'], locale?: string): Promise<void> {
  secrets.push(...Object.values(channels).filter((v): v is string => v !== undefined));
  const nowMs = Date.now();
  await subscriptionRef(productId, userId).set({ userId, productId, channels, ...(locale ? { locale } : {}), createdAtMs: nowMs, updatedAtMs: nowMs });
}

describe('exactly once per channel', () => {
  test('a lost SMTP answer, an SMTP 451 and FCM 503s end with one sent entry and one delivered message per key', async () => {
    // Prepare: 12 shoppers on both channels; faults on four of them.
    const productId = uniqueProductId('once');
    const subs = await seedSubscribers(productId, 12, {
      on,
      channels: ['email', 'push'],
      userIdPrefix: `${productId}-u`,
      email: (i) => `once-${productId}-${i}@example.com`,
      pushToken: (i) => `fcm-once-${productId}-${i}`,
    });
    secrets.push(...subs.flatMap((s) => [s.channels.email!, s.channels.push!]));
    const [lost, deferred, unavailable, quota] = subs;
    await mail.fault({ to: lost!.channels.email!, action: 'drop-after-data', times: 1 });
    await mail.fault({ to: deferred!.channels.email!, action: 'tempfail', times: 2 });
    // More 503s than the in-call retries: the chunk goes back to Cloud Tasks before it succeeds.
    await push.fault({ token: unavailable!.channels.push!, error: 'UNAVAILABLE', times: 3 });
    await push.fault({ token: quota!.channels.push!, error: 'QUOTA_EXCEEDED', times: 1, retryAfterSeconds: 1 });

    // Act
    const eventKey = await restock(productId);
    const entries = await settled(eventKey, 24);

    // Assess: the ledger says sent, once per key, and attempts were needed where faults were.
    expect(entries.map((e) => e.state)).toEqual(Array(24).fill('sent'));
    const attempts = (userId: string, channel: 'email' | 'push') => entries.find((e) => e.userId === userId && e.channel === channel)!.attempts;
    expect(attempts(lost!.userId, 'email')).toBeGreaterThan(1);
    expect(attempts(unavailable!.userId, 'push')).toBeGreaterThan(1);

    for (const s of subs) {
      const emailKey = dedupKey(s, 'email');
      const pushKey = dedupKey(s, 'push');
      const mails = await mail.messagesTo(s.channels.email!);
      // Every transmission of a key is the same message (one Message-ID), and a mailbox shows it once.
      expect(mails.every((m) => m.restockKey === emailKey && m.messageId === mails[0]!.messageId), s.userId).toBe(true);
      expect(mails.filter((m) => !m.duplicate).length, `${s.userId} mailbox`).toBe(1);
      const pushes = await push.requestsFor(s.channels.push!);
      expect(pushes.every((p) => p.restockKey === pushKey), s.userId).toBe(true);
      expect(pushes.filter((p) => p.status === 200).length, `${s.userId} device`).toBe(1);
    }
    // The lost answer was real: the server kept the first transmission, the retry was the same message again.
    const lostMails = await mail.messagesTo(lost!.channels.email!);
    expect(lostMails.map((m) => [m.answer, m.duplicate])).toEqual([
      ['dropped', false],
      ['accepted', true],
    ]);
    expect((await push.requestsFor(unavailable!.channels.push!)).map((p) => p.status)).toEqual([503, 503, 503, 200]);
    expect((await push.requestsFor(quota!.channels.push!)).map((p) => p.status)).toEqual([429, 200]);
    // One-shot: every subscription is gone.
    const left = await on.firestore.collection(COLLECTIONS.products).doc(productId).collection(COLLECTIONS.subscriptions).get();
    expect(left.size).toBe(0);
  }, 180_000);
});

describe('permanent failures', () => {
  test('an unregistered push token is rejected and removed from the shopper\'s other subscriptions in the same delivery', async () => {
    // Prepare: one shopper, one dead token, four products.
    const [restocked, pushOnly, both, otherToken] = ['dead-a', 'dead-b', 'dead-c', 'dead-d'].map((l) => uniqueProductId(l));
    const userId = `shopper-${restocked}`;
    const token = `fcm-unregistered-${restocked}`;
    const email = `dead-token-${restocked}@example.com`;
    await seedProduct(on.firestore, restocked!);
    await subscribe(restocked!, userId, { email, push: token });
    await subscribe(pushOnly!, userId, { push: token });
    await subscribe(both!, userId, { email, push: token });
    await subscribe(otherToken!, userId, { push: `fcm-live-${restocked}` });
    await push.fault({ token, error: 'UNREGISTERED' });

    // Act
    const eventKey = await restock(restocked!);
    const entries = await settled(eventKey, 2);

    // Assess
    const pushEntry = entries.find((e) => e.channel === 'push')!;
    expect(pushEntry.state).toBe('rejected');
    expect(pushEntry.lastError).toBe('fcm 404 UNREGISTERED');
    expect(entries.find((e) => e.channel === 'email')!.state).toBe('sent');
    expect((await push.requestsFor(token)).map((p) => p.status)).toEqual([404]); // never retried
    expect((await subscriptionRef(restocked!, userId).get()).exists).toBe(false); // settled: one-shot
    expect((await subscriptionRef(pushOnly!, userId).get()).exists).toBe(false); // nothing left to send to
    expect((await subscriptionRef(both!, userId).get()).data()?.channels).toEqual({ email });
    expect((await subscriptionRef(otherToken!, userId).get()).data()?.channels).toEqual({ push: `fcm-live-${restocked}` });
  }, 180_000);

  test('an SMTP 550 is rejected at once, without a retry, and says why without the address', async () => {
    // Prepare
    const productId = uniqueProductId('bounce');
    const email = `bounce-${productId}@example.com`;
    await seedProduct(on.firestore, productId);
    await subscribe(productId, 'bouncer', { email });
    await mail.fault({ to: email, action: 'reject' });

    // Act
    const eventKey = await restock(productId);
    const [entry] = await settled(eventKey, 1);

    // Assess
    expect(entry!.state).toBe('rejected');
    expect(entry!.attempts).toBe(1);
    expect(entry!.lastError).toMatch(/^smtp 550 at RCPT TO/);
    expect(entry!.lastError).not.toContain('@');
    expect(await mail.messagesTo(email)).toEqual([]);
    expect((await subscriptionRef(productId, 'bouncer').get()).exists).toBe(false);
  }, 120_000);
});

describe('one-click unsubscribe from a received message', () => {
  test('GET shows a button and changes nothing, POST unsubscribes, a second POST is harmless, a forged token is refused', async () => {
    // Prepare: the email is sent while push keeps failing, so the subscription is still there to unsubscribe.
    const productId = uniqueProductId('unsub');
    const email = `unsub-${productId}@example.com`;
    const token = `fcm-unsub-${productId}`;
    await seedProduct(on.firestore, productId);
    await subscribe(productId, 'leaver', { email, push: token });
    await push.fault({ token, error: 'UNAVAILABLE', times: 1000 });
    const eventKey = await restock(productId);
    const [received] = await waitFor(async () => {
      const m = await mail.messagesTo(email);
      return m.length > 0 ? m : undefined;
    }, { timeoutMs: 60_000, what: 'the restock email' });
    const link = /^<([^>]+)>$/.exec(received!.headers['list-unsubscribe'] ?? '')?.[1];
    expect(received!.headers['list-unsubscribe-post']).toBe('List-Unsubscribe=One-Click');
    expect(link).toMatch(new RegExp(`^${stack.description.functions.restockUnsubscribe.replace(/\/$/, '')}/v1/unsubscribe/u2\\.`));

    // Act + assess: GET (a mail scanner) never unsubscribes.
    const page = await fetch(link!, { redirect: 'manual' });
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    const html = await page.text();
    expect(html).toContain('<form method="post"');
    expect(html).toContain('name="List-Unsubscribe" value="One-Click"');
    expect((await subscriptionRef(productId, 'leaver').get()).exists).toBe(true);

    // A forged token (one character of the sealed payload changed) is refused and changes nothing.
    const at = link!.lastIndexOf('.') + 5;
    const forged = link!.slice(0, at) + (link![at] === 'A' ? 'B' : 'A') + link!.slice(at + 1);
    const refused = await fetch(forged, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'List-Unsubscribe=One-Click' });
    expect(refused.status).toBe(400);
    expect(refused.headers.get('content-type')).toBe('application/problem+json');
    expect((await refused.json()).type).toBe('tag:restock-fanout,2026:problem:invalid-unsubscribe-token');
    expect((await subscriptionRef(productId, 'leaver').get()).exists).toBe(true);

    // POST as a mailbox provider sends it (RFC 8058): 200, no redirect; applyShopperActions removes the subscription within moments.
    const done = await fetch(link!, { method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'List-Unsubscribe=One-Click' });
    expect(done.status).toBe(200);
    expect(done.headers.get('location')).toBeNull();
    await waitFor(async () => !(await subscriptionRef(productId, 'leaver').get()).exists, { timeoutMs: 20_000, what: 'the subscription removed by applyShopperActions' });

    // Again, as multipart: still 200, nothing else changes.
    const form = new FormData();
    form.set('List-Unsubscribe', 'One-Click');
    const again = await fetch(link!, { method: 'POST', redirect: 'manual', body: form });
    expect(again.status).toBe(200);

    // The push still pending for that subscription is not sent after the unsubscribe.
    const entries = await settled(eventKey, 2);
    expect(entries.find((e) => e.channel === 'push')!.state).toBe('unsubscribed');
    expect(entries.find((e) => e.channel === 'push')!.lastError).toBe('unsubscribed before the notification was confirmed');
    expect((await push.requestsFor(token)).every((p) => p.status === 503)).toBe(true);
  }, 180_000);
});

describe('per-locale messages as received', () => {
  test('a Japanese shopper gets the Japanese email and push; an unknown locale falls back to English', async () => {
    // Prepare
    const productId = uniqueProductId('locale');
    await seedProduct(on.firestore, productId);
    await subscribe(productId, 'hanako', { email: `hanako-${productId}@example.jp`, push: `fcm-hanako-${productId}` }, 'ja-JP');
    await subscribe(productId, 'pierre', { email: `pierre-${productId}@example.fr` }, 'fr-FR');

    // Act
    await settled(await restock(productId, { name: '卓上ランプ', url: 'https://shop.example/p/lamp' }), 3);

    // Assess
    const [ja] = await mail.messagesTo(`hanako-${productId}@example.jp`);
    expect(ja!.subject).toBe('再入荷のお知らせ: 卓上ランプ');
    expect(ja!.headers['content-language']).toBe('ja');
    expect(ja!.text).toContain('在庫数: 25点');
    // The product link is the tracked one (docs/funnel.md), and it leads to the product's page.
    const link = /商品を見る: (\S+)/.exec(ja!.text ?? '')?.[1];
    expect(link).toMatch(/\/v1\/c\/k1\./);
    expect(ja!.html).toContain(`<a href="${link}">商品を見る</a>`);
    const followed = await fetch(link!, { redirect: 'manual' });
    expect(followed.status).toBe(302);
    expect(followed.headers.get('location')).toMatch(/^https:\/\/shop\.example\/p\/lamp\?/);
    const [jaPush] = await push.requestsFor(`fcm-hanako-${productId}`);
    expect(jaPush!.message.notification).toEqual({ title: '再入荷のお知らせ', body: '卓上ランプが再入荷しました（在庫25点）。' });
    const [fr] = await mail.messagesTo(`pierre-${productId}@example.fr`);
    expect(fr!.subject).toBe('Back in stock: 卓上ランプ');
    expect(fr!.text).toContain('25 units are available.');
  }, 120_000);
});

describe('logs', () => {
  test('no log line of any process (senders, mail server, FCM stand-in, unsubscribe) holds an email address or push token', async () => {
    // Prepare: the tests above ran; every log of the stack.
    const files = readdirSync(stack.description.logsDir).filter((f) => f.endsWith('.log'));
    for (const name of ['deliverRestockBatch', 'restockUnsubscribe', 'applyShopperActions', 'smtp', 'fcm']) expect(files, `a log of ${name}`).toContain(`${name}.log`);
    const logs = files.map((f) => ({ file: f, text: readFileSync(join(stack.description.logsDir, f), 'utf8') }));
    // The scan means something only if the new components did log the run.
    expect(logs.find((l) => l.file === 'smtp.log')!.text).toContain('mail received');
    expect(logs.find((l) => l.file === 'fcm.log')!.text).toContain('push answered with an error');
    expect(logs.find((l) => l.file === 'restockUnsubscribe.log')!.text).toContain('unsubscribe requested by one-click link');
    expect(logs.find((l) => l.file === 'applyShopperActions.log')!.text).toContain('shopper action applied');
    expect(secrets.length).toBeGreaterThan(20);

    // Act
    const emails = logs.flatMap(({ file, text }) => [...text.matchAll(/[\w.+-]+@[\w-]+(\.[\w-]+)+/g)].map((m) => `${file}: ${m[0]}`)).filter((hit) => !/@[\w-]+\.iam\.gserviceaccount\.com$/.test(hit));
    const tokens = logs.flatMap(({ file, text }) => secrets.filter((s) => text.includes(s)).map((s) => `${file}: ${s}`));

    // Assess
    expect(emails).toEqual([]);
    expect(tokens).toEqual([]);
  });
});
