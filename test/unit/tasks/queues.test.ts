import type { CloudTasksClient } from '@google-cloud/tasks';
import { describe, expect, test } from 'vitest';
import { parseConfig } from '../../../lib/config.ts';
import {
  chunkTaskId,
  continuationQueuePath,
  deliveryQueueFor,
  deliveryQueueIds,
  deliveryQueueIndex,
  deliveryTaskFor,
  enqueueDeliveryTask,
  pipelineQueues,
  redriveTaskId,
} from '../../../lib/tasks/index.ts';

const config = (env: Record<string, string> = {}) => parseConfig({ GOOGLE_CLOUD_PROJECT: 'p', RESTOCK_TASKS_LOCATION: 'l', ...env });

/** The task ids of `n` chunks of one event, as fan-out names them. */
function chunkIds(n: number, eventKey = 'evt-1'): string[] {
  return Array.from({ length: n }, (_, i) => chunkTaskId(eventKey, 0, [`u${i * 2}`, `u${i * 2 + 1}`]));
}

describe('the delivery queue of a task', () => {
  test('is a pure function of the task id: the same chunk, named again by a retried fan-out, lands in the same queue', () => {
    // Prepare: the same members named twice, as a fan-out and its retry would.
    const first = chunkTaskId('evt-1', 0, ['u1', 'u2']);
    const retried = chunkTaskId('evt-1', 0, ['u1', 'u2']);
    // Act / assess
    expect(retried).toBe(first);
    expect(deliveryQueueIndex(retried, 7)).toBe(deliveryQueueIndex(first, 7));
    expect(deliveryQueueFor(config({ RESTOCK_TASKS_QUEUE_COUNT: '7' }), retried)).toBe(deliveryQueueFor(config({ RESTOCK_TASKS_QUEUE_COUNT: '7' }), first));
  });

  test('spreads one event\u2019s chunks evenly over the queues (every queue within 20 % of its share over 6,000 chunks)', () => {
    // Prepare: one event's chunks share the task id prefix (the event's hash), so spreading must come from the rest.
    const ids = chunkIds(6_000);
    for (const count of [2, 3, 8]) {
      // Act
      const perQueue = new Array<number>(count).fill(0);
      for (const id of ids) perQueue[deliveryQueueIndex(id, count)]!++;
      // Assess
      const share = ids.length / count;
      for (const n of perQueue) expect(Math.abs(n - share) / share).toBeLessThan(0.2);
    }
  });

  test('is always the first queue with one queue, whatever the id', () => {
    for (const id of [...chunkIds(50), redriveTaskId('evt-1', 'run-1', ['u1'])]) expect(deliveryQueueIndex(id, 1)).toBe(0);
    expect(deliveryQueueFor(config(), chunkIds(1)[0]!)).toBe('projects/p/locations/l/queues/restock-deliveries');
  });

  test('refuses a count that is not a positive whole number', () => {
    expect(() => deliveryQueueIndex('x', 0)).toThrow(RangeError);
    expect(() => deliveryQueueIndex('x', 1.5)).toThrow(RangeError);
  });
});

describe('the queues of the pipeline', () => {
  test('keep the configured name for the first delivery queue and add -1 ... -(count-1), then the continuation queue', () => {
    const c = config({ RESTOCK_TASKS_QUEUE_COUNT: '3' });
    expect(deliveryQueueIds(c)).toEqual(['restock-deliveries', 'restock-deliveries-1', 'restock-deliveries-2']);
    expect(pipelineQueues(c)).toEqual([
      { name: 'projects/p/locations/l/queues/restock-deliveries', role: 'delivery', shard: 0 },
      { name: 'projects/p/locations/l/queues/restock-deliveries-1', role: 'delivery', shard: 1 },
      { name: 'projects/p/locations/l/queues/restock-deliveries-2', role: 'delivery', shard: 2 },
      { name: 'projects/p/locations/l/queues/restock-continuations', role: 'continuation' },
    ]);
    expect(continuationQueuePath(c)).toBe('projects/p/locations/l/queues/restock-continuations');
  });

  test('list a continuation queue configured as one of the delivery queues once', () => {
    const c = config({ RESTOCK_CONTINUATION_QUEUE: 'restock-deliveries' });
    expect(pipelineQueues(c).map((q) => q.role)).toEqual(['delivery']);
  });

  test('a queue count outside 1..100 is refused at start, naming the variable', () => {
    expect(() => config({ RESTOCK_TASKS_QUEUE_COUNT: '0' })).toThrow(/RESTOCK_TASKS_QUEUE_COUNT/);
    expect(() => config({ RESTOCK_TASKS_QUEUE_COUNT: '101' })).toThrow(/RESTOCK_TASKS_QUEUE_COUNT/);
  });
});

describe('enqueueing a delivery task', () => {
  test('creates it in the queue its id chooses, under that queue\u2019s name', async () => {
    // Prepare: a client that records what it is asked to create.
    const created: { parent: string; name: string }[] = [];
    const client = { createTask: async (req: { parent: string; task: { name: string } }) => void created.push({ parent: req.parent, name: req.task.name }) } as unknown as CloudTasksClient;
    const c = config({ RESTOCK_TASKS_QUEUE_COUNT: '3' });
    const source = { eventKey: 'evt-1', productId: 'sku-1', generation: 0, product: { available: 3 } };
    // Act
    for (const id of chunkIds(30)) await enqueueDeliveryTask(client, c, id, deliveryTaskFor(source, ['u1']));
    // Assess: each task in the queue its id picks, and all three queues used.
    for (const t of created) expect(t.name).toBe(`${deliveryQueueFor(c, t.name.split('/').pop()!)}/tasks/${t.name.split('/').pop()}`);
    for (const t of created) expect(t.name.startsWith(`${t.parent}/tasks/`)).toBe(true);
    expect(new Set(created.map((t) => t.parent)).size).toBe(3);
  });
});
