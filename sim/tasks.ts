/**
 * An in-memory Cloud Tasks queue and the client the real code calls
 * (`createTask`, as `lib/tasks` does). What it keeps of the real service:
 *
 * - task-name dedup: a name that exists, ran or was deleted within the reuse
 *   window answers ALREADY_EXISTS;
 * - `max_dispatches_per_second` (a token bucket, burst as the project's
 *   emulator derives it) and `max_concurrent_dispatches`;
 * - retries with the queue's real backoff (`emulators/cloud-tasks/backoff.ts`),
 *   `max_attempts`, and the `X-CloudTasks-TaskRetryCount` /
 *   `X-CloudTasks-TaskExecutionCount` headers;
 * - the dispatch deadline: an attempt that has not answered by then counts
 *   as failed and is retried, while the handler may still be running;
 * - pause and resume.
 *
 * A handler's answer may be lost (the work was done, the queue sees a
 * failure); that is a fault of the run, drawn by the world.
 */
import { status } from '@grpc/grpc-js';
import { backoffMs, mayRetry, type RetryPolicy } from '../emulators/cloud-tasks/backoff.ts';
import { burstSizeFor } from '../emulators/cloud-tasks/queue-config.ts';
import { TokenBucket } from '../emulators/cloud-tasks/token-bucket.ts';
import { GrpcError, type Net } from './net.ts';
import type { Scheduler, SimProcess } from './scheduler.ts';

export interface QueueSettings {
  maxDispatchesPerSecond: number;
  maxConcurrentDispatches: number;
  retry: RetryPolicy;
  dispatchDeadlineMs: number;
  /** How long an executed or deleted task's name stays unusable. */
  nameReuseWindowMs: number;
}

/** A task as the queue holds it. */
export interface SimTask {
  name: string;
  taskId: string;
  url: string;
  headers: Record<string, string>;
  body: unknown;
  /** The body's bytes as created: what the task's signature covers. */
  rawBody?: Buffer;
  scheduleTimeMs: number;
  dispatchCount: number;
  executionCount: number;
  firstAttemptMs?: number;
  running: boolean;
  createdAtMs: number;
  /** Creation order: the last tie-break of dispatch order. */
  seq: number;
}

const before = (a: SimTask, b: SimTask) =>
  a.scheduleTimeMs < b.scheduleTimeMs || (a.scheduleTimeMs === b.scheduleTimeMs && (a.createdAtMs < b.createdAtMs || (a.createdAtMs === b.createdAtMs && a.seq < b.seq)));

/** The tasks waiting for a dispatch, earliest due first (a binary heap: a queue of 10,000 tasks is not sorted at every dispatch). */
class Waiting {
  private readonly h: SimTask[] = [];
  get size(): number {
    return this.h.length;
  }
  peek(): SimTask | undefined {
    return this.h[0];
  }
  push(t: SimTask): void {
    const h = this.h;
    h.push(t);
    for (let i = h.length - 1; i > 0; ) {
      const p = (i - 1) >> 1;
      if (!before(h[i]!, h[p]!)) break;
      [h[i], h[p]] = [h[p]!, h[i]!];
      i = p;
    }
  }
  pop(): SimTask | undefined {
    const h = this.h;
    const top = h[0];
    const last = h.pop();
    if (h.length > 0 && last) {
      h[0] = last;
      for (let i = 0; ; ) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && before(h[l]!, h[m]!)) m = l;
        if (r < h.length && before(h[r]!, h[m]!)) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m]!, h[i]!];
        i = m;
      }
    }
    return top;
  }
}

/** What a dispatch delivers to a handler; it answers an HTTP status (or never, if its process died). */
export type TaskHandler = (task: SimTask, headers: Record<string, string>) => Promise<number>;

export class SimQueue {
  readonly tasks = new Map<string, SimTask>();
  private readonly tombstones = new Map<string, number>();
  private readonly waiting = new Waiting();
  private created = 0;
  private readonly bucket: TokenBucket;
  private inFlight = 0;
  private wakeAt: number | undefined;
  paused = false;
  /** Every task ever accepted (not deduplicated), for the invariants. */
  readonly accepted: SimTask[] = [];
  /** Tasks dropped after their last attempt failed. */
  readonly dropped: SimTask[] = [];
  /** Largest number of tasks waiting at once. */
  peakDepth = 0;
  peakInFlight = 0;
  dispatches = 0;

  constructor(
    readonly id: string,
    readonly settings: QueueSettings,
    private readonly scheduler: Scheduler,
    private readonly handler: TaskHandler,
    /** Whether an answer of a finished attempt is lost on its way back (drawn per attempt). */
    private readonly loseAnswer: () => boolean,
  ) {
    this.bucket = new TokenBucket(settings.maxDispatchesPerSecond, burstSizeFor(settings.maxDispatchesPerSecond), scheduler.nowMs);
  }

  /** Creates a task (at the service side of the RPC). @throws GrpcError ALREADY_EXISTS */
  create(taskId: string, url: string, headers: Record<string, string>, body: unknown, scheduleTimeMs?: number, rawBody?: Buffer): SimTask {
    const now = this.scheduler.nowMs;
    const reusableAt = this.tombstones.get(taskId);
    if (this.tasks.has(taskId) || (reusableAt !== undefined && reusableAt > now)) {
      throw new GrpcError(status.ALREADY_EXISTS, `Requested entity already exists: task ${taskId}`);
    }
    const task: SimTask = {
      name: `${this.id}/tasks/${taskId}`,
      taskId,
      url,
      headers,
      body,
      ...(rawBody ? { rawBody } : {}),
      scheduleTimeMs: Math.max(now, scheduleTimeMs ?? now),
      dispatchCount: 0,
      executionCount: 0,
      running: false,
      createdAtMs: now,
      seq: this.created++,
    };
    this.tasks.set(taskId, task);
    this.waiting.push(task);
    this.accepted.push(task);
    this.peakDepth = Math.max(this.peakDepth, this.tasks.size);
    this.scheduler.log('tasks', `created ${taskId}`);
    this.poke();
    return task;
  }

  /** UpdateQueue of its rate limits (the production clock's pipeline ramping itself): the burst follows the rate. */
  updateLimits(maxDispatchesPerSecond: number, maxConcurrentDispatches: number): void {
    this.bucket.reconfigure(maxDispatchesPerSecond, burstSizeFor(maxDispatchesPerSecond), this.scheduler.nowMs);
    this.settings.maxConcurrentDispatches = maxConcurrentDispatches;
    this.poke();
  }

  pause(): void {
    this.paused = true;
    this.scheduler.log('tasks', 'queue paused');
  }

  resume(): void {
    this.paused = false;
    this.scheduler.log('tasks', 'queue resumed');
    this.poke();
  }

  /** Dispatches what is due, within the rate and concurrency limits; sets a wake-up for the rest. */
  private poke(): void {
    if (this.paused) return;
    const now = this.scheduler.nowMs;
    let nextDue = Infinity;
    for (let task = this.waiting.peek(); task !== undefined; task = this.waiting.peek()) {
      if (task.scheduleTimeMs > now) {
        nextDue = Math.min(nextDue, task.scheduleTimeMs);
        break;
      }
      if (this.inFlight >= this.settings.maxConcurrentDispatches) return; // an answer pokes again
      if (!this.bucket.tryTake(now)) {
        nextDue = now + this.bucket.msUntilToken(now);
        break;
      }
      this.waiting.pop();
      this.dispatch(task);
    }
    if (nextDue < Infinity && (this.wakeAt === undefined || nextDue < this.wakeAt || this.wakeAt <= now)) {
      this.wakeAt = nextDue;
      this.scheduler.at(nextDue - now, () => {
        this.wakeAt = undefined;
        this.poke();
      });
    }
  }

  private dispatch(task: SimTask): void {
    const now = this.scheduler.nowMs;
    task.running = true;
    task.firstAttemptMs ??= now;
    const retryCount = task.dispatchCount;
    task.dispatchCount++;
    this.inFlight++;
    this.dispatches++;
    this.peakInFlight = Math.max(this.peakInFlight, this.inFlight);
    const headers = {
      // Header names arrive in lower case, as Node hands them to a function (the task was created with `X-Restock-Signature`).
      ...Object.fromEntries(Object.entries(task.headers).map(([name, value]) => [name.toLowerCase(), value])),
      'x-cloudtasks-queuename': this.id,
      'x-cloudtasks-taskname': task.taskId,
      'x-cloudtasks-taskretrycount': String(retryCount),
      'x-cloudtasks-taskexecutioncount': String(task.executionCount),
    };
    let settled = false;
    const finish = (code: number, why: string) => {
      if (settled) return;
      settled = true;
      this.inFlight--;
      task.running = false;
      if (code < 500) task.executionCount++;
      if (code >= 200 && code < 300) {
        this.tasks.delete(task.taskId);
        this.tombstones.set(task.taskId, this.scheduler.nowMs + this.settings.nameReuseWindowMs);
        this.scheduler.log('tasks', `${task.taskId} done (${why})`);
      } else if (!mayRetry(this.settings.retry, task.dispatchCount, task.firstAttemptMs!, this.scheduler.nowMs)) {
        this.tasks.delete(task.taskId);
        this.tombstones.set(task.taskId, this.scheduler.nowMs + this.settings.nameReuseWindowMs);
        this.dropped.push(task);
        this.scheduler.log('tasks', `${task.taskId} DROPPED after ${task.dispatchCount} attempts (${why})`);
      } else {
        task.scheduleTimeMs = this.scheduler.nowMs + backoffMs(this.settings.retry, task.dispatchCount);
        this.waiting.push(task);
        this.scheduler.log('tasks', `${task.taskId} attempt ${task.dispatchCount} failed (${why}); retry at +${task.scheduleTimeMs - this.scheduler.nowMs} ms`);
      }
      this.poke();
    };
    const deadline = this.scheduler.at(this.settings.dispatchDeadlineMs, () => finish(504, 'dispatch deadline exceeded'));
    this.handler(task, headers).then(
      (code) => {
        deadline.cancelled = true;
        if (this.loseAnswer()) finish(502, `answer ${code} lost`);
        else finish(code, `answered ${code}`);
      },
      () => {
        deadline.cancelled = true;
        finish(500, 'handler crashed');
      },
    );
  }
}

/** The part of `CloudTasksClient` the code uses, bound to one process. */
export class SimTasksClient {
  constructor(
    private readonly queues: Map<string, SimQueue>,
    private readonly net: Net,
    private readonly proc: SimProcess,
    private readonly latencyMs: () => number,
    /** Whether Cloud Tasks is down now (a drawn outage): every createTask answers UNAVAILABLE and creates nothing. */
    private readonly down: () => boolean = () => false,
  ) {}

  createTask(request: {
    parent: string;
    task: { name?: string; scheduleTime?: { seconds?: number; nanos?: number }; httpRequest: { url: string; headers?: Record<string, string>; body?: Buffer } };
  }): Promise<[unknown]> {
    const queue = this.queues.get(request.parent);
    const taskId = request.task.name?.slice(request.task.name.lastIndexOf('/') + 1) ?? `auto-${Math.random().toString(36).slice(2)}`;
    return this.net.call(this.proc, {
      service: 'tasks',
      what: `createTask ${taskId}`,
      latencyMs: this.latencyMs(),
      mutating: true,
      apply: () => {
        if (this.down()) throw new GrpcError(status.UNAVAILABLE, 'simulated Cloud Tasks outage');
        if (!queue) throw new GrpcError(status.NOT_FOUND, `queue ${request.parent} does not exist`);
        const t = request.task;
        const body = t.httpRequest.body ? JSON.parse(t.httpRequest.body.toString('utf8')) : undefined;
        const schedule = t.scheduleTime ? (t.scheduleTime.seconds ?? 0) * 1000 + Math.floor((t.scheduleTime.nanos ?? 0) / 1e6) : undefined;
        const created = queue.create(taskId, t.httpRequest.url, { ...(t.httpRequest.headers ?? {}) }, body, schedule, t.httpRequest.body);
        return [{ name: created.name }] as [unknown];
      },
    });
  }
}
