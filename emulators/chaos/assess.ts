/**
 * The account of a chaos run, from what the ledger and the sink say. Pure,
 * so the verdict's rules read in one place:
 *
 * - `missing`: shoppers present at the publish and never unsubscribed whose
 *   notification is not `sent`, `rejected` or `exhausted` (promise 2).
 * - `duplicateKeys`: keys the sink received again after it had delivered
 *   them (sent twice). One is explained when its ledger entry was claimed
 *   more than once (`attempts` > 1): an earlier claim's outcome was never
 *   recorded, a crash or timeout between send and record (promise 1).
 * - `settledButSubscribed`: a `sent` or `rejected` shopper whose subscription
 *   still exists (promise 6).
 * - `sentNotDelivered`: the ledger says `sent` but the sink never delivered it.
 */
import { FINAL_DELIVERY_STATES, type DeliveryState } from '../../lib/model.ts';
import type { NotificationRecord } from '../sink/index.ts';

/** What the run reads of one ledger entry. */
export interface LedgerEntry {
  dedupKey: string;
  userId: string;
  state: DeliveryState;
  attempts: number;
}

/** A fault as it was carried out. */
export interface ExecutedFault {
  kind: string;
  /** Since the publish. */
  atMs: number;
  /** What happened ("fan-out running when killed; restarted after 800 ms"). */
  detail: string;
}

export interface ChaosObservations {
  seed: number;
  productId: string;
  eventKey: string;
  /** userIds seeded before the publish. */
  subscribers: readonly string[];
  /** userIds unsubscribed during the run (not owed a notification). */
  removed: readonly string[];
  /** userIds subscribed during the run (a notification is welcome, not owed). */
  added: readonly string[];
  ledger: readonly LedgerEntry[];
  /** The sink's records of this event. */
  notifications: readonly NotificationRecord[];
  /** userIds whose subscription still exists after the run. */
  stillSubscribed: readonly string[];
  faults: readonly ExecutedFault[];
  fanoutState: string | null;
  fanoutAttempts: number | null;
  elapsedMs: number;
  timedOut: boolean;
}

/** The summary `npm run chaos -- --json` prints as its last line. */
export interface ChaosSummary {
  ok: boolean;
  seed: number;
  productId: string;
  eventKey: string;
  subscribers: number;
  /** Owed a notification: seeded and never unsubscribed. */
  expected: number;
  unsubscribedDuringRun: number;
  subscribedDuringRun: number;
  /** Ledger entries of the event by final state (newcomers and leavers included). */
  sent: number;
  rejected: number;
  exhausted: number;
  /** Owed, and not `sent`, `rejected` or `exhausted`. */
  missing: number;
  /** Keys the sink received again after delivering them. */
  duplicateKeys: number;
  /** Of those, how many had no second claim in the ledger to explain them. */
  unexplainedDuplicateKeys: number;
  /** Keys the sink delivered (each once). */
  uniqueNotified: number;
  sentNotDelivered: number;
  /**
   * Keys the sink delivered whose ledger entry is not `sent`: the delivery was killed
   * between send and record and its shopper unsubscribed before the retry, so nobody
   * records the outcome. Informational: the shopper was notified and is gone.
   */
  deliveredNotRecorded: number;
  settledButSubscribed: number;
  faultsInjected: number;
  faults: ExecutedFault[];
  fanoutState: string | null;
  fanoutAttempts: number | null;
  elapsedMs: number;
  timedOut: boolean;
  /** Why the run failed, when it did. */
  failure?: string;
}

/** Counts and verdict of a run. `ok` only if nobody is missing and every duplicate is explained. */
export function assess(o: ChaosObservations): ChaosSummary {
  const removed = new Set(o.removed);
  const byUser = new Map(o.ledger.map((e) => [e.userId, e]));
  const byKey = new Map(o.ledger.map((e) => [e.dedupKey, e]));
  const isFinal = (e: LedgerEntry | undefined): boolean => e !== undefined && FINAL_DELIVERY_STATES.includes(e.state);
  const owed = o.subscribers.filter((u) => !removed.has(u));
  const missing = owed.filter((u) => !isFinal(byUser.get(u)));
  const count = (state: DeliveryState): number => o.ledger.filter((e) => e.state === state).length;

  const duplicates = o.notifications.filter((n) => n.resends > 0);
  const unexplained = duplicates.filter((n) => (byKey.get(n.idempotencyKey)?.attempts ?? 0) <= 1);
  const delivered = new Set(o.notifications.filter((n) => n.status === 'sent').map((n) => n.idempotencyKey));
  const sentNotDelivered = o.ledger.filter((e) => e.state === 'sent' && !delivered.has(e.dedupKey));
  const deliveredNotRecorded = [...delivered].filter((key) => byKey.get(key)?.state !== 'sent');
  const subscribed = new Set(o.stillSubscribed);
  const settledButSubscribed = o.ledger.filter((e) => (e.state === 'sent' || e.state === 'rejected') && subscribed.has(e.userId));

  const failures = [
    o.timedOut ? `timed out with ${missing.length} shoppers unsettled` : undefined,
    missing.length > 0 ? `${missing.length} shoppers missing (e.g. ${missing.slice(0, 3).join(', ')})` : undefined,
    unexplained.length > 0 ? `${unexplained.length} keys sent twice without a recorded crash between send and record` : undefined,
    sentNotDelivered.length > 0 ? `${sentNotDelivered.length} recorded sent but never delivered` : undefined,
    settledButSubscribed.length > 0 ? `${settledButSubscribed.length} settled shoppers still subscribed` : undefined,
  ].filter((f): f is string => f !== undefined);

  return {
    ok: failures.length === 0,
    seed: o.seed,
    productId: o.productId,
    eventKey: o.eventKey,
    subscribers: o.subscribers.length,
    expected: owed.length,
    unsubscribedDuringRun: o.removed.length,
    subscribedDuringRun: o.added.length,
    sent: count('sent'),
    rejected: count('rejected'),
    exhausted: count('exhausted'),
    missing: missing.length,
    duplicateKeys: duplicates.length,
    unexplainedDuplicateKeys: unexplained.length,
    uniqueNotified: delivered.size,
    sentNotDelivered: sentNotDelivered.length,
    deliveredNotRecorded: deliveredNotRecorded.length,
    settledButSubscribed: settledButSubscribed.length,
    faultsInjected: o.faults.length,
    faults: [...o.faults],
    fanoutState: o.fanoutState,
    fanoutAttempts: o.fanoutAttempts,
    elapsedMs: o.elapsedMs,
    timedOut: o.timedOut,
    ...(failures.length > 0 ? { failure: failures.join('; ') } : {}),
  };
}
