/**
 * The notification service's answers are trusted no further than the
 * contract: a redirect is never followed, its body is read within a bound,
 * and none of its text reaches the ledger. The `log` notifier and a plain
 * http service are refused outside the emulators.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, test } from 'vitest';
import { parseConfig } from '../../../lib/config.ts';
import { Logger } from '../../../lib/log.ts';
import { createNotifier, HttpNotifier, MAX_RESPONSE_BYTES, type Notification } from '../../../lib/notify/index.ts';

const servers: Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
});

/** A loopback server answering every request with `answer`; counts what it received. */
async function serve(answer: (res: import('node:http').ServerResponse, base: string) => void): Promise<{ base: string; received: () => number }> {
  let received = 0;
  let base = '';
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      received++;
      answer(res, base);
    });
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { base, received: () => received };
}

const note = (key: string): Notification => ({ idempotencyKey: key, channel: 'email', to: `${key}@example.com`, template: 'restock', data: { eventKey: 'e', productId: 'p', available: 1 } });
const notifier = (base: string) => new HttpNotifier({ baseUrl: base, timeoutMs: 2_000, retries: 0, maxRetryAfterMs: 0 });

describe('the http notifier and what the service answers', () => {
  for (const status of [301, 302, 307, 308]) {
    test(`a ${status} redirect is not followed: the other origin receives nothing, the batch is left to retry`, async () => {
      // Prepare
      const elsewhere = await serve((res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{"results":[]}'));
      const service = await serve((res) => res.writeHead(status, { location: `${elsewhere.base}/steal` }).end());

      // Act
      const out = await notifier(service.base).send([note('a')]);

      // Assess
      expect(elsewhere.received()).toBe(0);
      expect(out).toEqual([{ idempotencyKey: 'a', status: 'retry', reason: expect.stringMatching(/NotifierRedirectError.*redirects are refused/) }]);
    });
  }

  test("a 4xx answer's text never reaches the reason the ledger keeps", async () => {
    // Prepare
    const service = await serve((res) => res.writeHead(400, { 'content-type': 'text/plain' }).end('bad recipient a@example.com \u001b[2J'));

    // Act
    const [result] = await notifier(service.base).send([note('a')]);

    // Assess
    expect(result!.reason).toBe('NotifierRejectedError: notification service refused the batch with 400');
  });

  test('an answer larger than the bound is not read to its end: the batch is left to retry', async () => {
    // Prepare
    const service = await serve((res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(`{"results":[],"padding":"${'x'.repeat(MAX_RESPONSE_BYTES + 1)}"}`);
    });

    // Act
    const [result] = await notifier(service.base).send([note('a')]);

    // Assess
    expect(result).toMatchObject({ status: 'retry', reason: expect.stringMatching(/more than 1048576 bytes/) });
  });

  test("a result's reason is kept when it is a code, replaced when it is text", async () => {
    // Prepare
    const service = await serve((res) =>
      res.writeHead(200, { 'content-type': 'application/json' }).end(
        JSON.stringify({
          results: [
            { idempotencyKey: 'a', status: 'rejected', reason: 'invalid_address' },
            { idempotencyKey: 'b', status: 'rejected', reason: 'mailbox b@example.com does not exist' },
            { idempotencyKey: 'c', status: 'retry', reason: '\u001b]0;owned\u0007' },
          ],
        }),
      ),
    );

    // Act
    const out = await notifier(service.base).send([note('a'), note('b'), note('c')]);

    // Assess
    expect(out.map((r) => r.reason)).toEqual(['notification service: invalid_address', 'rejected by the notification service', 'the notification service asked to retry']);
  });
});

describe('which notifier a deployment may use', () => {
  const silent = new Logger({}, 'ERROR', () => {});
  test('`log` is refused outside the emulators: it would mark notifications sent that nobody received', () => {
    expect(() => createNotifier(parseConfig({ RESTOCK_NOTIFIER: 'log' }), silent)).toThrow(/^RESTOCK_NOTIFIER: `log` is refused outside the emulators/);
  });

  test('an http: notification service is refused outside the emulators', () => {
    expect(() => createNotifier(parseConfig({ RESTOCK_NOTIFIER_URL: 'http://notify.example.com' }), silent)).toThrow(/^RESTOCK_NOTIFIER_URL: must be an https: URL/);
  });

  test('on the emulators both are allowed (the local stack uses an http sink)', () => {
    const local = { FIRESTORE_EMULATOR_HOST: '127.0.0.1:8080' };
    expect(() => createNotifier(parseConfig({ ...local, RESTOCK_NOTIFIER: 'log' }), silent)).not.toThrow();
    expect(() => createNotifier(parseConfig({ ...local, RESTOCK_NOTIFIER_URL: 'http://127.0.0.1:9' }), silent)).not.toThrow();
  });
});
