/**
 * The Firestore data model (docs/design.md "Data model"): collection
 * names, document shapes and the identity of a notification. Every concern
 * reads and writes through these names so the model has one definition.
 *
 * Times are milliseconds since the epoch (`...Ms`), except `expireAt`, which
 * is a Firestore Timestamp because the TTL policy requires one.
 */
import { createHash } from 'node:crypto';
import type { CollectionReference, DocumentReference, Firestore, Timestamp } from '@google-cloud/firestore';

export const COLLECTIONS = {
  products: 'products',
  /** Sub-collection of a product: `products/{productId}/restockSubscriptions/{userId}`. */
  subscriptions: 'restockSubscriptions',
  fanouts: 'fanouts',
  deliveries: 'deliveries',
  rejectedEvents: 'rejectedEvents',
} as const;

/** `products/{productId}`. */
export function productRef(db: Firestore, productId: string): DocumentReference {
  return db.collection(COLLECTIONS.products).doc(productId);
}

/** `products/{productId}/restockSubscriptions`: who waits for a product. */
export function subscriptionsRef(db: Firestore, productId: string): CollectionReference {
  return productRef(db, productId).collection(COLLECTIONS.subscriptions);
}

/** A notification channel. A subscription holds one address per channel it uses. */
export type Channel = 'email' | 'push';
export const CHANNELS: readonly Channel[] = ['email', 'push'];

/** `products/{productId}`: the last stock state seen, and what a message needs to say. */
export interface ProductDoc {
  productId: string;
  available: number;
  /** Sequence of the event that set `available`; events not newer are stale. */
  sequence: number;
  updatedAtMs: number;
  /** eventKey of the last event applied. */
  lastEventKey?: string;
  /** eventKey of the last event judged a restock. */
  lastRestockEventKey?: string;
  name?: string;
  url?: string;
}

/** `products/{productId}/restockSubscriptions/{userId}`. */
export interface SubscriptionDoc {
  userId: string;
  productId: string;
  /** At least one of them. */
  channels: { email?: string; push?: string };
  locale?: string;
  createdAtMs: number;
  updatedAtMs: number;
}

export type FanoutState = 'running' | 'complete' | 'ignored' | 'failed';

/** `fanouts/{eventKey}`: the progress of one event's fan-out. */
export interface FanoutDoc {
  eventKey: string;
  productId: string;
  state: FanoutState;
  /** Why an event was ignored (`not-restock`, `stale`) or why it failed. */
  reason?: string;
  /** The validated event, so a replay does not need the original message. */
  event: Record<string, unknown>;
  /** Product details carried in every task payload (read once). */
  product: { name?: string; url?: string; available: number };
  leaseOwner: string | null;
  leaseExpiresAtMs: number;
  /** Document id of the last subscriber whose chunk is known enqueued; null before the first page. */
  cursor: string | null;
  /** Bumped by `restock replay`: part of task names, so replayed chunks are not hidden by old names. */
  generation: number;
  attempts: number;
  pages: number;
  chunks: number;
  recipients: number;
  publishTimeMs?: number;
  startedAtMs: number;
  firstTaskAtMs?: number;
  completedAtMs?: number;
  updatedAtMs: number;
  error?: string;
}

export type DeliveryState = 'sending' | 'sent' | 'failed' | 'rejected' | 'exhausted';
/** States a delivery never leaves by itself. */
export const FINAL_DELIVERY_STATES: readonly DeliveryState[] = ['sent', 'rejected', 'exhausted'];

/** `deliveries/{dedupKey}`: the ledger entry of one notification. */
export interface DeliveryDoc {
  dedupKey: string;
  eventKey: string;
  productId: string;
  userId: string;
  channel: Channel;
  state: DeliveryState;
  attempts: number;
  leaseExpiresAtMs: number | null;
  lastError: string | null;
  sentAtMs: number | null;
  createdAtMs: number;
  updatedAtMs: number;
  expireAt: Timestamp;
}

/** `rejectedEvents/{eventKey}`: an event that failed validation (never retried). */
export interface RejectedEventDoc {
  eventKey: string;
  reason: string;
  /** Field path of the first problem, when known. */
  field?: string;
  /**
   * An excerpt of the input: `message.data` decoded, personal data masked,
   * then cut to {@link RAW_INPUT_LIMIT} characters (lib/fanout/rejected.ts).
   */
  raw: string;
  /** sha256 (hex) of the whole input as received: matches a report without keeping it. */
  rawSha256?: string;
  /** Length of the whole input, in characters. */
  rawChars?: number;
  receivedAtMs: number;
  /** When Firestore's TTL policy deletes the record. */
  expireAt: Timestamp;
}

export const RAW_INPUT_LIMIT = 4096;

/**
 * The dedup key of a notification: `sha256(eventKey:userId:channel)`, hex.
 * It names the ledger document and is sent as the `Idempotency-Key`.
 */
export function dedupKey(eventKey: string, userId: string, channel: Channel): string {
  return createHash('sha256').update(`${eventKey}:${userId}:${channel}`).digest('hex');
}

/**
 * Whether a string can be a Firestore document id: 1–1500 bytes, no `/`,
 * not `.` or `..`, not `__…__`.
 */
export function isValidDocumentId(id: string): boolean {
  return (
    id.length > 0 &&
    Buffer.byteLength(id, 'utf8') <= 1500 &&
    !id.includes('/') &&
    id !== '.' &&
    id !== '..' &&
    !/^__.*__$/.test(id)
  );
}
