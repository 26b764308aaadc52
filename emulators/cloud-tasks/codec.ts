/**
 * Between the domain records and the messages of the v2 API, in the shape of
 * {@link MESSAGE_SHAPE} (camelCase, enums by name, Timestamps and Durations as
 * `{seconds, nanos}`). Both front ends exchange these shapes with `api.ts`.
 */
import type { AttemptRecord, QueueRecord, TaskRecord } from './model.ts';
import type { QueueSettingsInput } from './queue-config.ts';

/** google.protobuf.Timestamp / Duration as handlers see them. */
export interface WireTime {
  seconds?: string | number;
  nanos?: number;
}

export interface WireQueue {
  name?: string;
  rateLimits?: { maxDispatchesPerSecond?: number; maxBurstSize?: number; maxConcurrentDispatches?: number };
  retryConfig?: {
    maxAttempts?: number;
    maxRetryDuration?: WireTime;
    minBackoff?: WireTime;
    maxBackoff?: WireTime;
    maxDoublings?: number;
  };
  state?: string;
  purgeTime?: WireTime;
  stackdriverLoggingConfig?: { samplingRatio?: number };
  appEngineRoutingOverride?: unknown;
}

export interface WireHttpRequest {
  url?: string;
  httpMethod?: string | number;
  headers?: Record<string, string>;
  body?: Uint8Array | string;
  oidcToken?: { serviceAccountEmail?: string; audience?: string };
  oauthToken?: { serviceAccountEmail?: string; scope?: string };
}

export interface WireTask {
  name?: string;
  httpRequest?: WireHttpRequest;
  appEngineHttpRequest?: unknown;
  scheduleTime?: WireTime;
  createTime?: WireTime;
  dispatchDeadline?: WireTime;
  dispatchCount?: number;
  responseCount?: number;
  firstAttempt?: WireAttempt;
  lastAttempt?: WireAttempt;
  view?: string;
}

export interface WireAttempt {
  scheduleTime?: WireTime;
  dispatchTime?: WireTime;
  responseTime?: WireTime;
  responseStatus?: { code?: number; message?: string };
}

export type TaskView = 'BASIC' | 'FULL';

/** Milliseconds in a Timestamp or Duration; undefined when absent. */
export function wireTimeToMs(t: WireTime | undefined): number | undefined {
  if (!t) return undefined;
  return Number(t.seconds ?? 0) * 1000 + Math.floor((t.nanos ?? 0) / 1e6);
}

/** A Timestamp or Duration for a millisecond value. */
export function msToWireTime(ms: number): WireTime {
  const seconds = Math.floor(ms / 1000);
  return { seconds, nanos: Math.round((ms - seconds * 1000) * 1e6) };
}

/** The settings a Queue message carries (0 and absent both mean "not given", as in proto3). */
export function queueSettingsFromWire(q: WireQueue | undefined): QueueSettingsInput {
  const r = q?.rateLimits;
  const c = q?.retryConfig;
  return {
    'rate_limits.max_dispatches_per_second': r?.maxDispatchesPerSecond,
    'rate_limits.max_concurrent_dispatches': r?.maxConcurrentDispatches,
    'retry_config.max_attempts': c?.maxAttempts,
    'retry_config.max_retry_duration': wireTimeToMs(c?.maxRetryDuration),
    'retry_config.min_backoff': wireTimeToMs(c?.minBackoff),
    'retry_config.max_backoff': wireTimeToMs(c?.maxBackoff),
    'retry_config.max_doublings': c?.maxDoublings,
    'stackdriver_logging_config.sampling_ratio': q?.stackdriverLoggingConfig?.samplingRatio,
  };
}

export function queueToWire(q: QueueRecord): WireQueue {
  const c = q.config;
  const out: WireQueue = {
    name: q.name.name,
    rateLimits: {
      maxDispatchesPerSecond: c.maxDispatchesPerSecond,
      maxBurstSize: c.maxBurstSize,
      maxConcurrentDispatches: c.maxConcurrentDispatches,
    },
    retryConfig: {
      maxAttempts: c.retry.maxAttempts,
      maxRetryDuration: msToWireTime(c.retry.maxRetryDurationMs),
      minBackoff: msToWireTime(c.retry.minBackoffMs),
      maxBackoff: msToWireTime(c.retry.maxBackoffMs),
      maxDoublings: c.retry.maxDoublings,
    },
    state: q.state,
  };
  if (q.purgeTimeMs !== undefined) out.purgeTime = msToWireTime(q.purgeTimeMs);
  if (c.loggingSamplingRatio !== undefined) out.stackdriverLoggingConfig = { samplingRatio: c.loggingSamplingRatio };
  return out;
}

function attemptToWire(a: AttemptRecord, dispatchOnly: boolean): WireAttempt {
  if (dispatchOnly) return { dispatchTime: msToWireTime(a.dispatchTimeMs) };
  const out: WireAttempt = { scheduleTime: msToWireTime(a.scheduleTimeMs), dispatchTime: msToWireTime(a.dispatchTimeMs) };
  if (a.responseTimeMs !== undefined) {
    out.responseTime = msToWireTime(a.responseTimeMs);
    out.responseStatus = { code: a.responseCode ?? 0, message: a.responseMessage ?? '' };
  }
  return out;
}

/**
 * A task as the API returns it. BASIC leaves out the body (large and possibly
 * sensitive); FULL includes it. The first attempt keeps only its dispatch
 * time, as documented.
 */
export function taskToWire(t: TaskRecord, view: TaskView): WireTask {
  const http: WireHttpRequest = { url: t.http.url, httpMethod: t.http.httpMethod, headers: { ...t.http.headers } };
  if (view === 'FULL' && t.http.body.length > 0) http.body = t.http.body;
  if (t.http.oidcToken) http.oidcToken = { ...t.http.oidcToken };
  if (t.http.oauthToken) http.oauthToken = { ...t.http.oauthToken };
  const out: WireTask = {
    name: t.name.name,
    httpRequest: http,
    scheduleTime: msToWireTime(t.scheduleTimeMs),
    // The real service truncates create_time to the second.
    createTime: msToWireTime(Math.floor(t.createTimeMs / 1000) * 1000),
    dispatchDeadline: msToWireTime(t.dispatchDeadlineMs),
    dispatchCount: t.dispatchCount,
    responseCount: t.responseCount,
    view,
  };
  if (t.firstAttempt) out.firstAttempt = attemptToWire(t.firstAttempt, true);
  if (t.lastAttempt) out.lastAttempt = attemptToWire(t.lastAttempt, false);
  return out;
}

/** `response_view` as the API reads it: unspecified means BASIC. */
export function viewOf(v: string | number | undefined): TaskView {
  return v === 'FULL' || v === 2 ? 'FULL' : 'BASIC';
}
