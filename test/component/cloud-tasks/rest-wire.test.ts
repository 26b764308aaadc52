/**
 * The REST surface at the wire, where every REST client (gcloud, the Node
 * client's fallback, curl) depends on the same mapping: enums as names or
 * numbers, Durations as "30s", bytes as base64, camelCase fields, and
 * Google's error shape. Plain fetch, because the point is the JSON itself.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startCloudTasksEmulator, type CloudTasksEmulator } from '../../../emulators/cloud-tasks/index.ts';
import { startReceiver, uniqueQueue, type Receiver } from './helpers.ts';

let emulator: CloudTasksEmulator;
let receiver: Receiver;
beforeAll(async () => {
  receiver = await startReceiver();
  emulator = await startCloudTasksEmulator({ port: 0, logLevel: 'warn' });
});
afterAll(async () => {
  await emulator?.stop();
  await receiver?.close();
});

async function call(method: string, path: string, body?: unknown): Promise<{ status: number; json: Record<string, any> }> {
  const res = await fetch(`${emulator.restUrl}${path}`, {
    method,
    headers: { 'Content-Type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, json: (await res.json()) as Record<string, any> };
}

async function newQueue(): Promise<string> {
  const name = uniqueQueue('wire');
  const { status } = await call('POST', `/v2/${name.replace(/\/queues\/.*$/, '')}/queues`, { name, retryConfig: { minBackoff: '0.5s', maxBackoff: '30s' } });
  expect(status).toBe(200);
  return name;
}

describe('REST wire format', () => {
  test('Durations are read and written as "Ns" strings', async () => {
    const name = await newQueue();
    const { json } = await call('GET', `/v2/${name}`);
    expect(json.retryConfig.minBackoff).toBe('0.500s');
    expect(json.retryConfig.maxBackoff).toBe('30s');
    expect(json.rateLimits.maxDispatchesPerSecond).toBe(500);
  });

  test.each([
    ['by name', 'PUT'],
    ['by number', 4],
  ])('an enum given %s is accepted and returned by name', async (_how, httpMethod) => {
    const name = await newQueue();
    const { status, json } = await call('POST', `/v2/${name}/tasks`, {
      task: { scheduleTime: new Date(Date.now() + 3_600_000).toISOString(), dispatchDeadline: '30s', httpRequest: { url: receiver.url, httpMethod, body: Buffer.from('hello').toString('base64') } },
      responseView: typeof httpMethod === 'number' ? 2 : 'FULL',
    });
    expect(status).toBe(200);
    expect(json.httpRequest.httpMethod).toBe('PUT');
    expect(json.view).toBe('FULL');
    expect(json.dispatchDeadline).toBe('30s');
    expect(Buffer.from(json.httpRequest.body as string, 'base64').toString()).toBe('hello');
    expect(json.scheduleTime).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
  });

  test('a base64 body reaches the target decoded', async () => {
    const name = await newQueue();
    const before = receiver.received.length;
    await call('POST', `/v2/${name}/tasks`, { task: { httpRequest: { url: `${receiver.url}/wire`, body: Buffer.from('{"decoded":true}').toString('base64') } } });
    const all = await receiver.waitFor(before + 1);
    expect(all.at(-1)!.body).toBe('{"decoded":true}');
  });

  test('errors have Google’s shape: {"error":{"code","message","status"}}', async () => {
    const name = await newQueue();
    const task = { task: { name: `${name}/tasks/once`, scheduleTime: new Date(Date.now() + 3_600_000).toISOString(), httpRequest: { url: receiver.url } } };
    await call('POST', `/v2/${name}/tasks`, task);
    const duplicate = await call('POST', `/v2/${name}/tasks`, task);
    const missing = await call('GET', `/v2/${name}-missing`);
    const invalid = await call('POST', `/v2/${name}/tasks`, { task: { name: `${name}/tasks/bad id`, httpRequest: { url: receiver.url } } });
    expect(duplicate).toMatchObject({ status: 409, json: { error: { code: 409, status: 'ALREADY_EXISTS' } } });
    expect(missing).toMatchObject({ status: 404, json: { error: { code: 404, status: 'NOT_FOUND' } } });
    expect(invalid).toMatchObject({ status: 400, json: { error: { code: 400, status: 'INVALID_ARGUMENT' } } });
    expect(typeof duplicate.json.error.message).toBe('string');
  });

  test('malformed JSON is INVALID_ARGUMENT', async () => {
    const name = await newQueue();
    const res = await fetch(`${emulator.restUrl}/v2/${name}/tasks`, { method: 'POST', body: '{"task": ', headers: { 'Content-Type': 'application/json' } });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { status: string } }).error.status).toBe('INVALID_ARGUMENT');
  });

  test('the summary endpoint reports queue depth', async () => {
    const name = await newQueue();
    for (let i = 0; i < 3; i++) {
      await call('POST', `/v2/${name}/tasks`, { task: { scheduleTime: new Date(Date.now() + 3_600_000).toISOString(), httpRequest: { url: receiver.url } } });
    }
    const { json } = await call('GET', '/emulator/v1/stats');
    const stats = (await emulator.stats()).queues.find((q) => q.name === name);
    expect(json.queues.find((q: { name: string }) => q.name === name)).toMatchObject({ depth: 3, due: 0, running: 0, state: 'RUNNING' });
    expect(stats).toMatchObject({ depth: 3, counters: { created: 3 } });
  });
});
