/**
 * The `inventory.updated` event as the inventory service publishes it.
 * Version 1; an event of any other version is refused rather than guessed at.
 */
import { z } from 'zod';
import { isValidDocumentId } from '../model.ts';
import { productNameSchema, productUrlSchema } from '../validation.ts';

export const EVENT_TYPE = 'inventory.updated';
export const EVENT_VERSION = 1;

const documentId = z
  .string()
  .min(1, 'must not be empty')
  .max(512, 'must be at most 512 characters')
  .refine(isValidDocumentId, 'must be usable as a Firestore document id (no "/", not "." or "..", not __x__)');

const quantity = z.number().int('must be a whole number').nonnegative('must not be negative').max(Number.MAX_SAFE_INTEGER);

export const inventoryEventSchema = z.strictObject({
  type: z.literal(EVENT_TYPE, `must be "${EVENT_TYPE}"`).default(EVENT_TYPE),
  version: z.literal(EVENT_VERSION, `unsupported version (this consumer understands ${EVENT_VERSION})`).default(EVENT_VERSION),
  productId: documentId,
  available: quantity,
  previousAvailable: quantity.optional(),
  /** Monotonic per product; orders events (promise 5). */
  sequence: z.number().int('must be a whole number').nonnegative('must not be negative').max(Number.MAX_SAFE_INTEGER),
  occurredAt: z.iso.datetime({ offset: true, message: 'must be an ISO 8601 date-time' }).optional(),
  product: z
    .strictObject({
      name: productNameSchema.optional(),
      url: productUrlSchema.optional(),
    })
    .optional(),
  /**
   * The product's own wave settings (docs/waves.md): each field given replaces
   * the product's stored one, each left out keeps it; global defaults fill the rest.
   */
  waves: z
    .strictObject({
      multiplier: z.number().nonnegative('must not be negative').max(1_000, 'must be at most 1000').optional(),
      intervalMs: z.number().int('must be a whole number').positive('must be positive').max(30 * 86_400_000, 'must be at most 30 days (Cloud Tasks schedules no further)').optional(),
      minAvailableToNotify: z.number().int('must be a whole number').positive('must be positive').max(Number.MAX_SAFE_INTEGER).optional(),
    })
    .optional(),
});

/** A validated inventory event. */
export type InventoryEvent = z.infer<typeof inventoryEventSchema>;
