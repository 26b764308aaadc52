/**
 * One handler per function, called by every caller: the deployed
 * `fanOutRestock` and `deliverRestockBatch` (served here by
 * functions-framework's own test server) and the simulation's entries hand
 * each request to the very same function of lib/, and answer what it
 * answers. A caller that restated the entry logic instead (as the simulation
 * once did, without the push's last attempt) would not reach the spy.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, test, vi } from 'vitest';
import { parseConfig } from '../../../lib/config.ts';
import { Logger } from '../../../lib/log.ts';
import type { Runtime } from '../../../lib/runtime.ts';
import { serveFunctions, type ServedFunctions } from '../../helpers/served-functions.ts';

const config = parseConfig({ RESTOCK_NOTIFIER: 'log', RESTOCK_VERIFY_OIDC: 'false', RESTOCK_VERIFY_PUSH_OIDC: 'false', FIRESTORE_EMULATOR_HOST: '127.0.0.1:1' });
const rt: Runtime = { config, db: {} as Runtime['db'], tasks: {} as Runtime['tasks'], log: new Logger({}, 'ERROR', () => {}), now: Date.now };

vi.mock('../../../lib/runtime.ts', () => ({ runtime: (): Runtime => rt, attemptId: () => 'test:1' }));

// The entry handlers, replaced by spies that answer a reply no other code writes.
const reply = (outcome: string) => ({ status: 299, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ outcome }) });
vi.mock('../../../lib/fanout/entry.ts', async (original) => ({ ...(await original<object>()), handleFanoutRequest: vi.fn(async () => reply('fan-out spy')) }));
vi.mock('../../../lib/delivery/entry.ts', async (original) => ({ ...(await original<object>()), handleDeliveryRequest: vi.fn(async () => reply('delivery spy')) }));

const { handleFanoutRequest } = await import('../../../lib/fanout/entry.ts');
const { handleDeliveryRequest } = await import('../../../lib/delivery/entry.ts');
const sim = await import('../../../sim/functions.ts');

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
  vi.mocked(handleFanoutRequest).mockClear();
  vi.mocked(handleDeliveryRequest).mockClear();
});

async function post(name: string, body: unknown, headers: Record<string, string>): Promise<{ status: number; body: unknown }> {
  const res = await fetch(urls[name]!, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  return { status: res.status, body: await res.json() };
}

const push = { message: { messageId: 'm-1', data: Buffer.from('{}').toString('base64'), attributes: {} }, subscription: 'projects/p/subscriptions/s', deliveryAttempt: 10 };
const task = { version: 1, eventKey: 'evt-1', productId: 'sku-1', generation: 0, product: { available: 3 }, userIds: ['u1'] };

describe('the deployed functions and the simulation call one entry handler each', () => {
  test('fanOutRestock: both hand the push, headers and all, to lib/fanout and answer its reply', async () => {
    // Act
    const deployed = await post('fanOutRestock', push, { 'x-test': 'deployed' });
    const simulated = await sim.fanOutRestock(rt, { 'content-type': 'application/json', 'x-test': 'sim' }, push);

    // Assess
    expect(deployed).toEqual({ status: 299, body: { outcome: 'fan-out spy' } });
    expect(simulated).toEqual({ status: 299, outcome: 'fan-out spy' });
    const calls = vi.mocked(handleFanoutRequest).mock.calls;
    expect(calls.map(([, req]) => [req.headers['x-test'], req.body])).toEqual([
      ['deployed', push],
      ['sim', push],
    ]);
    expect(calls.every(([runtime]) => runtime === rt)).toBe(true);
  });

  test('deliverRestockBatch: both hand the task to lib/delivery and answer its reply', async () => {
    // Act
    const deployed = await post('deliverRestockBatch', task, { 'x-cloudtasks-taskretrycount': '3' });
    const simulated = await sim.deliverRestockBatch(rt, { send: async () => [] } as never, { 'x-cloudtasks-taskretrycount': '3' }, task);

    // Assess
    expect(deployed).toEqual({ status: 299, body: { outcome: 'delivery spy' } });
    expect(simulated).toEqual({ status: 299, outcome: 'delivery spy' });
    const calls = vi.mocked(handleDeliveryRequest).mock.calls;
    expect(calls.map(([, , req]) => [req.method, req.headers['x-cloudtasks-taskretrycount'], req.body])).toEqual([
      ['POST', '3', task],
      ['POST', '3', task],
    ]);
  });
});
