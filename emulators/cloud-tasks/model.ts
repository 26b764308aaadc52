/**
 * What the emulator holds in memory: queues and their tasks, in domain terms
 * (milliseconds, plain strings). The wire shapes live in `codec.ts`.
 */
import type { QueueConfig } from './queue-config.ts';
import type { QueueName, TaskName } from './names.ts';
import type { TokenBucket } from './token-bucket.ts';

export type QueueStateName = 'RUNNING' | 'PAUSED' | 'DISABLED';
export type HttpMethodName = 'POST' | 'GET' | 'HEAD' | 'PUT' | 'DELETE' | 'PATCH' | 'OPTIONS';

/** The HTTP request a task makes, as the caller gave it. */
export interface HttpTarget {
  url: string;
  httpMethod: HttpMethodName;
  headers: Record<string, string>;
  body: Buffer;
  oidcToken?: { serviceAccountEmail: string; audience: string };
  oauthToken?: { serviceAccountEmail: string; scope: string };
}

/** One attempt's record (google.cloud.tasks.v2.Attempt). `responseCode` is a google.rpc.Code. */
export interface AttemptRecord {
  scheduleTimeMs: number;
  dispatchTimeMs: number;
  responseTimeMs?: number;
  responseCode?: number;
  responseMessage?: string;
}

/** A task waiting, scheduled or running; gone once it succeeds, is exhausted, deleted or purged. */
export interface TaskRecord {
  name: TaskName;
  http: HttpTarget;
  scheduleTimeMs: number;
  createTimeMs: number;
  dispatchDeadlineMs: number;
  /** Attempts dispatched, including ones still waiting for a response. */
  dispatchCount: number;
  /** Attempts that received a response. */
  responseCount: number;
  /** Responses that were not 5xx: the value of `X-CloudTasks-TaskExecutionCount`. */
  executionCount: number;
  firstAttempt?: AttemptRecord;
  lastAttempt?: AttemptRecord;
  /** Attempts in flight (RunTask may add one while another runs). */
  inFlight: number;
  /** HTTP status of the previous attempt (0 when it got none), for `X-CloudTasks-TaskPreviousResponse`. */
  previousResponse?: number;
  /** Why the previous attempt failed, for `X-CloudTasks-TaskRetryReason`. */
  retryReason?: string;
}

/** A queue, its tasks, and its dispatch state (bucket, running count). */
export interface QueueRecord {
  name: QueueName;
  config: QueueConfig;
  state: QueueStateName;
  purgeTimeMs?: number;
  tasks: Map<string, TaskRecord>;
  bucket: TokenBucket;
  /** Dispatches in flight, against max_concurrent_dispatches (RunTask's count too). */
  running: number;
  counters: QueueCounters;
}

/** Lifetime counters of a queue, for the summary. */
export interface QueueCounters {
  created: number;
  attempts: number;
  succeeded: number;
  failedAttempts: number;
  /** Tasks dropped after their last allowed attempt failed. */
  exhausted: number;
  deleted: number;
  purged: number;
}

/** One queue's line in the summary (`GET /emulator/v1/stats`, `stats()`). */
export interface QueueStats {
  name: string;
  state: QueueStateName;
  /** Tasks in the queue (scheduled, due, or running). */
  depth: number;
  /** Tasks whose schedule time has passed and are not running. */
  due: number;
  running: number;
  maxDispatchesPerSecond: number;
  maxConcurrentDispatches: number;
  counters: QueueCounters;
}

export interface EmulatorStats {
  queues: QueueStats[];
  /** Task names currently barred from reuse. */
  tombstones: number;
}
