/**
 * The queue's rate limit (token bucket) and max concurrent dispatches, seen
 * from the receiver. Timing bounds are generous:
 * the machine is shared.
 */
import type { CloudTasksClient } from '@google-cloud/tasks';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startCloudTasksEmulator, type CloudTasksEmulator } from '../../../emulators/cloud-tasks/index.ts';
import { clientFor, sleep, startReceiver, uniqueQueue, type Receiver } from './helpers.ts';

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

async function queueWith(rateLimits: { maxDispatchesPerSecond?: number; maxConcurrentDispatches?: number }, retryConfig = {}): Promise<string> {
  const name = uniqueQueue('limits');
  await client.createQueue({ parent: name.replace(/\/queues\/.*$/, ''), queue: { name, rateLimits, retryConfig } });
  return name;
}

describe('queue limits', () => {
  test('max_dispatches_per_second spaces dispatches out: 16 tasks at 5/s take about 3 s', async () => {
    // Prepare: at 5/s the emulator's burst is 1, so dispatches are ~200 ms apart.
    const target = await startReceiver();
    receivers.push(target);
    const queue = await queueWith({ maxDispatchesPerSecond: 5 });
    // Act
    await Promise.all(Array.from({ length: 16 }, () => client.createTask({ parent: queue, task: { httpRequest: { url: target.url } } })));
    const arrivals = await target.waitFor(16, 10_000);
    // Assess
    const spanMs = arrivals.at(-1)!.atMs - arrivals[0]!.atMs;
    expect(spanMs).toBeGreaterThanOrEqual(2700);
    expect(spanMs).toBeLessThanOrEqual(5000);
    for (const a of arrivals) {
      const inOneSecond = arrivals.filter((b) => b.atMs >= a.atMs && b.atMs < a.atMs + 1000).length;
      expect(inOneSecond).toBeLessThanOrEqual(6);
    }
  });

  test('max_concurrent_dispatches caps the requests in flight', async () => {
    // Prepare: the receiver holds each request 300 ms.
    const target = await startReceiver(async () => {
      await sleep(300);
      return 200;
    });
    receivers.push(target);
    const queue = await queueWith({ maxConcurrentDispatches: 2 });
    // Act
    await Promise.all(Array.from({ length: 6 }, () => client.createTask({ parent: queue, task: { httpRequest: { url: target.url } } })));
    const arrivals = await target.waitFor(6, 10_000);
    // Assess
    expect(target.maxInFlight).toBe(2);
    const spanMs = arrivals.at(-1)!.atMs - arrivals[0]!.atMs;
    expect(spanMs).toBeGreaterThanOrEqual(550); // three waves of two
  });

  test('lowering the rate with UpdateQueue takes effect on waiting tasks', async () => {
    const target = await startReceiver();
    receivers.push(target);
    const queue = await queueWith({});
    await client.pauseQueue({ name: queue });
    await Promise.all(Array.from({ length: 6 }, () => client.createTask({ parent: queue, task: { httpRequest: { url: target.url } } })));
    await client.updateQueue({ queue: { name: queue, rateLimits: { maxDispatchesPerSecond: 2 } }, updateMask: { paths: ['rate_limits.max_dispatches_per_second'] } });
    await client.resumeQueue({ name: queue });
    const arrivals = await target.waitFor(6, 10_000);
    expect(arrivals.at(-1)!.atMs - arrivals[0]!.atMs).toBeGreaterThanOrEqual(2000);
  });
});
