/**
 * Resource names as the real service validates them.
 *
 * `projects/PROJECT_ID/locations/LOCATION_ID/queues/QUEUE_ID/tasks/TASK_ID`:
 * PROJECT_ID letters, digits, hyphens, colons, periods; QUEUE_ID letters,
 * digits, hyphens, at most 100; TASK_ID letters, digits, hyphens,
 * underscores, at most 500. Every parser throws {@link InvalidArgumentError}
 * naming the field.
 */
import { randomInt } from 'node:crypto';
import { InvalidArgumentError } from './errors.ts';

const PROJECT = '[A-Za-z0-9.:-]+';
const LOCATION = '[A-Za-z0-9-]+';
const QUEUE_ID = /^[A-Za-z0-9-]{1,100}$/;
const TASK_ID = /^[A-Za-z0-9_-]{1,500}$/;
const LOCATION_NAME = new RegExp(`^projects/(${PROJECT})/locations/(${LOCATION})$`);
const QUEUE_NAME = new RegExp(`^(projects/${PROJECT}/locations/${LOCATION})/queues/([^/]*)$`);
const TASK_NAME = new RegExp(`^(projects/${PROJECT}/locations/${LOCATION}/queues/[^/]*)/tasks/([^/]*)$`);

export interface QueueName {
  /** `projects/P/locations/L` */
  parent: string;
  /** QUEUE_ID, the value of `X-CloudTasks-QueueName` */
  queueId: string;
  name: string;
}

export interface TaskName {
  /** The queue's full name. */
  queue: string;
  /** TASK_ID, the value of `X-CloudTasks-TaskName` */
  taskId: string;
  name: string;
}

/** Checks `projects/P/locations/L`; returns it unchanged. */
export function parseLocationName(name: string | undefined, field = 'parent'): string {
  if (!name || !LOCATION_NAME.test(name)) {
    throw new InvalidArgumentError(
      `Invalid resource field value in the request: ${field} must be formatted "projects/<PROJECT_ID>/locations/<LOCATION_ID>" (got ${JSON.stringify(name ?? '')}).`,
      field,
    );
  }
  return name;
}

/** Parses a full queue name, validating the QUEUE_ID. */
export function parseQueueName(name: string | undefined, field = 'name'): QueueName {
  const m = name ? QUEUE_NAME.exec(name) : null;
  if (!name || !m) {
    throw new InvalidArgumentError(
      `Invalid resource field value in the request: ${field} must be formatted "projects/<PROJECT_ID>/locations/<LOCATION_ID>/queues/<QUEUE_ID>" (got ${JSON.stringify(name ?? '')}).`,
      field,
    );
  }
  const queueId = m[2]!;
  if (!QUEUE_ID.test(queueId)) {
    throw new InvalidArgumentError(
      `Queue ID "${queueId}" is invalid: it may contain only letters, digits and hyphens, and be at most 100 characters long.`,
      field,
    );
  }
  return { parent: m[1]!, queueId, name };
}

/** Parses a full task name, validating the queue part and the TASK_ID. */
export function parseTaskName(name: string | undefined, field = 'name'): TaskName {
  const m = name ? TASK_NAME.exec(name) : null;
  if (!name || !m) {
    throw new InvalidArgumentError(
      `Invalid resource field value in the request: ${field} must be formatted "projects/<PROJECT_ID>/locations/<LOCATION_ID>/queues/<QUEUE_ID>/tasks/<TASK_ID>" (got ${JSON.stringify(name ?? '')}).`,
      field,
    );
  }
  parseQueueName(m[1], field);
  const taskId = m[2]!;
  if (!TASK_ID.test(taskId)) {
    throw new InvalidArgumentError(
      `Task ID "${taskId.slice(0, 80)}" is invalid: it may contain only letters, digits, hyphens and underscores, and be at most 500 characters long.`,
      field,
    );
  }
  return { queue: m[1]!, taskId, name };
}

/** A fresh system-generated TASK_ID: decimal digits, as the real service hands out for unnamed tasks. */
export function generateTaskId(): string {
  let id = String(randomInt(1, 10));
  while (id.length < 19) id += String(randomInt(0, 10));
  return id;
}
