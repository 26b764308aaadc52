/**
 * Poison input: an event that failed validation is recorded in
 * `rejectedEvents/{eventKey}` with its reason and (truncated) raw input, so it
 * can be acknowledged instead of retried forever (promise 4) and still be
 * found by an operator.
 */
import { createHash } from 'node:crypto';
import type { Firestore } from '@google-cloud/firestore';
import { COLLECTIONS, RAW_INPUT_LIMIT, type RejectedEventDoc } from '../model.ts';
import type { InvalidEventError } from '../events/index.ts';

/** Stores the rejection; returns the key it was stored under. */
export async function recordRejectedEvent(db: Firestore, err: InvalidEventError, raw: string, nowMs: number): Promise<string> {
  // Input too broken to name its event is keyed by its content, so a redelivery overwrites one record.
  const eventKey = err.eventKey ?? `raw-${createHash('sha256').update(raw).digest('hex').slice(0, 32)}`;
  const doc: RejectedEventDoc = {
    eventKey,
    reason: err.message,
    field: err.field,
    raw: raw.length > RAW_INPUT_LIMIT ? `${raw.slice(0, RAW_INPUT_LIMIT)}…[${raw.length - RAW_INPUT_LIMIT} more characters]` : raw,
    receivedAtMs: nowMs,
  };
  await db.collection(COLLECTIONS.rejectedEvents).doc(eventKey).set(doc);
  return eventKey;
}
