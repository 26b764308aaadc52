/**
 * `restock status <eventKey>`: renders the read model of `../queries/status.ts`.
 * `--watch` refreshes until the event is settled.
 */
import type { Command } from 'commander';
import { idArg, intArg } from '../args.ts';
import { outputFor, type Context } from '../context.ts';
import { NotFoundError, NotSettledError } from '../errors.ts';
import { formatDuration, formatTime, table, type Output } from '../output.ts';
import type { OutboxRow } from '../../lib/outbox/index.ts';
import { DELIVERY_STATES, settledCount, type StatusReport } from '../queries/status.ts';
import type { WavesReport } from '../queries/waves.ts';
import { purchasedOf, type Funnel, type FunnelRow } from '../queries/funnel.ts';

export {
  DELIVERY_STATES,
  PENDING_STATES,
  isSettled,
  readStatus,
  settledCount,
  type DeliveryCounts,
  type RangeStatus,
  type StatusReport,
} from '../queries/status.ts';

const STATE_COLOUR: Record<string, (c: Output['c'], s: string) => string> = {
  sent: (c, s) => c.green(s),
  sending: (c, s) => c.cyan(s),
  failed: (c, s) => c.yellow(s),
  rejected: (c, s) => c.magenta(s),
  exhausted: (c, s) => c.red(s),
  unsubscribed: (c, s) => c.dim(s),
  soldOutBeforeSend: (c, s) => c.dim(s),
  held: (c, s) => c.cyan(s),
  complete: (c, s) => c.green(s),
  running: (c, s) => c.cyan(s),
  ignored: (c, s) => c.dim(s),
};
// `failed` is yellow for a delivery (it will be retried) and red for a fan-out (it cannot progress).

/** A state word, coloured on a TTY. */
export function colourState(out: Output, state: string): string {
  return STATE_COLOUR[state]?.(out.c, state) ?? state;
}

/** One line about a row, for `status <eventKey>` and `outbox list`. */
export function outboxRowLine(r: OutboxRow): string {
  const published =
    r.publishedAtMs !== null
      ? `published by ${r.publishedBy ?? '?'} ${formatTime(r.publishedAtMs)}, ${formatDuration(r.publishedAtMs - r.stagedAtMs)} after the commit`
      : r.state === 'failed'
        ? 'not published (redrive with: restock outbox redrive <eventId>)'
        : `next attempt ${formatTime(r.nextAttemptAtMs)}`;
  return `${r.state}, sequence ${r.sequence}, ${r.attempts} failed attempt(s), staged ${formatTime(r.stagedAtMs)}, ${published}${r.lastError ? `; last error: ${r.lastError}` : ''}`;
}

/** The key ranges of a split fan-out: one row each, with the totals of the head (before the split) and the ranges. */
function renderRanges(out: Output, r: StatusReport): void {
  const { c } = out;
  const done = r.ranges.filter((x) => x.state === 'complete').length;
  const recipients = r.ranges.reduce((s, x) => s + x.recipients, 0);
  out.line(`  ranges    ${r.ranges.length} key range(s), ${done} complete, ${recipients} recipient(s) enqueued by them`);
  const rows = r.ranges.map((x) => [
    `#${x.index}`,
    colourState(out, x.state),
    `${x.pages} page(s)`,
    `${x.chunks} chunk(s)`,
    `${x.recipients} recipient(s)`,
    `${x.attempts} attempt(s)`,
    `cursor ${x.cursor ?? '-'}`,
    `(${x.after ?? 'start'} .. ${x.until ?? 'end'}]`,
    x.error ? c.red(x.error) : '',
  ]);
  for (const line of table(rows)) out.line(`    ${line}`);
}

/** The human rendering of a {@link StatusReport}. */
export function renderStatus(out: Output, r: StatusReport, nowMs: number): void {
  const { c } = out;
  out.line(`${c.bold('event')} ${r.eventKey}${r.fanout ? `   product ${r.fanout.productId}` : ''}`);
  if (r.outbox) out.line(`${c.bold('outbox')} ${outboxRowLine(r.outbox)}`);
  if (r.outboxUnreadable) out.line(`${c.bold('outbox')} ${c.yellow('unreadable')}: ${r.outboxUnreadable} (the rest is read from the pipeline's database)`);
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
    if (f.stopped) {
      const why = f.stopped.reason === 'sold-out' ? 'the product sold out again' : 'a newer restock superseded it';
      out.line(`  ${c.yellow('stopped')}   ${formatTime(f.stopped.atMs)}: ${why}; shoppers after the cursor were not enqueued and keep their subscriptions`);
    }
    if (r.ranges.length > 0) renderRanges(out, r);
  } else if (!r.rejected && !r.outbox) {
    out.line(`${c.bold('fan-out')} ${c.yellow('not recorded')} (deliveries exist without a fan-out document)`);
  }
  if (r.waves) renderWaves(out, r.waves);
  const d = r.deliveries;
  const parts = DELIVERY_STATES.map((s) => `${colourState(out, s)} ${d[s]}`);
  out.line(`${c.bold('deliveries')} ${d.total}: ${parts.join('  ')}`);
  const w = r.sendWindows;
  if (w && w.held + w.skippedSoldOut + w.skippedSuperseded > 0) {
    out.line(`${c.bold('send windows')} held ${w.held}  skippedSoldOut ${w.skippedSoldOut}  skippedSuperseded ${w.skippedSuperseded}`);
  }
  if (r.oldestPending) {
    const p = r.oldestPending;
    const age = p.createdAtMs ? ` (${formatDuration(nowMs - p.createdAtMs)} ago)` : '';
    const sampled = r.sample.pendingExact ? '' : ` (of ${r.sample.size} sampled)`;
    out.line(`${c.bold('oldest pending')}${sampled} user ${p.userId} ${p.channel} ${colourState(out, String(p.state))}, ${p.attempts} attempt(s), since ${formatTime(p.createdAtMs)}${age}`);
  }
  if (r.lastErrors.length) {
    out.line(c.bold(`last errors${r.sample.errorsExact ? '' : ` (of ${r.sample.size} sampled)`}`));
    const rows = r.lastErrors.map((e) => [e.userId, e.channel, colourState(out, String(e.state)), `${e.attempts} attempt(s)`, formatTime(e.updatedAtMs), e.lastError ?? '-']);
    for (const line of table(rows)) out.line(`  ${line}`);
  }
  if (r.funnel) renderFunnel(out, r.funnel);
  if (r.queuedTasks !== null) out.line(`${c.bold('queued tasks')} ${r.queuedTasks}`);
  if (r.unaccountedChunks) {
    out.line(`${c.bold('unaccounted')} ${c.red(`${r.unaccountedChunks} chunk(s)`)} enqueued but never claimed by delivery (their tasks ended before delivery could run; see the delivery function's logs, then replay)`);
  }
  if (r.ledgerUnsharded) {
    out.line(`${c.bold('ledger')} ${c.yellow('not sharded')}: this fan-out started before ledger entries carried a shard, so the counts above leave out its entries written before the upgrade; run \`restock ledger-shards\` once to give them theirs`);
  }
  if (r.accountedBy === 'ledger') {
    out.line(`${c.bold('accounted')} by the ledger and the queue only: this fan-out started before chunk receipts existed, so a chunk whose task died unclaimed cannot be seen`);
  }
  out.line(`${c.bold('settled')} ${r.settled ? c.green('yes') : c.yellow('no')}`);
}

/** An amount in minor units as the currency writes it: `EUR 49.99`, `JPY 1,999`. */
export function formatMoney(currency: string, minor: number): string {
  const digits = new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions().maximumFractionDigits ?? 2;
  return `${currency} ${(minor / 10 ** digits).toLocaleString('en', { minimumFractionDigits: digits, maximumFractionDigits: digits })}`;
}

/** A row's revenue per currency, `EUR 49.99, USD 10.00`; empty without any. */
export function formatRevenue(revenueMinor: Readonly<Record<string, number>>): string {
  return Object.entries(revenueMinor).map(([cur, v]) => formatMoney(cur, v)).join(', ');
}

/**
 * The funnel: one row per channel the restock notified on (a channel it told
 * nobody on is all zeros: `--json` keeps it, the table leaves it out), the
 * total, and one per wave.
 */
function renderFunnel(out: Output, f: Funnel): void {
  const { c } = out;
  const cells = (label: string, r: FunnelRow) => [
    label,
    `notified ${r.notified}`,
    `clicked ${r.clicked}`,
    `purchased ${purchasedOf(r)} (direct ${r.purchased.direct}, assisted ${r.purchased.assisted})`,
    `revenue ${formatRevenue(r.revenueMinor) || '-'}`,
  ];
  out.line(c.bold('funnel'));
  const rows = [...Object.entries(f.byChannel)
      .filter(([, r]) => r.notified > 0)
      .map(([ch, r]) => cells(ch, r)), cells('all', f.total), ...(f.byWave ?? []).map((w) => cells(`wave ${w.wave}`, w))];
  for (const line of table(rows)) out.line(`  ${line}`);
}

/** The waves of a restock: settings, where they stand, and one row per wave. */
function renderWaves(out: Output, w: WavesReport): void {
  const { c } = out;
  const where =
    w.phase === 'waiting'
      ? `wave ${w.index} due ${formatTime(w.nextWaveAtMs)}`
      : w.phase === 'paging'
        ? `wave ${w.index} enqueuing`
        : `ended before wave ${w.index + (w.stopReason === 'audience-exhausted' ? 1 : 0)}: ${w.stopReason ?? 'done'}`;
  out.line(`${c.bold('waves')} ${w.multiplier} shopper(s) per unit, every ${formatDuration(w.intervalMs)}, from ${w.minAvailableToNotify} unit(s); ${where}`);
  const rows = w.waves.map((v) => [`wave ${v.index}`, `started ${formatTime(v.startedAtMs)}`, `stock ${v.available}`, `took ${v.taken}`, `delivered ${v.delivered}`]);
  for (const line of table(rows)) out.line(`  ${line}`);
}

/** Registers `status`. */
export function registerStatus(program: Command, ctx: Context): void {
  program
    .command('status')
    .description("an event's fan-out, its deliveries by state, the oldest pending one, the last errors, and its funnel (notified, clicked, purchased, revenue)")
    .argument('<eventKey>', 'the event key (the eventId attribute, or the Pub/Sub messageId)', idArg)
    .option('--json', 'print one JSON document on stdout')
    .option('-w, --watch', 'refresh until the event is settled, with a progress bar')
    .option('--interval <ms>', 'refresh interval of --watch', intArg(100), 2000)
    .option('--timeout <seconds>', 'give up --watch after this long (exit 1)', intArg(1), 600)
    .addHelpText('after', '\nExamples:\n  $ restock status 9f2c1e7a-5b1d-4e0c-9a7e-3c1f2b4d6e8a\n  $ restock status 9f2c1e7a-5b1d-4e0c-9a7e-3c1f2b4d6e8a --watch --json')
    .action(async (eventKey: string, opts: { watch?: boolean; interval: number; timeout: number }, command: Command) => {
      const out = outputFor(ctx, command);
      const ops = await ctx.ops();
      const deadlineMs = ctx.nowMs() + opts.timeout * 1000;
      let report = await ops.readStatus(eventKey).catch(async function untilRecorded(err: unknown): Promise<StatusReport> {
        // An event published a moment ago may not be recorded yet (its push is on its way): --watch waits for it.
        if (!opts.watch || !(err instanceof NotFoundError) || ctx.nowMs() >= deadlineMs) throw err;
        await ctx.sleep(opts.interval);
        return ops.readStatus(eventKey).catch(untilRecorded);
      });
      if (opts.watch) {
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
