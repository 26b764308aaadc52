/**
 * The read model of `restock status <eventKey>`: one event's fan-out and the
 * state of its deliveries, counted with Firestore count aggregations (one
 * small RPC per state, whatever the audience size), plus the oldest pending
 * delivery, the last errors, and whether every recipient is accounted for.
 *
 * The oldest pending delivery and the last errors are picked from a sample of
 * the event's entries in those states, read in document-id order (the
 * `eventKey, state` index redrive pages with), not from a query ordered by
 * `createdAtMs` or `updatedAtMs`: such a query needs a composite index that
 * puts a timestamp after the event key, and every write of a million-recipient
 * event would land in one range of it (issue 15). Document ids are hashes, so
 * the sample is a uniform draw; when an event has no more entries in those
 * states than the sample holds, the answer is exact.
 */
import { COLLECTIONS, DELIVERY_STATES, FINAL_DELIVERY_STATES, type DeliveryState, type FanoutDoc } from '../../lib/model.ts';
import { countByState, countChunkReceipts, countSkippedHeld, pageOfEntries } from '../../lib/delivery/index.ts';
import type { QueryDocumentSnapshot } from '@google-cloud/firestore';
import { fanoutRef, readRanges } from '../../lib/fanout/index.ts';
import { deliveryQueueIds, eventTaskPrefix } from '../../lib/tasks/index.ts';
import { queuePath } from '../../lib/config.ts';
import type { Backend } from '../backend.ts';
import { guard } from '../guard.ts';
import { NotFoundError } from '../errors.ts';
import type { OutboxRow } from '../../lib/outbox/index.ts';
import { tryReadOutboxRows } from './outbox.ts';
import { countTasks } from './queues.ts';
import { deliverySummary, fanoutSummary, type DeliverySummary, type FanoutSummary } from '../records.ts';
import { readWaves, type WavesReport } from './waves.ts';
import { readFunnel, type Funnel } from './funnel.ts';

export { DELIVERY_STATES };
/** States that still have work ahead of them (docs/design.md: `sending` holds a lease, `failed` awaits a retry). */
export const PENDING_STATES: readonly DeliveryState[] = ['sending', 'failed'];
const ERROR_STATES: readonly DeliveryState[] = ['failed', 'exhausted', 'rejected'];
const LAST_ERRORS = 5;
/** Entries read (in document-id order) to pick the oldest pending one and the last errors. */
export const STATUS_SAMPLE_SIZE = 200;

/** An event's ledger entries counted per state, and in all. */
export type DeliveryCounts = Record<DeliveryState, number> & { total: number };

/** One key range of a fan-out, as `restock status` shows it. */
export interface RangeStatus {
  index: number;
  state: string;
  /** Bounds: `(after, until]`, null meaning unbounded. */
  after: string | null;
  until: string | null;
  cursor: string | null;
  pages: number;
  chunks: number;
  recipients: number;
  attempts: number;
  leaseExpiresAtMs: number;
  error: string | null;
}

/** Everything `restock status` says about one event. */
export interface StatusReport {
  eventKey: string;
  fanout: FanoutSummary | null;
  /**
   * The fan-out's key ranges (this generation), when it split its audience;
   * empty when it pages as one chain.
   */
  ranges: RangeStatus[];
  /** The inventory service's outbox row of this event, when it came through the outbox. */
  outbox: OutboxRow | null;
  /** Why the outbox could not be read (the rest of the report stands without it); null when it was read. */
  outboxUnreadable: string | null;
  /** Present when the event failed validation and was recorded in `rejectedEvents`. */
  rejected: { reason: string; field: string | null; receivedAtMs: number | null } | null;
  deliveries: DeliveryCounts;
  /**
   * Send windows (docs/send-windows.md): notifications `held` for their
   * shoppers' windows now, and held sends skipped when the window opened
   * because the product had sold out again or a newer restock superseded this one.
   */
  sendWindows: { held: number; skippedSoldOut: number; skippedSuperseded: number };
  /**
   * Notified, clicked, purchased (direct / assisted) and revenue per currency,
   * in all, by channel and by wave (docs/funnel.md); null without a fan-out.
   */
  funnel: Funnel | null;
  /** The restock's waves (docs/waves.md); null when it told everyone at once. */
  waves: WavesReport | null;
  /** The oldest (by creation) of the pending entries sampled; the oldest of all when `sample.pendingExact`. */
  oldestPending: DeliverySummary | null;
  /** The most recently updated of the error entries sampled, newest first; the latest of all when `sample.errorsExact`. */
  lastErrors: DeliverySummary[];
  /** How {@link oldestPending} and {@link lastErrors} were chosen: from at most `size` entries each, exact when they were all there is. */
  sample: { size: number; pendingExact: boolean; errorsExact: boolean };
  /**
   * Delivery tasks of this event still in the queue; null when not looked at
   * (the fan-out is running or a delivery is pending, so the answer is "no" anyway).
   */
  queuedTasks: number | null;
  /**
   * Chunks the fan-out enqueued (this generation) that no delivery attempt has
   * claimed: their recipients are unaccounted for (their task may have died
   * before delivery could run). Null when not looked at (the fan-out is
   * running, or ignored).
   */
  unaccountedChunks: number | null;
  /**
   * True when the event's fan-out started before ledger entries carried a
   * shard (it has no `ledgerShards`) and
   * `restock ledger-shards` has not run since: the counts, samples and
   * redrive go through the shard-led indexes, which do not hold entries
   * written before, so they may be short, and the event is not called settled.
   */
  ledgerUnsharded: boolean;
  /**
   * How the recipients were judged accounted for: `chunk-receipts` (every
   * chunk the fan-out enqueued has a receipt from delivery), or `ledger`
   * (a fan-out that started before receipts existed: its ledger and the queue
   * alone, which cannot see a chunk whose task died unclaimed). Null without
   * a fan-out that enqueued work.
   */
  accountedBy: 'chunk-receipts' | 'ledger' | null;
  /**
   * Nothing more will happen by itself, and every recipient is accounted for:
   * the fan-out is not running, no delivery is pending, every chunk it
   * enqueued was claimed by delivery, and no task of the event is left in the
   * queue.
   */
  settled: boolean;
}

/**
 * Counts the queued delivery tasks of `eventKey` by their name prefix (task
 * names start with a hash of the event key, lib/tasks naming) in every
 * delivery queue: an event's chunks are spread over all of them. Null when a
 * queue is too long to list here, so the caller does not claim "settled".
 */
async function countQueuedTasks(backend: Backend, eventKey: string): Promise<number | null> {
  const prefix = eventTaskPrefix(eventKey);
  const counts = await Promise.all(deliveryQueueIds(backend.config).map((id) => countTasks(backend, queuePath(backend.config, id), prefix)));
  return counts.some((n) => n === null) ? null : counts.reduce<number>((sum, n) => sum + n!, 0);
}

/**
 * Reads the status of one event.
 * @throws NotFoundError when there is no outbox row, no fan-out, no rejected event and no delivery under `eventKey`.
 * @throws BackendError when Firestore fails or does not answer (an unreadable outbox is reported in `outboxUnreadable` instead, unless it was the only place left to look).
 */
export async function readStatus(backend: Backend, eventKey: string): Promise<StatusReport> {
  const { db } = backend;
  // The ledger's queries go through the shards the fan-out recorded (RESTOCK_LEDGER_SHARDS as deployed when it started).
  const fanoutSnap = await guard('read', `${COLLECTIONS.fanouts}/${eventKey}`, fanoutRef(db, eventKey).get());
  const recorded = fanoutSnap.exists ? (fanoutSnap.get('ledgerShards') as unknown) : undefined;
  const shards = typeof recorded === 'number' ? recorded : backend.config.ledgerShards;
  // Deliveries are made only by a fan-out, so an event without one has no ledger to count: not querying it spares a
  // `status --watch` started right after a publish the shard queries of a count it cannot know yet.
  const ledger = fanoutSnap.exists
    ? Promise.all([
        guard('count', `${COLLECTIONS.deliveries} of ${eventKey} by state`, countByState(db, eventKey, shards)),
        guard('query', `pending ${COLLECTIONS.deliveries} of ${eventKey}`, pageOfEntries(db, eventKey, PENDING_STATES, STATUS_SAMPLE_SIZE, undefined, shards)),
        guard('query', `errors in ${COLLECTIONS.deliveries} of ${eventKey}`, pageOfEntries(db, eventKey, ERROR_STATES, STATUS_SAMPLE_SIZE, undefined, shards)),
      ])
    : Promise.resolve([Object.fromEntries(DELIVERY_STATES.map((state) => [state, 0])) as Record<DeliveryState, number>, [], []] as const);
  const [outboxRead, rejectedSnap, [byState, pendingSample, errorSample]] = await Promise.all([
    tryReadOutboxRows(backend, [eventKey]),
    guard('read', `${COLLECTIONS.rejectedEvents}/${eventKey}`, db.collection(COLLECTIONS.rejectedEvents).doc(eventKey).get()),
    ledger,
  ]);
  const stored = fanoutSnap.exists ? (fanoutSnap.data() as FanoutDoc) : undefined;
  const ranges = stored?.ranges ? await guard('read', `ranges of ${COLLECTIONS.fanouts}/${eventKey}`, readRanges(db, stored)) : [];
  const total = DELIVERY_STATES.reduce((sum, s) => sum + byState[s], 0);
  const fanout = fanoutSnap.exists ? fanoutSummary(eventKey, fanoutSnap.data() ?? {}) : null;
  const rejectedData = rejectedSnap.exists ? (rejectedSnap.data() ?? {}) : null;
  const outbox = outboxRead.rows.get(eventKey) ?? null;
  if (!outbox && !fanout && !rejectedData && total === 0) {
    // Only the outbox could hold it, and it could not be read: "not found" would be a guess.
    if (outboxRead.error) throw outboxRead.error;
    throw new NotFoundError(`no outbox row, fan-out, rejected event or delivery is recorded for event ${eventKey}`, eventKey);
  }
  const rejected = rejectedData
    ? {
        reason: typeof rejectedData.reason === 'string' ? rejectedData.reason : 'unknown',
        field: typeof rejectedData.field === 'string' ? rejectedData.field : null,
        receivedAtMs: typeof rejectedData.receivedAtMs === 'number' ? rejectedData.receivedAtMs : null,
      }
    : null;
  const deliveryCounts: DeliveryCounts = { ...byState, total };
  const ledgerUnsharded = fanout !== null && fanout.state !== 'ignored' && fanout.ledgerShards === null;
  const [waves, queuedTasks, unaccountedChunks, skippedSoldOut, skippedSuperseded] = await Promise.all([
    readWaves(backend, eventKey, fanoutSnap.exists ? fanoutSnap.data() : undefined, shards),
    needsQueueCheck(fanout, deliveryCounts) ? countQueuedTasks(backend, eventKey) : null,
    fanout?.chunkReceipts && fanout.state !== 'running' && fanout.state !== 'ignored'
      ? guard('count', `chunk receipts of ${eventKey}`, countChunkReceipts(db, eventKey, fanout.generation)).then((n) => Math.max(0, fanout.chunks - n))
      : null,
    // A held send the stock check skipped is a `soldOutBeforeSend` entry: with none, there is nothing to count.
    fanoutSnap.exists && byState.soldOutBeforeSend > 0 ? guard('count', `skipped held ${COLLECTIONS.deliveries} of ${eventKey}`, countSkippedHeld(db, eventKey, 'sold-out', shards)) : 0,
    fanoutSnap.exists && byState.soldOutBeforeSend > 0 ? guard('count', `skipped held ${COLLECTIONS.deliveries} of ${eventKey}`, countSkippedHeld(db, eventKey, 'superseded', shards)) : 0,
  ]);
  const funnel =
    fanout && fanout.state !== 'ignored' ? await guard('count', `the funnel of ${eventKey}`, readFunnel(db, eventKey, shards, waves?.waves.map((w) => ({ wave: w.index, notified: w.delivered })) ?? [], byState.sent)) : null;
  return {
    eventKey,
    outbox,
    outboxUnreadable: outboxRead.unreadable,
    fanout,
    ranges: ranges.map((r) => ({
      index: r.index,
      state: r.state,
      after: r.after,
      until: r.until,
      cursor: r.cursor,
      pages: r.pages,
      chunks: r.chunks,
      recipients: r.recipients,
      attempts: r.attempts,
      leaseExpiresAtMs: r.leaseExpiresAtMs,
      error: r.error ?? null,
    })),
    rejected,
    deliveries: deliveryCounts,
    sendWindows: { held: byState.held, skippedSoldOut, skippedSuperseded },
    funnel,
    waves,
    oldestPending: oldestOf(pendingSample.map((d) => summaryOf(d)))[0] ?? null,
    lastErrors: latestOf(errorSample.map((d) => summaryOf(d)), LAST_ERRORS),
    sample: {
      size: STATUS_SAMPLE_SIZE,
      pendingExact: PENDING_STATES.reduce((sum, st) => sum + byState[st], 0) <= STATUS_SAMPLE_SIZE,
      errorsExact: ERROR_STATES.reduce((sum, st) => sum + byState[st], 0) <= STATUS_SAMPLE_SIZE,
    },
    queuedTasks,
    unaccountedChunks,
    accountedBy: fanout && fanout.state !== 'ignored' ? (fanout.chunkReceipts ? 'chunk-receipts' : 'ledger') : null,
    ledgerUnsharded,
    settled: !ledgerUnsharded && isSettled(fanout, deliveryCounts, queuedTasks, unaccountedChunks),
  };
}

function summaryOf(d: QueryDocumentSnapshot): DeliverySummary {
  return deliverySummary(d.id, d.data());
}

const byTime = (time: (d: DeliverySummary) => number | null) => (a: DeliverySummary, b: DeliverySummary) =>
  (time(a) ?? Number.MAX_SAFE_INTEGER) - (time(b) ?? Number.MAX_SAFE_INTEGER) || a.dedupKey.localeCompare(b.dedupKey);

/** The entries oldest first by creation (an entry without a creation time last). Pure. */
export function oldestOf(entries: readonly DeliverySummary[]): DeliverySummary[] {
  return [...entries].sort(byTime((d) => d.createdAtMs));
}

/** The `limit` most recently updated entries, newest first (an entry without an update time last). Pure. */
export function latestOf(entries: readonly DeliverySummary[], limit: number): DeliverySummary[] {
  return [...entries].sort(byTime((d) => (d.updatedAtMs === null ? null : -d.updatedAtMs))).slice(0, limit);
}

type FanoutProgressView = Pick<FanoutSummary, 'state' | 'recipients'> & Partial<Pick<FanoutSummary, 'chunkReceipts'>>;

/**
 * The ledger alone cannot tell whether the event is done: tasks may still be
 * queued whose recipients have no ledger entry yet (and a replay's recipients
 * may be fewer than the entries of earlier generations), so once nothing is
 * pending the queue is asked.
 */
function needsQueueCheck(fanout: FanoutProgressView | null, counts: DeliveryCounts): boolean {
  return fanout !== null && fanout.state !== 'running' && fanout.state !== 'ignored' && PENDING_STATES.every((s) => counts[s] === 0);
}

/**
 * Whether nothing more will happen to an event by itself and every recipient
 * is accounted for (see {@link StatusReport.settled}). `queuedTasks` and
 * `unaccountedChunks` null mean "not known", which is never settled for a
 * fan-out that enqueued work, except that a fan-out without chunk receipts
 * (`chunkReceipts` false: it started before they existed) is judged by its
 * ledger and the queue alone, as before receipts.
 */
export function isSettled(fanout: FanoutProgressView | null, counts: DeliveryCounts, queuedTasks: number | null, unaccountedChunks: number | null): boolean {
  if (fanout?.state === 'running') return false;
  if (!PENDING_STATES.every((s) => counts[s] === 0)) return false;
  if (fanout && fanout.state !== 'ignored') return queuedTasks === 0 && (fanout.chunkReceipts === false || unaccountedChunks === 0);
  return true;
}

/** Deliveries that reached a final state. */
export function settledCount(counts: DeliveryCounts): number {
  return FINAL_DELIVERY_STATES.reduce((n, s) => n + counts[s], 0);
}

