/**
 * The queues and tasks, and every rule of the API that is not about the wire:
 * existence, name reuse, paging, pause/resume/purge. Transport-agnostic: the
 * gRPC and REST front ends reach it through `api.ts`.
 */
import { AlreadyExistsError, FailedPreconditionError, InvalidArgumentError, NotFoundError } from './errors.ts';
import { generateTaskId, parseLocationName, type QueueName } from './names.ts';
import { resolveQueueConfig, type QueueSettingsInput, type SettingPath } from './queue-config.ts';
import { TokenBucket } from './token-bucket.ts';
import type { EmulatorStats, HttpTarget, QueueCounters, QueueRecord, QueueStateName, TaskRecord } from './model.ts';

/** What the store asks of the dispatcher. */
export interface DispatchHooks {
  /** Something changed that may make a task dispatchable. */
  wake(): void;
  /** RunTask: dispatch this task now, whatever the queue's state and limits. */
  runNow(queue: QueueRecord, task: TaskRecord): void;
}

/** A task as CreateTask asks for it, already validated field by field. */
export interface NewTask {
  taskId?: string;
  http: HttpTarget;
  scheduleTimeMs?: number;
  dispatchDeadlineMs: number;
}

export interface Page<T> {
  items: T[];
  nextPageToken: string;
}

const MAX_QUEUE_PAGE = 9800;
const MAX_TASK_PAGE = 1000;

function emptyCounters(): QueueCounters {
  return { created: 0, attempts: 0, succeeded: 0, failedAttempts: 0, exhausted: 0, deleted: 0, purged: 0 };
}

function encodePageToken(after: string): string {
  return Buffer.from(JSON.stringify({ after }), 'utf8').toString('base64url');
}

function decodePageToken(token: string | undefined): string | undefined {
  if (!token) return undefined;
  try {
    const parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as { after?: unknown };
    if (typeof parsed.after === 'string') return parsed.after;
  } catch (err) {
    throw new InvalidArgumentError('page_token is not one this service returned.', 'page_token', { cause: err });
  }
  throw new InvalidArgumentError('page_token is not one this service returned.', 'page_token');
}

function pageOf<T>(sorted: T[], key: (t: T) => string, pageSize: number | undefined, max: number, pageToken: string | undefined): Page<T> {
  if (pageSize !== undefined && pageSize < 0) throw new InvalidArgumentError('page_size must not be negative.', 'page_size');
  const size = !pageSize ? max : Math.min(pageSize, max);
  const after = decodePageToken(pageToken);
  const start = after === undefined ? 0 : sorted.findIndex((t) => key(t) > after);
  const rest = start < 0 ? [] : sorted.slice(start);
  const items = rest.slice(0, size);
  const last = items.at(-1);
  return { items, nextPageToken: rest.length > size && last ? encodePageToken(key(last)) : '' };
}

/** `state: PAUSED`, `state = "RUNNING"`: the only ListQueues filter the emulator understands. */
function parseQueueFilter(filter: string | undefined): QueueStateName | undefined {
  if (!filter?.trim()) return undefined;
  const m = /^\s*state\s*[:=]\s*"?(RUNNING|PAUSED|DISABLED)"?\s*$/.exec(filter);
  if (!m) throw new InvalidArgumentError(`Unsupported filter ${JSON.stringify(filter)}: the emulator understands only "state: RUNNING|PAUSED|DISABLED".`, 'filter');
  return m[1] as QueueStateName;
}

/** The emulator's state. Methods throw `CloudTasksApiError`s that the front ends render. */
export class TaskStore {
  private readonly queues = new Map<string, QueueRecord>();
  /** Task name → when it may be reused (ms since epoch). */
  private readonly tombstones = new Map<string, number>();
  hooks: DispatchHooks = { wake: () => {}, runNow: () => {} };

  constructor(
    private readonly taskNameReuseWindowMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  // Queues ------------------------------------------------------------------

  /** Creates a queue. Throws {@link AlreadyExistsError} if it exists, {@link InvalidArgumentError} for bad settings. */
  createQueue(parent: string, name: QueueName, settings: QueueSettingsInput): QueueRecord {
    parseLocationName(parent);
    if (name.parent !== parent) {
      throw new InvalidArgumentError(`The queue name "${name.name}" is not in the location "${parent}" of the request.`, 'queue.name');
    }
    if (this.queues.has(name.name)) throw new AlreadyExistsError(`Queue ${name.name} already exists.`, 'queue.name');
    const config = resolveQueueConfig(settings);
    const queue: QueueRecord = {
      name,
      config,
      state: 'RUNNING',
      tasks: new Map(),
      bucket: new TokenBucket(config.maxDispatchesPerSecond, config.maxBurstSize, this.now()),
      running: 0,
      counters: emptyCounters(),
    };
    this.queues.set(name.name, queue);
    return queue;
  }

  /** Throws {@link NotFoundError} when the queue does not exist. */
  getQueue(name: string): QueueRecord {
    const queue = this.queues.get(name);
    if (!queue) throw new NotFoundError(`Queue ${name} does not exist. Create it first (CreateQueue, or --queue when starting the emulator).`, 'name');
    return queue;
  }

  listQueues(parent: string, pageSize: number | undefined, pageToken: string | undefined, filter: string | undefined): Page<QueueRecord> {
    parseLocationName(parent);
    const state = parseQueueFilter(filter);
    const all = [...this.queues.values()]
      .filter((q) => q.name.parent === parent && (!state || q.state === state))
      .sort((a, b) => (a.name.name < b.name.name ? -1 : 1));
    return pageOf(all, (q) => q.name.name, pageSize, MAX_QUEUE_PAGE, pageToken);
  }

  /** UpdateQueue: changes the masked settings, or all of them; creates the queue if it does not exist (as the API does). */
  updateQueue(name: QueueName, settings: QueueSettingsInput, mask: SettingPath[] | undefined): QueueRecord {
    const existing = this.queues.get(name.name);
    if (!existing) return this.createQueue(name.parent, name, settings);
    existing.config = resolveQueueConfig(settings, existing.config, mask);
    existing.bucket.reconfigure(existing.config.maxDispatchesPerSecond, existing.config.maxBurstSize, this.now());
    this.hooks.wake();
    return existing;
  }

  deleteQueue(name: string): void {
    const queue = this.getQueue(name);
    this.queues.delete(name);
    queue.tasks.clear();
  }

  pauseQueue(name: string): QueueRecord {
    const queue = this.getQueue(name);
    if (queue.state === 'DISABLED') throw new FailedPreconditionError(`Queue ${name} is disabled.`, 'name');
    queue.state = 'PAUSED';
    return queue;
  }

  resumeQueue(name: string): QueueRecord {
    const queue = this.getQueue(name);
    queue.state = 'RUNNING';
    this.hooks.wake();
    return queue;
  }

  /** Deletes every task created before now and records `purgeTime`. Running attempts finish but their outcome is dropped. */
  purgeQueue(name: string): QueueRecord {
    const queue = this.getQueue(name);
    const purgeTimeMs = this.now();
    queue.purgeTimeMs = purgeTimeMs;
    for (const [id, task] of queue.tasks) {
      if (task.createTimeMs <= purgeTimeMs) {
        queue.tasks.delete(id);
        queue.counters.purged++;
        this.bury(task.name.name);
      }
    }
    return queue;
  }

  // Tasks -------------------------------------------------------------------

  /**
   * Adds a task. Throws {@link NotFoundError} for an unknown queue and
   * {@link AlreadyExistsError} when the name is in use or was used within
   * the reuse window.
   */
  createTask(queueName: string, spec: NewTask): TaskRecord {
    const queue = this.getQueue(queueName);
    const taskId = spec.taskId ?? this.freshTaskId(queue);
    const name = `${queueName}/tasks/${taskId}`;
    if (queue.tasks.has(taskId)) throw new AlreadyExistsError(`Task ${name} already exists.`, 'task.name');
    const reusableAtMs = this.tombstones.get(name);
    if (reusableAtMs !== undefined) {
      if (reusableAtMs > this.now()) {
        throw new AlreadyExistsError(
          `The task cannot be created because a task with the name ${name} was executed or deleted recently; names cannot be reused for ${Math.round(this.taskNameReuseWindowMs / 1000)} s.`,
          'task.name',
        );
      }
      this.tombstones.delete(name);
    }
    const nowMs = this.now();
    const task: TaskRecord = {
      name: { queue: queueName, taskId, name },
      http: spec.http,
      scheduleTimeMs: spec.scheduleTimeMs ?? nowMs,
      createTimeMs: nowMs,
      dispatchDeadlineMs: spec.dispatchDeadlineMs,
      dispatchCount: 0,
      responseCount: 0,
      executionCount: 0,
      inFlight: 0,
    };
    queue.tasks.set(taskId, task);
    queue.counters.created++;
    this.hooks.wake();
    return task;
  }

  /** Throws {@link NotFoundError} for an unknown queue or task. */
  getTask(queueName: string, taskId: string): { queue: QueueRecord; task: TaskRecord } {
    const queue = this.getQueue(queueName);
    const task = queue.tasks.get(taskId);
    if (!task) throw new NotFoundError(`Task ${queueName}/tasks/${taskId} does not exist (it may have run to completion or been deleted).`, 'name');
    return { queue, task };
  }

  listTasks(queueName: string, pageSize: number | undefined, pageToken: string | undefined): Page<TaskRecord> {
    const queue = this.getQueue(queueName);
    const all = [...queue.tasks.values()].sort((a, b) => (a.name.taskId < b.name.taskId ? -1 : 1));
    return pageOf(all, (t) => t.name.taskId, pageSize, MAX_TASK_PAGE, pageToken);
  }

  deleteTask(queueName: string, taskId: string): void {
    const { queue, task } = this.getTask(queueName, taskId);
    queue.tasks.delete(taskId);
    queue.counters.deleted++;
    this.bury(task.name.name);
  }

  runTask(queueName: string, taskId: string): TaskRecord {
    const { queue, task } = this.getTask(queueName, taskId);
    this.hooks.runNow(queue, task);
    return task;
  }

  /** Removes a task that finished (succeeded or used up its attempts) and bars its name for the reuse window. */
  finishTask(queue: QueueRecord, task: TaskRecord): void {
    if (queue.tasks.get(task.name.taskId) === task) queue.tasks.delete(task.name.taskId);
    this.bury(task.name.name);
  }

  /** Whether `task` is still the live task of `queue` (not deleted, purged or replaced). */
  isLive(queue: QueueRecord, task: TaskRecord): boolean {
    return this.queues.get(queue.name.name) === queue && queue.tasks.get(task.name.taskId) === task;
  }

  /** Every queue, for the dispatcher. */
  allQueues(): Iterable<QueueRecord> {
    return this.queues.values();
  }

  /** Forgets executed and deleted task names, so tests can reuse them at once. */
  resetTaskNameReuse(): void {
    this.tombstones.clear();
  }

  stats(): EmulatorStats {
    const nowMs = this.now();
    for (const [name, until] of this.tombstones) if (until <= nowMs) this.tombstones.delete(name);
    const queues = [...this.queues.values()]
      .sort((a, b) => (a.name.name < b.name.name ? -1 : 1))
      .map((q) => {
        const tasks = [...q.tasks.values()];
        return {
          name: q.name.name,
          state: q.state,
          depth: tasks.length,
          due: tasks.filter((t) => t.inFlight === 0 && t.scheduleTimeMs <= nowMs).length,
          running: q.running,
          maxDispatchesPerSecond: q.config.maxDispatchesPerSecond,
          maxConcurrentDispatches: q.config.maxConcurrentDispatches,
          counters: { ...q.counters },
        };
      });
    return { queues, tombstones: this.tombstones.size };
  }

  private bury(taskName: string): void {
    if (this.taskNameReuseWindowMs > 0) this.tombstones.set(taskName, this.now() + this.taskNameReuseWindowMs);
  }

  private freshTaskId(queue: QueueRecord): string {
    let id = generateTaskId();
    while (queue.tasks.has(id)) id = generateTaskId();
    return id;
  }
}
