/**
 * The notification service contract that the `http` notifier implements and
 * the local sink serves (docs/notification-service.md).
 *
 * `POST /v1/notifications:send` with a batch of 1..1000 notifications, each
 * carrying its own `idempotencyKey` (the ledger's dedup key), or one double
 * opt-in confirmation (`template: "confirmation"`, its key one per pending
 * request). The answer is one
 * result per item, or a whole-request refusal (429 + Retry-After, 503) in which
 * case nothing was sent.
 */
import { z } from 'zod';
import { CHANNELS, type Channel } from '../../lib/channels.ts';

/** Path of the batch send endpoint. */
export const SEND_PATH = '/v1/notifications:send';

/** Most notifications one request may carry. */
export const MAX_BATCH_ITEMS = 1000;

/** What every item carries, a restock notification or a confirmation: its key, and to whom on which channel. */
const addressedSchema = z.object({
  idempotencyKey: z.string().regex(/^[0-9a-f]{64}$/, 'expected 64 lowercase hex characters'),
  channel: z.enum(CHANNELS),
  to: z.string().min(1),
  /** The shopper, unless the deployment turned it off (RESTOCK_NOTIFIER_SEND_USER_ID=false). */
  userId: z.string().min(1).optional(),
  locale: z.string().min(1).optional(),
});

export const notificationSchema = addressedSchema.extend({
  template: z.literal('restock'),
  data: z.object({
    eventKey: z.string().min(1),
    productId: z.string().min(1),
    productName: z.string().optional(),
    productUrl: z.string().optional(),
    available: z.number(),
    publishTimeMs: z.number().optional(),
    /** The tracked link to put in the message instead of `productUrl` (lib/clicks), when the deployment tracks clicks. */
    clickUrl: z.string().optional(),
  }),
});

/**
 * A double opt-in confirmation (lib/consent): not a restock, so no event and
 * no stock; the service sends `data.confirmUrl` to the address as the
 * message's one link (a push's click target) and keeps it out of restock counts.
 */
const confirmationSchema = addressedSchema.extend({
  template: z.literal('confirmation'),
  data: z.object({
    productId: z.string().min(1),
    productName: z.string().optional(),
    productUrl: z.string().optional(),
    /** The sealed link that confirms the request; it expires at `expiresAtMs`. */
    confirmUrl: z.string().min(1),
    expiresAtMs: z.number(),
  }),
});

export const sendRequestSchema = z.object({
  notifications: z.array(z.discriminatedUnion('template', [notificationSchema, confirmationSchema])).min(1).max(MAX_BATCH_ITEMS),
});

/** One restock notification of a send request. */
export type Notification = z.infer<typeof notificationSchema>;
/** One confirmation of a send request. */
export type Confirmation = z.infer<typeof confirmationSchema>;
/** Body of `POST /v1/notifications:send`. */
export type SendRequest = z.infer<typeof sendRequestSchema>;

/** Outcome of one item: delivered, try again later, or never (bad address). */
export type ItemStatus = 'sent' | 'retry' | 'rejected';

/** One entry of a 200 answer, in the order of the request's items. */
export interface ItemResult {
  idempotencyKey: string;
  status: ItemStatus;
  reason?: string;
  /** The key had already been answered `sent`: nothing was delivered this time. */
  duplicate?: true;
  /**
   * With `rejected`: the address itself is dead for every message (an
   * unregistered push token), so the pipeline removes it from the shopper's
   * other subscriptions too.
   */
  deadAddress?: true;
}

/** Body of a 200 answer. */
export interface SendResponse {
  results: ItemResult[];
}

/** RFC 9457 problem details, the body of a 400/401. */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  /** Path of the offending field, e.g. `notifications.3.idempotencyKey`. */
  field?: string;
}

/** A permanent rejection by rule: its reason, and whether the address is dead for every message. */
export interface RuledRejection {
  reason: string;
  deadAddress?: true;
}

/**
 * Permanent rejections by rule, so tests and demos can provoke them with data
 * alone: an email at `@invalid.example` (this message only), one at
 * `@gone.example` (the mailbox no longer exists: a dead address), a push
 * token starting with `bad-` (unregistered: a dead address), a web push
 * subscription whose endpoint has a `/gone/` path (expired: a dead address).
 * Returns the rejection, or undefined when the address is deliverable.
 */
export function rejectionByRule(channel: Channel, to: string): RuledRejection | undefined {
  return REJECTION_RULES[channel](to);
}

/** One rule per channel of the table (lib/channels.ts): a channel added there without its rule here does not compile. */
const REJECTION_RULES: Record<Channel, (to: string) => RuledRejection | undefined> = {
  email: (to) =>
    to.toLowerCase().endsWith('@invalid.example')
      ? { reason: 'invalid-address' }
      : to.toLowerCase().endsWith('@gone.example')
        ? { reason: 'mailbox-gone', deadAddress: true }
        : undefined,
  push: (to) => (to.startsWith('bad-') ? { reason: 'unregistered-token', deadAddress: true } : undefined),
  // The stored address is the subscription's canonical JSON: an endpoint under a `/gone/` path is expired.
  webpush: (to) => (to.includes('/gone/') ? { reason: 'subscription-gone', deadAddress: true } : undefined),
};
