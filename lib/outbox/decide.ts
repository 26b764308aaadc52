/**
 * The outbox's rules as pure functions over plain rows: which row a relay may
 * claim, what a publish attempt leads to, which settlement may be written over
 * what is stored, what may be redriven. Both adapters and the relay call these;
 * none of them re-implements a rule.
 */
import { inventoryEventSchema, MAX_EVENT_DATA_BYTES } from '../events/index.ts';
import { isValidDocumentId } from '../model.ts';
import { firstProblem } from '../validation.ts';
import type { OutboxRow, OutboxState, PublishPath, Settlement } from './model.ts';

/** Longest event id: it is a Firestore document id and the consumers' `eventKey` (lib/events). */
export const MAX_EVENT_ID_LENGTH = 500;

export type ClaimDecision = { claim: true } | { claim: false; reason: 'sent' | 'failed' | 'leased' | 'not-due' };

/**
 * Whether a relay may take `row` now. A pending row is claimable once due; a
 * row held by a live lease is not. `ignoreSchedule` is the fast path: the row
 * was just committed and nobody has tried it, so its back-off does not apply
 * (a live lease still does: two relays never publish one row at once).
 */
export function claimDecision(row: Pick<OutboxRow, 'state' | 'nextAttemptAtMs' | 'leaseExpiresAtMs'>, nowMs: number, ignoreSchedule = false): ClaimDecision {
  if (row.state !== 'pending') return { claim: false, reason: row.state };
  if (row.leaseExpiresAtMs !== null && row.leaseExpiresAtMs > nowMs) return { claim: false, reason: 'leased' };
  if (!ignoreSchedule && row.nextAttemptAtMs > nowMs) return { claim: false, reason: 'not-due' };
  return { claim: true };
}

/** The fields a claim writes: the lease, and the row's next due time at its end. */
export function claimFields(owner: string, nowMs: number, leaseMs: number): Pick<OutboxRow, 'leaseOwner' | 'leaseExpiresAtMs' | 'nextAttemptAtMs'> {
  return { leaseOwner: owner, leaseExpiresAtMs: nowMs + leaseMs, nextAttemptAtMs: nowMs + leaseMs };
}

/** A message ready for Pub/Sub. */
export interface OutboundMessage {
  data: Buffer;
  attributes: Record<string, string>;
}

export type Publishability = { ok: true; message: OutboundMessage } | { ok: false; reason: string };

/**
 * Whether a stored row can ever be published, and the message if so. A row
 * that fails here (edited by hand, larger than the consumer accepts, an event
 * for another product) can never succeed, so the relay fails it at once
 * instead of retrying it. The message carries `eventId` (docs/design.md "Identity
 * of an event"), plus `productId` and `sequence` for subscription filters.
 */
export function publishability(row: Pick<OutboxRow, 'eventId' | 'productId' | 'event'>): Publishability {
  if (row.eventId.length > MAX_EVENT_ID_LENGTH || !isValidDocumentId(row.eventId)) {
    return { ok: false, reason: `eventId: must be at most ${MAX_EVENT_ID_LENGTH} characters and usable as a Firestore document id` };
  }
  const parsed = inventoryEventSchema.safeParse(row.event);
  if (!parsed.success) {
    const { field, problem } = firstProblem(parsed.error, row.event, 'event');
    return { ok: false, reason: `${field}: ${problem}` };
  }
  if (parsed.data.productId !== row.productId) {
    return { ok: false, reason: `event.productId: is ${JSON.stringify(parsed.data.productId)} but the row is for ${JSON.stringify(row.productId)}` };
  }
  const data = Buffer.from(JSON.stringify(parsed.data));
  if (data.length > MAX_EVENT_DATA_BYTES) {
    return { ok: false, reason: `event: is ${data.length} bytes; the consumer accepts at most ${MAX_EVENT_DATA_BYTES}` };
  }
  return { ok: true, message: { data, attributes: { eventId: row.eventId, productId: row.productId, sequence: String(parsed.data.sequence) } } };
}

export interface RetryPolicy {
  maxAttempts: number;
  backoffMinMs: number;
  backoffMaxMs: number;
}

/** Wait before attempt `failures + 1`: doubling from the minimum, capped. */
export function backoffMs(failures: number, policy: Pick<RetryPolicy, 'backoffMinMs' | 'backoffMaxMs'>): number {
  const exponent = Math.min(Math.max(failures - 1, 0), 30);
  return Math.min(policy.backoffMaxMs, policy.backoffMinMs * 2 ** exponent);
}

/** What one attempt at a claimed row leads to. */
export type AttemptOutcome =
  | { kind: 'published'; messageId: string; path: PublishPath }
  | { kind: 'unpublishable'; reason: string }
  | { kind: 'publish-failed'; error: string };

/**
 * The settlement of one attempt: `sent`; `failed` at once for a row that can
 * never be published; else back off, and `failed` once `maxAttempts` attempts
 * have failed (visible, redrivable).
 */
export function settlementFor(
  row: Pick<OutboxRow, 'eventId' | 'attempts'>,
  outcome: AttemptOutcome,
  nowMs: number,
  policy: RetryPolicy & { sentTtlMs: number },
): Settlement {
  if (outcome.kind === 'published') {
    return { eventId: row.eventId, state: 'sent', publishedAtMs: nowMs, messageId: outcome.messageId, publishedBy: outcome.path, expireAtMs: nowMs + policy.sentTtlMs };
  }
  const attempts = row.attempts + 1;
  if (outcome.kind === 'unpublishable') return { eventId: row.eventId, state: 'failed', attempts, lastError: `unpublishable: ${outcome.reason}` };
  if (attempts >= policy.maxAttempts) return { eventId: row.eventId, state: 'failed', attempts, lastError: `gave up after ${attempts} attempts: ${outcome.error}` };
  return { eventId: row.eventId, state: 'pending', attempts, nextAttemptAtMs: nowMs + backoffMs(attempts, policy), lastError: outcome.error };
}

/**
 * Whether a settlement may overwrite the stored row. A publish that succeeded
 * is a fact and is always recorded (unless the row is already `sent`: the first
 * record wins), even if the lease ran out meanwhile. A failure is recorded only
 * by the relay still holding the lease on a pending row, so a slow relay never
 * undoes another's success or redrive.
 */
export function settleDecision(stored: Pick<OutboxRow, 'state' | 'leaseOwner'> | undefined, owner: string, settlement: Settlement): boolean {
  if (stored === undefined) return false;
  if (settlement.state === 'sent') return stored.state !== 'sent';
  return stored.state === 'pending' && stored.leaseOwner === owner;
}

/** The fields a settlement writes (lease released). */
export function settlementFields(s: Settlement): Partial<OutboxRow> {
  const released = { leaseOwner: null, leaseExpiresAtMs: null };
  switch (s.state) {
    case 'sent':
      return { ...released, state: 'sent', publishedAtMs: s.publishedAtMs, messageId: s.messageId, publishedBy: s.publishedBy, expireAtMs: s.expireAtMs };
    case 'pending':
      return { ...released, state: 'pending', attempts: s.attempts, nextAttemptAtMs: s.nextAttemptAtMs, lastError: s.lastError };
    case 'failed':
      return { ...released, state: 'failed', attempts: s.attempts, lastError: s.lastError };
  }
}

/** Only `failed` rows are redriven: `pending` ones are on their way, `sent` ones are final (a replay is `restock replay`). */
export function canRedrive(state: OutboxState): boolean {
  return state === 'failed';
}

/** The fields a redrive writes: pending, due now, attempts reset, last error kept for the record. */
export function redriveFields(nowMs: number): Partial<OutboxRow> {
  return { state: 'pending', attempts: 0, nextAttemptAtMs: nowMs, leaseOwner: null, leaseExpiresAtMs: null };
}
