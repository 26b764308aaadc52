import { describe, expect, test } from 'vitest';
import { channelPlan, parseConfig } from '../../../lib/config.ts';
import { Logger } from '../../../lib/log.ts';
import { ChannelRouter, checkChannelSettings, createNotifier, type Notification, type NotificationResult, type Notifier } from '../../../lib/notify/index.ts';

const SMTP = {
  RESTOCK_EMAIL_SENDER: 'smtp',
  RESTOCK_SMTP_HOST: 'smtp.example.com',
  RESTOCK_EMAIL_FROM: 'restock@shop.example',
  RESTOCK_UNSUBSCRIBE_URL: 'https://unsub.example',
  RESTOCK_UNSUBSCRIBE_SECRET: 's'.repeat(40),
};
/** The web push sender's settings (a VAPID pair made by `npx web-push generate-vapid-keys`). */
const WEBPUSH = {
  RESTOCK_WEBPUSH_SENDER: 'webpush',
  RESTOCK_WEBPUSH_VAPID_PUBLIC_KEY: 'BDHzfHbFzAFcPEtEgIPKNwtmfs6tgDHWEyEFpMNmT8gKVXKTALOw2yHt10cdNSOlAwemaHAWg2VxduX62fL2Jig',
  RESTOCK_WEBPUSH_VAPID_PRIVATE_KEY: 'iNZDU8CmwCwvARcmfigexKM3PdbJut0gTNZoEmksl3c',
  RESTOCK_WEBPUSH_SUBJECT: 'mailto:ops@shop.example',
};
const silent = new Logger({}, 'ERROR', () => {});

describe('which sender carries each channel', () => {
  test('unset channel senders follow RESTOCK_NOTIFIER; each can be set on its own', () => {
    expect(channelPlan(parseConfig({}))).toEqual({ email: 'http', push: 'http', webpush: 'http' });
    expect(channelPlan(parseConfig({ RESTOCK_NOTIFIER: 'log', RESTOCK_PUSH_SENDER: 'fcm' }))).toEqual({ email: 'log', push: 'fcm', webpush: 'log' });
  });

  test('a sender outside its channel is refused naming the variable', () => {
    expect(() => parseConfig({ RESTOCK_EMAIL_SENDER: 'fcm' })).toThrow(/^RESTOCK_EMAIL_SENDER:/);
    expect(() => parseConfig({ RESTOCK_PUSH_SENDER: 'smtp' })).toThrow(/^RESTOCK_PUSH_SENDER:/);
    expect(() => parseConfig({ RESTOCK_WEBPUSH_SENDER: 'fcm' })).toThrow(/^RESTOCK_WEBPUSH_SENDER:/);
  });
});

describe('a chosen sender without its settings stops delivery at start, naming the setting', () => {
  test.each([
    ['RESTOCK_SMTP_HOST', { ...SMTP, RESTOCK_SMTP_HOST: undefined }],
    ['RESTOCK_EMAIL_FROM', { ...SMTP, RESTOCK_EMAIL_FROM: undefined }],
    ['RESTOCK_UNSUBSCRIBE_URL', { ...SMTP, RESTOCK_UNSUBSCRIBE_URL: undefined }],
    ['RESTOCK_UNSUBSCRIBE_SECRET', { ...SMTP, RESTOCK_UNSUBSCRIBE_SECRET: undefined }],
  ])('smtp without %s', (variable, env) => {
    expect(() => checkChannelSettings(parseConfig({ ...env, RESTOCK_NOTIFIER: 'log' }))).toThrow(new RegExp(`^${variable}: is required when RESTOCK_EMAIL_SENDER=smtp`));
  });

  test('http for push only (email direct) still needs the notification service URL', () => {
    expect(() => checkChannelSettings(parseConfig({ ...SMTP, RESTOCK_PUSH_SENDER: 'http' }))).toThrow(/^RESTOCK_NOTIFIER_URL: is required when RESTOCK_PUSH_SENDER=http/);
  });

  test('half a DKIM configuration is refused', () => {
    expect(() => checkChannelSettings(parseConfig({ ...SMTP, ...WEBPUSH, RESTOCK_PUSH_SENDER: 'fcm', RESTOCK_DKIM_PRIVATE_KEY: 'pem', RESTOCK_DKIM_DOMAIN: 'shop.example' }))).toThrow(/^RESTOCK_DKIM_SELECTOR:/);
  });

  test('a short unsubscribe key is refused when the settings are parsed', () => {
    expect(() => parseConfig({ RESTOCK_UNSUBSCRIBE_SECRET: 'short' })).toThrow(/^RESTOCK_UNSUBSCRIBE_SECRET: key 1 of 1 is 5 bytes; each comma-separated key must be at least 32 bytes/);
  });

  test.each([
    ['RESTOCK_WEBPUSH_VAPID_PUBLIC_KEY', { ...SMTP, ...WEBPUSH, RESTOCK_WEBPUSH_VAPID_PUBLIC_KEY: undefined }],
    ['RESTOCK_WEBPUSH_VAPID_PRIVATE_KEY', { ...SMTP, ...WEBPUSH, RESTOCK_WEBPUSH_VAPID_PRIVATE_KEY: undefined }],
    ['RESTOCK_WEBPUSH_SUBJECT', { ...SMTP, ...WEBPUSH, RESTOCK_WEBPUSH_SUBJECT: undefined }],
    // Every web push message carries the one-click unsubscribe link.
    ['RESTOCK_UNSUBSCRIBE_URL', { ...WEBPUSH, RESTOCK_EMAIL_SENDER: 'log' }],
  ])('webpush without %s', (variable, env) => {
    expect(() => checkChannelSettings(parseConfig({ ...env, RESTOCK_NOTIFIER: 'log', FIRESTORE_EMULATOR_HOST: '127.0.0.1:1' }))).toThrow(new RegExp(`^${variable}: is required when RESTOCK_WEBPUSH_SENDER=webpush`));
  });

  test('a VAPID key or subject of the wrong shape is refused when the settings are parsed, naming the variable', () => {
    expect(() => parseConfig({ RESTOCK_WEBPUSH_VAPID_PUBLIC_KEY: 'not-a-key' })).toThrow(/^RESTOCK_WEBPUSH_VAPID_PUBLIC_KEY: must be a VAPID public key/);
    expect(() => parseConfig({ RESTOCK_WEBPUSH_VAPID_PRIVATE_KEY: 'short' })).toThrow(/^RESTOCK_WEBPUSH_VAPID_PRIVATE_KEY: must be a VAPID private key/);
    expect(() => parseConfig({ RESTOCK_WEBPUSH_SUBJECT: 'http://shop.example' })).toThrow(/^RESTOCK_WEBPUSH_SUBJECT: must be a mailto: address or an https: URL/);
  });

  test('smtp, fcm and webpush with their settings build a router', () => {
    expect(createNotifier(parseConfig({ ...SMTP, ...WEBPUSH, RESTOCK_PUSH_SENDER: 'fcm', RESTOCK_FCM_CREDENTIALS: 'none' }), silent)).toBeInstanceOf(ChannelRouter);
  });
});

class Recording implements Notifier {
  batches: Notification[][] = [];
  constructor(private readonly status: NotificationResult['status']) {}
  async send(batch: readonly Notification[]): Promise<NotificationResult[]> {
    this.batches.push([...batch]);
    return batch.map((n) => ({ idempotencyKey: n.idempotencyKey, status: this.status }));
  }
}

describe('the router', () => {
  test('sends each channel through its sender and answers in the order of the batch', async () => {
    const email = new Recording('sent');
    const push = new Recording('rejected');
    const router = new ChannelRouter({ email, push, webpush: new Recording('sent') });
    const n = (key: string, channel: 'email' | 'push'): Notification => ({ idempotencyKey: key, channel, to: 'x', template: 'restock', data: { eventKey: 'e', productId: 'p', available: 1 } });
    const results = await router.send([n('1', 'push'), n('2', 'email'), n('3', 'push')]);
    expect(results.map((r) => [r.idempotencyKey, r.status])).toEqual([
      ['1', 'rejected'],
      ['2', 'sent'],
      ['3', 'rejected'],
    ]);
    expect(email.batches.map((b) => b.map((x) => x.idempotencyKey))).toEqual([['2']]);
    expect(push.batches.map((b) => b.map((x) => x.idempotencyKey))).toEqual([['1', '3']]);
  });
});
