import { describe, expect, test } from 'vitest';
import { AlreadyExistsError, InvalidArgumentError, NotFoundError } from '../../../emulators/cloud-tasks/errors.ts';
import { parseQueueName } from '../../../emulators/cloud-tasks/names.ts';
import { TaskStore, type NewTask } from '../../../emulators/cloud-tasks/store.ts';

const QUEUE = 'projects/p/locations/l/queues/q';
const spec = (taskId?: string): NewTask => ({
  ...(taskId ? { taskId } : {}),
  http: { url: 'http://127.0.0.1/', httpMethod: 'POST', headers: {}, body: Buffer.alloc(0) },
  dispatchDeadlineMs: 600_000,
});

function storeAt(clock: { now: number }, reuseWindowMs = 60_000): TaskStore {
  const store = new TaskStore(reuseWindowMs, () => clock.now);
  const name = parseQueueName(QUEUE);
  store.createQueue(name.parent, name, {});
  return store;
}

describe('task store', () => {
  test('a task name that exists is ALREADY_EXISTS', () => {
    const store = storeAt({ now: 0 });
    store.createTask(QUEUE, spec('a'));
    expect(() => store.createTask(QUEUE, spec('a'))).toThrow(AlreadyExistsError);
  });

  test('a deleted task name stays barred for the reuse window, then is free again', () => {
    // Prepare
    const clock = { now: 1_000 };
    const store = storeAt(clock, 60_000);
    store.createTask(QUEUE, spec('a'));
    // Act
    store.deleteTask(QUEUE, 'a');
    clock.now += 59_999;
    const during = () => store.createTask(QUEUE, spec('a'));
    // Assess
    expect(during).toThrow(AlreadyExistsError);
    clock.now += 1;
    expect(store.createTask(QUEUE, spec('a')).name.taskId).toBe('a');
  });

  test('resetting the reuse window frees executed and deleted names at once', () => {
    const store = storeAt({ now: 0 });
    store.createTask(QUEUE, spec('a'));
    store.deleteTask(QUEUE, 'a');
    store.resetTaskNameReuse();
    expect(() => store.createTask(QUEUE, spec('a'))).not.toThrow();
  });

  test('an unknown queue is NOT_FOUND for every task method', () => {
    const store = storeAt({ now: 0 });
    const other = 'projects/p/locations/l/queues/other';
    expect(() => store.createTask(other, spec())).toThrow(NotFoundError);
    expect(() => store.listTasks(other, undefined, undefined)).toThrow(NotFoundError);
    expect(() => store.getTask(other, 'x')).toThrow(NotFoundError);
  });

  test('list pages follow the token until it is empty and cover every task once', () => {
    const store = storeAt({ now: 0 });
    for (let i = 0; i < 25; i++) store.createTask(QUEUE, spec(`t${String(i).padStart(2, '0')}`));
    const seen: string[] = [];
    let token: string | undefined;
    let pages = 0;
    do {
      const page = store.listTasks(QUEUE, 10, token);
      seen.push(...page.items.map((t) => t.name.taskId));
      token = page.nextPageToken || undefined;
      pages++;
    } while (token);
    expect(pages).toBe(3);
    expect(new Set(seen).size).toBe(25);
  });

  test('a page token that the service did not issue is INVALID_ARGUMENT', () => {
    const store = storeAt({ now: 0 });
    expect(() => store.listTasks(QUEUE, 10, 'garbage!')).toThrow(InvalidArgumentError);
  });

  test('purge removes tasks created up to the purge time and records it', () => {
    const clock = { now: 5_000 };
    const store = storeAt(clock);
    store.createTask(QUEUE, spec('old'));
    clock.now = 6_000;
    const queue = store.purgeQueue(QUEUE);
    clock.now = 6_001;
    store.createTask(QUEUE, spec('new'));
    expect(queue.purgeTimeMs).toBe(6_000);
    expect(store.listTasks(QUEUE, undefined, undefined).items.map((t) => t.name.taskId)).toEqual(['new']);
  });

  test('UpdateQueue on a queue that does not exist creates it', () => {
    const store = new TaskStore(0);
    const name = parseQueueName('projects/p/locations/l/queues/fresh');
    store.updateQueue(name, { 'retry_config.max_attempts': 4 }, undefined);
    expect(store.getQueue(name.name).config.retry.maxAttempts).toBe(4);
  });
});
