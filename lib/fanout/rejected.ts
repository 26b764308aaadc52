/**
 * Poison input: an event that failed validation is recorded in
 * `rejectedEvents/{eventKey}` with its reason and a scrubbed excerpt of the
 * input, so it can be acknowledged instead of retried forever (promise 4) and
 * still be found by an operator.
 *
 * A malformed event may carry anything, personal data included, in any
 * envelope: so the Pub/Sub `message.data` is decoded from base64 first (an
 * encoded address is invisible to a scrubber), then every string is scrubbed
 * (addresses in any spelling, push tokens, anything under a key that names
 * one), and only then is the excerpt cut to size — cutting first could leave
 * half an address the scrubber no longer recognises. The whole input is kept
 * only as a hash, to match a report against it.
 */
import { createHash } from 'node:crypto';
import { Timestamp, type Firestore } from '@google-cloud/firestore';
import { clip, scrubJsonText, scrubJsonValue, scrubText } from '../log.ts';
import { COLLECTIONS, RAW_INPUT_LIMIT, type RejectedEventDoc } from '../model.ts';
import type { InvalidEventError } from '../events/index.ts';

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** `message.data` decoded (JSON when it parses, else text), or unchanged when it is not base64 UTF-8. */
function decodedData(data: unknown): unknown {
  if (typeof data !== 'string' || !/^[A-Za-z0-9+/_-]*={0,2}$/.test(data)) return data;
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(Buffer.from(data, 'base64'));
  } catch {
    return data;
  }
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/**
 * What is kept of a rejected input: decoded, scrubbed, then cut to
 * {@link RAW_INPUT_LIMIT} characters. Pure.
 */
export function rejectedExcerpt(raw: string): string {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    return scrubJsonText(raw, RAW_INPUT_LIMIT);
  }
  if (isObject(value)) {
    // Raw push and binary CloudEvent: { message }; structured CloudEvent: { data: { message } }.
    for (const holder of [value, value.data]) {
      if (isObject(holder) && isObject(holder.message) && holder.message.data !== undefined) {
        holder.message = { ...holder.message, data: decodedData(holder.message.data) };
      }
    }
  }
  return scrubJsonValue(value, RAW_INPUT_LIMIT);
}

/**
 * Stores the rejection; returns the key it was stored under. The record
 * expires after `ttlDays` (Firestore TTL on `expireAt`).
 */
export async function recordRejectedEvent(db: Firestore, err: InvalidEventError, raw: string, nowMs: number, ttlDays: number): Promise<string> {
  const rawSha256 = createHash('sha256').update(raw).digest('hex');
  // Input too broken to name its event is keyed by its content, so a redelivery overwrites one record.
  const eventKey = err.eventKey ?? `raw-${rawSha256.slice(0, 32)}`;
  const doc: RejectedEventDoc = {
    eventKey,
    reason: clip(scrubText(err.message), 1000),
    field: clip(scrubText(err.field), 200),
    raw: rejectedExcerpt(raw),
    rawSha256,
    rawChars: raw.length,
    receivedAtMs: nowMs,
    expireAt: Timestamp.fromMillis(nowMs + ttlDays * 86_400_000),
  };
  await db.collection(COLLECTIONS.rejectedEvents).doc(eventKey).set(doc);
  return eventKey;
}

/** The rejected-event records of `eventKeys`, in one read; absent keys are left out. */
export async function readRejectedEvents(db: Firestore, eventKeys: readonly string[]): Promise<Map<string, RejectedEventDoc>> {
  if (eventKeys.length === 0) return new Map();
  const snaps = await db.getAll(...eventKeys.map((k) => db.collection(COLLECTIONS.rejectedEvents).doc(k)));
  return new Map(snaps.filter((s) => s.exists).map((s) => [s.id, s.data() as RejectedEventDoc]));
}
