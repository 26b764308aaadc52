import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, test } from 'vitest';
import { HttpNotifier, parseRetryAfter, type Notification } from '../../../lib/notify/index.ts';

// A tiny scripted HTTP server on loopback: each request takes the next answer.
type Answer = { status: number; headers?: Record<string, string>; body?: unknown } | 'hang';
let server: Server | undefined;
const seen: { authorization?: string; body: { notifications: Notification[] } }[] = [];

async function notifierFor(answers: Answer[], options: Partial<ConstructorParameters<typeof HttpNotifier>[0]> = {}) {
  seen.length = 0;
  server = createServer((req, res) => {
    let text = '';
    req.on('data', (c) => (text += c));
    req.on('end', () => {
      seen.push({ authorization: req.headers.authorization, body: JSON.parse(text) });
      const answer = answers.shift() ?? { status: 500 };
      if (answer === 'hang') return;
      res.writeHead(answer.status, { 'content-type': 'application/json', ...answer.headers });
      res.end(answer.body === undefined ? '' : JSON.stringify(answer.body));
    });
  });
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return new HttpNotifier({ baseUrl: `http://127.0.0.1:${port}`, timeoutMs: 300, retries: 2, maxRetryAfterMs: 1000, ...options });
}

afterEach(async () => {
  server?.closeAllConnections();
  await new Promise((r) => server?.close(r));
});

const note = (key: string): Notification => ({ idempotencyKey: key, channel: 'email', to: `${key}@example.com`, template: 'restock', data: { eventKey: 'e', productId: 'p', available: 1 } });
const results = (...pairs: [string, string][]) => ({ results: pairs.map(([idempotencyKey, status]) => ({ idempotencyKey, status })) });

describe('the http notifier', () => {
  test('sends one batch carrying every idempotency key and the bearer token, and maps the results', async () => {
    const notifier = await notifierFor([{ status: 200, body: results(['a', 'sent'], ['b', 'rejected']) }], { token: 's3cret' });
    const out = await notifier.send([note('a'), note('b')]);
    expect(out).toEqual([
      { idempotencyKey: 'a', status: 'sent' },
      { idempotencyKey: 'b', status: 'rejected' },
    ]);
    expect(seen).toHaveLength(1);
    expect(seen[0]!.authorization).toBe('Bearer s3cret');
    expect(seen[0]!.body.notifications.map((n) => n.idempotencyKey)).toEqual(['a', 'b']);
  });

  test('a 429 with Retry-After is waited out and the same keys are sent again', async () => {
    const notifier = await notifierFor([{ status: 429, headers: { 'retry-after': '1' } }, { status: 200, body: results(['a', 'sent']) }]);
    const started = Date.now();
    expect(await notifier.send([note('a')])).toEqual([{ idempotencyKey: 'a', status: 'sent' }]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    expect(seen.map((s) => s.body.notifications[0]!.idempotencyKey)).toEqual(['a', 'a']);
  });

  test('a Retry-After longer than allowed is not waited: the batch comes back as retry at once', async () => {
    const notifier = await notifierFor([{ status: 429, headers: { 'retry-after': '60' } }]);
    const out = await notifier.send([note('a')]);
    expect(out).toEqual([expect.objectContaining({ idempotencyKey: 'a', status: 'retry' })]);
    expect(seen).toHaveLength(1);
  });

  test('5xx answers and timeouts are retried in-call, then reported as retry with the reason', async () => {
    const notifier = await notifierFor([{ status: 503 }, 'hang', { status: 502 }]);
    const out = await notifier.send([note('a')]);
    expect(out[0]).toMatchObject({ idempotencyKey: 'a', status: 'retry' });
    expect(out[0]!.reason).toMatch(/502/);
    expect(seen).toHaveLength(3);
  });

  test('a key missing from the answer is retry, never assumed sent', async () => {
    const notifier = await notifierFor([{ status: 200, body: results(['a', 'sent']) }]);
    const out = await notifier.send([note('a'), note('b')]);
    expect(out[1]).toMatchObject({ idempotencyKey: 'b', status: 'retry' });
  });

  test('a 400 is not retried in-call (the same request would fail the same way)', async () => {
    const notifier = await notifierFor([{ status: 400, body: { title: 'bad' } }]);
    const out = await notifier.send([note('a')]);
    expect(out[0]).toMatchObject({ status: 'retry', reason: expect.stringMatching(/NotifierRejectedError.*400/) });
    expect(seen).toHaveLength(1);
  });
});

describe('Retry-After', () => {
  test('reads seconds and HTTP dates', () => {
    expect(parseRetryAfter('3', 0)).toBe(3000);
    expect(parseRetryAfter(new Date(10_000).toUTCString(), 4_000)).toBe(6000);
    expect(parseRetryAfter(null, 0)).toBeUndefined();
    expect(parseRetryAfter('soon', 0)).toBeUndefined();
  });
});
