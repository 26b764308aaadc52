/**
 * The dispatch deadline: a target that does not answer within it is cut off
 * and the attempt retried. In its own file because the real minimum deadline
 * is 15 s, so it runs alongside the other files.
 */
import type { CloudTasksClient } from '@google-cloud/tasks';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startCloudTasksEmulator, type CloudTasksEmulator } from '../../../emulators/cloud-tasks/index.ts';
import { clientFor, duration, sleep, startReceiver, uniqueQueue, type Receiver } from './helpers.ts';

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

describe('dispatch deadline', () => {
  test('a target slower than the 15 s deadline is cut off and retried with reason DEADLINE_EXCEEDED', async () => {
    // Prepare: the first request hangs past the deadline, the retry answers at once.
    const target = await startReceiver(async (_req, i) => {
      if (i === 0) await sleep(17_000);
      return 200;
    });
    receivers.push(target);
    const queue = await queueWith({}, { minBackoff: duration(100), maxBackoff: duration(100) });
    // Act
    await client.createTask({ parent: queue, task: { dispatchDeadline: duration(15_000), httpRequest: { url: target.url } } });
    const [first, retry] = await target.waitFor(2, 25_000);
    // Assess
    // The deadline runs from the emulator's send, a little before the receiver stamps the arrival.
    const gapMs = retry!.atMs - first!.atMs;
    expect(gapMs).toBeGreaterThanOrEqual(14_500);
    expect(gapMs).toBeLessThan(17_000);
    expect(retry!.headers['x-cloudtasks-taskretryreason']).toBe('DEADLINE_EXCEEDED');
    expect(retry!.headers['x-cloudtasks-taskretrycount']).toBe('1');
    // No response was received, so the attempt is neither an execution nor a previous response.
    expect(retry!.headers['x-cloudtasks-taskexecutioncount']).toBe('0');
    expect(retry!.headers['x-cloudtasks-taskpreviousresponse']).toBeUndefined();
  }, 40_000);
});
