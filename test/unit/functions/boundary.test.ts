/**
 * Every error at the pipeline functions' boundary is one RFC 9457
 * problem+json answer, its status from the function's one table, and nothing
 * escapes to functions-framework's crash handler. An unexpected error is a 500
 * whose detail never repeats its message.
 *
 * The functions run in functions-framework's own server (its testing entry),
 * with a Runtime whose Firestore fails in whatever way the test says.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, test, vi } from 'vitest';
import { parseConfig } from '../../../lib/config.ts';
import { Logger } from '../../../lib/log.ts';
import type { Runtime } from '../../../lib/runtime.ts';
import { serveFunctions, type ServedFunctions } from '../../helpers/served-functions.ts';

const SECRET = 'secret-internal-detail at 10.0.0.7';
const failure = { current: (): never => { throw new Error(SECRET); } };

/** A Firestore whose every call fails with `failure.current`. */
const brokenDb = new Proxy({}, { get: () => () => failure.current() });

vi.mock('../../../lib/runtime.ts', () => ({
  runtime: (): Runtime => ({
    config: parseConfig({ RESTOCK_NOTIFIER: 'log', RESTOCK_VERIFY_OIDC: 'false', RESTOCK_VERIFY_PUSH_OIDC: 'false', FIRESTORE_EMULATOR_HOST: '127.0.0.1:1' }),
    db: brokenDb as Runtime['db'],
    tasks: {} as Runtime['tasks'],
    log: new Logger({}, 'ERROR', () => {}),
    now: Date.now,
  }),
  attemptId: () => 'test:1',
}));

let served: ServedFunctions;
let urls: Record<string, string>;

beforeAll(async () => {
  served = await serveFunctions(['fanOutRestock', 'deliverRestockBatch']);
  urls = served.urls;
});

afterAll(async () => {
  await served.close();
});

beforeEach(() => {
  failure.current = () => {
    throw new Error(SECRET);
  };
});

async function post(name: string, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; type: string | null; body: Record<string, unknown> }> {
  const res = await fetch(urls[name]!, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  const text = await res.text();
  return { status: res.status, type: res.headers.get('content-type'), body: JSON.parse(text) as Record<string, unknown> };
}

const event = { productId: 'sku-1', available: 3, previousAvailable: 0, sequence: 1, occurredAt: '2026-01-01T00:00:00Z' };
const pushBody = (data: unknown) => ({ message: { messageId: 'm-1', data: Buffer.from(JSON.stringify(data)).toString('base64'), attributes: {} }, subscription: 'projects/p/subscriptions/s' });
const task = { version: 1, eventKey: 'evt-1', productId: 'sku-1', generation: 0, product: { available: 3 }, userIds: ['u1'] };

describe('the pipeline functions answer every error as problem+json, never with the message of an unexpected one', () => {
  test('fanOutRestock: Firestore failing while claiming is a 500 internal problem, safe to redeliver', async () => {
    const r = await post('fanOutRestock', pushBody(event));

    expect(r.status).toBe(500);
    expect(r.type).toBe('application/problem+json');
    expect(r.body).toMatchObject({ type: expect.stringMatching(/:internal$/), status: 500, title: 'Internal error' });
    expect(JSON.stringify(r.body)).not.toContain('secret');
  });

  test('fanOutRestock: an invalid event whose rejection cannot be recorded is a 500 problem, not a crash', async () => {
    const r = await post('fanOutRestock', pushBody({ productId: '' }));

    expect(r.status).toBe(500);
    expect(r.type).toBe('application/problem+json');
    expect(JSON.stringify(r.body)).not.toContain('secret');
  });

  test('deliverRestockBatch: an unexpected failure is a 500 internal problem without its message', async () => {
    const r = await post('deliverRestockBatch', task);

    expect(r.status).toBe(500);
    expect(r.type).toBe('application/problem+json');
    expect(r.body).toMatchObject({ type: expect.stringMatching(/:internal$/), status: 500 });
    expect(JSON.stringify(r.body)).not.toContain('secret');
  });

  test('deliverRestockBatch: a task that is not what fan-out sends is a 400 problem naming the field', async () => {
    const r = await post('deliverRestockBatch', { ...task, userIds: [] });

    expect(r.status).toBe(400);
    expect(r.type).toBe('application/problem+json');
    expect(r.body).toMatchObject({ type: expect.stringMatching(/:invalid-delivery-task$/), errors: [expect.objectContaining({ parameter: 'userIds' })] });
  });

  test('deliverRestockBatch: a method other than POST is a 405 problem with Allow', async () => {
    const res = await fetch(urls.deliverRestockBatch!, { method: 'GET' });

    expect(res.status).toBe(405);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
    expect(res.headers.get('allow')).toBe('POST');
  });
});
