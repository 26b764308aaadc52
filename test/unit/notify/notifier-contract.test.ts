/**
 * What the notification-service contract gained (issue 36): the user id
 * (unless the deployment turns it off), a `deadAddress` answer that the
 * pipeline acts on, and a base URL whose path is kept; and a deployment that
 * sends every channel directly, which needs no notification service at all.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, test } from 'vitest';
import { CHANNEL_SPECS, CHANNELS, senderEnv } from '../../../lib/channels.ts';
import { deploymentProblems, parseConfig } from '../../../lib/config.ts';
import { Logger } from '../../../lib/log.ts';
import { checkChannelSettings, createNotifier, HttpNotifier, type Notification } from '../../../lib/notify/index.ts';
import { sendUrl } from '../../../lib/notify/http.ts';

type Seen = { path: string; body: { notifications: Record<string, unknown>[] } };
let server: Server | undefined;
const seen: Seen[] = [];

/** A scripted notification service on loopback that answers every item with `answer(item)`. */
async function service(answer: (item: Record<string, unknown>) => Record<string, unknown>): Promise<string> {
  seen.length = 0;
  server = createServer((req, res) => {
    let text = '';
    req.on('data', (c) => (text += c));
    req.on('end', () => {
      const body = JSON.parse(text) as Seen['body'];
      seen.push({ path: req.url ?? '', body });
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ results: body.notifications.map((n) => ({ idempotencyKey: n.idempotencyKey, ...answer(n) })) }));
    });
  });
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

afterEach(async () => {
  if (!server) return;
  server.closeAllConnections();
  await new Promise((r) => server!.close(r));
  server = undefined;
});

const note = (key: string, channel: Notification['channel'] = 'push'): Notification => ({
  idempotencyKey: key,
  channel,
  to: `token-${key}`,
  userId: `shopper-${key}`,
  subscriptionCreatedAtMs: 1_700_000_000_000,
  template: 'restock',
  data: { eventKey: 'e', productId: 'p', available: 1 },
});
const silent = new Logger({}, 'ERROR', () => {});

describe('a base URL with a path', () => {
  test.each([
    ['https://api.example.com/notify/', 'https://api.example.com/notify/v1/notifications:send'],
    ['https://api.example.com/notify', 'https://api.example.com/notify/v1/notifications:send'],
    ['https://api.example.com', 'https://api.example.com/v1/notifications:send'],
    ['https://api.example.com/a/b/?x=1', 'https://api.example.com/a/b/v1/notifications:send'],
  ])('%s posts to %s', (base, url) => {
    expect(sendUrl(base)).toBe(url);
  });

  test('the notifier posts under the path on the wire', async () => {
    const base = await service(() => ({ status: 'sent' }));
    const notifier = new HttpNotifier({ baseUrl: `${base}/notify/`, timeoutMs: 2000, retries: 0, maxRetryAfterMs: 0 });
    expect(await notifier.send([note('a')])).toEqual([{ idempotencyKey: 'a', status: 'sent' }]);
    expect(seen.map((s) => s.path)).toEqual(['/notify/v1/notifications:send']);
  });
});

describe('a dead address', () => {
  test('a rejection with deadAddress is passed on; deadAddress on anything but a rejection is ignored', async () => {
    const base = await service((n) => (n.idempotencyKey === 'dead' ? { status: 'rejected', reason: 'unregistered-token', deadAddress: true } : { status: 'sent', deadAddress: true }));
    const notifier = new HttpNotifier({ baseUrl: base, timeoutMs: 2000, retries: 0, maxRetryAfterMs: 0 });
    expect(await notifier.send([note('dead'), note('fine')])).toEqual([
      { idempotencyKey: 'dead', status: 'rejected', reason: 'notification service: unregistered-token', deadAddress: true },
      { idempotencyKey: 'fine', status: 'sent' },
    ]);
  });
});

describe('the user id', () => {
  test('reaches the notification service by default, without the subscription generation', async () => {
    const base = await service(() => ({ status: 'sent' }));
    await createNotifier(parseConfig({ RESTOCK_NOTIFIER_URL: base, FIRESTORE_EMULATOR_HOST: '127.0.0.1:1' }), silent).send([note('a')]);
    expect(seen[0]!.body.notifications[0]).toMatchObject({ idempotencyKey: 'a', userId: 'shopper-a' });
    expect(seen[0]!.body.notifications[0]).not.toHaveProperty('subscriptionCreatedAtMs');
  });

  test('is left out with RESTOCK_NOTIFIER_SEND_USER_ID=false', async () => {
    const base = await service(() => ({ status: 'sent' }));
    await createNotifier(parseConfig({ RESTOCK_NOTIFIER_URL: base, RESTOCK_NOTIFIER_SEND_USER_ID: 'false', FIRESTORE_EMULATOR_HOST: '127.0.0.1:1' }), silent).send([note('a')]);
    expect(seen[0]!.body.notifications[0]).not.toHaveProperty('userId');
    expect(seen[0]!.body.notifications[0]).not.toHaveProperty('subscriptionCreatedAtMs');
  });
});

/** Every channel on its direct sender, with those senders' settings, in production (no emulator). */
const DIRECT = {
  ...Object.fromEntries(CHANNELS.map((c) => [senderEnv(c), CHANNEL_SPECS[c].senders[0]])),
  RESTOCK_SMTP_HOST: 'smtp.example.com',
  RESTOCK_EMAIL_FROM: 'restock@shop.example',
  RESTOCK_UNSUBSCRIBE_URL: 'https://unsub.example',
  RESTOCK_UNSUBSCRIBE_SECRET: 's'.repeat(40),
  RESTOCK_FCM_CREDENTIALS: 'none',
  RESTOCK_WEBPUSH_VAPID_PUBLIC_KEY: 'BDHzfHbFzAFcPEtEgIPKNwtmfs6tgDHWEyEFpMNmT8gKVXKTALOw2yHt10cdNSOlAwemaHAWg2VxduX62fL2Jig',
  RESTOCK_WEBPUSH_VAPID_PRIVATE_KEY: 'iNZDU8CmwCwvARcmfigexKM3PdbJut0gTNZoEmksl3c',
  RESTOCK_WEBPUSH_SUBJECT: 'mailto:ops@shop.example',
};

describe('every channel direct', () => {
  test('needs no notifier URL or token, whatever RESTOCK_NOTIFIER says', () => {
    for (const notifier of ['http', 'log']) {
      const config = parseConfig({ ...DIRECT, RESTOCK_NOTIFIER: notifier });
      expect(config.notifierUrl).toBeUndefined();
      expect(Object.values(checkChannelSettings(config))).not.toContain('http');
      expect(deploymentProblems(config, 'deliverRestockBatch').map((p) => p.variable)).not.toEqual(expect.arrayContaining(['RESTOCK_NOTIFIER', 'RESTOCK_NOTIFIER_URL']));
    }
  });

  test('a channel left to RESTOCK_NOTIFIER=log is still refused outside the emulators, naming RESTOCK_NOTIFIER once', () => {
    const config = parseConfig({ RESTOCK_NOTIFIER: 'log' });
    expect(deploymentProblems(config, 'deliverRestockBatch').filter((p) => p.variable === 'RESTOCK_NOTIFIER')).toHaveLength(1);
    expect(() => checkChannelSettings(config)).toThrow(/^RESTOCK_NOTIFIER: `log` is refused outside the emulators/);
  });

  test("a channel's own log sender is refused naming that channel's variable", () => {
    const config = parseConfig({ ...DIRECT, RESTOCK_PUSH_SENDER: 'log' });
    expect(deploymentProblems(config, 'deliverRestockBatch').map((p) => p.variable)).toContain('RESTOCK_PUSH_SENDER');
  });

  test('an http: notifier URL no channel uses is not refused; one a channel uses is', () => {
    expect(deploymentProblems(parseConfig({ ...DIRECT, RESTOCK_NOTIFIER_URL: 'http://notify.internal' }), 'deliverRestockBatch').map((p) => p.variable)).not.toContain('RESTOCK_NOTIFIER_URL');
    expect(deploymentProblems(parseConfig({ ...DIRECT, RESTOCK_PUSH_SENDER: 'http', RESTOCK_NOTIFIER_URL: 'http://notify.internal' }), 'deliverRestockBatch').map((p) => p.variable)).toContain('RESTOCK_NOTIFIER_URL');
  });
});
