/**
 * Dispatches due tasks over HTTP, as Cloud Tasks does: in schedule order,
 * within the queue's token bucket and max concurrent dispatches, with the
 * dispatch deadline, the `X-CloudTasks-*` headers, an OIDC token when the
 * task asks for one, and retries on the queue's backoff schedule. Only a 2xx
 * response completes a task.
 */
import { setMaxListeners } from 'node:events';
import type { Logger } from '../../lib/log.ts';
import { backoffMs, mayRetry } from './backoff.ts';
import { createAgents, sendAttempt, type AttemptOutcome } from './http-attempt.ts';
import type { QueueRecord, TaskRecord } from './model.ts';
import type { OidcIssuer } from './oidc.ts';
import type { TaskStore } from './store.ts';

/** Headers the service computes itself, so a task's own values are dropped. */
const REPLACED_HEADER = /^(host|content-length|user-agent|x-google-.*|x-appengine-.*|x-cloudtasks-.*)$/i;

/** Shortest wait for tokens (see `pump`). */
const TOKEN_WAIT_FLOOR_MS = 10;

/** google.rpc.Code for an HTTP status, as Cloud Tasks reports it in `Attempt.response_status`. */
export function rpcCodeForHttpStatus(status: number): number {
  if (status >= 200 && status < 300) return 0;
  const table: Record<number, number> = { 400: 3, 401: 16, 403: 7, 404: 5, 409: 10, 429: 8, 499: 1, 501: 12, 503: 14, 504: 4 };
  if (table[status] !== undefined) return table[status];
  if (status >= 500) return 13;
  if (status >= 400) return 9;
  return 2;
}

/** `X-CloudTasks-TaskETA`: seconds since the epoch with a fractional part. */
export function etaHeader(scheduleTimeMs: number): string {
  return (scheduleTimeMs / 1000).toFixed(6);
}

/** Why an attempt failed, for the log and `X-CloudTasks-TaskRetryReason`. */
function failureReason(outcome: AttemptOutcome): string {
  switch (outcome.kind) {
    case 'response':
      return `HTTP ${outcome.status}`;
    case 'deadline':
      return 'DEADLINE_EXCEEDED';
    case 'unreachable':
      return 'UNAVAILABLE';
  }
}

/** Owns every attempt of one emulator: pumping due tasks, sending them, and applying the outcome. */
export class Dispatcher {
  private timer: NodeJS.Timeout | undefined;
  private timerAtMs = Infinity;
  private pumpQueued = false;
  private stopped = false;
  private readonly inFlight = new Set<Promise<void>>();
  private readonly abort = new AbortController();
  private readonly agents = createAgents();

  constructor(
    private readonly store: TaskStore,
    private readonly oidc: OidcIssuer,
    private readonly log: Logger,
    private readonly now: () => number = Date.now,
  ) {
    store.hooks = { wake: () => this.wake(), runNow: (q, t) => this.start(q, t, true) };
    // One listener per attempt in flight: up to max_concurrent_dispatches of them, legitimately.
    setMaxListeners(0, this.abort.signal);
  }

  /** Schedules a pass over the queues soon (coalesced). */
  wake(): void {
    if (this.pumpQueued || this.stopped) return;
    this.pumpQueued = true;
    setImmediate(() => {
      this.pumpQueued = false;
      this.pump();
    });
  }

  /** Stops dispatching, aborts attempts in flight and waits for them to settle. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    this.abort.abort();
    await Promise.allSettled([...this.inFlight]);
    this.agents.http.destroy();
    this.agents.https.destroy();
  }

  private pump(): void {
    if (this.stopped) return;
    const nowMs = this.now();
    let nextMs = Infinity;
    for (const queue of this.store.allQueues()) {
      if (queue.state !== 'RUNNING') continue;
      const waiting = [...queue.tasks.values()].filter((t) => t.inFlight === 0);
      const due = waiting.filter((t) => t.scheduleTimeMs <= nowMs).sort((a, b) => a.scheduleTimeMs - b.scheduleTimeMs);
      for (const t of waiting) if (t.scheduleTimeMs > nowMs) nextMs = Math.min(nextMs, t.scheduleTimeMs);
      for (const task of due) {
        // A full queue is woken again when an attempt finishes.
        if (queue.running >= queue.config.maxConcurrentDispatches) break;
        if (!queue.bucket.tryTake(nowMs)) {
          // Waking at most every TOKEN_WAIT_FLOOR_MS lets tokens pile up a little, so a long queue is
          // dispatched in small batches instead of one scan per token; the rate is unchanged.
          nextMs = Math.min(nextMs, nowMs + Math.max(TOKEN_WAIT_FLOOR_MS, queue.bucket.msUntilToken(nowMs)));
          break;
        }
        this.start(queue, task, false);
      }
    }
    this.armTimer(nextMs);
  }

  private armTimer(atMs: number): void {
    if (atMs === Infinity) return;
    if (this.timer && this.timerAtMs <= atMs) return;
    clearTimeout(this.timer);
    this.timerAtMs = atMs;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.timerAtMs = Infinity;
      this.pump();
    }, Math.max(0, atMs - this.now()));
  }

  private start(queue: QueueRecord, task: TaskRecord, forced: boolean): void {
    if (this.stopped) return;
    const p = this.attempt(queue, task, forced)
      .catch((err: unknown) => this.log.error('dispatch failed inside the emulator', { task: task.name.name, err }))
      .finally(() => {
        this.inFlight.delete(p);
        this.wake();
      });
    this.inFlight.add(p);
  }

  private async attempt(queue: QueueRecord, task: TaskRecord, forced: boolean): Promise<void> {
    const dispatchMs = this.now();
    const retryCount = task.dispatchCount;
    task.dispatchCount++;
    task.inFlight++;
    queue.running++;
    queue.counters.attempts++;
    const record = { scheduleTimeMs: task.scheduleTimeMs, dispatchTimeMs: dispatchMs };
    task.firstAttempt ??= { ...record };
    task.lastAttempt = record;

    let outcome: AttemptOutcome;
    try {
      const headers = await this.headersFor(queue, task, retryCount);
      outcome = await sendAttempt({
        url: task.http.url,
        method: task.http.httpMethod,
        headers,
        body: task.http.body,
        deadlineMs: task.dispatchDeadlineMs,
        signal: this.abort.signal,
        agents: this.agents,
      });
    } finally {
      task.inFlight--;
      queue.running--;
    }
    const endMs = this.now();
    const status = outcome.kind === 'response' ? outcome.status : undefined;
    const ok = status !== undefined && status >= 200 && status < 300;
    Object.assign(record, {
      responseTimeMs: endMs,
      responseCode: outcome.kind === 'response' ? rpcCodeForHttpStatus(outcome.status) : outcome.kind === 'deadline' ? 4 : 14,
      responseMessage: failureReason(outcome),
    });
    this.log.debug('task dispatch attempt', {
      task: task.name.name,
      attempt: retryCount + 1,
      status: status ?? outcome.kind,
      latencyMs: endMs - dispatchMs,
      forced,
    });
    if (this.stopped || !this.store.isLive(queue, task)) return;

    if (ok) {
      queue.counters.succeeded++;
      this.store.finishTask(queue, task);
      return;
    }
    queue.counters.failedAttempts++;
    if (status !== undefined) {
      task.responseCount++;
      // The execution count leaves out 5xx, which the real service treats as "never reached the handler".
      if (status < 500) task.executionCount++;
    }
    task.previousResponse = status ?? 0;
    task.retryReason = failureReason(outcome);
    const firstMs = task.firstAttempt.dispatchTimeMs;
    if (!mayRetry(queue.config.retry, task.dispatchCount, firstMs, endMs)) {
      queue.counters.exhausted++;
      this.log.info('task exhausted its retries and was dropped', { task: task.name.name, attempts: task.dispatchCount, status: status ?? outcome.kind });
      this.store.finishTask(queue, task);
      return;
    }
    // RunTask resets the schedule from when it was called, dispatches from when they failed.
    task.scheduleTimeMs = (forced ? dispatchMs : endMs) + backoffMs(queue.config.retry, task.dispatchCount);
  }

  private async headersFor(queue: QueueRecord, task: TaskRecord, retryCount: number): Promise<Record<string, string>> {
    const headers: Record<string, string> = {};
    const http = task.http;
    const authorized = http.oidcToken !== undefined || http.oauthToken !== undefined;
    for (const [k, v] of Object.entries(http.headers)) {
      if (REPLACED_HEADER.test(k) || (authorized && k.toLowerCase() === 'authorization')) continue;
      headers[k] = v;
    }
    headers['User-Agent'] = 'Google-Cloud-Tasks';
    headers['X-CloudTasks-QueueName'] = queue.name.queueId;
    headers['X-CloudTasks-TaskName'] = task.name.taskId;
    headers['X-CloudTasks-TaskRetryCount'] = String(retryCount);
    headers['X-CloudTasks-TaskExecutionCount'] = String(task.executionCount);
    headers['X-CloudTasks-TaskETA'] = etaHeader(task.scheduleTimeMs);
    if (retryCount > 0) {
      if (task.previousResponse) headers['X-CloudTasks-TaskPreviousResponse'] = String(task.previousResponse);
      if (task.retryReason) headers['X-CloudTasks-TaskRetryReason'] = task.retryReason;
    }
    if (http.oidcToken) {
      const audience = http.oidcToken.audience || http.url;
      headers.Authorization = `Bearer ${await this.oidc.sign(http.oidcToken.serviceAccountEmail, audience)}`;
    } else if (http.oauthToken) {
      // The emulator has no access tokens to give; the header's presence is what a target can observe.
      headers.Authorization = 'Bearer emulator-oauth2-access-token';
    }
    return headers;
  }
}
