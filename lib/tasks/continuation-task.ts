/**
 * The continuation task's contract, in the one place both sides import: the
 * task the fan-out sends itself (to go on from a checkpoint, to run a key
 * range, to start or continue a wave), its body, how it is built and
 * enqueued, and how `fanOutRestock` reads it back. Like the delivery task's
 * (delivery-task.ts), it carries no personal data: an event key and, for a
 * key range, which one.
 *
 * It travels as a binary-mode CloudEvent (`ce-type` {@link CONTINUATION_CLOUDEVENT_TYPE})
 * so the fan-out tells it from a Pub/Sub push by its headers alone, before
 * reading the body, and verifies its caller as the queue's identity.
 */
import { z } from 'zod';
import type { CloudTasksClient } from '@google-cloud/tasks';
import type { Config } from '../config.ts';
import { isValidDocumentId } from '../model.ts';
import { firstProblem } from '../validation.ts';
import { enqueueHttpTask } from './enqueue.ts';
import { continuationQueuePath } from './queues.ts';

/** The CloudEvent type of a continuation: the header that marks it. */
export const CONTINUATION_CLOUDEVENT_TYPE = 'restock.fanout.continue';

/** The schema of a continuation body: strict, so an unknown field is a bug or a forgery. */
export const continuationTaskSchema = z.strictObject({
  eventKey: z.string().refine(isValidDocumentId, 'must be the key of a stored fan-out'),
  /** Which key range of which generation goes on; absent: the fan-out's own chain (one range). */
  range: z
    .strictObject({
      generation: z.number().int().nonnegative(),
      index: z.number().int().nonnegative(),
    })
    .optional(),
});

/** The body of a continuation task. */
export type ContinuationBody = z.infer<typeof continuationTaskSchema>;

/** A continuation to enqueue: its name, the key range it goes on with (absent: the fan-out's own chain), when it may run. */
export interface ContinuationTask {
  taskId: string;
  range?: { generation: number; index: number };
  scheduleTimeMs?: number;
}

/** A continuation body that is not what the fan-out sends: a bug or a forged request. */
export class InvalidContinuationTaskError extends Error {
  override readonly name = 'InvalidContinuationTaskError';
  constructor(
    readonly field: string,
    readonly problem: string,
    options?: { cause?: unknown },
  ) {
    super(`${field}: ${problem}`, options);
  }
}

/** @throws InvalidContinuationTaskError naming the first bad field. */
export function parseContinuationTask(body: unknown): ContinuationBody {
  const parsed = continuationTaskSchema.safeParse(body);
  if (parsed.success) return parsed.data;
  const { field, problem } = firstProblem(parsed.error, body);
  throw new InvalidContinuationTaskError(field, problem, { cause: parsed.error });
}

/**
 * Enqueues `task` toward the fan-out itself, on the continuation queue (behind
 * a delivery backlog, the rest of the audience would wait for the first chunks
 * to be sent); `scheduleTimeMs` defers it (a later wave).
 * @throws EnqueueError (lib/tasks) when the queue refuses.
 */
export async function enqueueContinuationTask(client: CloudTasksClient, config: Config, eventKey: string, task: ContinuationTask): Promise<void> {
  const { taskId, range, scheduleTimeMs } = task;
  const body: ContinuationBody = { eventKey, ...(range ? { range: { generation: range.generation, index: range.index } } : {}) };
  await enqueueHttpTask(client, config, {
    queue: continuationQueuePath(config),
    taskId,
    url: config.fanoutUrl,
    audience: config.fanoutUrl,
    headers: { 'ce-specversion': '1.0', 'ce-type': CONTINUATION_CLOUDEVENT_TYPE, 'ce-source': '//restock/fanout', 'ce-id': taskId },
    body,
    ...(scheduleTimeMs !== undefined ? { scheduleTimeMs } : {}),
  });
}
