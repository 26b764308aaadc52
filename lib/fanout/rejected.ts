/**
 * Poison input: an event that failed validation is recorded in
 * `rejectedEvents/{eventKey}` with its reason and (truncated) raw input, so it
 * can be acknowledged instead of retried forever (promise 4) and still be
 * found by an operator.
 */
import { createHash } from 'node:crypto';
import { Timestamp, type Firestore } from '@google-cloud/firestore';
import { scrub } from '../log.ts';
import { COLLECTIONS, RAW_INPUT_LIMIT, type RejectedEventDoc } from '../model.ts';
import type { InvalidEventError } from '../events/index.ts';

/**
 * Stores the rejection; returns the key it was stored under. Email addresses
 * in the raw input are masked (a malformed event may carry anything), and the
 * record expires after `ttlDays` (Firestore TTL on `expireAt`).
 */
export async function recordRejectedEvent(db: Firestore, err: InvalidEventError, raw: string, nowMs: number, ttlDays: number): Promise<string> {
  // Input too broken to name its event is keyed by its content, so a redelivery overwrites one record.
  const eventKey = err.eventKey ?? `raw-${createHash('sha256').update(raw).digest('hex').slice(0, 32)}`;
  const kept = raw.length > RAW_INPUT_LIMIT ? `${raw.slice(0, RAW_INPUT_LIMIT)}…[${raw.length - RAW_INPUT_LIMIT} more characters]` : raw;
  const doc: RejectedEventDoc = {
    eventKey,
    reason: err.message,
    field: err.field,
    raw: scrub(kept) as string,
    receivedAtMs: nowMs,
    expireAt: Timestamp.fromMillis(nowMs + ttlDays * 86_400_000),
  };
  await db.collection(COLLECTIONS.rejectedEvents).doc(eventKey).set(doc);
  return eventKey;
}
