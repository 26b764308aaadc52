/**
 * `restock subscribers <productId> [--count]`: renders the read model of
 * `../queries/subscribers.ts`; never prints addresses.
 */
import type { Command } from 'commander';
import { idArg, intArg } from '../args.ts';
import { outputFor, type Context } from '../context.ts';
import { formatTime, table, type Output } from '../output.ts';
import type { SubscribersReport } from '../queries/subscribers.ts';

export { countSubscribers, listSubscribers, type SubscriberRow, type SubscribersReport } from '../queries/subscribers.ts';

/** The human rendering of a {@link SubscribersReport}. */
export function renderSubscribers(out: Output, r: SubscribersReport): void {
  out.line(`${out.c.bold('product')} ${r.productId}: ${r.count} subscriber(s)`);
  if (!r.subscribers) return;
  const rows = r.subscribers.map((s) => [s.userId, s.channels.join(',') || '-', s.locale ?? '-', formatTime(s.createdAtMs)]);
  for (const line of table(rows, ['user', 'channels', 'locale', 'since'])) out.line(`  ${line}`);
  if (r.truncated) out.line(out.c.dim(`  … first ${r.subscribers.length} shown (--limit)`));
}

/** Registers `subscribers`. */
export function registerSubscribers(program: Command, ctx: Context): void {
  program
    .command('subscribers')
    .description("a product's waiting shoppers (or only how many)")
    .argument('<productId>', 'the product', idArg)
    .option('--count', 'only count them (one count aggregation)')
    .option('--limit <n>', 'most subscribers to list', intArg(1, 10_000), 100)
    .option('--json', 'print one JSON document on stdout')
    .addHelpText('after', '\nExamples:\n  $ restock subscribers sku-123 --count\n  $ restock subscribers sku-123 --limit 20 --json')
    .action(async (productId: string, opts: { count?: boolean; limit: number }, command: Command) => {
      const out = outputFor(ctx, command);
      const ops = await ctx.ops();
      const count = await ops.countSubscribers(productId);
      const report: SubscribersReport = { productId, count };
      if (!opts.count) {
        report.subscribers = await ops.listSubscribers(productId, opts.limit);
        report.truncated = count > report.subscribers.length;
      }
      out.result(report);
      if (!out.json) renderSubscribers(out, report);
    });
}
