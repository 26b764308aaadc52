/**
 * The read model of `restock status <eventKey>`: one event's fan-out and the
 * state of its deliveries, counted with Firestore count aggregations (one
 * small RPC per state, whatever the audience size), plus the oldest pending
 * delivery, the last errors, and whether every recipient is accounted for.
 */
import { COLLECTIONS, DELIVERY_STATES, type DeliveryState } from '../../model.ts';
import { countByState, countChunkReceipts, latestEntries, oldestEntry } from '../../delivery/index.ts';
import { fanoutRef } from '../../fanout/index.ts';
import { eventTaskPrefix } from '../../tasks/index.ts';
import { queuePath } from '../../config.ts';
import type { Backend } from '../backend.ts';
import { guard } from '../guard.ts';
import { NotFoundError } from '../errors.ts';
import type { OutboxRow } from '../../outbox/index.ts';
import { readOutboxRow } from './outbox.ts';
import { deliverySummary, fanoutSummary, type DeliverySummary, type FanoutSummary } from '../records.ts';
import { readWaves, type WavesReport } from './waves.ts';

export { DELIVERY_STATES };
/** States that still have work ahead of them (docs/design.md: `sending` holds a lease, `failed` awaits a retry). */
export const PENDING_STATES: readonly DeliveryState[] = ['sending', 'failed'];
const ERROR_STATES: readonly DeliveryState[] = ['failed', 'exhausted', 'rejected'];
const LAST_ERRORS = 5;

/** An event's ledger entries counted per state, and in all. */
export type DeliveryCounts = Record<DeliveryState, number> & { total: number };

/** Everything `restock status` says about one event. */
export interface StatusReport {
  eventKey: string;
  fanout: FanoutSummary | null;
  /** The inventory service's outbox row of this event, when it came through the outbox. */
  outbox: OutboxRow | null;
  /** Present when the event failed validation and was recorded in `rejectedEvents`. */
  rejected: { reason: string; field: string | null; receivedAtMs: number | null } | null;
  deliveries: DeliveryCounts;
  /** The restock's waves (docs/waves.md); null when it told everyone at once. */
  waves: WavesReport | null;
  oldestPending: DeliverySummary | null;
  lastErrors: DeliverySummary[];
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

/** Pages of the queue listing read at most when counting an event's tasks. */
const MAX_TASK_PAGES = 10;

/**
 * Counts the queued delivery tasks of `eventKey` by their name prefix (task
 * names start with a hash of the event key, lib/fanout naming). Null when the
 * queue is too long to list here, so the caller does not claim "settled".
 */
async function countQueuedTasks(backend: Backend, eventKey: string): Promise<number | null> {
  const prefix = eventTaskPrefix(eventKey);
  const parent = queuePath(backend.config);
  let pageToken: string | undefined;
  let count = 0;
  for (let page = 0; page < MAX_TASK_PAGES; page++) {
    const [tasks, , response] = await guard(
      'list tasks of',
      parent,
      backend.tasks().listTasks({ parent, pageSize: 1000, responseView: 'BASIC', ...(pageToken ? { pageToken } : {}) }, { autoPaginate: false }),
    );
    count += tasks.filter((t) => (t.name ?? '').split('/').pop()!.startsWith(prefix)).length;
    pageToken = response?.nextPageToken ?? undefined;
    if (!pageToken) return count;
  }
  return null;
}

/**
 * Reads the status of one event.
 * @throws NotFoundError when there is no outbox row, no fan-out, no rejected event and no delivery under `eventKey`.
 * @throws BackendError when Firestore fails or does not answer.
 */
export async function readStatus(backend: Backend, eventKey: string): Promise<StatusReport> {
  const { db } = backend;
  const [outbox, fanoutSnap, rejectedSnap, byState, oldest, errors] = await Promise.all([
    readOutboxRow(backend, eventKey),
    guard('read', `${COLLECTIONS.fanouts}/${eventKey}`, fanoutRef(db, eventKey).get()),
    guard('read', `${COLLECTIONS.rejectedEvents}/${eventKey}`, db.collection(COLLECTIONS.rejectedEvents).doc(eventKey).get()),
    guard('count', `${COLLECTIONS.deliveries} of ${eventKey} by state`, countByState(db, eventKey)),
    guard('query', `oldest pending ${COLLECTIONS.deliveries} of ${eventKey}`, oldestEntry(db, eventKey, PENDING_STATES)),
    guard('query', `last errors in ${COLLECTIONS.deliveries} of ${eventKey}`, latestEntries(db, eventKey, ERROR_STATES, LAST_ERRORS)),
  ]);
  const total = DELIVERY_STATES.reduce((sum, s) => sum + byState[s], 0);
  const fanout = fanoutSnap.exists ? fanoutSummary(eventKey, fanoutSnap.data() ?? {}) : null;
  const rejectedData = rejectedSnap.exists ? (rejectedSnap.data() ?? {}) : null;
  if (!outbox && !fanout && !rejectedData && total === 0) {
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
  const [waves, queuedTasks, unaccountedChunks] = await Promise.all([
    readWaves(backend, eventKey, fanoutSnap.exists ? fanoutSnap.data() : undefined),
    needsQueueCheck(fanout, deliveryCounts) ? countQueuedTasks(backend, eventKey) : null,
    fanout?.chunkReceipts && fanout.state !== 'running' && fanout.state !== 'ignored'
      ? guard('count', `chunk receipts of ${eventKey}`, countChunkReceipts(db, eventKey, fanout.generation)).then((n) => Math.max(0, fanout.chunks - n))
      : null,
  ]);
  return {
    eventKey,
    outbox,
    fanout,
    rejected,
    deliveries: deliveryCounts,
    waves,
    oldestPending: oldest ? deliverySummary(oldest.id, oldest.data()) : null,
    lastErrors: errors.map((d) => deliverySummary(d.id, d.data())),
    queuedTasks,
    unaccountedChunks,
    accountedBy: fanout && fanout.state !== 'ignored' ? (fanout.chunkReceipts ? 'chunk-receipts' : 'ledger') : null,
    settled: isSettled(fanout, deliveryCounts, queuedTasks, unaccountedChunks),
  };
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
  return counts.sent + counts.rejected + counts.exhausted + counts.unsubscribed;
}

