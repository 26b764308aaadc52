/**
 * The notification sink honours the contract the `http` notifier is written
 * against (docs/notification-service.md): one result per item,
 * idempotency keys, rejection rules, whole-request refusals, faults
 * scoped by product so tests can share one sink, and double opt-in
 * confirmations kept apart from restock notifications.
 */
import { createHash, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSink, type SendResponse, type SinkServer } from '../../../emulators/sink/index.ts';
import { HttpNotifier } from '../../../lib/notify/index.ts';
import { SinkClient } from '../../helpers/sink.ts';

let sink: SinkServer;
let client: SinkClient;

beforeAll(async () => {
  sink = await startSink({ port: 0 });
  client = new SinkClient(sink.url);
});
afterAll(async () => {
  await sink.stop();
});

function key(): string {
  return createHash('sha256').update(randomUUID()).digest('hex');
}

function product(): string {
  return `p-${randomUUID().slice(0, 8)}`;
}

interface ItemSpec {
  productId: string;
  idempotencyKey?: string;
  channel?: 'email' | 'push';
  to?: string;
}

function notification({ productId, idempotencyKey = key(), channel = 'email', to }: ItemSpec) {
  return {
    idempotencyKey,
    channel,
    to: to ?? (channel === 'email' ? `someone-${idempotencyKey.slice(0, 6)}@example.com` : `token-${idempotencyKey.slice(0, 6)}`),
    template: 'restock' as const,
    data: { eventKey: 'event-1', productId, productName: 'Boots', available: 3 },
  };
}

async function send(items: unknown[], headers: Record<string, string> = {}, signal?: AbortSignal): Promise<Response> {
  return fetch(`${sink.url}/v1/notifications:send`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...headers },
    body: JSON.stringify({ notifications: items }),
    ...(signal ? { signal } : {}),
  });
}

describe('the notification sink', () => {
  it('answers one result per item, in request order, and records each delivery', async () => {
    // Prepare
    const productId = product();
    const items = [notification({ productId }), notification({ productId, channel: 'push' }), notification({ productId })];

    // Act
    const res = await send(items);
    const body = (await res.json()) as SendResponse;

    // Assess
    expect(res.status).toBe(200);
    expect(body.results).toEqual(items.map((i) => ({ idempotencyKey: i.idempotencyKey, status: 'sent' })));
    const stats = await client.stats(productId);
    expect(stats).toMatchObject({ requests: 1, items: 3, uniqueKeys: 3, delivered: 3, duplicateKeys: 0, rejected: 0 });
    const records = await client.notifications(productId);
    expect(records.map((r) => r.idempotencyKey)).toEqual(items.map((i) => i.idempotencyKey));
    expect(records.every((r) => r.status === 'sent' && typeof r.sentAtMs === 'number')).toBe(true);
  });

  it('answers a key already sent with duplicate: true and does not deliver it again', async () => {
    // Prepare
    const productId = product();
    const item = notification({ productId });
    await send([item]);

    // Act
    const res = await send([item]);
    const body = (await res.json()) as SendResponse;

    // Assess
    expect(body.results).toEqual([{ idempotencyKey: item.idempotencyKey, status: 'sent', duplicate: true }]);
    const stats = await client.stats(productId);
    expect(stats).toMatchObject({ delivered: 1, uniqueKeys: 1, items: 2, duplicateKeys: 1, resentKeys: 1 });
  });

  it('rejects emails at @invalid.example and push tokens starting with bad-, permanently; the token as a dead address', async () => {
    // Prepare
    const productId = product();
    const badEmail = notification({ productId, to: 'nobody@invalid.example' });
    const badToken = notification({ productId, channel: 'push', to: 'bad-token-1' });

    // Act
    const first = (await (await send([badEmail, badToken])).json()) as SendResponse;
    const again = (await (await send([badEmail])).json()) as SendResponse;

    // Assess
    expect(first.results).toEqual([
      { idempotencyKey: badEmail.idempotencyKey, status: 'rejected', reason: 'invalid-address' },
      { idempotencyKey: badToken.idempotencyKey, status: 'rejected', reason: 'unregistered-token', deadAddress: true },
    ]);
    expect(again.results[0]?.status).toBe('rejected');
    expect(await client.stats(productId)).toMatchObject({ delivered: 0, rejected: 2 });
  });

  it("takes the contract under a base URL's path, and keeps the user id the notifier sends (issue 36)", async () => {
    // Prepare: the pipeline's own http notifier, pointed at the sink under a path.
    const productId = product();
    const notifier = new HttpNotifier({ baseUrl: `${sink.url}/notify/`, timeoutMs: 5000, retries: 0, maxRetryAfterMs: 0 });
    const item = { ...notification({ productId, channel: 'push', to: 'bad-token-2' }), userId: 'shopper-7' };
    const fine = { ...notification({ productId }), userId: 'shopper-8' };

    // Act
    const results = await notifier.send([item, fine]);

    // Assess: what the pipeline would act on, and what the service received.
    expect(results).toEqual([
      { idempotencyKey: item.idempotencyKey, status: 'rejected', reason: 'notification service: unregistered-token', deadAddress: true },
      { idempotencyKey: fine.idempotencyKey, status: 'sent' },
    ]);
    const records = await client.notifications(productId);
    expect(records.map((r) => [r.idempotencyKey, r.userId]).sort()).toEqual(
      [
        [item.idempotencyKey, 'shopper-7'],
        [fine.idempotencyKey, 'shopper-8'],
      ].sort(),
    );
  });

  it.each([
    ['no items', [], 'notifications'],
    ['a malformed idempotency key', [{ ...notification({ productId: 'p' }), idempotencyKey: 'abc' }], 'notifications.0.idempotencyKey'],
    ['an unknown channel', [{ ...notification({ productId: 'p' }), channel: 'sms' }], 'notifications.0.channel'],
    ['a missing productId', [{ ...notification({ productId: 'p' }), data: { eventKey: 'e', available: 1 } }], 'notifications.0.data.productId'],
  ])('answers 400 problem+json naming the field for %s', async (_label, items, field) => {
    // Act
    const res = await send(items);
    const body = (await res.json()) as { field?: string; status: number };

    // Assess
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toContain('application/problem+json');
    expect(body).toMatchObject({ status: 400, field });
  });

  it('answers 400 for more than 1000 items', async () => {
    // Prepare
    const productId = product();
    const items = Array.from({ length: 1001 }, () => notification({ productId }));

    // Act
    const res = await send(items);

    // Assess
    expect(res.status).toBe(400);
    expect(await client.stats(productId)).toMatchObject({ items: 0 });
  });

  it('applies faults only to the product they are scoped to', async () => {
    // Prepare
    const faulty = product();
    const healthy = product();
    await client.faults({ productId: faulty, retryRate: 1 });

    // Act
    const res = (await (await send([notification({ productId: faulty }), notification({ productId: healthy })])).json()) as SendResponse;
    const healthyAlone = (await (await send([notification({ productId: healthy })])).json()) as SendResponse;

    // Assess
    expect(res.results.map((r) => r.status)).toEqual(['retry', 'sent']);
    expect(healthyAlone.results[0]?.status).toBe('sent');
    expect(await client.stats(faulty)).toMatchObject({ delivered: 0, retried: 1 });
    await client.clearFaults(faulty);
  });

  it('answers 429 with Retry-After and sends nothing, then sends once the fault is cleared', async () => {
    // Prepare
    const productId = product();
    const item = notification({ productId });
    await client.faults({ productId, status429Rate: 1, retryAfterSeconds: 7 });

    // Act
    const refused = await send([item]);
    await client.clearFaults(productId);
    const accepted = (await (await send([item])).json()) as SendResponse;

    // Assess
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toBe('7');
    expect(accepted.results).toEqual([{ idempotencyKey: item.idempotencyKey, status: 'sent' }]);
    expect(await client.stats(productId)).toMatchObject({ delivered: 1, requests: 2, resentKeys: 0 });
  });

  it('answers 503 and sends nothing under an outage fault', async () => {
    // Prepare
    const productId = product();
    await client.faults({ productId, status503Rate: 1 });

    // Act
    const res = await send([notification({ productId })]);

    // Assess
    expect(res.status).toBe(503);
    expect(await client.stats(productId)).toMatchObject({ delivered: 0, items: 1 });
    await client.clearFaults(productId);
  });

  it('holds a request open under a timeout fault, so the caller times out', async () => {
    // Prepare
    const productId = product();
    await client.faults({ productId, timeoutRate: 1 });

    // Act
    const outcome = await send([notification({ productId })], {}, AbortSignal.timeout(500)).then(
      (res) => `answered ${res.status}`,
      (err: Error) => err.name,
    );

    // Assess
    expect(outcome).toBe('TimeoutError');
    expect(await client.stats(productId)).toMatchObject({ delivered: 0 });
    await client.clearFaults(productId);
  });

  it('adds the configured latency before answering', async () => {
    // Prepare
    const productId = product();
    await client.faults({ productId, latencyMs: 400 });

    // Act
    const startedMs = Date.now();
    const res = await send([notification({ productId })]);
    const tookMs = Date.now() - startedMs;

    // Assess
    expect(res.status).toBe(200);
    expect(tookMs).toBeGreaterThanOrEqual(350);
    await client.clearFaults(productId);
  });

  it('draws the same faults from the same seed', async () => {
    // Prepare
    const runOnce = async (): Promise<string[]> => {
      const productId = product();
      await client.faults({ productId, retryRate: 0.5, seed: 42 });
      const body = (await (await send(Array.from({ length: 40 }, () => notification({ productId })))).json()) as SendResponse;
      return body.results.map((r) => r.status);
    };

    // Act
    const first = await runOnce();
    const second = await runOnce();

    // Assess
    expect(first).toEqual(second);
    expect(first).toContain('retry');
    expect(first).toContain('sent');
  });

  it('forgets one product on reset and keeps the others', async () => {
    // Prepare
    const forgotten = product();
    const kept = product();
    await send([notification({ productId: forgotten }), notification({ productId: kept })]);

    // Act
    await client.reset(forgotten);

    // Assess
    expect(await client.notifications(forgotten)).toEqual([]);
    expect(await client.stats(forgotten)).toMatchObject({ items: 0, delivered: 0 });
    expect(await client.stats(kept)).toMatchObject({ delivered: 1 });
  });

  it('never keeps the recipient address', async () => {
    // Prepare
    const productId = product();
    await send([notification({ productId, to: 'private.person@example.com' })]);

    // Act
    const records = JSON.stringify(await client.notifications(productId));

    // Assess
    expect(records).not.toContain('private.person');
  });

  it('requires the bearer token when one is configured', async () => {
    // Prepare
    const guarded = await startSink({ port: 0, token: 'secret-token' });
    const body = JSON.stringify({ notifications: [notification({ productId: product() })] });
    const post = (headers: Record<string, string>) =>
      fetch(`${guarded.url}/v1/notifications:send`, { method: 'POST', headers: { 'Content-Type': 'application/json', ...headers }, body });

    // Act
    const without = await post({});
    const withToken = await post({ Authorization: 'Bearer secret-token' });
    await guarded.stop();

    // Assess
    expect(without.status).toBe(401);
    expect(withToken.status).toBe(200);
  });

  it('counts a key once per request even when 20 concurrent requests carry 500 items each', async () => {
    // Prepare
    const productId = product();
    const batches = Array.from({ length: 20 }, () => Array.from({ length: 500 }, () => notification({ productId })));

    // Act
    const statuses = await Promise.all(batches.map(async (b) => (await send(b)).status));

    // Assess
    expect(statuses.every((s) => s === 200)).toBe(true);
    expect(await client.stats(productId)).toMatchObject({ items: 10_000, uniqueKeys: 10_000, delivered: 10_000, duplicateKeys: 0 });
  });

  it("takes a confirmation from the HttpNotifier, keeps its link, and counts it in no restock figure", async () => {
    // Prepare
    const productId = product();
    const notifier = new HttpNotifier({ baseUrl: sink.url, timeoutMs: 2000, retries: 0, maxRetryAfterMs: 0 });
    const confirmation = (to: string) => ({
      idempotencyKey: key(),
      channel: 'push' as const,
      to,
      userId: 'u1',
      template: 'confirmation' as const,
      data: { productId, confirmUrl: 'http://public.example/v1/confirm/c2.x', expiresAtMs: 1 },
    });

    // Act
    const sent = await notifier.confirm(confirmation('token-ok'));
    const refused = await notifier.confirm(confirmation('bad-token'));
    const mixed = await send([notification({ productId }), confirmation('token-ok')]);

    // Assess
    expect(sent.status).toBe('sent');
    expect(refused).toMatchObject({ status: 'rejected', reason: 'notification service: unregistered-token' });
    expect(mixed.status).toBe(400);
    expect(await client.confirmations(productId)).toMatchObject([
      { channel: 'push', userId: 'u1', confirmUrl: 'http://public.example/v1/confirm/c2.x', status: 'sent', requests: 1 },
      { status: 'rejected', reason: 'unregistered-token' },
    ]);
    expect(await client.notifications(productId)).toEqual([]);
    expect(await client.stats(productId)).toMatchObject({ items: 0, delivered: 0 });
  });
});
