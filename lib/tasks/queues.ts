/**
 * Which queue a task goes to. Pure.
 *
 * Delivery tasks are spread over `RESTOCK_TASKS_QUEUE_COUNT` queues, so one
 * queue's dispatch ceiling (500 tasks/s) is not the pipeline's. A chunk's queue
 * is a function of its task id alone: the id is already a deterministic name of
 * the chunk (lib/tasks/naming.ts), so a retried enqueue of the same chunk lands
 * in the same queue, where Cloud Tasks' name dedup (which holds per queue)
 * refuses the duplicate. Continuations have a queue of their own, so paging
 * never waits behind the delivery backlog.
 */
import { createHash } from 'node:crypto';
import { queuePath, type Config } from '../config.ts';

/** The settings that name the pipeline's queues. */
export type QueueNaming = Pick<Config, 'projectId' | 'tasksLocation' | 'tasksQueue' | 'tasksQueueCount' | 'continuationQueue'>;

/**
 * The shard of `taskId` among `count` queues: the first 48 bits of its
 * SHA-256, modulo `count`. A hash rather than the id's own characters, so ids
 * that share a prefix (every task of one event does) still spread evenly.
 * @throws RangeError when `count` is not a positive integer.
 */
export function deliveryQueueIndex(taskId: string, count: number): number {
  if (!Number.isInteger(count) || count < 1) throw new RangeError(`queue count must be a positive integer, got ${count}`);
  if (count === 1) return 0;
  const head = createHash('sha256').update(taskId).digest().readUIntBE(0, 6);
  return head % count;
}

/**
 * The id of delivery queue `index`: the configured name for the first, so a
 * deployment that raises the count from 1 keeps its queue and adds
 * `<name>-1` ... `<name>-<count-1>` beside it.
 */
export function deliveryQueueId(base: string, index: number): string {
  return index === 0 ? base : `${base}-${index}`;
}

/** Ids of every delivery queue, in shard order. */
export function deliveryQueueIds(settings: Pick<QueueNaming, 'tasksQueue' | 'tasksQueueCount'>): string[] {
  return Array.from({ length: settings.tasksQueueCount }, (_, i) => deliveryQueueId(settings.tasksQueue, i));
}

/** Full resource name of the delivery queue that carries task `taskId`. */
export function deliveryQueueFor(settings: QueueNaming, taskId: string): string {
  return queuePath(settings, deliveryQueueId(settings.tasksQueue, deliveryQueueIndex(taskId, settings.tasksQueueCount)));
}

/** Full resource name of the continuation queue. */
export function continuationQueuePath(settings: QueueNaming): string {
  return queuePath(settings, settings.continuationQueue);
}

/** What a queue of the pipeline carries. */
export type QueueRole = 'delivery' | 'continuation';

/** One queue of the pipeline: its full name, its role, its shard among the delivery queues. */
export interface PipelineQueue {
  name: string;
  role: QueueRole;
  /** Shard index among the delivery queues; absent for the continuation queue. */
  shard?: number;
}

/**
 * Every queue of the pipeline: the delivery queues in shard order, then the
 * continuation queue (left out when configured to be one of the delivery
 * queues, so no queue is listed twice).
 */
export function pipelineQueues(settings: QueueNaming): PipelineQueue[] {
  const delivery = deliveryQueueIds(settings).map((id, shard): PipelineQueue => ({ name: queuePath(settings, id), role: 'delivery', shard }));
  const continuation = continuationQueuePath(settings);
  return delivery.some((q) => q.name === continuation) ? delivery : [...delivery, { name: continuation, role: 'continuation' }];
}
