/**
 * HTTP dispatch as the real service does it, observed from a local receiver:
 * headers across a 503 → 404 → 200 sequence, the caller's request unchanged,
 * the backoff gaps, retry limits, schedule time, pause/resume, RunTask, and
 * OIDC tokens verifiable against the emulator's JWKS.
 */
import type { CloudTasksClient } from '@google-cloud/tasks';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startCloudTasksEmulator, type CloudTasksEmulator } from '../../../emulators/cloud-tasks/index.ts';
import { clientFor, codeOf, duration, sleep, startReceiver, uniqueQueue, type Receiver } from './helpers.ts';

const NOT_FOUND = 5;
const ALREADY_EXISTS = 6;
const SERVICE_ACCOUNT = 'restock-tasks@conformance.iam.gserviceaccount.com';

let emulator: CloudTasksEmulator;
let client: CloudTasksClient;
const receivers: Receiver[] = [];

beforeAll(async () => {
  emulator = await startCloudTasksEmulator({ port: 0, logLevel: 'warn' });
  client = clientFor(emulator, 'grpc');
});
afterAll(async () => {
  await client?.close();
  await emulator?.stop();
  await Promise.all(receivers.map((r) => r.close()));
});

async function receiver(...args: Parameters<typeof startReceiver>): Promise<Receiver> {
  const r = await startReceiver(...args);
  receivers.push(r);
  return r;
}

type QueueSettings = NonNullable<Parameters<CloudTasksClient['createQueue']>[0]>['queue'];
async function newQueue(settings: Omit<NonNullable<QueueSettings>, 'name'> = {}): Promise<string> {
  const name = uniqueQueue('dispatch');
  await client.createQueue({ parent: name.replace(/\/queues\/.*$/, ''), queue: { ...settings, name } });
  return name;
}

const fastRetries = { minBackoff: duration(100), maxBackoff: duration(100), maxDoublings: 0 };

describe('dispatch', () => {
  test('across 503 → 404 → 200 the headers count retries, executions (5xx not counted), and say why', async () => {
    // Prepare
    const statuses = [503, 404, 200];
    const target = await receiver((_req, i) => statuses[i] ?? 200);
    const queue = await newQueue({ retryConfig: fastRetries });
    const name = `${queue}/tasks/sequence`;
    // Act
    await client.createTask({ parent: queue, task: { name, httpRequest: { url: `${target.url}/deliver?x=1`, body: Buffer.from('{"chunk":1}'), headers: { 'Content-Type': 'application/json' } } } });
    const [first, second, third] = await target.waitFor(3);
    await sleep(300);
    // Assess
    const h = (r: typeof first, k: string): unknown => r!.headers[k.toLowerCase()];
    expect([first, second, third].map((r) => h(r, 'X-CloudTasks-TaskRetryCount'))).toEqual(['0', '1', '2']);
    expect([first, second, third].map((r) => h(r, 'X-CloudTasks-TaskExecutionCount'))).toEqual(['0', '0', '1']);
    expect(h(first, 'X-CloudTasks-TaskPreviousResponse')).toBeUndefined();
    expect(h(first, 'X-CloudTasks-TaskRetryReason')).toBeUndefined();
    expect(h(second, 'X-CloudTasks-TaskPreviousResponse')).toBe('503');
    expect(h(third, 'X-CloudTasks-TaskPreviousResponse')).toBe('404');
    expect(h(second, 'X-CloudTasks-TaskRetryReason')).toBeTruthy();
    for (const r of [first, second, third]) {
      expect(h(r, 'X-CloudTasks-QueueName')).toBe(queue.split('/').at(-1));
      expect(h(r, 'X-CloudTasks-TaskName')).toBe('sequence');
      expect(h(r, 'User-Agent')).toBe('Google-Cloud-Tasks');
      expect(Math.abs(Number(h(r, 'X-CloudTasks-TaskETA')) * 1000 - r!.atMs)).toBeLessThan(2000);
    }
    expect(target.received).toHaveLength(3);
    expect(await codeOf(client.getTask({ name }))).toBe(NOT_FOUND);
  });

  test('the caller’s method, path, headers and body arrive unchanged', async () => {
    const target = await receiver();
    const queue = await newQueue();
    const body = JSON.stringify({ recipients: ['u1', 'u2'], product: 'sku-1' });
    await client.createTask({
      parent: queue,
      task: { httpRequest: { url: `${target.url}/v1/deliver?batch=7`, httpMethod: 'PUT', headers: { 'Content-Type': 'application/json', 'X-Trace': 'abc', Authorization: 'Bearer caller-own' }, body: Buffer.from(body) } },
    });
    const [r] = await target.waitFor(1);
    expect(r!.method).toBe('PUT');
    expect(r!.path).toBe('/v1/deliver?batch=7');
    expect(r!.body).toBe(body);
    expect(r!.headers['content-type']).toBe('application/json');
    expect(r!.headers['x-trace']).toBe('abc');
    // With no oidc_token/oauth_token, the caller's own Authorization header is passed through.
    expect(r!.headers.authorization).toBe('Bearer caller-own');
  });

  test('retries follow the backoff schedule: doubling max_doublings times, then linear, capped', async () => {
    // Prepare: 200 ms min, 2 doublings, 1 s cap → gaps of 200, 400, 800, 1000 ms.
    const target = await receiver(() => 500);
    const queue = await newQueue({ retryConfig: { maxAttempts: 5, minBackoff: duration(200), maxBackoff: duration(1000), maxDoublings: 2 } });
    const name = `${queue}/tasks/backoff`;
    // Act
    await client.createTask({ parent: queue, task: { name, httpRequest: { url: target.url } } });
    const arrivals = await target.waitFor(5, 8000);
    await sleep(1500);
    // Assess
    const gaps = arrivals.slice(1).map((r, i) => r.atMs - arrivals[i]!.atMs);
    [200, 400, 800, 1000].forEach((expected, i) => {
      expect(gaps[i]).toBeGreaterThanOrEqual(expected - 20);
      expect(gaps[i]).toBeLessThanOrEqual(expected + 300);
    });
    expect(target.received).toHaveLength(5); // max_attempts honoured
    expect(await codeOf(client.getTask({ name }))).toBe(NOT_FOUND);
    expect(await codeOf(client.createTask({ parent: queue, task: { name, httpRequest: { url: target.url } } }))).toBe(ALREADY_EXISTS);
  });

  test('with unlimited attempts, max_retry_duration stops the retries', async () => {
    const target = await receiver(() => 500);
    const queue = await newQueue({ retryConfig: { ...fastRetries, maxAttempts: -1, maxRetryDuration: duration(1000) } });
    await client.createTask({ parent: queue, task: { httpRequest: { url: target.url } } });
    await sleep(2000);
    const count = target.received.length;
    await sleep(500);
    // 100 ms apart for about 1 s: roughly ten attempts, then none.
    expect(count).toBeGreaterThanOrEqual(5);
    expect(count).toBeLessThanOrEqual(13);
    expect(target.received).toHaveLength(count);
  });

  test('the task records its attempts while it retries', async () => {
    const target = await receiver(() => 429);
    const queue = await newQueue({ retryConfig: { minBackoff: duration(60_000), maxBackoff: duration(60_000) } });
    const [task] = await client.createTask({ parent: queue, task: { httpRequest: { url: target.url } } });
    await target.waitFor(1);
    await sleep(200);
    const [got] = await client.getTask({ name: task.name! });
    expect(got.dispatchCount).toBe(1);
    expect(got.responseCount).toBe(1);
    expect(got.lastAttempt?.responseStatus?.code).toBe(8); // RESOURCE_EXHAUSTED for 429
    expect(got.firstAttempt?.dispatchTime).toBeTruthy();
    expect(Number(got.scheduleTime!.seconds) * 1000).toBeGreaterThan(Date.now() + 50_000);
  });

  test('a task is not dispatched before its schedule time', async () => {
    const target = await receiver();
    const queue = await newQueue();
    const atMs = Date.now() + 1000;
    await client.createTask({ parent: queue, task: { scheduleTime: { seconds: Math.floor(atMs / 1000), nanos: (atMs % 1000) * 1e6 }, httpRequest: { url: target.url } } });
    const [r] = await target.waitFor(1, 5000);
    expect(r!.atMs).toBeGreaterThanOrEqual(atMs - 5);
    expect(r!.atMs).toBeLessThan(atMs + 1000);
  });

  test('a paused queue dispatches nothing until resumed', async () => {
    // Prepare
    const target = await receiver();
    const queue = await newQueue();
    await client.pauseQueue({ name: queue });
    await client.createTask({ parent: queue, task: { httpRequest: { url: target.url } } });
    // Act
    await sleep(500);
    const whilePaused = target.received.length;
    await client.resumeQueue({ name: queue });
    await target.waitFor(1, 3000);
    // Assess
    expect(whilePaused).toBe(0);
    expect(target.received).toHaveLength(1);
  });

  test('RunTask dispatches at once, even from a paused queue, and the task is gone after a 2xx', async () => {
    const target = await receiver();
    const queue = await newQueue();
    await client.pauseQueue({ name: queue });
    const [task] = await client.createTask({ parent: queue, task: { scheduleTime: { seconds: Math.floor(Date.now() / 1000) + 3600 }, httpRequest: { url: target.url } } });
    const [ran] = await client.runTask({ name: task.name! });
    await target.waitFor(1, 3000);
    await sleep(100);
    expect(ran.dispatchCount).toBe(1);
    expect(await codeOf(client.getTask({ name: task.name! }))).toBe(NOT_FOUND);
    expect(await codeOf(client.runTask({ name: task.name! }))).toBe(NOT_FOUND);
  });

  test('RunTask on a failing task reschedules it by the backoff from now', async () => {
    const target = await receiver(() => 500);
    const queue = await newQueue({ retryConfig: { minBackoff: duration(30_000), maxBackoff: duration(30_000) } });
    await client.pauseQueue({ name: queue });
    const [task] = await client.createTask({ parent: queue, task: { httpRequest: { url: target.url } } });
    const beforeMs = Date.now();
    await client.runTask({ name: task.name! });
    await target.waitFor(1);
    await sleep(200);
    const [got] = await client.getTask({ name: task.name! });
    const scheduledMs = Number(got.scheduleTime!.seconds) * 1000;
    expect(scheduledMs).toBeGreaterThanOrEqual(beforeMs + 29_000);
    expect(scheduledMs).toBeLessThanOrEqual(Date.now() + 31_000);
  });
});

describe('OIDC tokens', () => {
  test('a task with an oidcToken carries a JWT the receiver verifies against the emulator’s JWKS, with aud, email, iss, exp', async () => {
    // Prepare
    const target = await receiver();
    const queue = await newQueue();
    const audience = 'https://deliver-restock-batch.example.run.app';
    // Act
    await client.createTask({ parent: queue, task: { httpRequest: { url: `${target.url}/deliver`, oidcToken: { serviceAccountEmail: SERVICE_ACCOUNT, audience } } } });
    const [r] = await target.waitFor(1);
    const token = String(r!.headers.authorization).replace(/^Bearer /, '');
    const { payload, protectedHeader } = await jwtVerify(token, createRemoteJWKSet(new URL(emulator.jwksUrl)), { issuer: emulator.oidcIssuer, audience });
    // Assess
    expect(protectedHeader.alg).toBe('RS256');
    expect(payload.email).toBe(SERVICE_ACCOUNT);
    expect(payload.email_verified).toBe(true);
    expect(payload.exp! - payload.iat!).toBe(3600);
    expect(Math.abs(payload.iat! * 1000 - Date.now())).toBeLessThan(10_000);
    expect(payload.sub).toMatch(/^\d+$/);
  });

  test('without an audience the token’s aud is the task URL', async () => {
    const target = await receiver();
    const queue = await newQueue();
    const url = `${target.url}/deliver?chunk=2`;
    await client.createTask({ parent: queue, task: { httpRequest: { url, oidcToken: { serviceAccountEmail: SERVICE_ACCOUNT } } } });
    const [r] = await target.waitFor(1);
    const token = String(r!.headers.authorization).replace(/^Bearer /, '');
    const { payload } = await jwtVerify(token, createRemoteJWKSet(new URL(emulator.jwksUrl)), { issuer: emulator.oidcIssuer, audience: url });
    expect(payload.aud).toBe(url);
  });

  test('an oidcToken replaces any Authorization header the caller set', async () => {
    const target = await receiver();
    const queue = await newQueue();
    await client.createTask({ parent: queue, task: { httpRequest: { url: target.url, headers: { Authorization: 'Bearer forged' }, oidcToken: { serviceAccountEmail: SERVICE_ACCOUNT } } } });
    const [r] = await target.waitFor(1);
    expect(r!.headers.authorization).not.toBe('Bearer forged');
    expect(String(r!.headers.authorization).split('.')).toHaveLength(3);
  });

  test('a token signed by another key is refused by the same verification', async () => {
    const target = await receiver();
    const other = await startCloudTasksEmulator({ port: 0, logLevel: 'warn' });
    const otherClient = clientFor(other, 'grpc');
    try {
      const queue = uniqueQueue('other');
      await otherClient.createQueue({ parent: queue.replace(/\/queues\/.*$/, ''), queue: { name: queue } });
      await otherClient.createTask({ parent: queue, task: { httpRequest: { url: target.url, oidcToken: { serviceAccountEmail: SERVICE_ACCOUNT, audience: 'a' } } } });
      const [r] = await target.waitFor(1);
      const token = String(r!.headers.authorization).replace(/^Bearer /, '');
      await expect(jwtVerify(token, createRemoteJWKSet(new URL(emulator.jwksUrl)), { issuer: other.oidcIssuer, audience: 'a' })).rejects.toThrow();
    } finally {
      await otherClient.close();
      await other.stop();
    }
  });

  test('the discovery document names the issuer and the JWKS', async () => {
    const doc = (await (await fetch(`${emulator.oidcIssuer}/.well-known/openid-configuration`)).json()) as Record<string, unknown>;
    expect(doc.issuer).toBe(emulator.oidcIssuer);
    expect(doc.jwks_uri).toBe(emulator.jwksUrl);
    expect(doc.id_token_signing_alg_values_supported).toContain('RS256');
  });
});
