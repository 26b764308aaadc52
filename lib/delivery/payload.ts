/**
 * The body of a delivery task: what fan-out promises delivery. It carries
 * user ids, not addresses, so no personal data sits in the queue; delivery
 * reads the subscriptions fresh (an unsubscribe after fan-out is honoured).
 * Product details are read once by fan-out and carried here.
 */
import { z } from 'zod';
import { isValidDocumentId } from '../model.ts';
import { firstProblem } from '../validation.ts';

const docId = z.string().min(1).max(1500).refine(isValidDocumentId, 'must be a Firestore document id');

export const deliveryTaskSchema = z.strictObject({
  version: z.literal(1),
  eventKey: docId,
  productId: docId,
  generation: z.number().int().nonnegative(),
  product: z.strictObject({
    name: z.string().optional(),
    url: z.string().optional(),
    available: z.number().int().nonnegative(),
  }),
  publishTimeMs: z.number().int().nonnegative().optional(),
  userIds: z.array(docId).min(1, 'must name at least one recipient').max(1000, 'must name at most 1000 recipients'),
});

export type DeliveryTask = z.infer<typeof deliveryTaskSchema>;

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
