/**
 * The delivery task's contract, in the one place both sides import: the body
 * fan-out (and redrive) enqueue and delivery parses, how it is built from a
 * fan-out and how it is enqueued.
 *
 * The body of a delivery task: what fan-out promises delivery. It carries
 * user ids, not addresses, so no personal data sits in the queue; delivery
 * reads the subscriptions fresh (an unsubscribe after fan-out is honoured).
 * Product details are read once by fan-out and carried here.
 */
import { z } from 'zod';
import type { CloudTasksClient } from '@google-cloud/tasks';
import { deliveryAudience, type Config } from '../config.ts';
import { isValidDocumentId, LEDGER_SHARDS, type FanoutDoc } from '../model.ts';
import { firstProblem, productNameSchema, productUrlSchema } from '../validation.ts';
import { enqueueHttpTask, type EnqueueResult } from './enqueue.ts';
import { deliveryQueueFor } from './queues.ts';

const docId = z.string().min(1).max(1500).refine(isValidDocumentId, 'must be a Firestore document id');

/** The schema of a delivery task body: strict, so an unknown field is a bug or a forgery. */
export const deliveryTaskSchema = z.strictObject({
  version: z.literal(1),
  eventKey: docId,
  productId: docId,
  generation: z.number().int().nonnegative(),
  // The event's own limits: delivery takes no link or name fan-out could not have accepted.
  product: z.strictObject({
    name: productNameSchema.optional(),
    url: productUrlSchema.optional(),
    available: z.number().int().nonnegative(),
  }),
  publishTimeMs: z.number().int().nonnegative().optional(),
  userIds: z.array(docId).min(1, 'must name at least one recipient').max(1000, 'must name at most 1000 recipients'),
  /**
   * Set by `restock redrive`: the run that enqueued it. A redrive task may
   * reopen entries that ended `exhausted` (the ledger's transition table), and
   * is not one of the fan-out's chunks (no chunk receipt).
   */
  redriveRunId: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be a redrive run id').optional(),
  /** The wave (1-based) of a restock told in waves: recorded on the ledger entry, so `restock trace` says which wave told a shopper. */
  wave: z.number().int().positive().optional(),
  /**
   * The fan-out's `ledgerShards`: the count delivery takes the entries' shard
   * in, so they carry the shards the event's queries (status, redrive, waves)
   * read through that same recorded count, whatever RESTOCK_LEDGER_SHARDS the
   * delivery function runs with. Absent (a fan-out from before the shard, a
   * task enqueued before the field): delivery's own setting.
   */
  ledgerShards: z.number().int().positive().max(LEDGER_SHARDS).optional(),
  /**
   * Set on a held-back send (docs/send-windows.md): the instant the recipients'
   * send window opens, which the task is scheduled for. Its claim judges the
   * window afresh; this only tells a task run a moment early from a new hold.
   */
  heldUntilMs: z.number().int().nonnegative().optional(),
});

/** The body of one delivery task (one chunk of recipients of one event). */
export type DeliveryTask = z.infer<typeof deliveryTaskSchema>;

/** The fields of a fan-out a delivery task carries. */
export type TaskSource = Pick<FanoutDoc, 'eventKey' | 'productId' | 'generation' | 'product' | 'publishTimeMs' | 'ledgerShards'>;

/** The delivery task for `userIds` of `fanout`; with `redriveRunId`, a redrive's task. */
export function deliveryTaskFor(fanout: TaskSource, userIds: string[], redriveRunId?: string): DeliveryTask {
  return {
    version: 1,
    eventKey: fanout.eventKey,
    productId: fanout.productId,
    generation: fanout.generation,
    product: fanout.product,
    userIds,
    ...(fanout.publishTimeMs !== undefined ? { publishTimeMs: fanout.publishTimeMs } : {}),
    ...(fanout.ledgerShards !== undefined ? { ledgerShards: fanout.ledgerShards } : {}),
    ...(redriveRunId !== undefined ? { redriveRunId } : {}),
  };
}

/**
 * The delayed task of a chunk's recipients held until `opensAtMs`: the chunk's
 * own body (its event, generation, product and wave) for those recipients.
 */
export function heldDeliveryTask(task: DeliveryTask, userIds: string[], opensAtMs: number): DeliveryTask {
  return { ...task, userIds, heldUntilMs: opensAtMs };
}

/**
 * Enqueues `task` under `taskId` toward the delivery function, with the OIDC
 * audience delivery verifies, on the delivery queue its id chooses (so a
 * retried enqueue meets the same queue's name dedup).
 * @throws EnqueueError (lib/tasks) when the queue refuses.
 */
export function enqueueDeliveryTask(client: CloudTasksClient, config: Config, taskId: string, task: DeliveryTask): Promise<EnqueueResult> {
  return enqueueHttpTask(client, config, {
    queue: deliveryQueueFor(config, taskId),
    taskId,
    url: config.deliveryUrl,
    audience: deliveryAudience(config),
    body: task,
    ...(task.heldUntilMs !== undefined ? { scheduleTimeMs: task.heldUntilMs } : {}),
  });
}

/**
 * Largest delivery task body accepted: Cloud Tasks' own limit on a task
 * (1 MiB). A chunk of the largest size (200 ids of up to 1,500 bytes, each
 * possibly doubled by JSON escaping) stays under it, so the limit can never
 * refuse a task the fan-out made — a refusal there would be retried until the
 * queue gave up, and lose the chunk.
 */
export const MAX_DELIVERY_TASK_BYTES = 1024 * 1024;

/** A delivery task body that is not what fan-out sends: a bug or a forged request. */
export class InvalidDeliveryTaskError extends Error {
  override readonly name = 'InvalidDeliveryTaskError';
  constructor(
    readonly field: string,
    problem: string,
    options?: { cause?: unknown },
  ) {
    super(`${field}: ${problem}`, options);
  }
}

/** @throws InvalidDeliveryTaskError naming the first bad field. */
export function parseDeliveryTask(body: unknown): DeliveryTask {
  const parsed = deliveryTaskSchema.safeParse(body);
  if (parsed.success) return parsed.data;
  const { field, problem } = firstProblem(parsed.error, body);
  throw new InvalidDeliveryTaskError(field, problem, { cause: parsed.error });
}
