/**
 * `restock status <eventKey>`: one event's fan-out and the state of its
 * deliveries, counted with Firestore count aggregations (one small RPC per
 * state, whatever the audience size), plus the oldest pending delivery and the
 * last errors. `--watch` refreshes until the event is settled.
 */
import type { Command } from 'commander';
import { COLLECTIONS, DELIVERY_STATES, type DeliveryState } from '../../model.ts';
import { countByState, countChunkReceipts, latestEntries, oldestEntry } from '../../delivery/index.ts';
import { eventTaskPrefix } from '../../tasks/index.ts';
import { queuePath } from '../../config.ts';
import { idArg, intArg } from '../args.ts';
import type { Backend } from '../backend.ts';
import { guard } from '../guard.ts';
import { outputFor, type Context } from '../context.ts';
import { NotFoundError, NotSettledError } from '../errors.ts';
import { formatDuration, formatTime, table, type Output } from '../output.ts';
import { deliverySummary, fanoutSummary, type DeliverySummary, type FanoutSummary } from '../records.ts';

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
  /** Present when the event failed validation and was recorded in `rejectedEvents`. */
  rejected: { reason: string; field: string | null; receivedAtMs: number | null } | null;
  deliveries: DeliveryCounts;
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
 * @throws NotFoundError when there is no fan-out, no rejected event and no delivery under `eventKey`.
 * @throws BackendError when Firestore fails or does not answer.
 */
export async function readStatus(backend: Backend, eventKey: string): Promise<StatusReport> {
  const { db } = backend;
  const [fanoutSnap, rejectedSnap, byState, oldest, errors] = await Promise.all([
    guard('read', `${COLLECTIONS.fanouts}/${eventKey}`, db.collection(COLLECTIONS.fanouts).doc(eventKey).get()),
    guard('read', `${COLLECTIONS.rejectedEvents}/${eventKey}`, db.collection(COLLECTIONS.rejectedEvents).doc(eventKey).get()),
    guard('count', `${COLLECTIONS.deliveries} of ${eventKey} by state`, countByState(db, eventKey)),
    guard('query', `oldest pending ${COLLECTIONS.deliveries} of ${eventKey}`, oldestEntry(db, eventKey, PENDING_STATES)),
    guard('query', `last errors in ${COLLECTIONS.deliveries} of ${eventKey}`, latestEntries(db, eventKey, ERROR_STATES, LAST_ERRORS)),
  ]);
  const total = DELIVERY_STATES.reduce((sum, s) => sum + byState[s], 0);
  const fanout = fanoutSnap.exists ? fanoutSummary(eventKey, fanoutSnap.data() ?? {}) : null;
  const rejectedData = rejectedSnap.exists ? (rejectedSnap.data() ?? {}) : null;
  if (!fanout && !rejectedData && total === 0) {
    throw new NotFoundError(`no fan-out, rejected event or delivery is recorded for event ${eventKey}`, eventKey);
  }
  const rejected = rejectedData
    ? {
        reason: typeof rejectedData.reason === 'string' ? rejectedData.reason : 'unknown',
        field: typeof rejectedData.field === 'string' ? rejectedData.field : null,
        receivedAtMs: typeof rejectedData.receivedAtMs === 'number' ? rejectedData.receivedAtMs : null,
      }
    : null;
  const deliveryCounts: DeliveryCounts = { ...byState, total };
  const [queuedTasks, unaccountedChunks] = await Promise.all([
    needsQueueCheck(fanout, deliveryCounts) ? countQueuedTasks(backend, eventKey) : null,
    fanout && fanout.state !== 'running' && fanout.state !== 'ignored'
      ? guard('count', `chunk receipts of ${eventKey}`, countChunkReceipts(db, eventKey, fanout.generation)).then((n) => Math.max(0, fanout.chunks - n))
      : null,
  ]);
  return {
    eventKey,
    fanout,
    rejected,
    deliveries: deliveryCounts,
    oldestPending: oldest ? deliverySummary(oldest.id, oldest.data()) : null,
    lastErrors: errors.map((d) => deliverySummary(d.id, d.data())),
    queuedTasks,
    unaccountedChunks,
    settled: isSettled(fanout, deliveryCounts, queuedTasks, unaccountedChunks),
  };
}

type FanoutProgressView = Pick<FanoutSummary, 'state' | 'recipients'>;

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
 * fan-out that enqueued work.
 */
export function isSettled(fanout: FanoutProgressView | null, counts: DeliveryCounts, queuedTasks: number | null, unaccountedChunks: number | null): boolean {
  if (fanout?.state === 'running') return false;
  if (!PENDING_STATES.every((s) => counts[s] === 0)) return false;
  if (fanout && fanout.state !== 'ignored') return queuedTasks === 0 && unaccountedChunks === 0;
  return true;
}

/** Deliveries that reached a final state. */
export function settledCount(counts: DeliveryCounts): number {
  return counts.sent + counts.rejected + counts.exhausted + counts.unsubscribed;
}

const STATE_COLOUR: Record<string, (c: Output['c'], s: string) => string> = {
  sent: (c, s) => c.green(s),
  sending: (c, s) => c.cyan(s),
  failed: (c, s) => c.yellow(s),
  rejected: (c, s) => c.magenta(s),
  exhausted: (c, s) => c.red(s),
  unsubscribed: (c, s) => c.dim(s),
  complete: (c, s) => c.green(s),
  running: (c, s) => c.cyan(s),
  ignored: (c, s) => c.dim(s),
};
// `failed` is yellow for a delivery (it will be retried) and red for a fan-out (it cannot progress).

/** A state word, coloured on a TTY. */
export function colourState(out: Output, state: string): string {
  return STATE_COLOUR[state]?.(out.c, state) ?? state;
}

/** The human rendering of a {@link StatusReport}. */
export function renderStatus(out: Output, r: StatusReport, nowMs: number): void {
  const { c } = out;
  out.line(`${c.bold('event')} ${r.eventKey}${r.fanout ? `   product ${r.fanout.productId}` : ''}`);
  if (r.rejected) {
    out.line(`${c.red('rejected')} at ${formatTime(r.rejected.receivedAtMs)}: ${r.rejected.reason}${r.rejected.field ? ` (field ${r.rejected.field})` : ''}`);
  }
  const f = r.fanout;
  if (f) {
    const why = f.reason ? ` (${f.reason})` : '';
    const state = f.state === 'failed' ? c.red(f.state) : colourState(out, f.state);
    out.line(`${c.bold('fan-out')} ${state}${why}   generation ${f.generation}, ${f.attempts} attempt(s)`);
    out.line(`  enqueued  ${f.pages} page(s), ${f.chunks} chunk(s), ${f.recipients} recipient(s)`);
    const firstTask = f.firstTaskAtMs && f.startedAtMs ? `, first task after ${formatDuration(f.firstTaskAtMs - f.startedAtMs)}` : '';
    const took = f.completedAtMs && f.startedAtMs ? `, completed in ${formatDuration(f.completedAtMs - f.startedAtMs)}` : '';
    out.line(`  started   ${formatTime(f.startedAtMs)}${firstTask}${took}`);
    if (f.error) out.line(`  ${c.red('error')}     ${f.error}`);
  } else if (!r.rejected) {
    out.line(`${c.bold('fan-out')} ${c.yellow('not recorded')} (deliveries exist without a fan-out document)`);
  }
  const d = r.deliveries;
  const parts = DELIVERY_STATES.map((s) => `${colourState(out, s)} ${d[s]}`);
  out.line(`${c.bold('deliveries')} ${d.total}: ${parts.join('  ')}`);
  if (r.oldestPending) {
    const p = r.oldestPending;
    const age = p.createdAtMs ? ` (${formatDuration(nowMs - p.createdAtMs)} ago)` : '';
    out.line(`${c.bold('oldest pending')} user ${p.userId} ${p.channel} ${colourState(out, String(p.state))}, ${p.attempts} attempt(s), since ${formatTime(p.createdAtMs)}${age}`);
  }
  if (r.lastErrors.length) {
    out.line(c.bold('last errors'));
    const rows = r.lastErrors.map((e) => [e.userId, e.channel, colourState(out, String(e.state)), `${e.attempts} attempt(s)`, formatTime(e.updatedAtMs), e.lastError ?? '-']);
    for (const line of table(rows)) out.line(`  ${line}`);
  }
  if (r.queuedTasks !== null) out.line(`${c.bold('queued tasks')} ${r.queuedTasks}`);
  if (r.unaccountedChunks) {
    out.line(`${c.bold('unaccounted')} ${c.red(`${r.unaccountedChunks} chunk(s)`)} enqueued but never claimed by delivery (their tasks ended before delivery could run; see the delivery function's logs, then replay)`);
  }
  out.line(`${c.bold('settled')} ${r.settled ? c.green('yes') : c.yellow('no')}`);
}

/** Registers `status`. */
export function registerStatus(program: Command, ctx: Context): void {
  program
    .command('status')
    .description("an event's fan-out, its deliveries by state, the oldest pending one and the last errors")
    .argument('<eventKey>', 'the event key (the eventId attribute, or the Pub/Sub messageId)', idArg)
    .option('--json', 'print one JSON document on stdout')
    .option('-w, --watch', 'refresh until the event is settled, with a progress bar')
    .option('--interval <ms>', 'refresh interval of --watch', intArg(100), 2000)
    .option('--timeout <seconds>', 'give up --watch after this long (exit 1)', intArg(1), 600)
    .addHelpText('after', '\nExamples:\n  $ restock status 9f2c1e7a-5b1d-4e0c-9a7e-3c1f2b4d6e8a\n  $ restock status 9f2c1e7a-5b1d-4e0c-9a7e-3c1f2b4d6e8a --watch --json')
    .action(async (eventKey: string, opts: { watch?: boolean; interval: number; timeout: number }, command: Command) => {
      const out = outputFor(ctx, command);
      const ops = await ctx.ops();
      let report = await ops.readStatus(eventKey);
      if (opts.watch) {
        const deadlineMs = ctx.nowMs() + opts.timeout * 1000;
        const bar = out.progress('settled', Math.max(report.deliveries.total, report.fanout?.recipients ?? 0), 'deliveries');
        try {
          while (!report.settled) {
            bar.update(settledCount(report.deliveries), Math.max(report.deliveries.total, report.fanout?.recipients ?? 0));
            if (ctx.nowMs() >= deadlineMs) {
              out.result(report);
              if (!out.json) renderStatus(out, report, ctx.nowMs());
              throw new NotSettledError(`event ${eventKey} not settled after ${opts.timeout} s (--timeout)`, eventKey);
            }
            await ctx.sleep(opts.interval);
            report = await ops.readStatus(eventKey);
          }
        } finally {
          bar.stop();
        }
      }
      out.result(report);
      if (!out.json) renderStatus(out, report, ctx.nowMs());
    });
}
