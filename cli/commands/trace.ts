/**
 * `restock trace --user <userId> [--product <productId>]`: renders the read
 * model of `../queries/trace.ts`. Addresses are never printed: only which
 * channels a subscription holds.
 */
import type { Command } from 'commander';
import { idArg, intArg } from '../args.ts';
import { outputFor, type Context } from '../context.ts';
import { formatTime, table, type Output } from '../output.ts';
import type { TraceReport, TraceSubscription } from '../queries/trace.ts';
import type { DeliverySummary } from '../records.ts';
import { colourState, outboxRowLine } from './status.ts';

export { readTrace, type TraceEvent, type TraceQuery, type TraceReport, type TraceSubscription } from '../queries/trace.ts';

/** The human rendering of a {@link TraceReport}. */
export function renderTrace(out: Output, r: TraceReport): void {
  const { c } = out;
  out.line(`${c.bold('user')} ${r.userId}${r.productId ? `   product ${r.productId}` : ''}`);
  if (r.subscriptions.length === 0) {
    out.line(`${c.bold('subscriptions')} none${r.productId ? ' for this product' : ''} (a sent or rejected notification removes a one-shot subscription)`);
  } else {
    out.line(c.bold('subscriptions'));
    const rows = r.subscriptions.map((s) => [s.productId, s.channels.join(',') || '-', s.locale ?? '-', s.timeZone ?? 'default zone', `since ${formatTime(s.createdAtMs)}`, consentLine(s.consent)]);
    for (const line of table(rows)) out.line(`  ${line}`);
  }
  if (r.events.length === 0) {
    out.line(`${c.bold('events')} none reached this user`);
    return;
  }
  out.line(c.bold('events'));
  if (r.outboxUnreadable) out.line(`  ${c.bold('outbox')} ${c.yellow('unreadable')}: ${r.outboxUnreadable} (events shown without their outbox rows)`);
  for (const e of r.events) {
    const f = e.fanout;
    const head = f ? `product ${f.productId}, fan-out ${colourState(out, f.state)}${f.reason ? ` (${f.reason})` : ''}, started ${formatTime(f.startedAtMs)}` : 'fan-out document gone';
    out.line(`  ${c.bold(e.eventKey)}  ${head}`);
    if (e.outbox) out.line(`    ${c.bold('outbox')} ${outboxRowLine(e.outbox)}`);
    if (e.deliveries.length === 0) {
      out.line(`    ${c.yellow('no delivery for this user')}`);
      continue;
    }
    const rows = e.deliveries.map((d) => [
      d.channel,
      colourState(out, String(d.state)),
      `${d.attempts} attempt(s)`,
      d.sentAtMs ? `sent ${formatTime(d.sentAtMs)}` : `updated ${formatTime(d.updatedAtMs)}`,
      d.wave !== undefined ? `wave ${d.wave}` : '',
      heldLine(d),
      d.lastError ?? '',
    ]);
    for (const line of table(rows)) out.line(`    ${line}`);
  }
}

/** A send held back to the shopper's window: until when, and why it was skipped when the window opened. */
function heldLine(d: DeliverySummary): string {
  if (d.heldUntilMs === undefined) return '';
  return `held until ${formatTime(d.heldUntilMs)}${d.skipped ? `, skipped: ${d.skipped}` : ''}`;
}

/** A consent record on one line: how each channel was vouched for, when confirmed, which wording, through whom. */
function consentLine(c: TraceSubscription['consent']): string {
  if (!c) return 'consent: not recorded';
  const how = Object.entries(c.channels).map(([channel, method]) => `${channel} ${method}`).join(', ');
  const confirmed = c.confirmedAtMs !== undefined ? ` at ${formatTime(c.confirmedAtMs)}` : '';
  return `consent: ${how}${confirmed}${c.wording ? `, wording ${c.wording}` : ''}, by ${c.storefront}`;
}

/** Registers `trace`. */
export function registerTrace(program: Command, ctx: Context): void {
  program
    .command('trace')
    .description("where is my notification? subscriptions, events (with their outbox rows) and deliveries of one shopper")
    .requiredOption('--user <userId>', 'the shopper', idArg)
    .option('--product <productId>', 'only this product (also lists its recent fan-outs that did not reach the shopper)', idArg)
    .option('--limit <n>', 'most recent deliveries (and fan-outs) to show', intArg(1, 1000), 50)
    .option('--json', 'print one JSON document on stdout')
    .addHelpText('after', '\nExamples:\n  $ restock trace --user u-1042\n  $ restock trace --user u-1042 --product sku-123 --json')
    .action(async (opts: { user: string; product?: string; limit: number }, command: Command) => {
      const out = outputFor(ctx, command);
      const report = await (await ctx.ops()).readTrace({ userId: opts.user, productId: opts.product, limit: opts.limit });
      out.result(report);
      if (!out.json) renderTrace(out, report);
    });
}
