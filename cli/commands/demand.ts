/**
 * `restock demand [--top N]`: the products with the most shoppers waiting,
 * their sign-ups per day and what their last restock sold, for the merchant
 * deciding what to restock first; and `restock product demand <productId>`
 * (registered by ./product.ts), one product's demand and past restocks.
 * Both render the read model of `../queries/demand.ts`, which the console's
 * demand and product pages show too.
 */
import type { Command } from 'commander';
import { intArg } from '../args.ts';
import { outputFor, type Context } from '../context.ts';
import { formatTime, table, type Output } from '../output.ts';
import { DEMAND_DAYS, MAX_PRODUCTS, type DemandReport, type ProductDemandReport, type RestockResult, type SignupDay } from '../queries/demand.ts';
import { purchasedOf } from '../queries/funnel.ts';
import { colourState, formatRevenue } from './status.ts';

export { readDemand, readProductDemand, type DemandQuery, type DemandReport, type DemandRow, type ProductDemandReport, type RestockResult, type SignupDay } from '../queries/demand.ts';

/** Most products `--top` may ask for. */
export const MAX_TOP = 100;

/** `12.5 %`, or `-` without anyone notified. */
export function formatRate(rate: number | null): string {
  return rate === null ? '-' : `${(rate * 100).toFixed(1)} %`;
}

/** Sign-ups in all, then per day oldest first: `9 (1 0 3 2 0 1 2)`. */
function signupsCell(days: readonly SignupDay[]): string {
  return `${days.reduce((n, d) => n + d.signups, 0)} (${days.map((d) => d.signups).join(' ')})`;
}

/** One line about a restock's result: when, notified, clicked, purchased and conversion. */
export function restockResultLine(r: RestockResult): string {
  const f = r.funnel;
  const revenue = formatRevenue(f.revenueMinor);
  return `notified ${f.notified}, clicked ${f.clicked}, purchased ${purchasedOf(f)} (${formatRate(r.conversion)})${revenue ? `, revenue ${revenue}` : ''}`;
}

/** The human rendering of a {@link DemandReport}. */
export function renderDemand(out: Output, r: DemandReport): void {
  const { c } = out;
  if (r.products.length === 0) {
    out.line(`no shopper is waiting for any of the ${r.considered} product(s) considered`);
  } else {
    out.line(`${c.bold(`${r.withWaiting} product(s)`)} with shoppers waiting, of ${r.considered} considered; the ${r.products.length} with the most:`);
    const rows = r.products.map((p) => [
      p.productId,
      `${p.waiting} waiting`,
      `stock ${p.available ?? '-'}`,
      `sign-ups ${DEMAND_DAYS} d ${signupsCell(p.signupsPerDay)}`,
      p.lastRestock ? `last restock ${formatTime(p.lastRestock.startedAtMs)}: ${restockResultLine(p.lastRestock)}` : 'never restocked',
    ]);
    for (const line of table(rows)) out.line(`  ${line}`);
  }
  if (r.truncated) out.line(c.yellow(`only the first ${MAX_PRODUCTS} products (by id) were counted: products after them are not ranked`));
}

/** The human rendering of a {@link ProductDemandReport}. */
export function renderProductDemand(out: Output, r: ProductDemandReport): void {
  const { c } = out;
  out.line(`${c.bold('product')} ${r.productId}${r.name ? ` (${r.name})` : ''}: ${r.waiting} shopper(s) waiting, stock ${r.available ?? 'never recorded'}`);
  out.line(`${c.bold(`sign-ups still waiting, per UTC day (last ${r.signupsPerDay.length})`)}`);
  for (const line of table(r.signupsPerDay.map((d) => [formatTime(d.dayStartMs).slice(0, 10), String(d.signups)]))) out.line(`  ${line}`);
  if (r.restocks.length === 0) {
    out.line(`${c.bold('restocks')} none`);
    return;
  }
  out.line(c.bold('restocks, newest first'));
  const rows = r.restocks.map((x) => [
    x.eventKey,
    `started ${formatTime(x.startedAtMs)}`,
    colourState(out, x.state) + (x.stopped ? ` (stopped: ${x.stopped})` : ''),
    `${x.recipients} enqueued`,
    restockResultLine(x),
  ]);
  for (const line of table(rows)) out.line(`  ${line}`);
  if (r.restocksTruncated) out.line(c.dim('  … older restocks not listed'));
}

/** Registers `demand`. */
export function registerDemand(program: Command, ctx: Context): void {
  program
    .command('demand')
    .description('the products with the most shoppers waiting, their sign-ups per day and their last restock\u2019s conversion: what to restock first')
    .option('--top <n>', 'most products to list', intArg(1, MAX_TOP), 10)
    .option('--json', 'print one JSON document on stdout')
    .addHelpText(
      'after',
      `\nCounts the waiting shoppers of at most ${MAX_PRODUCTS} products (one count aggregation each) and says when there were more.\n\nExamples:\n  $ restock demand\n  $ restock demand --top 3 --json\n  $ restock product demand sku-123`,
    )
    .action(async (opts: { top: number }, command: Command) => {
      const out = outputFor(ctx, command);
      const report = await (await ctx.ops()).readDemand({ top: opts.top, nowMs: ctx.nowMs() });
      out.result(report);
      if (!out.json) renderDemand(out, report);
    });
}
