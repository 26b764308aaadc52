/**
 * Queue methods through Google's Node client, over gRPC and over the REST
 * fallback: defaults, paging, update masks, pause/resume, purge, delete, and
 * the errors the real service gives.
 */
import type { CloudTasksClient } from '@google-cloud/tasks';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startCloudTasksEmulator, type CloudTasksEmulator } from '../../../emulators/cloud-tasks/index.ts';
import { clientFor, codeOf, duration, TRANSPORTS } from './helpers.ts';

const ALREADY_EXISTS = 6;
const NOT_FOUND = 5;
const INVALID_ARGUMENT = 3;

let emulator: CloudTasksEmulator;
beforeAll(async () => {
  emulator = await startCloudTasksEmulator({ port: 0, logLevel: 'warn' });
});
afterAll(async () => {
  await emulator?.stop();
});

describe.each(TRANSPORTS)('queues over %s', (transport) => {
  let client: CloudTasksClient;
  const location = `projects/conformance/locations/${transport}-queues`;
  const queueName = (id: string): string => `${location}/queues/${id}`;
  beforeAll(() => {
    client = clientFor(emulator, transport);
  });
  afterAll(async () => {
    await client.close();
  });

  test('a queue created without settings has the real service defaults', async () => {
    // Act
    const [queue] = await client.createQueue({ parent: location, queue: { name: queueName('defaults') } });
    // Assess
    expect(queue.state).toBe('RUNNING');
    expect(queue.rateLimits).toMatchObject({ maxDispatchesPerSecond: 500, maxConcurrentDispatches: 1000, maxBurstSize: 100 });
    expect(queue.retryConfig?.maxAttempts).toBe(100);
    expect(queue.retryConfig?.maxDoublings).toBe(16);
    expect(queue.retryConfig?.minBackoff).toMatchObject({ seconds: '0', nanos: 100_000_000 });
    expect(queue.retryConfig?.maxBackoff).toMatchObject({ seconds: '3600' });
    expect(Number(queue.retryConfig?.maxRetryDuration?.seconds ?? 0)).toBe(0);
  });

  test('creating a queue that exists is ALREADY_EXISTS; getting one that does not is NOT_FOUND', async () => {
    await client.createQueue({ parent: location, queue: { name: queueName('twice') } });
    expect(await codeOf(client.createQueue({ parent: location, queue: { name: queueName('twice') } }))).toBe(ALREADY_EXISTS);
    expect(await codeOf(client.getQueue({ name: queueName('never-created') }))).toBe(NOT_FOUND);
  });

  test('settings given at creation are kept and returned by get', async () => {
    await client.createQueue({
      parent: location,
      queue: {
        name: queueName('custom'),
        rateLimits: { maxDispatchesPerSecond: 7, maxConcurrentDispatches: 3 },
        retryConfig: { maxAttempts: 5, minBackoff: duration(250), maxBackoff: duration(4000), maxDoublings: 2, maxRetryDuration: duration(60_000) },
      },
    });
    const [queue] = await client.getQueue({ name: queueName('custom') });
    expect(queue.rateLimits).toMatchObject({ maxDispatchesPerSecond: 7, maxConcurrentDispatches: 3, maxBurstSize: 2 });
    expect(queue.retryConfig).toMatchObject({ maxAttempts: 5, maxDoublings: 2 });
    expect(queue.retryConfig?.minBackoff).toMatchObject({ nanos: 250_000_000 });
    expect(queue.retryConfig?.maxRetryDuration).toMatchObject({ seconds: '60' });
  });

  test('list pages through the queues of a location', async () => {
    // Prepare
    const pagedLocation = `projects/conformance/locations/${transport}-paged`;
    for (let i = 0; i < 5; i++) await client.createQueue({ parent: pagedLocation, queue: { name: `${pagedLocation}/queues/p${i}` } });
    // Act
    const [first, next] = await client.listQueues({ parent: pagedLocation, pageSize: 2 }, { autoPaginate: false });
    const [second, last] = await client.listQueues(next!, { autoPaginate: false });
    const [third, none] = await client.listQueues(last!, { autoPaginate: false });
    const all = [];
    for await (const q of client.listQueuesAsync({ parent: pagedLocation, pageSize: 2 })) all.push(q);
    // Assess
    expect([first.length, second.length, third.length]).toEqual([2, 2, 1]);
    expect(none).toBeNull();
    expect(all.map((q) => q.name).sort()).toEqual([0, 1, 2, 3, 4].map((i) => `${pagedLocation}/queues/p${i}`));
  });

  test('an update with a mask changes only the masked field', async () => {
    await client.createQueue({ parent: location, queue: { name: queueName('masked'), retryConfig: { maxAttempts: 9 } } });
    const [updated] = await client.updateQueue({
      queue: { name: queueName('masked'), rateLimits: { maxDispatchesPerSecond: 2 }, retryConfig: { maxAttempts: 1 } },
      updateMask: { paths: ['rate_limits.max_dispatches_per_second'] },
    });
    expect(updated.rateLimits?.maxDispatchesPerSecond).toBe(2);
    expect(updated.retryConfig?.maxAttempts).toBe(9);
  });

  test('UpdateQueue creates the queue when it does not exist, as the API documents', async () => {
    await client.updateQueue({ queue: { name: queueName('upserted'), retryConfig: { maxAttempts: 4 } } });
    const [queue] = await client.getQueue({ name: queueName('upserted') });
    expect(queue.retryConfig?.maxAttempts).toBe(4);
  });

  test('pause and resume change the state', async () => {
    await client.createQueue({ parent: location, queue: { name: queueName('pausable') } });
    const [paused] = await client.pauseQueue({ name: queueName('pausable') });
    const [got] = await client.getQueue({ name: queueName('pausable') });
    const [resumed] = await client.resumeQueue({ name: queueName('pausable') });
    expect([paused.state, got.state, resumed.state]).toEqual(['PAUSED', 'PAUSED', 'RUNNING']);
  });

  test('purge removes the tasks and sets purgeTime', async () => {
    // Prepare
    const name = queueName('purged');
    await client.createQueue({ parent: location, queue: { name } });
    const later = { seconds: Math.floor(Date.now() / 1000) + 3600 };
    for (let i = 0; i < 3; i++) await client.createTask({ parent: name, task: { scheduleTime: later, httpRequest: { url: 'http://127.0.0.1:9/' } } });
    const beforeMs = Date.now();
    // Act
    const [queue] = await client.purgeQueue({ name });
    const [tasks] = await client.listTasks({ parent: name });
    // Assess
    expect(tasks).toHaveLength(0);
    const purgeMs = Number(queue.purgeTime?.seconds) * 1000 + Math.floor((queue.purgeTime?.nanos ?? 0) / 1e6);
    expect(purgeMs).toBeGreaterThanOrEqual(beforeMs - 1000);
    expect(purgeMs).toBeLessThanOrEqual(Date.now() + 1000);
  });

  test('a deleted queue is gone, with its tasks', async () => {
    const name = queueName('deleted');
    await client.createQueue({ parent: location, queue: { name } });
    await client.deleteQueue({ name });
    expect(await codeOf(client.getQueue({ name }))).toBe(NOT_FOUND);
    expect(await codeOf(client.listTasks({ parent: name }))).toBe(NOT_FOUND);
  });

  test.each([
    ['a rate above 500/s', { name: 'rate', rateLimits: { maxDispatchesPerSecond: 501 } }],
    ['concurrency above 5000', { name: 'conc', rateLimits: { maxConcurrentDispatches: 5001 } }],
    ['min_backoff above max_backoff', { name: 'backoff', retryConfig: { minBackoff: duration(5000), maxBackoff: duration(1000) } }],
    ['max_attempts below -1', { name: 'attempts', retryConfig: { maxAttempts: -2 } }],
    ['an underscore in the queue id', { name: 'bad_id' }],
  ])('a queue with %s is INVALID_ARGUMENT', async (_why, queue) => {
    const code = await codeOf(client.createQueue({ parent: location, queue: { ...queue, name: queueName(queue.name) } }));
    expect(code).toBe(INVALID_ARGUMENT);
  });

  test('a queue whose name is outside the request location is INVALID_ARGUMENT', async () => {
    const code = await codeOf(client.createQueue({ parent: location, queue: { name: 'projects/conformance/locations/elsewhere/queues/x' } }));
    expect(code).toBe(INVALID_ARGUMENT);
  });
});
