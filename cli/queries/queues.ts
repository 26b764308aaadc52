/**
 * The read model of `restock queues`: every queue of the pipeline (the
 * delivery queues the chunks are spread over, and the continuation queue),
 * each with its state, its rate limits and the tasks it holds; and the
 * operator's actions on them (pause, resume, purge), always over the whole
 * set the configuration names, so a queue added by raising the count is
 * never left out of a view.
 */
import { status } from '@grpc/grpc-js';
import { grpcCode } from '../../lib/grpc.ts';
import { pipelineQueues, type PipelineQueue, type QueueRole } from '../../lib/tasks/index.ts';
import type { Backend } from '../backend.ts';
import { guard } from '../guard.ts';

/** Pages of one queue's task listing read at most when counting (1,000 tasks a page). */
export const MAX_TASK_PAGES = 10;

/** What `restock queues` says about one queue. */
export interface QueueView {
  /** Full resource name. */
  name: string;
  /** The queue id (last segment of the name). */
  id: string;
  role: QueueRole;
  /** Shard index among the delivery queues; null for the continuation queue. */
  shard: number | null;
  /** `RUNNING`, `PAUSED`, `DISABLED`, or `MISSING` when the queue does not exist. */
  state: string;
  /** Tasks in the queue; null when more than {@link MAX_TASK_PAGES} pages (the listing stopped). */
  tasks: number | null;
  maxDispatchesPerSecond: number | null;
  maxConcurrentDispatches: number | null;
  maxAttempts: number | null;
}

/** An action an operator takes on queues. */
export type QueueAction = 'pause' | 'resume' | 'purge';

/** The queues of the pipeline, as the configuration names them. */
export function configuredQueues(backend: Pick<Backend, 'config'>): PipelineQueue[] {
  return pipelineQueues(backend.config);
}

/**
 * Counts the tasks of `parent` whose id starts with `prefix` (every task when
 * omitted). Null when the queue holds more than {@link MAX_TASK_PAGES} pages,
 * so a caller never claims "empty" or "settled" from a partial count.
 * @throws BackendError when the listing fails.
 */
export async function countTasks(backend: Backend, parent: string, prefix = ''): Promise<number | null> {
  let pageToken: string | undefined;
  let count = 0;
  for (let page = 0; page < MAX_TASK_PAGES; page++) {
    const [tasks, , response] = await guard(
      'list tasks of',
      parent,
      backend.tasks().listTasks({ parent, pageSize: 1000, responseView: 'BASIC', ...(pageToken ? { pageToken } : {}) }, { autoPaginate: false }),
    );
    count += prefix ? tasks.filter((t) => (t.name ?? '').split('/').pop()!.startsWith(prefix)).length : tasks.length;
    pageToken = response?.nextPageToken ?? undefined;
    if (!pageToken) return count;
  }
  return null;
}

/** Reads one queue; a queue that does not exist is `MISSING`, not an error (the view says which one to create). */
async function readQueue(backend: Backend, q: PipelineQueue): Promise<QueueView> {
  const base = { name: q.name, id: q.name.split('/').pop()!, role: q.role, shard: q.shard ?? null };
  let queue;
  try {
    [queue] = await backend.tasks().getQueue({ name: q.name });
  } catch (err) {
    if (grpcCode(err) === status.NOT_FOUND) return { ...base, state: 'MISSING', tasks: 0, maxDispatchesPerSecond: null, maxConcurrentDispatches: null, maxAttempts: null };
    return guard('read queue', q.name, Promise.reject(err));
  }
  return {
    ...base,
    state: String(queue.state ?? 'RUNNING'),
    tasks: await countTasks(backend, q.name),
    maxDispatchesPerSecond: queue.rateLimits?.maxDispatchesPerSecond ?? null,
    maxConcurrentDispatches: queue.rateLimits?.maxConcurrentDispatches ?? null,
    maxAttempts: queue.retryConfig?.maxAttempts ?? null,
  };
}

/**
 * Every queue of the pipeline with its state and depth.
 * @throws BackendError when Cloud Tasks fails or does not answer.
 */
export async function readQueues(backend: Backend): Promise<QueueView[]> {
  return Promise.all(configuredQueues(backend).map((q) => readQueue(backend, q)));
}

/**
 * Pauses, resumes or purges the queues named (full names from
 * {@link configuredQueues}), then reads them again.
 * @throws BackendError naming the first queue Cloud Tasks refused.
 */
export async function changeQueues(backend: Backend, action: QueueAction, names: readonly string[]): Promise<QueueView[]> {
  const client = backend.tasks();
  const call = { pause: 'pauseQueue', resume: 'resumeQueue', purge: 'purgeQueue' } as const;
  await Promise.all(names.map((name) => guard(action, name, client[call[action]]({ name }))));
  const chosen = configuredQueues(backend).filter((q) => names.includes(q.name));
  return Promise.all(chosen.map((q) => readQueue(backend, q)));
}
