/**
 * The Cloud Tasks v2 methods, one handler per RPC, exchanging messages in the
 * shape of `MESSAGE_SHAPE`. The gRPC and REST front ends both call these, so
 * the two transports cannot disagree. Handlers throw `CloudTasksApiError`s.
 */
import { InvalidArgumentError, UnimplementedError } from './errors.ts';
import { parseLocationName, parseQueueName, parseTaskName } from './names.ts';
import { expandMask } from './queue-config.ts';
import {
  queueSettingsFromWire,
  queueToWire,
  taskToWire,
  viewOf,
  wireTimeToMs,
  type WireHttpRequest,
  type WireQueue,
  type WireTask,
} from './codec.ts';
import type { HttpMethodName, HttpTarget } from './model.ts';
import type { Protos } from './protos.ts';
import type { NewTask, TaskStore } from './store.ts';

/** The real service's limits on a task. */
export const TASK_LIMITS = {
  /** Largest serialized task accepted by CreateTask. */
  maxTaskBytes: 1024 * 1024,
  maxUrlLength: 2083,
  maxHeaderBytes: 80 * 1024,
  minDispatchDeadlineMs: 15_000,
  maxDispatchDeadlineMs: 30 * 60_000,
  defaultDispatchDeadlineMs: 10 * 60_000,
  /** How far ahead schedule_time may be. */
  maxScheduleAheadMs: 30 * 24 * 3_600_000,
} as const;

const METHODS: readonly HttpMethodName[] = ['POST', 'GET', 'HEAD', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'];
const METHOD_NUMBERS: Record<number, HttpMethodName> = { 1: 'POST', 2: 'GET', 3: 'HEAD', 4: 'PUT', 5: 'DELETE', 6: 'PATCH', 7: 'OPTIONS' };
const BODY_METHODS: readonly HttpMethodName[] = ['POST', 'PUT', 'PATCH'];
const EMAIL = /^[^@\s]+@[^@\s]+$/;

// Requests arrive as untyped messages; each handler declares the fields it reads.
/** One RPC: request message in, response message out (or a thrown `CloudTasksApiError`). */
export type Handler = (request: any) => unknown;
export type Api = Record<string, Handler>;

function invalid(field: string, message: string): never {
  throw new InvalidArgumentError(message, field);
}

function methodOf(m: string | number | undefined): HttpMethodName {
  if (m === undefined || m === 0 || m === 'HTTP_METHOD_UNSPECIFIED') return 'POST';
  const name = typeof m === 'number' ? METHOD_NUMBERS[m] : (m as HttpMethodName);
  if (!name || !METHODS.includes(name)) invalid('task.http_request.http_method', `Unknown HTTP method ${JSON.stringify(m)}.`);
  return name;
}

/** Validates a task's HttpRequest as CreateTask does. */
export function httpTargetFromWire(h: WireHttpRequest): HttpTarget {
  const url = h.url ?? '';
  if (!url) invalid('task.http_request.url', 'task.http_request.url is required.');
  if (!/^https?:\/\//i.test(url)) invalid('task.http_request.url', `task.http_request.url must begin with "http://" or "https://" (got ${JSON.stringify(url.slice(0, 100))}).`);
  if (url.length > TASK_LIMITS.maxUrlLength) invalid('task.http_request.url', `task.http_request.url is longer than ${TASK_LIMITS.maxUrlLength} characters.`);
  try {
    new URL(url);
  } catch (err) {
    throw new InvalidArgumentError(`task.http_request.url is not a valid URL: ${JSON.stringify(url.slice(0, 100))}.`, 'task.http_request.url', { cause: err });
  }
  const httpMethod = methodOf(h.httpMethod);
  const body = h.body === undefined ? Buffer.alloc(0) : typeof h.body === 'string' ? Buffer.from(h.body, 'base64') : Buffer.from(h.body);
  if (body.length > 0 && !BODY_METHODS.includes(httpMethod)) {
    invalid('task.http_request.body', `A body is allowed only with POST, PUT or PATCH, not ${httpMethod}.`);
  }
  const headers = { ...(h.headers ?? {}) };
  const headerBytes = Object.entries(headers).reduce((n, [k, v]) => n + k.length + v.length + 4, 0);
  if (headerBytes >= TASK_LIMITS.maxHeaderBytes) invalid('task.http_request.headers', `The headers total ${headerBytes} bytes; they must be under 80 KB.`);
  const target: HttpTarget = { url, httpMethod, headers, body };
  if (h.oidcToken) {
    const email = h.oidcToken.serviceAccountEmail ?? '';
    if (!EMAIL.test(email)) invalid('task.http_request.oidc_token.service_account_email', `oidc_token.service_account_email must be a service account email (got ${JSON.stringify(email)}).`);
    target.oidcToken = { serviceAccountEmail: email, audience: h.oidcToken.audience ?? '' };
  }
  if (h.oauthToken) {
    const email = h.oauthToken.serviceAccountEmail ?? '';
    if (!EMAIL.test(email)) invalid('task.http_request.oauth_token.service_account_email', `oauth_token.service_account_email must be a service account email (got ${JSON.stringify(email)}).`);
    target.oauthToken = { serviceAccountEmail: email, scope: h.oauthToken.scope || 'https://www.googleapis.com/auth/cloud-platform' };
  }
  return target;
}

/** Validates CreateTask's task against its queue name and the limits; returns what the store needs. */
export function newTaskFromWire(queueName: string, task: WireTask | undefined, protos: Protos, nowMs: number): NewTask {
  if (!task) invalid('task', 'task is required.');
  if (task.appEngineHttpRequest) {
    throw new UnimplementedError('App Engine tasks are not supported by the emulator; use http_request.', 'task.app_engine_http_request');
  }
  if (!task.httpRequest) invalid('task.http_request', 'task.http_request is required (the emulator dispatches HTTP tasks).');
  let taskId: string | undefined;
  if (task.name) {
    const parsed = parseTaskName(task.name, 'task.name');
    if (parsed.queue !== queueName) invalid('task.name', `The task name ${task.name} is not in the queue ${queueName} of the request.`);
    taskId = parsed.taskId;
  }
  const size = protos.type('Task').encode(protos.type('Task').fromObject(task)).finish().length;
  if (size > TASK_LIMITS.maxTaskBytes) invalid('task', `Task size ${size} bytes exceeds the maximum of ${TASK_LIMITS.maxTaskBytes} bytes.`);
  const http = httpTargetFromWire(task.httpRequest);
  const scheduleTimeMs = wireTimeToMs(task.scheduleTime);
  if (scheduleTimeMs !== undefined && scheduleTimeMs > nowMs + TASK_LIMITS.maxScheduleAheadMs) {
    invalid('task.schedule_time', 'task.schedule_time must be at most 30 days in the future.');
  }
  const deadlineMs = wireTimeToMs(task.dispatchDeadline);
  if (deadlineMs !== undefined && deadlineMs !== 0 && (deadlineMs < TASK_LIMITS.minDispatchDeadlineMs || deadlineMs > TASK_LIMITS.maxDispatchDeadlineMs)) {
    invalid('task.dispatch_deadline', `task.dispatch_deadline must be between 15s and 1800s (got ${deadlineMs / 1000}s).`);
  }
  const spec: NewTask = { http, dispatchDeadlineMs: deadlineMs || TASK_LIMITS.defaultDispatchDeadlineMs };
  if (taskId !== undefined) spec.taskId = taskId;
  if (scheduleTimeMs !== undefined && scheduleTimeMs > 0) spec.scheduleTimeMs = scheduleTimeMs;
  return spec;
}

/** Builds the handler table over a store. */
export function createApi(store: TaskStore, protos: Protos, now: () => number = Date.now): Api {
  const policies = new Map<string, unknown>();
  const queueOf = (name: string | undefined, field = 'name'): string => parseQueueName(name, field).name;
  return {
    ListQueues(req: { parent?: string; pageSize?: number; pageToken?: string; filter?: string }) {
      const page = store.listQueues(parseLocationName(req.parent), req.pageSize, req.pageToken, req.filter);
      return { queues: page.items.map(queueToWire), nextPageToken: page.nextPageToken };
    },
    GetQueue(req: { name?: string }) {
      return queueToWire(store.getQueue(queueOf(req.name)));
    },
    CreateQueue(req: { parent?: string; queue?: WireQueue }) {
      const parent = parseLocationName(req.parent);
      if (!req.queue) invalid('queue', 'queue is required.');
      const name = parseQueueName(req.queue.name, 'queue.name');
      return queueToWire(store.createQueue(parent, name, queueSettingsFromWire(req.queue)));
    },
    UpdateQueue(req: { queue?: WireQueue; updateMask?: { paths?: string[] } }) {
      if (!req.queue) invalid('queue', 'queue is required.');
      const name = parseQueueName(req.queue.name, 'queue.name');
      const paths = req.updateMask?.paths ?? [];
      const mask = paths.length > 0 ? expandMask(paths) : undefined;
      return queueToWire(store.updateQueue(name, queueSettingsFromWire(req.queue), mask));
    },
    DeleteQueue(req: { name?: string }) {
      store.deleteQueue(queueOf(req.name));
      return {};
    },
    PurgeQueue(req: { name?: string }) {
      return queueToWire(store.purgeQueue(queueOf(req.name)));
    },
    PauseQueue(req: { name?: string }) {
      return queueToWire(store.pauseQueue(queueOf(req.name)));
    },
    ResumeQueue(req: { name?: string }) {
      return queueToWire(store.resumeQueue(queueOf(req.name)));
    },
    GetIamPolicy(req: { resource?: string }) {
      const name = store.getQueue(queueOf(req.resource, 'resource')).name.name;
      return policies.get(name) ?? {};
    },
    SetIamPolicy(req: { resource?: string; policy?: unknown }) {
      const name = store.getQueue(queueOf(req.resource, 'resource')).name.name;
      policies.set(name, req.policy ?? {});
      return req.policy ?? {};
    },
    TestIamPermissions(req: { resource?: string; permissions?: string[] }) {
      store.getQueue(queueOf(req.resource, 'resource'));
      // The emulator has no IAM: every permission asked about is granted.
      return { permissions: req.permissions ?? [] };
    },
    ListTasks(req: { parent?: string; responseView?: string | number; pageSize?: number; pageToken?: string }) {
      const page = store.listTasks(queueOf(req.parent, 'parent'), req.pageSize, req.pageToken);
      const view = viewOf(req.responseView);
      return { tasks: page.items.map((t) => taskToWire(t, view)), nextPageToken: page.nextPageToken };
    },
    GetTask(req: { name?: string; responseView?: string | number }) {
      const n = parseTaskName(req.name);
      return taskToWire(store.getTask(n.queue, n.taskId).task, viewOf(req.responseView));
    },
    CreateTask(req: { parent?: string; task?: WireTask; responseView?: string | number }) {
      const queueName = queueOf(req.parent, 'parent');
      store.getQueue(queueName);
      const spec = newTaskFromWire(queueName, req.task, protos, now());
      return taskToWire(store.createTask(queueName, spec), viewOf(req.responseView));
    },
    DeleteTask(req: { name?: string }) {
      const n = parseTaskName(req.name);
      store.deleteTask(n.queue, n.taskId);
      return {};
    },
    RunTask(req: { name?: string; responseView?: string | number }) {
      const n = parseTaskName(req.name);
      return taskToWire(store.runTask(n.queue, n.taskId), viewOf(req.responseView));
    },
  };
}
