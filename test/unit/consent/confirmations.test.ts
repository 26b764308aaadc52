/**
 * Confirmations by the channel's own sender (issue 32): every (channel,
 * sender) pair of the channel table has a confirmation sender; each message
 * says what it is in the shopper's language and carries the sealed link as
 * its one link (a push's click target); the notification service is told a
 * confirmation apart from a restock; the per-address limit is taken before
 * any channel sends; a sender's verdict becomes the API's answer.
 */
import { createECDH, randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, test } from 'vitest';
import { CHANNEL_SPECS, CHANNELS, type Channel } from '../../../lib/channels.ts';
import { ConfigError, parseConfig } from '../../../lib/config.ts';
import type { AddressLimiter } from '../../../lib/consent/limit.ts';
import { ChannelConfirmationSender, confirmationKey, confirmationNotice } from '../../../lib/consent/send.ts';
import { Logger } from '../../../lib/log.ts';
import { renderConfirmationEmail, renderConfirmationPush } from '../../../lib/notify/confirmation-messages.ts';
import { fcmConfirmationMessage, FcmNotifier } from '../../../lib/notify/fcm.ts';
import { LogNotifier } from '../../../lib/notify/log.ts';
import { CONFIRMERS, checkConfirmationSettings, createConfirmers } from '../../../lib/notify/router.ts';
import { CONFIRMATION_HEADER, SmtpNotifier } from '../../../lib/notify/smtp.ts';
import type { ConfirmationNotice, Confirmer, NotificationResult } from '../../../lib/notify/types.ts';
import { webPushConfirmationPayload, WebPushNotifier } from '../../../lib/notify/webpush.ts';
import { ConfirmationRejectedError, ConfirmationUnavailableError, type ConfirmationMessage } from '../../../lib/subscriptions/index.ts';
import { builtinTemplates } from '../../../lib/notify/templates.ts';
import { RESEND_AFTER_MS } from '../../../lib/subscriptions/pending.ts';
import { openLinkToken } from '../../../lib/unsubscribe/token.ts';

const KEYS = ['k'.repeat(40)];
const NOW = 1_800_000_000_000;
const silent = new Logger({}, 'ERROR', () => {});
const LINK = 'https://public.example/v1/confirm/c2.token';

const notice = (over: Omit<Partial<ConfirmationNotice>, 'data'> & { data?: Partial<ConfirmationNotice['data']> } = {}): ConfirmationNotice => ({
  idempotencyKey: 'c'.repeat(64),
  channel: 'push',
  to: 'tok-1',
  template: 'confirmation',
  ...over,
  data: { productId: 'p1', productName: 'Lamp', confirmUrl: LINK, expiresAtMs: NOW + 72 * 3_600_000, ...over.data },
});

const message = (over: Partial<ConfirmationMessage> = {}): ConfirmationMessage => ({
  productId: 'p1',
  userId: 'u1',
  channel: 'push',
  to: 'tok-1',
  generation: NOW - 1000,
  expiresAtMs: NOW + 72 * 3_600_000,
  productName: 'Lamp',
  ...over,
});

describe('the confirmation senders', () => {
  test('every (channel, sender) pair the channel table allows has one, and no other', () => {
    for (const c of CHANNELS) expect(Object.keys(CONFIRMERS[c]).sort()).toEqual([...CHANNEL_SPECS[c].senders].sort());
  });

  test('each channel of RESTOCK_DOUBLE_OPT_IN is confirmed by the sender of its notifications, each sender built once', () => {
    const config = parseConfig({ RESTOCK_NOTIFIER: 'http', RESTOCK_NOTIFIER_URL: 'https://notify.example', RESTOCK_EMAIL_SENDER: 'log', RESTOCK_DOUBLE_OPT_IN: 'email,push,webpush' });
    const confirmers = createConfirmers(config, silent, config.doubleOptIn);
    expect(confirmers.push).toBe(confirmers.webpush);
    expect(confirmers.email).not.toBe(confirmers.push);
  });

  test('the log sender of the local stack logs neither the address, the shopper nor the link: the link would let a log reader confirm for the shopper', async () => {
    const lines: string[] = [];
    const confirmer = new LogNotifier(new Logger({}, 'DEBUG', (line) => lines.push(line)));
    const c = notice({ to: 'ann-secret-token', userId: 'ann-user-id' });

    expect(await confirmer.confirm(c)).toEqual({ idempotencyKey: c.idempotencyKey, status: 'sent' });

    expect(lines).toHaveLength(1);
    for (const secret of [c.to, c.userId!, c.data.confirmUrl, 'c2.token']) expect(lines[0]).not.toContain(secret);
  });

  test('a sender without its settings is refused at start, naming the setting and RESTOCK_DOUBLE_OPT_IN', () => {
    const config = parseConfig({ RESTOCK_WEBPUSH_SENDER: 'webpush', RESTOCK_DOUBLE_OPT_IN: 'webpush' });
    expect(() => checkConfirmationSettings(config, config.doubleOptIn)).toThrow(ConfigError);
    expect(() => checkConfirmationSettings(config, config.doubleOptIn)).toThrow(/^RESTOCK_WEBPUSH_VAPID_PUBLIC_KEY: .*RESTOCK_DOUBLE_OPT_IN names webpush.*RESTOCK_WEBPUSH_SENDER=webpush/);
  });

  test('a PUT resends a confirmation never recorded sent only after one call of any sender has had time to end (RESEND_AFTER_MS), with the default settings', () => {
    // Less, and a PUT arriving while the first is still in its sender's call would send a second message.
    const c = parseConfig({});
    // FCM, web push, the notification service: every attempt timed out, each wait the longest Retry-After plus p-retry's longest backoff (2 s).
    const providerMs = (c.notifierRetries + 1) * c.notifierTimeoutMs + c.notifierRetries * (c.notifierMaxRetryAfterMs + 2_000);
    // SMTP: connection, greeting and a command, each up to its timeout.
    const smtpMs = 3 * c.smtpTimeoutMs;
    expect(RESEND_AFTER_MS).toBeGreaterThan(Math.max(providerMs, smtpMs));
  });

  test('RESTOCK_DOUBLE_OPT_IN takes any channel of the table, and refuses another', () => {
    expect(parseConfig({ RESTOCK_DOUBLE_OPT_IN: 'push, webpush,push' }).doubleOptIn).toEqual(['push', 'webpush']);
    expect(() => parseConfig({ RESTOCK_DOUBLE_OPT_IN: 'sms' })).toThrow(/^RESTOCK_DOUBLE_OPT_IN: .*"sms"/);
  });
});

describe('confirmation messages', () => {
  test('the email asks in the shopper\'s language, escapes the product name, and links only the confirmation', () => {
    const en = renderConfirmationEmail(notice({ channel: 'email', to: 'a@x.io', data: { productName: '<b>Lamp</b>' } }), NOW);
    expect(en.language).toBe('en');
    expect(en.html).toContain('&lt;b&gt;Lamp&lt;/b&gt;');
    expect(en.text).toContain(LINK);
    expect(en.text).toContain('72 hours');
    expect(en.html.match(/href=/g)).toHaveLength(1);
    const ja = renderConfirmationEmail(notice({ channel: 'email', to: 'a@x.io', locale: 'ja-JP' }), NOW);
    expect(ja.language).toBe('ja');
    expect(ja.subject).toContain('Lamp');
    expect(ja.text).toContain('72時間');
    expect(ja.text).toContain(LINK);
  });

  test('a product name is folded onto one line as in a restock message, and a blank one reads as the product id', () => {
    expect(renderConfirmationEmail(notice({ channel: 'email', to: 'a@x.io', data: { productName: 'Lamp\r\nBcc: victim@example.com' } }), NOW).subject).toBe('Confirm: tell me when Lamp Bcc: victim@example.com is back in stock');
    expect(renderConfirmationPush(notice({ data: { productName: ' \r\n ' } })).body).toContain('Product p1 is back');
    expect(renderConfirmationPush(notice({ locale: 'ja', data: { productName: undefined } })).body).toContain('商品 p1');
  });

  test('a push confirmation opens the confirmation link, in the shopper\'s language', () => {
    expect(renderConfirmationPush(notice())).toMatchObject({ language: 'en', link: LINK, title: 'Confirm your restock alert' });
    expect(renderConfirmationPush(notice({ locale: 'ja' }))).toMatchObject({ language: 'ja', link: LINK, title: '再入荷通知の確認' });
  });

  test('a confirmation speaks the language the restock message of its channel would, the same fallback included', () => {
    const templates = builtinTemplates();
    for (const locale of [undefined, '', 'en', 'EN-gb', 'ja', 'ja-JP', 'ja_JP', ' ja ', 'fr-FR', 'jav', 'toString']) {
      for (const channel of ['push', 'webpush'] as const) expect(renderConfirmationPush(notice({ channel, ...(locale !== undefined ? { locale } : {}) })).language).toBe(templates.language(locale, channel));
      expect(renderConfirmationEmail(notice({ channel: 'email', to: 'a@x.io', ...(locale !== undefined ? { locale } : {}) }), NOW).language).toBe(templates.language(locale, 'email'));
    }
  });

  test('an FCM confirmation is marked as one, clicks through to the link, and collapses on its key', () => {
    const m = fcmConfirmationMessage(notice());
    expect(m).toMatchObject({
      token: 'tok-1',
      data: { kind: 'confirmation', productId: 'p1', confirmationKey: 'c'.repeat(64), link: LINK },
      notification: { title: 'Confirm your restock alert' },
      android: { collapse_key: 'c'.repeat(64) },
      apns: { headers: { 'apns-collapse-id': 'c'.repeat(64) } },
      webpush: { headers: { Topic: 'c'.repeat(32) }, fcm_options: { link: LINK } },
    });
    expect(m.data).not.toHaveProperty('restockKey');
  });

  test('a web push confirmation is marked as one and its link is the confirmation link', () => {
    expect(webPushConfirmationPayload(notice({ channel: 'webpush' }))).toEqual({
      kind: 'confirmation',
      title: 'Confirm your restock alert',
      body: expect.stringContaining('Lamp'),
      lang: 'en',
      link: LINK,
      productId: 'p1',
      confirmationKey: 'c'.repeat(64),
    });
  });
});

describe('the notification service gets a confirmation it can tell apart', () => {
  let server: Server | undefined;
  afterEach(async () => {
    server?.closeAllConnections();
    await new Promise((r) => server?.close(r) ?? r(undefined));
  });

  test('one item with template "confirmation" and the link, through the same endpoint; the user id only when allowed', async () => {
    // Prepare: a notification service that records what it is sent.
    const seen: Record<string, unknown>[] = [];
    server = createServer((req, res) => {
      let text = '';
      req.on('data', (c) => (text += c));
      req.on('end', () => {
        const body = JSON.parse(text) as { notifications: Record<string, unknown>[] };
        seen.push(...body.notifications);
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ results: body.notifications.map((n) => ({ idempotencyKey: n.idempotencyKey, status: 'sent' })) }));
      });
    });
    await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const withId = createConfirmers(parseConfig({ RESTOCK_NOTIFIER_URL: url, RESTOCK_DOUBLE_OPT_IN: 'push' }), silent, ['push']).push!;
    const withoutId = createConfirmers(parseConfig({ RESTOCK_NOTIFIER_URL: url, RESTOCK_DOUBLE_OPT_IN: 'push', RESTOCK_NOTIFIER_SEND_USER_ID: 'false' }), silent, ['push']).push!;

    // Act
    const results = [await withId.confirm(notice({ userId: 'u1' })), await withoutId.confirm(notice({ userId: 'u1' }))];

    // Assess
    expect(results.map((r) => r.status)).toEqual(['sent', 'sent']);
    expect(seen[0]).toEqual({ idempotencyKey: 'c'.repeat(64), channel: 'push', to: 'tok-1', userId: 'u1', template: 'confirmation', data: { productId: 'p1', productName: 'Lamp', confirmUrl: LINK, expiresAtMs: NOW + 72 * 3_600_000 } });
    expect(seen[1]).not.toHaveProperty('userId');
  });
});

describe('ChannelConfirmationSender', () => {
  /** A limiter with `n` slots per (channel, address), recording what it was asked. */
  function limiter(n: number): AddressLimiter & { asked: string[] } {
    const taken = new Map<string, number>();
    const asked: string[] = [];
    return {
      asked,
      async take(channel: Channel, address: string) {
        asked.push(`${channel}:${address}`);
        const k = `${channel}:${address}`;
        taken.set(k, (taken.get(k) ?? 0) + 1);
        return taken.get(k)! <= n ? { ok: true } : { ok: false, retryAfterMs: 5 };
      },
    };
  }
  function recording(answer: (c: ConfirmationNotice) => Omit<NotificationResult, 'idempotencyKey'>): Confirmer & { sent: ConfirmationNotice[] } {
    const sent: ConfirmationNotice[] = [];
    return {
      sent,
      confirm: async (c) => {
        sent.push(c);
        return { idempotencyKey: c.idempotencyKey, ...answer(c) };
      },
    };
  }

  test('takes the address\'s slot on its own channel, then hands a sealed link of the request to that channel\'s sender', async () => {
    const push = recording(() => ({ status: 'sent' }));
    const webpush = recording(() => ({ status: 'sent' }));
    const slots = limiter(1);
    const sender = new ChannelConfirmationSender({ confirmers: { push, webpush }, baseUrl: 'https://public.example/', keys: KEYS, limiter: slots, nowMs: () => NOW });

    const first = await sender.send(message());
    const again = await sender.send(message());

    expect(first).toEqual({ outcome: 'sent' });
    expect(again).toEqual({ outcome: 'limited', retryAfterMs: 5 });
    expect(slots.asked).toEqual(['push:tok-1', 'push:tok-1']);
    expect(push.sent).toHaveLength(1);
    expect(webpush.sent).toHaveLength(0);
    const c = push.sent[0]!;
    expect(c).toMatchObject({ channel: 'push', to: 'tok-1', userId: 'u1', template: 'confirmation', idempotencyKey: confirmationKey(KEYS[0]!, message()) });
    const token = c.data.confirmUrl.split('/v1/confirm/')[1]!;
    expect(c.data.confirmUrl.startsWith('https://public.example/v1/confirm/')).toBe(true);
    expect(openLinkToken('confirm', token, KEYS, { nowMs: NOW, maxAgeMs: 3_600_000 })).toMatchObject({ productId: 'p1', userId: 'u1', generation: NOW - 1000 });
  });

  test('a refused address is ConfirmationRejectedError; a sender that asks to retry is ConfirmationUnavailableError', async () => {
    const refusing = new ChannelConfirmationSender({ confirmers: { push: recording(() => ({ status: 'rejected', reason: 'fcm 404 UNREGISTERED' })) }, baseUrl: 'https://p.example', keys: KEYS, limiter: limiter(9) });
    const failing = new ChannelConfirmationSender({ confirmers: { push: recording(() => ({ status: 'retry', reason: 'fcm 503' })) }, baseUrl: 'https://p.example', keys: KEYS, limiter: limiter(9) });
    await expect(refusing.send(message())).rejects.toThrow(ConfirmationRejectedError);
    await expect(failing.send(message())).rejects.toThrow(ConfirmationUnavailableError);
  });

  test('the key is one per pending request: the same for a resend, another for a new request or channel, and keyed', () => {
    const k = confirmationKey(KEYS[0]!, message());
    expect(k).toMatch(/^[0-9a-f]{64}$/);
    expect(confirmationKey(KEYS[0]!, message())).toBe(k);
    expect(confirmationKey(KEYS[0]!, message({ generation: NOW }))).not.toBe(k);
    expect(confirmationKey(KEYS[0]!, message({ channel: 'webpush' }))).not.toBe(k);
    expect(confirmationKey('other'.repeat(8), message())).not.toBe(k);
    expect(confirmationNotice(message({ locale: 'ja' }), LINK, KEYS[0]!)).toMatchObject({ locale: 'ja', data: { confirmUrl: LINK, productName: 'Lamp' } });
  });
});

describe('a confirmation travels by the sender\'s own transport, retries and classification', () => {
  /** A fetch that answers `answers` in turn (then 200) and records each request. */
  function scripted(answers: { status: number; body?: string; headers?: Record<string, string> }[]) {
    const calls: { url: string; init: RequestInit }[] = [];
    const fetch = (async (url: string, init: RequestInit) => {
      calls.push({ url, init });
      const a = answers.shift() ?? { status: 200 };
      return new Response(a.body ?? '{}', { status: a.status, headers: a.headers ?? {} });
    }) as unknown as typeof globalThis.fetch;
    return { fetch, calls };
  }
  const fcmOptions = { projectId: 'shop', endpoint: 'http://fcm.test', timeoutMs: 1000, retries: 2, maxRetryAfterMs: 50, concurrency: 1, accessToken: async () => undefined };
  const unregistered = JSON.stringify({ error: { code: 404, status: 'NOT_FOUND', details: [{ '@type': 'type.googleapis.com/google.firebase.fcm.v1.FcmError', errorCode: 'UNREGISTERED' }] } });

  test('FCM: UNAVAILABLE is retried in the call, then sent once; an unregistered token is rejected after one request', async () => {
    const flaky = scripted([{ status: 503, body: JSON.stringify({ error: { status: 'UNAVAILABLE' } }), headers: { 'retry-after': '0' } }, { status: 200 }]);
    const dead = scripted([{ status: 404, body: unregistered }]);

    const sent = await new FcmNotifier({ ...fcmOptions, fetch: flaky.fetch }).confirm(notice());
    const refused = await new FcmNotifier({ ...fcmOptions, fetch: dead.fetch }).confirm(notice());

    expect(sent).toEqual({ idempotencyKey: 'c'.repeat(64), status: 'sent' });
    expect(flaky.calls).toHaveLength(2);
    expect(JSON.parse(flaky.calls[1]!.init.body as string).message.data).toMatchObject({ kind: 'confirmation', link: LINK });
    expect(refused).toMatchObject({ status: 'rejected', deadAddress: true });
    expect(dead.calls).toHaveLength(1);
  });

  test('web push: encrypted for the subscription with the key as Topic; a gone subscription (410) is rejected, never retried', async () => {
    const ecdh = createECDH('prime256v1');
    const address = JSON.stringify({ endpoint: 'https://push.example.net/wpush/1', keys: { p256dh: ecdh.generateKeys().toString('base64url'), auth: randomBytes(16).toString('base64url') } });
    const options = (fetch: typeof globalThis.fetch) =>
      new WebPushNotifier({
        vapid: { subject: 'mailto:ops@shop.example', publicKey: 'BDHzfHbFzAFcPEtEgIPKNwtmfs6tgDHWEyEFpMNmT8gKVXKTALOw2yHt10cdNSOlAwemaHAWg2VxduX62fL2Jig', privateKey: 'iNZDU8CmwCwvARcmfigexKM3PdbJut0gTNZoEmksl3c' },
        ttlSeconds: 600,
        urgency: 'normal',
        unsubscribeBaseUrl: 'https://unsub.example',
        unsubscribeKeys: KEYS,
        timeoutMs: 1000,
        retries: 2,
        maxRetryAfterMs: 50,
        concurrency: 1,
        allowHttp: false,
        fetch,
      });
    const ok = scripted([{ status: 201 }]);
    const gone = scripted([{ status: 410 }]);

    const sent = await options(ok.fetch).confirm(notice({ channel: 'webpush', to: address }));
    const refused = await options(gone.fetch).confirm(notice({ channel: 'webpush', to: address }));

    expect(sent.status).toBe('sent');
    expect(ok.calls[0]!.url).toBe('https://push.example.net/wpush/1');
    expect(ok.calls[0]!.init.headers).toMatchObject({ 'Content-Encoding': 'aes128gcm', Topic: 'c'.repeat(32) });
    expect(refused).toMatchObject({ status: 'rejected', deadAddress: true });
    expect(gone.calls).toHaveLength(1);
  });

  test('SMTP: one message whose Message-ID and header carry the key, without List-Unsubscribe; a 550 at RCPT TO is rejected', async () => {
    const sent: Record<string, unknown>[] = [];
    const smtp = (fail: boolean) =>
      new SmtpNotifier({
        transport: {
          sendMail: async (mail: Record<string, unknown>) => {
            if (fail) throw Object.assign(new Error('x'), { responseCode: 550, command: 'RCPT TO', response: '550 no such user a@x.io' });
            sent.push(mail);
            return {};
          },
        } as never,
        from: 'Shop <restock@mail.shop.example>',
        unsubscribeBaseUrl: 'https://unsub.example',
        unsubscribeKeys: KEYS,
        nowMs: () => NOW,
      });

    const ok = await smtp(false).confirm(notice({ channel: 'email', to: 'a@x.io' }));
    const refused = await smtp(true).confirm(notice({ channel: 'email', to: 'a@x.io' }));

    expect(ok.status).toBe('sent');
    expect(sent[0]).toMatchObject({ to: 'a@x.io', messageId: `<confirm-${'c'.repeat(64)}@mail.shop.example>`, headers: { [CONFIRMATION_HEADER]: 'c'.repeat(64), 'Content-Language': 'en', 'Auto-Submitted': 'auto-generated' } });
    expect(sent[0]!.headers).not.toHaveProperty('List-Unsubscribe');
    expect(refused).toEqual({ idempotencyKey: 'c'.repeat(64), status: 'rejected', reason: 'smtp 550 at RCPT TO: 550 no such user [email]' });
  });
});
